/// Base64url without padding (RFC 4648 §5), as NATS uses for JWT parts and the signed nonce in CONNECT.
public enum Base64URL {
    private static let alphabet = BitAlphabet(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", bitsPerSymbol: 6)

    /// Encodes bytes; the result has no `=` padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        alphabet.encode(bytes)
    }

    /// Decodes unpadded base64url; `nil` for padding, characters outside the URL-safe alphabet
    /// (including `+` and `/`) or an impossible length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.utf8.count % 4 != 1 else { return nil }
        return alphabet.decode(text)
    }
}
