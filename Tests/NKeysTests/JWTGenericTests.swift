import Foundation
import Testing
import NKeys

/// The generic-claims vectors of `JWTGenericGoldenVectorsTests.swift` (tokens built and signed
/// by Python the way nats-io/jwt v2 does), decoded.
struct JWTGenericVectors: Decodable {
    struct Check: Decodable {
        var now: Int64
        var code: String?
    }
    struct Good: Decodable, CustomTestStringConvertible {
        var label: String
        var signerSeed: String
        var signerRole: String
        var issuer: String
        var subject: String
        var name: String
        var audience: String
        var expires: Int64
        var notBefore: Int64
        var issuedAt: Int64
        var dataJSON: String
        var jti: String
        var token: String
        var checks: [Check]
        var testDescription: String { label }

        var data: [String: JWTValue] {
            get throws { try JSONDecoder().decode([String: JWTValue].self, from: Data(dataJSON.utf8)) }
        }
    }
    struct Bad: Decodable, CustomTestStringConvertible {
        var why: String
        var token: String
        var code: String
        var testDescription: String { why }
    }
    var good: [Good]
    var bad: [Bad]

    static let shared: JWTGenericVectors = {
        do {
            return try JSONDecoder().decode(JWTGenericVectors.self, from: Data(jwtGenericGoldenVectorsJSON.utf8))
        } catch {
            fatalError("JWTGenericGoldenVectorsTests.swift does not decode: \(error)")
        }
    }()
}

func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

func codeName(_ body: () throws(JWTError) -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return error.code.description
    }
}

@Suite struct JWTGenericTests {
    @Test(arguments: JWTGenericVectors.shared.good)
    func decodesAndVerifiesPythonTokens(vector: JWTGenericVectors.Good) throws {
        let claims = try JWT.verifyGeneric(vector.token, now: date(vector.issuedAt))
        #expect(claims.issuer == vector.issuer)
        #expect(claims.subject == vector.subject)
        #expect(claims.id == vector.jti)
        #expect(claims.computedID == vector.jti)
        #expect(claims.issuedAt == date(vector.issuedAt))
        #expect(claims.name == vector.name)
        #expect(claims.audience == vector.audience)
        #expect(claims.expires == (vector.expires == 0 ? nil : date(vector.expires)))
        #expect(claims.notBefore == (vector.notBefore == 0 ? nil : date(vector.notBefore)))
        var expected = try vector.data
        expected["version"] = 2
        #expect(claims.data == expected)
    }

    @Test(arguments: JWTGenericVectors.shared.good)
    func validityWindowFollowsGoSemantics(vector: JWTGenericVectors.Good) throws {
        let claims = try JWT.decodeGeneric(vector.token)
        for check in vector.checks {
            #expect(codeName { () throws(JWTError) in try claims.validate(at: date(check.now)) } == check.code, "now \(check.now)")
            #expect(codeName { () throws(JWTError) in _ = try JWT.verifyGeneric(vector.token, now: date(check.now)) } == check.code)
        }
    }

    @Test(arguments: JWTGenericVectors.shared.good)
    func encodingTheSameClaimsGivesTheSameToken(vector: JWTGenericVectors.Good) throws {
        let signer = try KeyPair(seed: vector.signerSeed)
        let claims = GenericClaims(
            subject: vector.subject, data: try vector.data, name: vector.name, audience: vector.audience,
            expires: vector.expires == 0 ? nil : date(vector.expires),
            notBefore: vector.notBefore == 0 ? nil : date(vector.notBefore))
        // ed25519 is deterministic, so Go-identical bytes give the identical token.
        #expect(try JWT.encode(generic: claims, signer: signer, issuedAt: date(vector.issuedAt)) == vector.token)
    }

    @Test(arguments: JWTGenericVectors.shared.bad)
    func refusesBadTokens(vector: JWTGenericVectors.Bad) {
        let now = date(JWTGenericVectors.shared.good[0].issuedAt)
        #expect(codeName { () throws(JWTError) in _ = try JWT.verifyGeneric(vector.token, now: now) } == vector.code)
    }

