import CSodium

/// An x25519 "xkey" ("SX…" seed, "X…" public key), used to seal data to a recipient.
///
/// The seed is kept as the 32 raw bytes nats-io/nkeys keeps (unclamped); the public key is
/// `crypto_scalarmult_base` of it, as Go's `curve25519.ScalarBaseMult`. Sealing and opening
/// (NaCl box, as nkeys `xkeys.go`) are in `XKey.swift`.
public struct CurveKeyPair: Sendable {
    /// 32 raw private key bytes. Secret.
    let rawSeedBytes: [UInt8]
    /// 32 raw public key bytes, derived once.
    let rawPublicKeyBytes: [UInt8]

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
        let seed = Array(rawSeed)
        var publicKey = [UInt8](repeating: 0, count: NKeyCodec.keyLength)
        // Fails only for scalars that give the all-zero point, which clamping makes impossible;
        // still checked so a broken library cannot hand out a zero public key.
        guard Sodium.ready, crypto_scalarmult_base(&publicKey, seed) == 0 else {
            throw NKeyError(code: .invalidSeed, message: "seed bytes are not a valid x25519 key")
        }
        rawSeedBytes = seed
        rawPublicKeyBytes = publicKey
    }

    /// A fresh random curve key pair (libsodium's CSPRNG, as Go's `crypto/rand`).
    public static func generate() -> CurveKeyPair {
        var seed = [UInt8](repeating: 0, count: NKeyCodec.keyLength)
        Sodium.randomBytes(&seed)
        do {
            return try CurveKeyPair(rawSeed: seed)
        } catch {
            fatalError("x25519 key derivation failed for random bytes: \(error)")
        }
    }

    /// The encoded public key ("X…").
    public var publicKey: String { NKeyCodec.encode(prefixByte: NKeyPrefix.curve.byte, payload: rawPublicKeyBytes) }
    /// The encoded seed ("SX…"). Secret.
    public var seed: String { NKeyCodec.encodeSeed(role: .curve, seed: rawSeedBytes) }
    /// The 32 raw x25519 public key bytes.
    public var rawPublicKey: [UInt8] { rawPublicKeyBytes }
    /// The 32 raw x25519 private key bytes, for the sealing layer. Secret.
    public var rawSeed: [UInt8] { rawSeedBytes }

    /// Decodes an encoded curve public key ("X…") to its 32 raw bytes.
    public static func rawPublicKey(from publicKey: String) throws(NKeyError) -> [UInt8] {
        try NKeyCodec.decodePublicKey(publicKey.trimmingASCIIWhitespace(), expecting: .curve).1
    }
}

/// libsodium must be initialised once before use; `sodium_init` is idempotent and thread-safe,
/// and a Swift global `let` runs it exactly once.
enum Sodium {
    private static let initResult: Int32 = sodium_init()

    /// Whether libsodium initialised (0: now, 1: already).
    static var ready: Bool { initResult >= 0 }

    static func randomBytes(_ buffer: inout [UInt8]) {
        precondition(ready, "libsodium failed to initialise")
        buffer.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
    }
}
