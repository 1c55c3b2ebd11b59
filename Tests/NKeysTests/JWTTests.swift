import Foundation
import Testing
@testable import NKeys

@Suite struct JWTTests {
    let operatorKey = KeyPair.generate(.operator)
    let accountKey = KeyPair.generate(.account)
    let userKey = KeyPair.generate(.user)
    let now = Date(timeIntervalSince1970: 1_700_000_123.75)

    @Test func userJWTRoundTrips() throws {
        var claims = UserClaims(subject: userKey.publicKey, name: "alice", nats: UserPayload())
        claims.nats.permissions.publish = JWTPermission(allow: ["orders.>"], deny: ["orders.secret"])
        claims.nats.permissions.subscribe = JWTPermission(allow: ["_INBOX.>"])
        claims.expires = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try JWT.encode(claims: claims, signer: accountKey, issuedAt: now)

        let decoded = try JWT.decode(token, as: UserClaims.self)
        #expect(decoded.issuer == accountKey.publicKey)
        #expect(decoded.subject == userKey.publicKey)
        #expect(decoded.name == "alice")
        #expect(decoded.issuedAt == Date(timeIntervalSince1970: 1_700_000_123))
        #expect(decoded.expires == claims.expires)
        #expect(decoded.nats == claims.nats)
        #expect(decoded.nats.subscriptions == -1)
        #expect(decoded.isExpired(at: Date(timeIntervalSince1970: 1_800_000_001)))
        #expect(!decoded.isExpired(at: now))
        #expect(try JWT.claimType(of: token) == .user)
    }

    @Test func headerAndWireFormatAreNATSs() throws {
        let token = try JWT.encode(claims: UserClaims(subject: userKey.publicKey, nats: UserPayload()), signer: accountKey, issuedAt: now)
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        #expect(!token.contains("="))
        let header = try #require(Base64URL.decode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"typ":"JWT","alg":"ed25519-nkey"}"#)
        let claims = try #require(Base64URL.decode(parts[1]))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(claims)) as? [String: Any])
        let nats = try #require(json["nats"] as? [String: Any])
        #expect(nats["type"] as? String == "user")
        #expect(nats["version"] as? Int == 2)
        #expect(nats["subs"] as? Int == -1)
        #expect(nats["pub"] as? [String: Any] != nil)
        #expect(json["iat"] as? Int == 1_700_000_123)
        #expect(json["exp"] == nil)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(accountKey.verify(signature, for: Array((parts[0] + "." + parts[1]).utf8)))
    }

    @Test func jtiIsSHA512_256OfTheStandardClaimsAsGoSerializesThem() throws {
        let claims = UserClaims(subject: userKey.publicKey, name: "a <b> & \"c\"", nats: UserPayload())
        let token = try JWT.encode(claims: claims, signer: accountKey, issuedAt: now)
        let decoded = try JWT.decode(token, as: UserClaims.self)
        // Built by hand, as Go's encoding/json writes ClaimsData (jti empty, so omitted).
        let goJSON = #"{"iat":1700000123,"iss":"\#(accountKey.publicKey)","name":"a \u003cb\u003e \u0026 \"c\"","sub":"\#(userKey.publicKey)"}"#
        #expect(decoded.id == Base32.encode(SHA512_256.hash(Array(goJSON.utf8))))
        #expect(decoded.id.count == 52)
        #expect(decoded.computedID == decoded.id)
    }

    @Test func decodesAJWTMadeByPython() throws {
        let vector = Vectors.shared.userJWT
        let claims = try JWT.decode(vector.token, as: UserClaims.self)
        #expect(claims.issuer == vector.issuer)
        #expect(claims.subject == vector.subject)
        #expect(claims.name == vector.name)
        #expect(claims.id == vector.jti)
        #expect(claims.computedID == vector.jti)
        #expect(claims.issuedAt == Date(timeIntervalSince1970: TimeInterval(vector.iat)))
        #expect(claims.nats.permissions.publish.allow == ["foo.>"])
        #expect(claims.nats.permissions.subscribe.deny == ["secret"])
    }

