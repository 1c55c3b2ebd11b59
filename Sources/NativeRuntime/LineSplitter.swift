/// Splits a byte stream into lines: a pure value fed bytes in arbitrary chunks.
///
/// - Lines end at `\n`; a `\r` right before it is dropped too, so CRLF output reads the same.
/// - A line longer than `maxLineLength` bytes is cut into pieces of at most that size, so one
///   endless line cannot grow memory. Cuts are moved back to a UTF-8 character boundary when
///   possible, so a piece never ends in half a character.
/// - Bytes that are not UTF-8 are repaired with U+FFFD rather than rejected: logs must flow.
/// - `finish()` returns the last line when the stream ended without a newline.
public struct LineSplitter: Sendable {
    /// The longest piece, in bytes, that is ever returned.
    public let maxLineLength: Int
    private var pending: [UInt8] = []

    public init(maxLineLength: Int) {
        precondition(maxLineLength >= 4, "a line must hold at least one UTF-8 character")
        self.maxLineLength = maxLineLength
    }

    /// Consumes `bytes` and returns every line (or long-line piece) they complete, in order.
    public mutating func append(_ bytes: some Collection<UInt8>) -> [String] {
        var lines: [String] = []
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            pending.append(contentsOf: rest[..<newline])
            cutLongPieces(into: &lines)
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            lines.append(String(decoding: pending, as: UTF8.self))
            pending.removeAll(keepingCapacity: true)
            rest = rest[rest.index(after: newline)...]
        }
        pending.append(contentsOf: rest)
        cutLongPieces(into: &lines)
        return lines
    }

    /// Ends the stream: returns the unterminated last line, if any bytes are left.
    public mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Emits pieces while more than `maxLineLength` bytes are pending. A line of exactly the
    /// maximum stays pending until we know whether its newline follows.
    private mutating func cutLongPieces(into lines: inout [String]) {
        while pending.count > maxLineLength {
            let cut = characterBoundary(atOrBefore: maxLineLength)
            lines.append(String(decoding: pending[..<cut], as: UTF8.self))
            pending.removeFirst(cut)
        }
    }

    /// The largest index `<= limit` that does not split a UTF-8 sequence (continuation bytes are
    /// `10xxxxxx`); falls back to `limit` for input that is not UTF-8 at all.
    private func characterBoundary(atOrBefore limit: Int) -> Int {
        var cut = limit
        while cut > limit - 3, pending[cut] & 0b1100_0000 == 0b1000_0000 {
            cut -= 1
        }
        return pending[cut] & 0b1100_0000 == 0b1000_0000 ? limit : cut
    }
}
