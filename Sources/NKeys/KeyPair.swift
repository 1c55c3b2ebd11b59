import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An ed25519 nkey: a seed ("SU…", "SA…", …) and the public key ("U…", "A…", …) derived from it.
///
/// Signatures are plain 64-byte ed25519 signatures, interoperable with nats-io/nkeys and the
/// Python `nkeys` package. Curve ("X…") keys are for encryption and live in ``CurveKeyPair``.
public struct KeyPair: Sendable {
    /// The key's role (user, account, operator, server or cluster).
    public let prefix: NKeyPrefix
    private let signingKey: Curve25519.Signing.PrivateKey

    /// Parses an encoded seed. Surrounding whitespace is ignored, as in files and environment variables.
    public init(seed: String) throws(NKeyError) {
        let (role, bytes) = try NKeyCodec.decodeSeed(seed.trimmingASCIIWhitespace())
        guard role != .curve else {
            throw NKeyError(code: .invalidPrefix, message: "curve (SX…) seeds cannot sign; use CurveKeyPair")
        }
        try self.init(role: role, seedBytes: bytes)
    }

    /// Builds a key pair from 32 raw seed bytes.
    public init(prefix: NKeyPrefix, rawSeed: some Collection<UInt8>) throws(NKeyError) {
        guard prefix != .curve else {
            throw NKeyError(code: .invalidPrefix, message: "curve keys cannot sign; use CurveKeyPair")
        }
        guard rawSeed.count == NKeyCodec.keyLength else {
            throw NKeyError(code: .invalidSeed, message: "a raw seed has \(NKeyCodec.keyLength) bytes, got \(rawSeed.count)")
        }
        try self.init(role: prefix, seedBytes: Array(rawSeed))
    }

    private init(role: NKeyPrefix, seedBytes: [UInt8]) throws(NKeyError) {
        do {
            self.signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seedBytes)
        } catch {
            throw NKeyError(code: .invalidSeed, message: "seed bytes are not a valid ed25519 seed")
        }
        self.prefix = role
    }

    /// A fresh random key pair with the given role.
    ///
    /// - Precondition: `prefix` is not ``NKeyPrefix/curve`` (use ``CurveKeyPair/generate()``).
    public static func generate(_ prefix: NKeyPrefix) -> KeyPair {
        precondition(prefix != .curve, "KeyPair signs; generate curve keys with CurveKeyPair.generate()")
        let key = Curve25519.Signing.PrivateKey()
        return KeyPair(prefix: prefix, signingKey: key)
    }

    private init(prefix: NKeyPrefix, signingKey: Curve25519.Signing.PrivateKey) {
        self.prefix = prefix
        self.signingKey = signingKey
    }

    /// The encoded public key, e.g. "UA…" for a user. Safe to share.
    public var publicKey: String {
        NKeyCodec.encode(prefixByte: prefix.byte, payload: rawPublicKey)
    }

    /// The encoded seed, e.g. "SU…". Secret: whoever has it can sign as this key.
    public var seed: String {
        NKeyCodec.encodeSeed(role: prefix, seed: signingKey.rawRepresentation)
    }

    /// The encoded 64-byte ed25519 private key ("P…"), the form some tools print.
    public var privateKey: String {
        NKeyCodec.encode(prefixByte: NKeyPrefix.privateByte, payload: signingKey.rawRepresentation + signingKey.publicKey.rawRepresentation)
    }

    /// The 32 raw ed25519 public key bytes.
    public var rawPublicKey: [UInt8] { Array(signingKey.publicKey.rawRepresentation) }

    /// Signs `data` with ed25519; always 64 bytes.
    public func sign(_ data: some DataProtocol) -> [UInt8] {
        do {
            return Array(try signingKey.signature(for: data))
        } catch {
            // BoringSSL's ED25519_sign cannot fail for a valid key; a failure here means the
            // crypto library itself is broken, and returning a bogus signature would be worse.
            fatalError("ed25519 signing failed: \(error)")
        }
    }

    /// Whether `signature` is this key's signature of `data`.
    public func verify(_ signature: some DataProtocol, for data: some DataProtocol) -> Bool {
        signingKey.publicKey.isValidSignature(signature, for: data)
    }

    /// Verifies a signature against an encoded public key of any signing role.
    ///
    /// - Returns: whether the signature is valid.
    /// - Throws: ``NKeyError`` if `publicKey` is not a valid public key (a bad key is an error,
    ///   not merely a failed verification).
    public static func verify(publicKey: String, signature: some DataProtocol, for data: some DataProtocol) throws(NKeyError) -> Bool {
        let (role, bytes) = try NKeyCodec.decodePublicKey(publicKey.trimmingASCIIWhitespace())
        guard role != .curve else {
            throw NKeyError(code: .invalidPrefix, message: "curve (X…) keys cannot verify signatures")
        }
        let key: Curve25519.Signing.PublicKey
        do {
            key = try Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        } catch {
            throw NKeyError(code: .invalidPublicKey, message: "public key bytes are not an ed25519 key")
        }
        return key.isValidSignature(signature, for: data)
    }

    /// Whether `key` is a well-formed public key, of role `prefix` if one is given.
    public static func isValidPublicKey(_ key: String, prefix: NKeyPrefix? = nil) -> Bool {
        (try? NKeyCodec.decodePublicKey(key, expecting: prefix)) != nil
    }

    /// Whether `seed` is a well-formed seed, of role `prefix` if one is given.
    public static func isValidSeed(_ seed: String, prefix: NKeyPrefix? = nil) -> Bool {
        guard let (role, _) = try? NKeyCodec.decodeSeed(seed) else { return false }
        return prefix.map { $0 == role } ?? true
    }

    /// The role of an encoded public key, or `nil` if it is not a valid public key.
    public static func role(ofPublicKey key: String) -> NKeyPrefix? {
        (try? NKeyCodec.decodePublicKey(key))?.0
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return text[first...last]
    }
}
