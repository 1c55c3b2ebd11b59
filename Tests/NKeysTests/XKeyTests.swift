import Foundation
import Testing
@testable import NKeys

/// The xkey vectors of `XKeyGoldenVectorsTests.swift` (PyNaCl boxes with fixed nonces), decoded.
struct XKeyVectors: Decodable {
    struct Key: Decodable {
        var rawSeedHex: String
        var seed: String
        var publicKey: String
    }
    struct Box: Decodable, CustomTestStringConvertible {
        var messageHex: String
        var nonceHex: String
        var sealedHex: String
        var sealedBase64: String
        var testDescription: String { "\(messageHex.count / 2)-byte message" }
    }
    var sender: Key
    var recipient: Key
    var boxes: [Box]

    static let shared: XKeyVectors = {
        do {
            return try JSONDecoder().decode(XKeyVectors.self, from: Data(xkeyGoldenVectorsJSON.utf8))
        } catch {
            fatalError("XKeyGoldenVectorsTests.swift does not decode: \(error)")
        }
    }()
}

@Suite struct XKeyTests {
    let vectors = XKeyVectors.shared

    @Test func curveKeysFromTheVectorsDeriveThePyNaClPublicKeys() throws {
        for key in [vectors.sender, vectors.recipient] {
            let pair = try CurveKeyPair(seed: key.seed)
            #expect(pair.publicKey == key.publicKey)
            #expect(pair.rawSeed == [UInt8](hex: key.rawSeedHex))
            #expect(try CurveKeyPair(rawSeed: [UInt8](hex: key.rawSeedHex)).publicKey == key.publicKey)
        }
    }

    @Test(arguments: XKeyVectors.shared.boxes)
    func sealWithAFixedNonceMatchesPyNaClByteForByte(box: XKeyVectors.Box) throws {
        let sender = try CurveKeyPair(seed: vectors.sender.seed)
        let sealed = try sender.seal([UInt8](hex: box.messageHex), to: vectors.recipient.publicKey, nonce: [UInt8](hex: box.nonceHex))
        #expect(sealed.hex == box.sealedHex)
        // Nex 0.x carries it as padded standard base64.
        #expect(Data(sealed).base64EncodedString() == box.sealedBase64)
    }

    @Test(arguments: XKeyVectors.shared.boxes)
    func recipientOpensWhatPyNaClSealed(box: XKeyVectors.Box) throws {
        let recipient = try CurveKeyPair(seed: vectors.recipient.seed)
        #expect(try recipient.open([UInt8](hex: box.sealedHex), from: vectors.sender.publicKey) == [UInt8](hex: box.messageHex))
        #expect(try recipient.openBase64(box.sealedBase64, from: vectors.sender.publicKey) == [UInt8](hex: box.messageHex))
        // NaCl box is symmetric in the key agreement: the sender can open its own box too.
        let sender = try CurveKeyPair(seed: vectors.sender.seed)
        #expect(try sender.open([UInt8](hex: box.sealedHex), from: vectors.recipient.publicKey) == [UInt8](hex: box.messageHex))
    }

