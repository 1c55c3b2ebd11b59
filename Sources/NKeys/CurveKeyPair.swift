import Crypto

/// An x25519 "xkey" ("SX…" seed, "X…" public key), used to seal data to a recipient.
///
/// Only the key formats live here; the NaCl box that seals with these keys needs
/// XSalsa20-Poly1305, which swift-crypto does not provide (see DESIGN: libsodium).
public struct CurveKeyPair: Sendable {
    private let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// Parses an encoded curve seed ("SX…").
    public init(seed: String) throws(NKeyError) {
        let (role, bytes) = try NKeyCodec.decodeSeed(seed.trimmingASCIIWhitespace())
        guard role == .curve else {
            throw NKeyError(code: .invalidPrefix, message: "expected a curve seed (SX…) but got a \(role) seed")
        }
        try self.init(rawSeed: bytes)
    }

    /// Builds a curve key pair from 32 raw private key bytes.
    public init(rawSeed: some Collection<UInt8>) throws(NKeyError) {
        guard rawSeed.count == NKeyCodec.keyLength else {
            throw NKeyError(code: .invalidSeed, message: "a raw curve seed has \(NKeyCodec.keyLength) bytes, got \(rawSeed.count)")
        }
        do {
            privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Array(rawSeed))
        } catch {
            throw NKeyError(code: .invalidSeed, message: "seed bytes are not a valid x25519 key")
        }
    }

    private init(privateKey: Curve25519.KeyAgreement.PrivateKey) { self.privateKey = privateKey }

    /// A fresh random curve key pair.
    public static func generate() -> CurveKeyPair {
        CurveKeyPair(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// The encoded public key ("X…").
    public var publicKey: String { NKeyCodec.encode(prefixByte: NKeyPrefix.curve.byte, payload: rawPublicKey) }
    /// The encoded seed ("SX…"). Secret.
    public var seed: String { NKeyCodec.encodeSeed(role: .curve, seed: rawSeed) }
    /// The 32 raw x25519 public key bytes.
    public var rawPublicKey: [UInt8] { Array(privateKey.publicKey.rawRepresentation) }
    /// The 32 raw x25519 private key bytes, for the sealing layer. Secret.
    public var rawSeed: [UInt8] { Array(privateKey.rawRepresentation) }

    /// Decodes an encoded curve public key ("X…") to its 32 raw bytes.
    public static func rawPublicKey(from publicKey: String) throws(NKeyError) -> [UInt8] {
        try NKeyCodec.decodePublicKey(publicKey.trimmingASCIIWhitespace(), expecting: .curve).1
    }
}
