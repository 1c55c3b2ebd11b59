import NIOCore

/// Byte-level helpers for the parser and encoder, so the hot path never builds a `String` to inspect bytes.
enum ASCII {
    @inline(__always)
    static func digitValue(_ byte: UInt8) -> Int? {
        let value = byte &- UInt8(ascii: "0")
        return value < 10 ? Int(value) : nil
    }

    /// Space or tab: the protocol's argument separators.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// Lowercases ASCII letters only; other bytes are returned unchanged.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
    }

    static func decimalDigitCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}

extension ByteBuffer {
    /// Writes `value` in decimal without building a `String`.
    @inline(__always)
    mutating func writeDecimal(_ value: UInt64) {
        let digits = ASCII.decimalDigitCount(value)
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { buffer in
            var rest = value
            var index = digits - 1
            while index >= 0 {
                buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                index -= 1
            }
            return digits
        }
    }
}
