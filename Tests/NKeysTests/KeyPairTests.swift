import Foundation
import Testing
@testable import NKeys

@Suite struct KeyPairTests {
    static let roles: [String: NKeyPrefix] = [
        "user": .user, "account": .account, "operator": .operator, "server": .server, "cluster": .cluster,
    ]

    @Test(arguments: Vectors.shared.keys)
    func seedDecodesToPythonsPublicKey(_ vector: Vectors.Key) throws {
        let pair = try KeyPair(seed: vector.seed)
        #expect(pair.prefix == Self.roles[vector.role])
        #expect(pair.publicKey == vector.publicKey)
        #expect(pair.seed == vector.seed)
        #expect(pair.privateKey == vector.privateKey)
        #expect(pair.publicKey.first == pair.prefix.letter)
    }

    @Test(arguments: Vectors.shared.keys)
    func rawSeedEncodesToPythonsSeed(_ vector: Vectors.Key) throws {
        let role = try #require(Self.roles[vector.role])
        let pair = try KeyPair(prefix: role, rawSeed: [UInt8](hex: vector.rawSeedHex))
        #expect(pair.seed == vector.seed)
    }

    @Test(arguments: Vectors.shared.keys)
    func signaturesMatchAndVerify(_ vector: Vectors.Key) throws {
        let pair = try KeyPair(seed: vector.seed)
        for signature in vector.signatures {
            let message = [UInt8](hex: signature.messageHex)
            let expected = [UInt8](hex: signature.signatureHex)
            // Python's signature verifies with our code, through the pair and through the public key.
            #expect(pair.verify(expected, for: message))
            #expect(try KeyPair.verify(publicKey: vector.publicKey, signature: expected, for: message))
            let ours = pair.sign(message)
            #expect(ours.count == 64)
            #expect(pair.verify(ours, for: message))
            #if !canImport(Darwin)
            // BoringSSL's ed25519 is deterministic (RFC 8032), like libsodium's; CryptoKit on
            // Apple platforms randomizes signatures, so byte equality is only expected here.
            #expect(ours == expected)
            #endif
            var tampered = message
            tampered.append(0)
            #expect(!pair.verify(expected, for: tampered))
            var badSignature = expected
            badSignature[0] ^= 1
            #expect(try !KeyPair.verify(publicKey: vector.publicKey, signature: badSignature, for: message))
        }
    }

    @Test func curveKeysMatchPyNaCl() throws {
        for vector in Vectors.shared.curveKeys {
            let pair = try CurveKeyPair(seed: vector.seed)
            #expect(pair.publicKey == vector.publicKey)
            #expect(pair.seed == vector.seed)
            #expect(pair.rawSeed == [UInt8](hex: vector.rawSeedHex))
            #expect(try CurveKeyPair(rawSeed: [UInt8](hex: vector.rawSeedHex)).seed == vector.seed)
            #expect(KeyPair.isValidPublicKey(vector.publicKey, prefix: .curve))
            #expect(try CurveKeyPair.rawPublicKey(from: vector.publicKey) == pair.rawPublicKey)
            // A curve seed cannot sign.
            #expect(throws: NKeyError.self) { try KeyPair(seed: vector.seed) }
        }
    }

    @Test(arguments: Vectors.shared.invalid)
    func invalidInputIsRejectedWithTheRightCode(_ vector: Vectors.Invalid) throws {
        let error: NKeyError
        switch vector.kind {
        case "publicKey":
            #expect(!KeyPair.isValidPublicKey(vector.input, prefix: nil))
            error = try #require(throws: NKeyError.self) {
                _ = try KeyPair.verify(publicKey: vector.input, signature: [UInt8](repeating: 0, count: 64), for: [1, 2, 3])
            }
        case "seed":
            #expect(!KeyPair.isValidSeed(vector.input))
            error = try #require(throws: NKeyError.self) { try KeyPair(seed: vector.input) }
        default:
            Issue.record("unknown vector kind \(vector.kind)")
            return
        }
        #expect(error.code.description == vector.code, "\(error)")
    }

    @Test func generatedKeysRoundTripThroughTheirSeed() throws {
        for role in [NKeyPrefix.user, .account, .operator, .server, .cluster] {
            let pair = KeyPair.generate(role)
            #expect(pair.prefix == role)
            #expect(pair.seed.count == 58)
            #expect(pair.seed.hasPrefix("S" + String(role.letter)))
            #expect(pair.publicKey.count == 56)
            #expect(KeyPair.isValidPublicKey(pair.publicKey, prefix: role))
            #expect(KeyPair.isValidSeed(pair.seed, prefix: role))
            let again = try KeyPair(seed: pair.seed)
            #expect(again.publicKey == pair.publicKey)
            let signature = pair.sign(Array("nonce".utf8))
            #expect(again.verify(signature, for: Array("nonce".utf8)))
        }
        let curve = CurveKeyPair.generate()
        #expect(curve.seed.hasPrefix("SX"))
        #expect(curve.publicKey.hasPrefix("X"))
        #expect(try CurveKeyPair(seed: curve.seed).publicKey == curve.publicKey)
        #expect(KeyPair.generate(.user).publicKey != KeyPair.generate(.user).publicKey)
    }

    @Test func roleIsCheckedWhenExpected() throws {
        let user = KeyPair.generate(.user)
        #expect(KeyPair.isValidPublicKey(user.publicKey, prefix: .user))
        #expect(!KeyPair.isValidPublicKey(user.publicKey, prefix: .account))
        #expect(KeyPair.role(ofPublicKey: user.publicKey) == .user)
        #expect(!KeyPair.isValidSeed(user.seed, prefix: .operator))
        let error = try #require(throws: NKeyError.self) {
            try CurveKeyPair.rawPublicKey(from: user.publicKey)
        }
        #expect(error.code == .invalidPrefix)
        #expect(throws: NKeyError.self) { try CurveKeyPair(seed: user.seed) }
    }

    @Test func seedsAreAcceptedWithSurroundingWhitespace() throws {
        let vector = Vectors.shared.keys[0]
        #expect(try KeyPair(seed: "  \(vector.seed)\r\n").publicKey == vector.publicKey)
    }

    @Test func seedErrorsDoNotEchoTheSeed() throws {
        let vector = Vectors.shared.keys[0]
        let broken = String(vector.seed.dropLast(2))
        let error = try #require(throws: NKeyError.self) { try KeyPair(seed: broken) }
        #expect(!error.description.contains(broken))
    }

    @Test func wrongLengthRawSeedIsRejected() {
        #expect(throws: NKeyError.self) { try KeyPair(prefix: .user, rawSeed: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: NKeyError.self) { try KeyPair(prefix: .curve, rawSeed: [UInt8](repeating: 1, count: 32)) }
    }

    @Test func prefixBytesMatchNKeys() {
        #expect(NKeyPrefix.operator.byte == 14 << 3)
        #expect(NKeyPrefix.account.byte == 0)
        #expect(NKeyPrefix.user.byte == 20 << 3)
        #expect(NKeyPrefix.server.byte == 13 << 3)
        #expect(NKeyPrefix.cluster.byte == 2 << 3)
        #expect(NKeyPrefix.curve.byte == 23 << 3)
        #expect(NKeyPrefix.allRoles.map(\.letter) == ["O", "A", "U", "N", "C", "X"])
        #expect(NKeyPrefix(byte: 18 << 3) == nil)  // the seed framing byte is not a role
        #expect(NKeyPrefix(byte: 20 << 3) == .user)
    }
}