    @Test func nexWorkloadAndStopTokensRoundTrip() throws {
        let account = KeyPair.generate(.account)
        let hash = String(repeating: "ab", count: 32)
        let issued = date(1_800_000_000)
        let deploy = try JWT.encode(generic: .nexWorkload(requestID: "req-1", workloadName: "echo", hash: hash), signer: account, issuedAt: issued)
        let claims = try JWT.verifyGeneric(deploy, now: issued)
        #expect(claims.subject == "req-1")
        #expect(claims.issuer == account.publicKey)
        #expect(claims.nexHash == hash)
        #expect(claims.nexWorkloadName == "echo")
        #expect(claims.data == ["hash": .string(hash), "name": "echo", "version": 2])

        let stop = try JWT.encode(generic: .nexStop(workloadID: "wid-7"), signer: account, issuedAt: issued.addingTimeInterval(5))
        let stopClaims = try JWT.verifyGeneric(stop, now: issued)
        #expect(stopClaims.subject == "wid-7")
        #expect(stopClaims.data == ["version": 2])
        #expect(stopClaims.nexHash == nil)
        #expect(stopClaims.id != claims.id)
        // The payload is exactly Go's: standard claims in field order, then `nats`.
        let payload = try #require(Base64URL.decode(stop.split(separator: ".")[1]))
        #expect(String(decoding: payload, as: UTF8.self)
            == #"{"jti":"\#(stopClaims.id)","iat":1800000005,"iss":"\#(account.publicKey)","sub":"wid-7","nats":{"version":2}}"#)
    }

    @Test func encodingChecksSubjectAndSignerRole() throws {
        let account = KeyPair.generate(.account)
        #expect(codeName { () throws(JWTError) in _ = try JWT.encode(generic: GenericClaims(subject: ""), signer: account) } == "invalidClaims")
        let user = KeyPair.generate(.user)
        #expect(codeName { () throws(JWTError) in _ = try JWT.encode(generic: GenericClaims(subject: "s"), signer: user) } == "issuerNotAllowed")
        // A caller may widen the roles, as nats-io/jwt itself accepts any key; decoding must agree.
        let token = try JWT.encode(generic: GenericClaims(subject: "s"), signer: user, issuerRoles: [.user])
        #expect(try JWT.decodeGeneric(token, issuerRoles: [.user]).issuer == user.publicKey)
        #expect(codeName { () throws(JWTError) in _ = try JWT.decodeGeneric(token) } == "issuerNotAllowed")
        // And narrow them: an operator-signed token is refused when only accounts may issue.
        let op = try JWT.encode(generic: GenericClaims(subject: "s"), signer: KeyPair.generate(.operator))
        #expect(codeName { () throws(JWTError) in _ = try JWT.decodeGeneric(op, issuerRoles: [.account]) } == "issuerNotAllowed")
    }

    @Test func timeChecksUseWholeSeconds() throws {
        var claims = GenericClaims(subject: "s", expires: date(1_000), notBefore: date(900))
        #expect(codeName { () throws(JWTError) in try claims.validate(at: date(1_000).addingTimeInterval(0.9)) } == nil)
        #expect(codeName { () throws(JWTError) in try claims.validate(at: date(1_001)) } == "expired")
        #expect(codeName { () throws(JWTError) in try claims.validate(at: date(899).addingTimeInterval(0.9)) } == "notYetValid")
        #expect(codeName { () throws(JWTError) in try claims.validate(at: date(900)) } == nil)
        claims.expires = nil
        claims.notBefore = nil
        #expect(codeName { () throws(JWTError) in try claims.validate(at: .distantFuture) } == nil)
    }

    @Test func tamperedIssuerOrSwappedSignatureIsRefused() throws {
        let account = KeyPair.generate(.account)
        let token = try JWT.encode(generic: .nexStop(workloadID: "w"), signer: account, issuedAt: date(1_700_000_000))
        let parts = token.split(separator: ".").map(String.init)
        // Re-sign the same payload with another account: the signature no longer matches `iss`.
        let other = KeyPair.generate(.account)
        let forged = parts[0] + "." + parts[1] + "." + Base64URL.encode(other.sign(Array((parts[0] + "." + parts[1]).utf8)))
        #expect(codeName { () throws(JWTError) in _ = try JWT.decodeGeneric(forged) } == "invalidSignature")
        // An `iss` with a bad checksum is not a key at all.
        var claims = try #require(String(bytes: Base64URL.decode(parts[1]) ?? [], encoding: .utf8))
        claims = claims.replacingOccurrences(of: account.publicKey, with: String(account.publicKey.dropLast()) + (account.publicKey.hasSuffix("A") ? "B" : "A"))
        let badIssuer = parts[0] + "." + Base64URL.encode(Array(claims.utf8)) + "." + parts[2]
        #expect(codeName { () throws(JWTError) in _ = try JWT.decodeGeneric(badIssuer) } == "invalidIssuer")
    }

    @Test func readsOtherNATSJWTsAsGenericClaims() throws {
        // A user JWT from the typed encoder is also a generic token (as Go's DecodeGeneric reads any).
        let account = KeyPair.generate(.account)
        let user = KeyPair.generate(.user)
        let token = try JWT.encode(claims: UserClaims(subject: user.publicKey, name: "u", nats: UserPayload()), signer: account)
        let claims = try JWT.decodeGeneric(token)
        #expect(claims.subject == user.publicKey)
        #expect(claims.data["type"] == "user")
        #expect(claims.data["version"]?.integerValue == 2)
        #expect(claims.computedID == claims.id)
    }
}
