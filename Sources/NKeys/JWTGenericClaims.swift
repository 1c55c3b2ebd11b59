#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value in the free-form `nats` map of a ``GenericClaims``.
///
/// Integers are kept apart from other numbers so that `"version":2` round-trips as `2` (Go holds
/// every number of a decoded map as `float64` and prints whole ones without a fraction).
public enum JWTValue: Sendable, Hashable {
    /// JSON `null` (Go `nil`).
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A whole number that fits 64 bits.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array of values.
    case array([JWTValue])
    /// An object; Go writes its keys sorted.
    case object([String: JWTValue])

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number as an integer, if it is a whole number.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value): return value.rounded() == value ? Int64(exactly: value) : nil
        default: return nil
        }
    }

    /// The array of strings, if this is an array holding only strings.
    public var stringArrayValue: [String]? {
        guard case .array(let values) = self else { return nil }
        let strings = values.compactMap(\.stringValue)
        return strings.count == values.count ? strings : nil
    }

    /// This value as Go's `encoding/json` writes it: map keys sorted by bytes, no spaces.
    var goJSON: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .double(let value):
            // Whole numbers print without a fraction, as Go does for float64 below 1e21; other
            // values use the shortest round-trip form (Go's differs only in exponent layout, which
            // changes signed bytes, never meaning).
            if value.rounded() == value, abs(value) < 1e21, let whole = Int64(exactly: value) { return String(whole) }
            return value.description
        case .string(let value): return GoJSON.string(value)
        case .array(let values): return "[" + values.map(\.goJSON).joined(separator: ",") + "]"
        case .object(let members): return Self.goJSONObject(members)
        }
    }

    static func goJSONObject(_ members: [String: JWTValue]) -> String {
        let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return "{" + sorted.map { GoJSON.string($0.key) + ":" + $0.value.goJSON }.joined(separator: ",") + "}"
    }
}

extension JWTValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? c.decode(Double.self) {
            self = .double(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JWTValue].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode([String: JWTValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .integer(let value): try c.encode(value)
        case .double(let value): try c.encode(value)
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        }
    }
}

extension JWTValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JWTValue...) { self = .array(elements) }
}

/// nats-io/jwt v2 `GenericClaims`: the standard claims plus a free-form `nats` map. Nex 0.x
/// signs its workload (deploy) and stop tokens this way, with the issuer's account key.
///
/// Encode with ``JWT/encode(generic:signer:issuedAt:)``; decode and verify with
/// ``JWT/verifyGeneric(_:now:issuerRoles:)``.
public struct GenericClaims: Sendable, Hashable {
    /// `jti`: base32 SHA-512/256 of the standard claims; set when encoding.
    public var id: String
    /// `iat`: when the token was signed (whole seconds); set when encoding.
    public var issuedAt: Date?
    /// `iss`: the public key that signed the token; set when encoding.
    public var issuer: String
    /// `name`: optional human-readable name (Nex leaves it empty).
    public var name: String
    /// `sub`: what the token is about (Nex: the deploy request ID, or the workload ID to stop).
    public var subject: String
    /// `aud`: optional audience.
    public var audience: String
    /// `exp`: after this second the token is refused.
    public var expires: Date?
    /// `nbf`: before this second the token is refused.
    public var notBefore: Date?
    /// `nats`: free-form data. Encoding adds `"version": 2`, as nats-io/jwt v2 does.
    public var data: [String: JWTValue]

    /// Claims about `subject`, to be signed with ``JWT/encode(generic:signer:issuedAt:)``.
    public init(subject: String, data: [String: JWTValue] = [:], name: String = "", audience: String = "", expires: Date? = nil, notBefore: Date? = nil) {
        self.id = ""
        self.issuedAt = nil
        self.issuer = ""
        self.name = name
        self.subject = subject
        self.audience = audience
        self.expires = expires
        self.notBefore = notBefore
        self.data = data
    }

    /// The `jti` these claims should carry (nats-io/jwt `ClaimsData.hash`); compare with ``id``
    /// to detect edited standard claims.
    public var computedID: String { standardClaims.computedID }

    /// Checks `exp` and `nbf` against `now`, in whole seconds as nats-io/jwt `ClaimsData.validate`:
    /// expired when `now > exp`, not yet valid when `nbf > now`.
    public func validate(at now: Date) throws(JWTError) {
        let nowSeconds = ClaimsData.seconds(now)
        if let expires, ClaimsData.seconds(expires) > 0, nowSeconds > ClaimsData.seconds(expires) {
            throw JWTError(code: .expired, message: "claim is expired (exp \(ClaimsData.seconds(expires)), now \(nowSeconds))")
        }
        if let notBefore, ClaimsData.seconds(notBefore) > 0, ClaimsData.seconds(notBefore) > nowSeconds {
            throw JWTError(code: .notYetValid, message: "claim is not yet valid (nbf \(ClaimsData.seconds(notBefore)), now \(nowSeconds))")
        }
    }

    var standardClaims: ClaimsData {
        ClaimsData(audience: audience, expires: expires, id: id, issuedAt: issuedAt, issuer: issuer,
                   name: name, notBefore: notBefore, subject: subject)
    }

    /// The payload exactly as Go's `json.Marshal(GenericClaims)`: standard claims in field order,
    /// then `nats` (omitted when empty) with sorted keys.
    var goJSON: String {
        var members = standardClaims.goJSONMembers
        if !data.isEmpty { members.append("\"nats\":" + JWTValue.goJSONObject(data)) }
        return "{" + members.joined(separator: ",") + "}"
    }
}

