import CSodium
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The sealed format of nats-io/nkeys `xkeys.go` (v1):
///
///     "xkv1" ‖ 24-byte nonce ‖ crypto_box_easy(plaintext)   // 16-byte Poly1305 tag first
///
/// NaCl box is X25519 key agreement plus XSalsa20-Poly1305, computed by libsodium (Go's
/// `golang.org/x/crypto/nacl/box` produces the same bytes for the same keys and nonce).
public enum XKey {
    /// The version tag every sealed message starts with.
    public static let versionV1: [UInt8] = Array("xkv1".utf8)
    /// Nonce length of XSalsa20 (`crypto_box_NONCEBYTES`).
    public static let nonceLength = 24
    /// Poly1305 tag length (`crypto_box_MACBYTES`).
    public static let tagLength = 16
    /// Bytes a sealed message adds to its plaintext.
    public static let overhead = versionV1.count + nonceLength + tagLength
}

extension CurveKeyPair {
    /// Seals `plaintext` so that only `recipientPublicKey` ("X…") can open it, and only knowing
    /// this key pair's public key; as nkeys `Seal`. Every call draws a fresh random nonce.
    ///
    /// - Returns: raw bytes (`xkv1` + nonce + box). Nex 0.x carries them as padded standard
    ///   base64; see ``sealBase64(_:to:)``.
    public func seal(_ plaintext: some Collection<UInt8>, to recipientPublicKey: String) throws(XKeyError) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: XKey.nonceLength)
        Sodium.randomBytes(&nonce)
        return try seal(plaintext, to: recipientPublicKey, nonce: nonce)
    }

    /// Seals with a caller-chosen nonce, as nkeys `SealWithRand`. A nonce must never be reused
    /// with the same key pair; this exists for byte-exact golden tests.
    package func seal(_ plaintext: some Collection<UInt8>, to recipientPublicKey: String, nonce: [UInt8]) throws(XKeyError) -> [UInt8] {
        precondition(nonce.count == XKey.nonceLength, "an xkv1 nonce has \(XKey.nonceLength) bytes")
        let recipient: [UInt8]
        do {
            recipient = try CurveKeyPair.rawPublicKey(from: recipientPublicKey)
        } catch {
            throw XKeyError(code: .invalidRecipient, message: "not a valid recipient public curve key (\(error.message))")
        }
        let message = Array(plaintext)
        let headerLength = XKey.versionV1.count + XKey.nonceLength
        var out = XKey.versionV1 + nonce + [UInt8](repeating: 0, count: message.count + XKey.tagLength)
        let status = out.withUnsafeMutableBufferPointer { buffer in
            crypto_box_easy(buffer.baseAddress! + headerLength, message, UInt64(message.count), nonce, recipient, rawSeedBytes)
        }
        // crypto_box_easy fails only for a low-order recipient point (an all-zero shared secret):
        // such a key is not one anybody holds, so it is the recipient that is invalid.
        guard status == 0 else {
            throw XKeyError(code: .invalidRecipient, message: "recipient public curve key is a low-order point")
        }
        return out
    }

    /// Opens what `senderPublicKey` ("X…") sealed to this key pair; as nkeys `Open`.
    ///
    /// - Throws: ``XKeyError`` with ``XKeyError/Code/inputTooShort``,
    ///   ``XKeyError/Code/unsupportedVersion``, ``XKeyError/Code/invalidSender`` or
    ///   ``XKeyError/Code/decryptionFailed`` (wrong keys or altered data; no detail on purpose).
    public func open(_ sealed: some Collection<UInt8>, from senderPublicKey: String) throws(XKeyError) -> [UInt8] {
        let input = Array(sealed)
        let headerLength = XKey.versionV1.count + XKey.nonceLength
        // Same order of checks as nkeys: length, version, sender key, then the box.
        guard input.count > headerLength else {
            throw XKeyError(code: .inputTooShort, message: "encrypted input is not valid (\(input.count) bytes is too short for \"xkv1\" and a nonce)")
        }
        guard input.prefix(XKey.versionV1.count).elementsEqual(XKey.versionV1) else {
            throw XKeyError(code: .unsupportedVersion, message: "encrypted input wrong version (expected \"xkv1\")")
        }
        let sender: [UInt8]
        do {
            sender = try CurveKeyPair.rawPublicKey(from: senderPublicKey)
        } catch {
            throw XKeyError(code: .invalidSender, message: "not a valid sender public curve key (\(error.message))")
        }
        let nonce = Array(input[XKey.versionV1.count..<headerLength])
        let box = Array(input[headerLength...])
        guard box.count >= XKey.tagLength else {
            throw XKeyError(code: .decryptionFailed, message: "could not decrypt input")
        }
        var plaintext = [UInt8](repeating: 0, count: box.count - XKey.tagLength)
        let status = plaintext.withUnsafeMutableBufferPointer { buffer in
            // An empty plaintext still needs a valid pointer for libsodium.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { scratch in
                crypto_box_open_easy(buffer.baseAddress ?? scratch.baseAddress!, box, UInt64(box.count), nonce, sender, rawSeedBytes)
            }
        }
        guard status == 0 else {
            throw XKeyError(code: .decryptionFailed, message: "could not decrypt input")
        }
        return plaintext
    }

    /// ``seal(_:to:)`` then padded standard base64 (`+/`, `=`), the form of Nex 0.x's
    /// `DeployRequest.environment` (Go `base64.StdEncoding`).
    public func sealBase64(_ plaintext: some Collection<UInt8>, to recipientPublicKey: String) throws(XKeyError) -> String {
        Data(try seal(plaintext, to: recipientPublicKey)).base64EncodedString()
    }

    /// Decodes padded standard base64 and ``open(_:from:)``s the result.
    public func openBase64(_ text: String, from senderPublicKey: String) throws(XKeyError) -> [UInt8] {
        guard let data = Data(base64Encoded: String(text.trimmingASCIIWhitespace())) else {
            throw XKeyError(code: .invalidEncoding, message: "sealed text is not padded standard base64")
        }
        return try open(Array(data), from: senderPublicKey)
    }
}
