#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// NATS JWT v2: `base64url(header).base64url(claims).base64url(ed25519 signature)`, signed by an
/// nkey, with header `{"typ":"JWT","alg":"ed25519-nkey"}` (nats-io/jwt v2).
public enum JWT {
    /// The `alg` of v2 JWTs.
    public static let algorithm = "ed25519-nkey"

    private struct IssuerOnly: Decodable { var iss: String? }

    private struct Typed: Decodable {
        struct Nats: Decodable { var type: JWTClaimType? }
        var nats: Nats?
    }

    private struct Header: Decodable {
        var typ: String
        var alg: String
    }

    /// Signs `claims` with `signer`, filling in `iss` (the signer's public key), `iat` and `jti`
    /// as nats-io/jwt does.
    ///
    /// - Parameter issuedAt: the `iat` to record (whole seconds); injectable for tests.
    /// - Throws: ``NKeyError`` with ``NKeyError/Code/invalidClaims`` if the signer may not issue
    ///   this kind of JWT or the subject is not a public key of the right role.
    public static func encode<Payload>(claims: JWTClaims<Payload>, signer: KeyPair, issuedAt: Date = Date()) throws(NKeyError) -> String {
        guard Payload.issuerRoles.contains(signer.prefix) else {
            throw NKeyError(code: .invalidClaims, message: "a \(signer.prefix) key cannot sign \(Payload.claimType) JWTs (allowed: \(Payload.issuerRoles.map(\.description).joined(separator: ", ")))")
        }
        guard KeyPair.isValidPublicKey(claims.subject, prefix: Payload.subjectRole) else {
            throw NKeyError(code: .invalidClaims, message: "the subject of \(Payload.claimType) JWTs must be a public \(Payload.subjectRole) key")
        }
        var claims = claims
        claims.issuer = signer.publicKey
        claims.issuedAt = Date(timeIntervalSince1970: TimeInterval(JWTClaims<Payload>.seconds(issuedAt)))
        claims.id = ""
        claims.id = claims.computedID
        return try sign(claims: claims, signer: signer)
    }

    /// Serializes and signs any claims as-is (no `iss`/`iat`/`jti` bookkeeping).
    ///
    /// For JWT kinds this module does not model; prefer ``encode(claims:signer:issuedAt:)``.
    public static func sign(claims: some Encodable, signer: KeyPair) throws(NKeyError) -> String {
        // Fixed bytes in Go's field order: JSONEncoder does not keep key order.
        let header = Base64URL.encode(Array(#"{"typ":"JWT","alg":"\#(algorithm)"}"#.utf8))
        let body = Base64URL.encode(try json(claims))
        let signingInput = header + "." + body
        let signature = signer.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Decodes a JWT and verifies its signature against its `iss` claim.
    ///
    /// For ``JWTClaims`` it also checks `nats.type` and that the issuer has a role allowed to sign
    /// that kind of JWT. It does not check expiry (no clocks here; see ``JWTClaims/isExpired(at:)``)
    /// nor whether the issuer is trusted: that is the caller's decision.
    public static func decode<C: Decodable>(_ token: String, as type: C.Type = C.self) throws(NKeyError) -> C {
        let parts = token.trimmingASCIIWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw NKeyError(code: .invalidJWT, message: "a JWT has 3 dot-separated parts, this has \(parts.count)")
        }
        guard let headerBytes = Base64URL.decode(parts[0]),
              let claimsBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2])
        else {
            throw NKeyError(code: .invalidJWT, message: "a JWT part is not unpadded base64url")
        }
        let header: Header = try parse(headerBytes, what: "header")
        guard header.typ.uppercased() == "JWT" else {
            throw NKeyError(code: .invalidJWT, message: "header type \"\(header.typ)\" is not JWT")
        }
        guard header.alg == algorithm else {
            throw NKeyError(code: .invalidJWT, message: "header algorithm \"\(header.alg)\" is not supported (only v2 \"\(algorithm)\")")
        }
        guard let issuer = (try parse(claimsBytes, what: "claims") as IssuerOnly).iss, !issuer.isEmpty else {
            throw NKeyError(code: .invalidJWT, message: "claims have no issuer (iss)")
        }
        let signingInput = Array(token.trimmingASCIIWhitespace().utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard signature.count == 64, try KeyPair.verify(publicKey: issuer, signature: signature, for: signingInput) else {
            throw NKeyError(code: .invalidSignature, message: "JWT signature does not verify against its issuer \(issuer)")
        }
        let claims: C = try parse(claimsBytes, what: "claims")
        if let checked = claims as? any IssuerRoleChecked {
            try checked.checkIssuerRole()
        }
        return claims
    }

    /// The `nats.type` of a token, without verifying it; to pick the type to ``decode(_:as:)`` into.
    public static func claimType(of token: String) throws(NKeyError) -> JWTClaimType {
        let parts = token.trimmingASCIIWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let claimsBytes = Base64URL.decode(parts[1]) else {
            throw NKeyError(code: .invalidJWT, message: "not a JWT (expected header.claims.signature in base64url)")
        }
        let typed: Typed = try parse(claimsBytes, what: "claims")
        return typed.nats?.type ?? .generic
    }

    private static func json(_ value: some Encodable) throws(NKeyError) -> [UInt8] {
        let encoder = JSONEncoder()
        // Sorted keys make tokens deterministic (JSONEncoder's order is not stable); the server
        // does not care about order, and the `jti` is computed from Go's order separately.
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw NKeyError(code: .invalidClaims, message: "claims cannot be serialized: \(error)")
        }
    }

    private static func parse<T: Decodable>(_ bytes: [UInt8], what: String) throws(NKeyError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw NKeyError(code: .invalidJWT, message: "JWT \(what) are not valid: \(error)")
        }
    }
}

/// Claims that know which key roles may issue them.
protocol IssuerRoleChecked {
    func checkIssuerRole() throws(NKeyError)
}

extension JWTClaims: IssuerRoleChecked {
    func checkIssuerRole() throws(NKeyError) {
        guard let role = KeyPair.role(ofPublicKey: issuer), Payload.issuerRoles.contains(role) else {
            throw NKeyError(code: .invalidClaims, message: "\(Payload.claimType) JWTs cannot be issued by \(issuer)")
        }
    }
}
