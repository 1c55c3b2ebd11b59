import NIOCore

extension NATSHeaders {
    /// Parses a complete header block as carried by `HMSG`/`HPUB`: the `NATS/1.0[ code[ description]]` line,
    /// then `Name: value` lines, then an empty line.
    ///
    /// Values keep any `:` after the first one. Leading and trailing blanks around names and values are dropped,
    /// as nats.go does. Bytes after the terminating empty line are ignored (nats.go's reader stops there too).
    ///
    /// - Throws: `NATSProtocolError` with code `.malformedHeaders`.
    public init(parsing block: ByteBuffer) throws {
        self = try block.withUnsafeReadableBytes { bytes in
            try Self.parse(bytes)
        }
    }

    private static let versionPrefix: [UInt8] = Array("NATS/1.0".utf8)

    private static func malformed(_ message: String) -> NATSProtocolError {
        NATSProtocolError(code: .malformedHeaders, message: message)
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws -> NATSHeaders {
        var headers = NATSHeaders()
        let count = bytes.count
        guard count >= Self.versionPrefix.count,
            zip(bytes.prefix(Self.versionPrefix.count), Self.versionPrefix).allSatisfy({ $0 == $1 })
        else {
            throw Self.malformed("header block does not start with NATS/1.0")
        }

        guard let (statusLine, afterStatus) = Self.line(in: bytes, from: Self.versionPrefix.count) else {
            throw Self.malformed("header block has no line end after NATS/1.0")
        }
        try Self.parseStatus(bytes, statusLine, into: &headers)

        var position = afterStatus
        while position < count {
            guard let (line, next) = Self.line(in: bytes, from: position) else {
                throw Self.malformed("header line without line end")
            }
            if line.isEmpty {
                return headers
            }
            guard let colon = bytes[line].firstIndex(of: UInt8(ascii: ":")) else {
                throw Self.malformed("header line without ':'")
            }
            let name = Self.trimmed(bytes, line.lowerBound..<colon)
            guard !name.isEmpty else {
                throw Self.malformed("header line with an empty name")
            }
            let value = Self.trimmed(bytes, (colon + 1)..<line.upperBound)
            headers.fields.append(Field(name: Self.string(bytes, name), value: Self.string(bytes, value)))
            position = next
        }
        // The final empty line is missing but every line was complete: accept, nothing is ambiguous.
        return headers
    }

    /// The status line's remainder after "NATS/1.0": optional blanks, a decimal code, optional description.
    private static func parseStatus(
        _ bytes: UnsafeRawBufferPointer,
        _ range: Range<Int>,
        into headers: inout NATSHeaders
    ) throws {
        let rest = Self.trimmed(bytes, range)
        guard !rest.isEmpty else {
            return
        }
        guard range.lowerBound < rest.lowerBound else {
            // "NATS/1.0503" or "NATS/1.01": the version must be followed by a blank before the code.
            throw Self.malformed("unexpected bytes after NATS/1.0")
        }
        var index = rest.lowerBound
        var code = 0
        while index < rest.upperBound, let digit = ASCII.digitValue(bytes[index]) {
            guard index - rest.lowerBound < 9 else {
                throw Self.malformed("status code too long")
            }
            code = code * 10 + digit
            index += 1
        }
        guard index > rest.lowerBound else {
            throw Self.malformed("status is not a number")
        }
        guard index == rest.upperBound || ASCII.isBlank(bytes[index]) else {
            throw Self.malformed("status is not a number")
        }
        headers.status = code
        let description = Self.trimmed(bytes, index..<rest.upperBound)
        if !description.isEmpty {
            headers.statusDescription = Self.string(bytes, description)
        }
    }

    /// The line starting at `start` without its `\n` or `\r\n`, and the index after the `\n`.
    private static func line(in bytes: UnsafeRawBufferPointer, from start: Int) -> (Range<Int>, Int)? {
        guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            return nil
        }
        var end = newline
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        return (start..<end, newline + 1)
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, ASCII.isBlank(bytes[lower]) {
            lower += 1
        }
        while upper > lower, ASCII.isBlank(bytes[upper - 1]) {
            upper -= 1
        }
        return lower..<upper
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The exact number of bytes `ByteBuffer.writeHeaders(_:)` writes for these headers, as needed for the
    /// header length in `HPUB`.
    public var encodedByteCount: Int {
        var total = Self.versionPrefix.count + 2  // "NATS/1.0" + "\r\n"
        if let status = self.status {
            total += 1 + String(status).utf8.count
            if let description = self.statusDescription {
                total += 1 + description.utf8.count
            }
        }
        for field in self.fields {
            total += field.name.utf8.count + 2 + field.value.utf8.count + 2  // "name: value\r\n"
        }
        return total + 2  // the empty line closing the block
    }
}

extension ByteBuffer {
    /// Writes a header block as `HPUB` carries it, returning the number of bytes written
    /// (always `headers.encodedByteCount`).
    ///
    /// A CR or LF inside a name, value or status description is written as a space, so a value cannot inject
    /// another header line or end the block early (the same rule Go's textproto writer applies).
    /// Names should be header tokens: a `:` in a name is written as is and will split differently when read back.
    @discardableResult
    public mutating func writeHeaders(_ headers: NATSHeaders) -> Int {
        let start = self.writerIndex
        self.writeStaticString("NATS/1.0")
        if let status = headers.status {
            self.writeInteger(UInt8(ascii: " "))
            self.writeString(String(status))
            if let description = headers.statusDescription {
                self.writeInteger(UInt8(ascii: " "))
                self.writeHeaderText(description)
            }
        }
        self.writeStaticString("\r\n")
        for field in headers.fields {
            self.writeHeaderText(field.name)
            self.writeStaticString(": ")
            self.writeHeaderText(field.value)
            self.writeStaticString("\r\n")
        }
        self.writeStaticString("\r\n")
        return self.writerIndex - start
    }

    private mutating func writeHeaderText(_ text: String) {
        let isLineBreak = { (byte: UInt8) in byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") }
        if text.utf8.contains(where: isLineBreak) {
            self.writeBytes(text.utf8.map { isLineBreak($0) ? UInt8(ascii: " ") : $0 })
        } else {
            self.writeString(text)
        }
    }
}
