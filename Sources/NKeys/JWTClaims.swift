#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `nats.type` of a NATS JWT. Extensible: unknown types decode and compare by raw value.
public struct JWTClaimType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let `operator` = JWTClaimType(rawValue: "operator")
    public static let account = JWTClaimType(rawValue: "account")
    public static let user = JWTClaimType(rawValue: "user")
    public static let activation = JWTClaimType(rawValue: "activation")
    public static let authorization = JWTClaimType(rawValue: "authorization")
    public static let generic = JWTClaimType(rawValue: "generic")

    public var description: String { rawValue }
}

/// The type-specific `nats` object of a JWT (operator, account or user fields).
public protocol JWTPayload: Codable, Sendable {
    /// The value of `nats.type` for this payload.
    static var claimType: JWTClaimType { get }
    /// Key roles allowed to sign (issue) such a JWT, as nats-io/jwt `ExpectedPrefixes`.
    static var issuerRoles: [NKeyPrefix] { get }
    /// The role the JWT's subject must have.
    static var subjectRole: NKeyPrefix { get }
}

/// A NATS JWT v2 claims set: the standard claims plus the type-specific `nats` payload.
///
/// Serialization follows nats-io/jwt v2 field names: empty values omitted (as Go's `omitempty`), times as
/// Unix seconds. ``JWT/encode(claims:signer:issuedAt:)`` fills in `iss`, `iat` and `jti`.
public struct JWTClaims<Payload: JWTPayload>: Sendable {
    /// `jti`: base32 SHA-512/256 of the standard claims; set by ``JWT/encode(claims:signer:issuedAt:)``.
    public var id: String
    /// `iat`: when the JWT was signed (whole seconds).
    public var issuedAt: Date?
    /// `iss`: the public key that signed the JWT.
    public var issuer: String
    /// `name`: a human-readable name.
    public var name: String
    /// `sub`: the public key this JWT describes.
    public var subject: String
    /// `aud`: optional audience.
    public var audience: String?
    /// `exp`: after this the JWT is no longer valid.
    public var expires: Date?
    /// `nbf`: before this the JWT is not yet valid.
    public var notBefore: Date?
    /// `nats`: the type-specific fields.
    public var nats: Payload

    /// Claims about `subject`, to be signed with ``JWT/encode(claims:signer:issuedAt:)``.
    public init(subject: String, name: String = "", nats: Payload, expires: Date? = nil) {
        self.id = ""
        self.issuedAt = nil
        self.issuer = ""
        self.name = name
        self.subject = subject
        self.audience = nil
        self.expires = expires
        self.notBefore = nil
        self.nats = nats
    }

    /// Whether the claims are outside their validity window at `now` (`exp`/`nbf`).
    public func isExpired(at now: Date) -> Bool {
        if let expires, now > expires { return true }
        if let notBefore, now < notBefore { return true }
        return false
    }

    /// The `jti` nats-io/jwt computes: base32 (no padding) of SHA-512/256 over the standard claims
    /// (not the `nats` object) serialized by Go's `encoding/json` with `jti` empty.
    public var computedID: String {
        ClaimsData(audience: audience ?? "", expires: expires, id: "", issuedAt: issuedAt, issuer: issuer,
                   name: name, notBefore: notBefore, subject: subject).computedID
    }

    static func seconds(_ date: Date) -> Int64 { ClaimsData.seconds(date) }
}

/// nats-io/jwt's `ClaimsData` (the standard claims every NATS JWT shares), serialized exactly as
/// Go's `encoding/json` does: field order aud, exp, jti, iat, iss, name, nbf, sub; empty values
/// omitted; times as whole Unix seconds; HTML-safe string escapes.
struct ClaimsData {
    var audience: String
    var expires: Date?
    var id: String
    var issuedAt: Date?
    var issuer: String
    var name: String
    var notBefore: Date?
    var subject: String

    /// The `"key":value` members in Go's order, for embedding in a larger object.
    var goJSONMembers: [String] {
        var fields: [String] = []
        func time(_ key: String, _ date: Date?) {
            if let date, Self.seconds(date) != 0 { fields.append("\"\(key)\":\(Self.seconds(date))") }
        }
        func text(_ key: String, _ value: String) {
            if !value.isEmpty { fields.append("\"\(key)\":\(GoJSON.string(value))") }
        }
        text("aud", audience)
        time("exp", expires)
        text("jti", id)
        time("iat", issuedAt)
        text("iss", issuer)
        text("name", name)
        time("nbf", notBefore)
        text("sub", subject)
        return fields
    }

    /// The `jti` nats-io/jwt computes: base32 (no padding) of SHA-512/256 over these claims'
    /// JSON with `jti` empty.
    var computedID: String {
        var copy = self
        copy.id = ""
        let json = "{" + copy.goJSONMembers.joined(separator: ",") + "}"
        return Base32.encode(SHA512_256.hash(Array(json.utf8)))
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}

extension JWTClaims: Codable {
    private enum CodingKeys: String, CodingKey {
        case aud, exp, jti, iat, iss, name, nbf, sub, nats
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        audience = try c.decodeIfPresent(String.self, forKey: .aud)
        expires = try c.decodeIfPresent(Int64.self, forKey: .exp).flatMap(Self.date)
        id = try c.decodeIfPresent(String.self, forKey: .jti) ?? ""
        issuedAt = try c.decodeIfPresent(Int64.self, forKey: .iat).flatMap(Self.date)
        issuer = try c.decodeIfPresent(String.self, forKey: .iss) ?? ""
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        notBefore = try c.decodeIfPresent(Int64.self, forKey: .nbf).flatMap(Self.date)
        subject = try c.decodeIfPresent(String.self, forKey: .sub) ?? ""
        nats = try c.decode(Payload.self, forKey: .nats)
    }

    public func encode(to encoder: any Encoder) throws {
        // Go's field order; omitempty semantics.
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let audience, !audience.isEmpty { try c.encode(audience, forKey: .aud) }
        if let expires, Self.seconds(expires) != 0 { try c.encode(Self.seconds(expires), forKey: .exp) }
        if !id.isEmpty { try c.encode(id, forKey: .jti) }
        if let issuedAt, Self.seconds(issuedAt) != 0 { try c.encode(Self.seconds(issuedAt), forKey: .iat) }
        if !issuer.isEmpty { try c.encode(issuer, forKey: .iss) }
        if !name.isEmpty { try c.encode(name, forKey: .name) }
        if let notBefore, Self.seconds(notBefore) != 0 { try c.encode(Self.seconds(notBefore), forKey: .nbf) }
        if !subject.isEmpty { try c.encode(subject, forKey: .sub) }
        try c.encode(nats, forKey: .nats)
    }

    private static func date(_ seconds: Int64) -> Date? {
        seconds == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

/// Operator JWT claims (self-signed by the operator key).
public typealias OperatorClaims = JWTClaims<OperatorPayload>
/// Account JWT claims (signed by the operator).
public typealias AccountClaims = JWTClaims<AccountPayload>
/// User JWT claims (signed by the account).
public typealias UserClaims = JWTClaims<UserPayload>

/// String escaping exactly as Go's `encoding/json` (HTML-safe), so `jti`s match nats-io/jwt's.
enum GoJSON {
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += unicodeEscape(scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += unicodeEscape(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