extension GenericClaims: Decodable {
    private enum CodingKeys: String, CodingKey {
        case aud, exp, jti, iat, iss, name, nbf, sub, nats
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func date(_ key: CodingKeys) throws -> Date? {
            guard let seconds = try c.decodeIfPresent(Int64.self, forKey: key), seconds != 0 else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        audience = try c.decodeIfPresent(String.self, forKey: .aud) ?? ""
        expires = try date(.exp)
        id = try c.decodeIfPresent(String.self, forKey: .jti) ?? ""
        issuedAt = try date(.iat)
        issuer = try c.decodeIfPresent(String.self, forKey: .iss) ?? ""
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        notBefore = try date(.nbf)
        subject = try c.decodeIfPresent(String.self, forKey: .sub) ?? ""
        data = try c.decodeIfPresent([String: JWTValue].self, forKey: .nats) ?? [:]
    }
}

extension JWT {
    /// Key roles that may issue generic claims by default. nats-io/jwt accepts any role; Nex
    /// tokens are signed by account keys, and operators sign for their accounts.
    public static let genericIssuerRoles: [NKeyPrefix] = [.account, .operator]

    /// Signs generic claims as nats-io/jwt v2 `GenericClaims.Encode`: sets `iss` to the signer,
    /// `iat`, `nats.version = 2` and `jti`, then serializes byte for byte as Go does, so the same
    /// key and `issuedAt` give the same token as the Go library.
    ///
    /// - Parameters:
    ///   - issuedAt: the `iat` to record (whole seconds); injectable for tests.
    ///   - issuerRoles: roles allowed to sign; ``genericIssuerRoles`` unless given.
    /// - Throws: ``JWTError`` with ``JWTError/Code/invalidClaims`` for an empty subject,
    ///   ``JWTError/Code/issuerNotAllowed`` for a signer of another role.
    public static func encode(generic claims: GenericClaims, signer: KeyPair, issuedAt: Date = Date(), issuerRoles: [NKeyPrefix] = genericIssuerRoles) throws(JWTError) -> String {
        guard !claims.subject.isEmpty else {
            throw JWTError(code: .invalidClaims, message: "subject is not set")
        }
        guard issuerRoles.contains(signer.prefix) else {
            throw JWTError(code: .issuerNotAllowed, message: "a \(signer.prefix) key may not sign these claims (allowed: \(issuerRoles.map(\.description).joined(separator: ", ")))")
        }
        var claims = claims
        claims.issuer = signer.publicKey
        claims.issuedAt = Date(timeIntervalSince1970: TimeInterval(ClaimsData.seconds(issuedAt)))
        claims.id = ""
        claims.id = claims.computedID
        claims.data["version"] = .integer(Int64(jwtLibraryVersion))
        let header = Base64URL.encode(Array(#"{"typ":"JWT","alg":"\#(algorithm)"}"#.utf8))
        let signingInput = header + "." + Base64URL.encode(Array(claims.goJSON.utf8))
        return signingInput + "." + Base64URL.encode(signer.sign(Array(signingInput.utf8)))
    }

    /// Decodes a generic-claims token and verifies its signature against `iss`, which must have
    /// one of `issuerRoles`. Does not look at `exp`/`nbf`: see ``verifyGeneric(_:now:issuerRoles:)``.
    public static func decodeGeneric(_ token: String, issuerRoles: [NKeyPrefix] = genericIssuerRoles) throws(JWTError) -> GenericClaims {
        let claims: GenericClaims
        do {
            claims = try decode(token, as: GenericClaims.self)
        } catch {
            throw JWTError(translating: error)
        }
        // decode() proved `iss` is a well-formed signing key; only its role is left to check.
        guard let role = KeyPair.role(ofPublicKey: claims.issuer), issuerRoles.contains(role) else {
            let role = KeyPair.role(ofPublicKey: claims.issuer)?.description ?? "unknown"
            throw JWTError(code: .issuerNotAllowed, message: "issuer \(claims.issuer) is a \(role) key; allowed: \(issuerRoles.map(\.description).joined(separator: ", "))")
        }
        return claims
    }

    /// ``decodeGeneric(_:issuerRoles:)`` plus the validity window at `now` (nats-io/jwt
    /// `DecodeGeneric` followed by `Validate`). Whether the issuer is trusted (Nex
    /// `valid_issuers`) remains the caller's decision.
    public static func verifyGeneric(_ token: String, now: Date, issuerRoles: [NKeyPrefix] = genericIssuerRoles) throws(JWTError) -> GenericClaims {
        let claims = try decodeGeneric(token, issuerRoles: issuerRoles)
        try claims.validate(at: now)
        return claims
    }
}

extension JWTError {
    /// Maps the shared decoder's ``NKeyError`` onto the generic-claims error codes.
    init(translating error: NKeyError) {
        switch error.code {
        case .invalidSignature:
            self.init(code: .invalidSignature, message: error.message)
        case .invalidPrefix:
            // A curve or unknown-role key in `iss`: a key of the wrong kind, not a damaged one.
            self.init(code: .issuerNotAllowed, message: error.message)
        case .invalidPublicKey, .invalidChecksum, .invalidEncoding:
            self.init(code: .invalidIssuer, message: "issuer is not a valid public nkey: \(error.message)")
        default:
            self.init(code: .malformed, message: error.message)
        }
    }
}
