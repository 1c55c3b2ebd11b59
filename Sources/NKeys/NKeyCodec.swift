/// The nkey text formats (all base32 without padding, with a CRC16 trailer):
///
/// - public key: `[role] + 32 key bytes + crc` → 56 characters, first letter = role
/// - seed: `[S | role>>5, (role & 31)<<3] + 32 seed bytes + crc` → 58 characters, "S" + role letter
/// - private key: `[P] + 64 ed25519 private key bytes + crc` → "P…"
enum NKeyCodec {
    static let keyLength = 32
    static let encodedPublicKeyLength = 56
    static let encodedSeedLength = 58

    /// `[prefix] + payload + crc`, base32.
    static func encode(prefixByte: UInt8, payload: some Collection<UInt8>) -> String {
        var raw: [UInt8] = [prefixByte]
        raw.append(contentsOf: payload)
        raw.append(contentsOf: CRC16.trailer(raw))
        return Base32.encode(raw)
    }

    static func encodeSeed(role: NKeyPrefix, seed: some Collection<UInt8>) -> String {
        var raw: [UInt8] = [NKeyPrefix.seedByte | (role.byte >> 5), (role.byte & 31) << 3]
        raw.append(contentsOf: seed)
        raw.append(contentsOf: CRC16.trailer(raw))
        return Base32.encode(raw)
    }

    /// Base32-decodes and checks the CRC; returns the bytes without the trailer.
    static func decodeChecked(_ text: some StringProtocol, what: String) throws(NKeyError) -> [UInt8] {
        guard var raw = Base32.decode(text) else {
            throw NKeyError(code: .invalidEncoding, message: "\(what) is not valid base32 (RFC 4648 alphabet, upper case)")
        }
        guard raw.count > 4 else {
            throw NKeyError(code: .invalidEncoding, message: "\(what) is too short (\(text.utf8.count) characters)")
        }
        let trailer = Array(raw.suffix(2))
        raw.removeLast(2)
        guard CRC16.trailer(raw) == trailer else {
            throw NKeyError(code: .invalidChecksum, message: "\(what) has a bad checksum (mistyped or truncated?)")
        }
        return raw
    }

    /// Decodes a public key, optionally requiring a role; returns the role and the 32 key bytes.
    static func decodePublicKey(_ text: some StringProtocol, expecting expected: NKeyPrefix? = nil) throws(NKeyError) -> (NKeyPrefix, [UInt8]) {
        let raw = try decodeChecked(text, what: "public key")
        if raw[0] & 0xF8 == NKeyPrefix.seedByte {
            throw NKeyError(code: .invalidPublicKey, message: "expected a public key but got a seed; never share seeds")
        }
        guard let role = NKeyPrefix(byte: raw[0]) else {
            throw NKeyError(code: .invalidPrefix, message: "public key has an unknown role prefix byte \(raw[0])")
        }
        if let expected, expected != role {
            throw NKeyError(code: .invalidPrefix, message: "expected a public \(expected) key (\(expected.letter)…) but got a \(role) key")
        }
        guard raw.count == 1 + keyLength else {
            throw NKeyError(code: .invalidPublicKey, message: "public key has \(raw.count - 1) key bytes, expected \(keyLength)")
        }
        return (role, Array(raw[1...]))
    }

    /// Decodes a seed ("S…"); returns its role and the 32 seed bytes.
    static func decodeSeed(_ text: some StringProtocol) throws(NKeyError) -> (NKeyPrefix, [UInt8]) {
        let raw = try decodeChecked(text, what: "seed")
        guard raw.count >= 2, raw[0] & 0xF8 == NKeyPrefix.seedByte else {
            throw NKeyError(code: .invalidSeed, message: "not a seed (seeds start with \"S\")")
        }
        let roleByte = (raw[0] & 0x07) << 5 | (raw[1] & 0xF8) >> 3
        guard let role = NKeyPrefix(byte: roleByte) else {
            throw NKeyError(code: .invalidPrefix, message: "seed has an unknown role prefix byte \(roleByte)")
        }
        guard raw.count == 2 + keyLength else {
            throw NKeyError(code: .invalidSeed, message: "seed has \(raw.count - 2) bytes, expected \(keyLength)")
        }
        return (role, Array(raw[2...]))
    }
}
