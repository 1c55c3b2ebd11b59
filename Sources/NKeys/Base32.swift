/// RFC 4648 base32 (standard alphabet) without padding, as nkeys and JWT `jti`s use it.
/// Lower case is rejected: nkeys are upper case and a case-folded key would not round-trip.
enum Base32 {
    static let alphabet = BitAlphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", bitsPerSymbol: 5)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        alphabet.encode(bytes)
    }

    /// Decodes unpadded base32; `nil` for characters outside the alphabet or an impossible length
    /// (1, 3 or 6 characters left over cannot come from whole bytes).
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        switch text.utf8.count % 8 {
        case 1, 3, 6: return nil
        default: return alphabet.decode(text)
        }
    }
}
