/// An RFC 4648 alphabet of `bitsPerSymbol`-bit symbols without padding: the bit-shuffling shared by base32
/// (nkeys, `jti`) and base64url (JWT parts, the signed nonce). Each user adds its own length rules.
struct BitAlphabet: Sendable {
    let symbols: [UInt8]
    let bitsPerSymbol: Int
    /// ASCII byte → symbol value, 0xFF where the byte is not in the alphabet.
    private let decodeTable: [UInt8]

    init(_ symbols: String, bitsPerSymbol: Int) {
        self.symbols = Array(symbols.utf8)
        self.bitsPerSymbol = bitsPerSymbol
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, char) in self.symbols.enumerated() { table[Int(char)] = UInt8(value) }
        self.decodeTable = table
    }

    func encode(_ bytes: some Sequence<UInt8>) -> String {
        let mask = UInt32(1 << bitsPerSymbol - 1)
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= bitsPerSymbol {
                bits -= bitsPerSymbol
                out.append(symbols[Int((buffer >> UInt32(bits)) & mask)])
            }
        }
        if bits > 0 {
            out.append(symbols[Int((buffer << UInt32(bitsPerSymbol - bits)) & mask)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or `nil` for a character outside the alphabet (length rules are the caller's).
    func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * bitsPerSymbol / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for char in text.utf8 {
            let value = decodeTable[Int(char)]
            guard value != 0xFF else { return nil }
            buffer = (buffer << UInt32(bitsPerSymbol)) | UInt32(value)
            bits += bitsPerSymbol
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