    @Test func sealDrawsAFreshNonceEveryTime() throws {
        let sender = CurveKeyPair.generate()
        let recipient = CurveKeyPair.generate()
        let message = Array(#"{"SECRET":"value"}"#.utf8)
        let first = try sender.seal(message, to: recipient.publicKey)
        let second = try sender.seal(message, to: recipient.publicKey)
        #expect(first.count == message.count + XKey.overhead)
        #expect(Array(first.prefix(4)) == Array("xkv1".utf8))
        #expect(first[4..<28] != second[4..<28])
        #expect(try recipient.open(first, from: sender.publicKey) == message)
        #expect(try recipient.open(second, from: sender.publicKey) == message)
        let text = try sender.sealBase64(message, to: recipient.publicKey)
        #expect(try recipient.openBase64(text, from: sender.publicKey) == message)
    }

    @Test func emptyPlaintextRoundTrips() throws {
        let sender = CurveKeyPair.generate()
        let recipient = CurveKeyPair.generate()
        let sealed = try sender.seal([UInt8](), to: recipient.publicKey)
        #expect(sealed.count == XKey.overhead)
        #expect(try recipient.open(sealed, from: sender.publicKey) == [])
    }

    @Test func alteredBytesFailAuthentication() throws {
        let recipient = try CurveKeyPair(seed: vectors.recipient.seed)
        let sealed = [UInt8](hex: vectors.boxes[1].sealedHex)
        // One index in the nonce, the tag and the ciphertext each.
        for index in [4, 27, 28, 43, 44, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(openError(recipient, altered, from: vectors.sender.publicKey) == .decryptionFailed, "byte \(index)")
        }
    }

    @Test func wrongKeysFailAuthentication() throws {
        let sealed = [UInt8](hex: vectors.boxes[2].sealedHex)
        let recipient = try CurveKeyPair(seed: vectors.recipient.seed)
        let stranger = CurveKeyPair.generate()
        #expect(openError(recipient, sealed, from: stranger.publicKey) == .decryptionFailed)
        #expect(openError(stranger, sealed, from: vectors.sender.publicKey) == .decryptionFailed)
    }

    @Test func malformedInputIsRejectedBeforeDecrypting() throws {
        let recipient = try CurveKeyPair(seed: vectors.recipient.seed)
        let sender = vectors.sender.publicKey
        let sealed = [UInt8](hex: vectors.boxes[1].sealedHex)
        #expect(openError(recipient, [], from: sender) == .inputTooShort)
        #expect(openError(recipient, Array(sealed.prefix(28)), from: sender) == .inputTooShort)
        // Longer than the header but shorter than a tag: the box itself cannot authenticate.
        #expect(openError(recipient, Array(sealed.prefix(29)), from: sender) == .decryptionFailed)
        #expect(openError(recipient, Array(sealed.prefix(43)), from: sender) == .decryptionFailed)
        var wrongVersion = sealed
        wrongVersion[3] = UInt8(ascii: "2")
        #expect(openError(recipient, wrongVersion, from: sender) == .unsupportedVersion)
        #expect(openError(recipient, sealed, from: KeyPair.generate(.account).publicKey) == .invalidSender)
        #expect(openError(recipient, sealed, from: "XNOTAKEY") == .invalidSender)
        #expect(throws: XKeyError(code: .invalidEncoding, message: "sealed text is not padded standard base64")) {
            try recipient.openBase64("eGt2M*==", from: sender)
        }
    }

    @Test func sealRejectsRecipientsThatAreNotCurveKeys() throws {
        let sender = CurveKeyPair.generate()
        for recipient in [KeyPair.generate(.user).publicKey, sender.seed, "", "X" + String(repeating: "A", count: 55)] {
            do {
                _ = try sender.seal([1, 2, 3], to: recipient)
                Issue.record("sealed to \(recipient)")
            } catch {
                #expect(error.code == .invalidRecipient)
            }
        }
    }

    @Test func lowOrderPointsAreRefusedAsRecipientsAndFailAsSenders() throws {
        // The all-zero point makes the shared secret zero whatever the seed: nobody holds its key.
        // nkeys (Go) would seal to it anyway; libsodium refuses, and so do we.
        let zeroPoint = NKeyCodec.encode(prefixByte: NKeyPrefix.curve.byte, payload: [UInt8](repeating: 0, count: 32))
        #expect(KeyPair.isValidPublicKey(zeroPoint, prefix: .curve))
        let pair = CurveKeyPair.generate()
        do {
            _ = try pair.seal([1], to: zeroPoint)
            Issue.record("sealed to the zero point")
        } catch {
            #expect(error.code == .invalidRecipient)
        }
        let sealed = try CurveKeyPair.generate().seal([1], to: pair.publicKey)
        #expect(openError(pair, sealed, from: zeroPoint) == .decryptionFailed)
    }

    @Test func generatedKeysRoundTripThroughTheirSeeds() throws {
        let pair = CurveKeyPair.generate()
        let parsed = try CurveKeyPair(seed: pair.seed)
        #expect(parsed.publicKey == pair.publicKey)
        #expect(try CurveKeyPair.rawPublicKey(from: pair.publicKey) == pair.rawPublicKey)
    }

    private func openError(_ pair: CurveKeyPair, _ sealed: [UInt8], from sender: String) -> XKeyError.Code? {
        do {
            _ = try pair.open(sealed, from: sender)
            return nil
        } catch {
            return error.code
        }
    }
}