    @Test func tamperedTokensFail() throws {
        let token = try JWT.encode(claims: UserClaims(subject: userKey.publicKey, name: "bob", nats: UserPayload()), signer: accountKey, issuedAt: now)
        let parts = token.split(separator: ".").map(String.init)

        // Flip one signature byte.
        var signature = try #require(Base64URL.decode(parts[2]))
        signature[10] ^= 0x01
        let badSignature = [parts[0], parts[1], Base64URL.encode(signature)].joined(separator: ".")
        #expect(try #require(throws: NKeyError.self) { try JWT.decode(badSignature, as: UserClaims.self) }.code == .invalidSignature)

        // Change the claims but keep the signature.
        var claimsJSON = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self)
        claimsJSON = claimsJSON.replacingOccurrences(of: "\"bob\"", with: "\"eve\"")
        let badClaims = [parts[0], Base64URL.encode(Array(claimsJSON.utf8)), parts[2]].joined(separator: ".")
        #expect(try #require(throws: NKeyError.self) { try JWT.decode(badClaims, as: UserClaims.self) }.code == .invalidSignature)

        // Re-sign with another account but keep the original issuer: still fails.
        let forged = try JWT.sign(claims: try JWT.decode(token, as: UserClaims.self), signer: KeyPair.generate(.account))
        #expect(try #require(throws: NKeyError.self) { try JWT.decode(forged, as: UserClaims.self) }.code == .invalidSignature)

        #expect(try #require(throws: NKeyError.self) { try JWT.decode(parts[0] + "." + parts[1], as: UserClaims.self) }.code == .invalidJWT)
        #expect(try #require(throws: NKeyError.self) { try JWT.decode("a.b.c", as: UserClaims.self) }.code == .invalidJWT)
    }

    @Test func claimTypeAndRolesAreEnforced() throws {
        let userToken = try JWT.encode(claims: UserClaims(subject: userKey.publicKey, nats: UserPayload()), signer: accountKey, issuedAt: now)
        // A user JWT does not decode as an account JWT.
        #expect(try #require(throws: NKeyError.self) { try JWT.decode(userToken, as: AccountClaims.self) }.code == .invalidJWT)
        // Users are issued by accounts, not operators; account subjects must be account keys.
        #expect(try #require(throws: NKeyError.self) {
            try JWT.encode(claims: UserClaims(subject: userKey.publicKey, nats: UserPayload()), signer: operatorKey)
        }.code == .invalidClaims)
        #expect(try #require(throws: NKeyError.self) {
            try JWT.encode(claims: AccountClaims(subject: userKey.publicKey, nats: AccountPayload()), signer: operatorKey)
        }.code == .invalidClaims)
        // A correctly signed user JWT whose issuer is a user key is rejected on decode.
        var selfIssued = try JWT.decode(userToken, as: UserClaims.self)
        selfIssued.issuer = userKey.publicKey
        let token = try JWT.sign(claims: selfIssued, signer: userKey)
        #expect(try #require(throws: NKeyError.self) { try JWT.decode(token, as: UserClaims.self) }.code == .invalidClaims)
    }

    @Test func operatorAndAccountJWTsRoundTrip() throws {
        let system = KeyPair.generate(.account)
        let operatorToken = try JWT.encode(
            claims: OperatorClaims(subject: operatorKey.publicKey, name: "op", nats: OperatorPayload(systemAccount: system.publicKey)),
            signer: operatorKey, issuedAt: now)
        let op = try JWT.decode(operatorToken, as: OperatorClaims.self)
        #expect(op.issuer == op.subject)
        #expect(op.nats.systemAccount == system.publicKey)

        let accountToken = try JWT.encode(
            claims: AccountClaims(subject: accountKey.publicKey, name: "app", nats: AccountPayload(limits: .unlimited(jetStream: true))),
            signer: operatorKey, issuedAt: now)
        let account = try JWT.decode(accountToken, as: AccountClaims.self)
        #expect(account.issuer == operatorKey.publicKey)
        #expect(account.nats.limits.isJetStreamEnabled)
        #expect(account.nats.limits.streams == -1)
        #expect(account.nats.limits.connections == -1)
        #expect(account.nats.limits.wildcardExports)

        let claims = try #require(Base64URL.decode(accountToken.split(separator: ".")[1]))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(claims)) as? [String: Any])
        let limits = try #require((json["nats"] as? [String: Any])?["limits"] as? [String: Any])
        for key in ["subs", "data", "payload", "imports", "exports", "conn", "leaf", "mem_storage", "disk_storage", "streams", "consumer"] {
            #expect(limits[key] as? Int == -1, "\(key)")
        }
        #expect(limits["wildcards"] as? Bool == true)

        let plain = try JWT.encode(claims: AccountClaims(subject: accountKey.publicKey, nats: AccountPayload()), signer: operatorKey)
        #expect(try !JWT.decode(plain, as: AccountClaims.self).nats.limits.isJetStreamEnabled)
    }
}
