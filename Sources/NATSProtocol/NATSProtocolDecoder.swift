#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Decodes the server's byte stream into `ServerOp`s.
///
/// Used with `NIOSingleStepByteToMessageProcessor` (or `ByteToMessageHandler`) in the client's channel handler.
/// The decoder never consumes a partial operation: when a line or payload is incomplete it returns `nil` and
/// leaves the buffer untouched, so it can be called again when more bytes arrive. Payloads are slices of the
/// read buffer; only subjects, reply subjects and headers become `String`s.
public struct NATSProtocolDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ServerOp

    /// The longest control line (without its line end) accepted before the stream is declared malformed.
    public let maxControlLineLength: Int
    /// The largest `MSG`/`HMSG` size (headers plus payload) accepted.
    public let maxPayloadLength: Int

    /// A lower bound on the bytes needed for the next operation, learnt from the last incomplete attempt, so a
    /// large payload arriving over many reads does not have its control line re-parsed on every read.
    private var bytesNeeded = 1

    /// Creates a decoder with limits on control-line and payload sizes.
    public init(maxControlLineLength: Int = 4096, maxPayloadLength: Int = 64 * 1024 * 1024) {
        self.maxControlLineLength = maxControlLineLength
        self.maxPayloadLength = maxPayloadLength
    }

    /// Decodes one operation, or returns `nil` without consuming anything when it is not complete yet.
    ///
    /// - Throws: `NATSProtocolError` for malformed input; the stream cannot be resynchronised after that.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ServerOp? {
        guard buffer.readableBytes >= self.bytesNeeded else {
            return nil
        }
        let limits = (line: self.maxControlLineLength, payload: self.maxPayloadLength)
        let frame = try buffer.withUnsafeReadableBytes { bytes in
            try Self.frame(bytes, maxLine: limits.line, maxPayload: limits.payload)
        }
        switch frame {
        case .incomplete(let needed):
            self.bytesNeeded = needed
            return nil
        case .operation(let op, let length):
            self.bytesNeeded = 1
            buffer.moveReaderIndex(forwardBy: length)
            return op
        case .message(let head):
            self.bytesNeeded = 1
            let start = buffer.readerIndex + head.lineLength
            var headers: NATSHeaders? = nil
            if head.headerLength >= 0 {
                // Parse before consuming anything, so a bad header block leaves the buffer as it was.
                headers = try NATSHeaders(parsing: buffer.getSlice(at: start, length: head.headerLength)!)
            }
            let headerBytes = max(head.headerLength, 0)
            let payload = buffer.getSlice(at: start + headerBytes, length: head.totalLength - headerBytes)!
            buffer.moveReaderIndex(forwardBy: head.lineLength + head.totalLength + 2)
            return .message(
                InboundMessage(
                    subject: head.subject,
                    sid: head.sid,
                    replyTo: head.replyTo,
                    headers: headers,
                    payload: payload
                )
            )
        }
    }

    /// At EOF, decodes whatever complete operations remain; a trailing partial operation is left in the buffer.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServerOp? {
        try self.decode(buffer: &buffer)
    }
}

// MARK: - Framing

extension NATSProtocolDecoder {
    /// The control line of a MSG/HMSG with everything needed to slice its body.
    struct MessageHead {
        var subject: String
        var sid: UInt64
        var replyTo: String?
        /// Length of the control line including its line end.
        var lineLength: Int
        /// -1 for MSG (no header block).
        var headerLength: Int
        /// Header plus payload bytes, excluding the `\r\n` that follows.
        var totalLength: Int
    }

    enum Frame {
        case incomplete(needed: Int)
        case operation(ServerOp, length: Int)
        case message(MessageHead)
    }

    static func frame(_ bytes: UnsafeRawBufferPointer, maxLine: Int, maxPayload: Int) throws -> Frame {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else {
            return .incomplete(needed: 1)
        }
        // A line of maxLine bytes plus "\r\n" is acceptable; scanning further only finds lines we would reject.
        let scanLength = min(count, maxLine &+ 2)
        guard let found = memchr(base, Int32(UInt8(ascii: "\n")), scanLength) else {
            if count >= maxLine &+ 2 {
                throw NATSProtocolError(
                    code: .controlLineTooLong,
                    message: "no line end within \(maxLine) bytes"
                )
            }
            return .incomplete(needed: count + 1)
        }
        let newline = base.distance(to: UnsafeRawPointer(found))
        var lineEnd = newline
        if lineEnd > 0, bytes[lineEnd - 1] == UInt8(ascii: "\r") {
            lineEnd -= 1
        }
        guard lineEnd <= maxLine else {
            throw NATSProtocolError(code: .controlLineTooLong, message: "control line of \(lineEnd) bytes")
        }
        let lineLength = newline + 1
        let line = Line(bytes: bytes, end: lineEnd)

        switch ASCII.lowercased(bytes[0]) {
        case UInt8(ascii: "m"):
            guard let argumentsStart = line.argumentsStart(afterOp: "msg") else {
                throw Self.unknownOperation(line)
            }
            return try Self.message(
                line,
                from: argumentsStart,
                hasHeaders: false,
                lineLength: lineLength,
                available: count,
                maxPayload: maxPayload
            )
        case UInt8(ascii: "h"):
            guard let argumentsStart = line.argumentsStart(afterOp: "hmsg") else {
                throw Self.unknownOperation(line)
            }
            return try Self.message(
                line,
                from: argumentsStart,
                hasHeaders: true,
                lineLength: lineLength,
                available: count,
                maxPayload: maxPayload
            )
        case UInt8(ascii: "p"):
            if line.isBare(op: "ping") {
                return .operation(.ping, length: lineLength)
            }
            if line.isBare(op: "pong") {
                return .operation(.pong, length: lineLength)
            }
            throw Self.unknownOperation(line)
        case UInt8(ascii: "i"):
            guard let argumentsStart = line.argumentsStart(afterOp: "info") else {
                throw Self.unknownOperation(line)
            }
            let info = try ServerInfo(json: UnsafeRawBufferPointer(rebasing: bytes[argumentsStart..<lineEnd]))
            return .operation(.info(info), length: lineLength)
        case UInt8(ascii: "+"):
            guard line.isBare(op: "+ok") else {
                throw Self.unknownOperation(line)
            }
            return .operation(.ok, length: lineLength)
        case UInt8(ascii: "-"):
            guard let argumentsStart = line.argumentsStart(afterOp: "-err") else {
                throw Self.unknownOperation(line)
            }
            let text = line.string(argumentsStart..<lineEnd)
            return .operation(.error(ServerError(message: text)), length: lineLength)
        default:
            throw Self.unknownOperation(line)
        }
    }

    private static func message(
        _ line: Line,
        from argumentsStart: Int,
        hasHeaders: Bool,
        lineLength: Int,
        available: Int,
        maxPayload: Int
    ) throws -> Frame {
        var arguments = Arguments()
        try line.split(from: argumentsStart, into: &arguments)
        let op = hasHeaders ? "HMSG" : "MSG"
        let sizeCount = hasHeaders ? 2 : 1
        guard arguments.count == 2 + sizeCount || arguments.count == 3 + sizeCount else {
            throw NATSProtocolError(
                code: .malformedControlLine,
                message: "\(op) with \(arguments.count) arguments"
            )
        }
        let hasReply = arguments.count == 3 + sizeCount
        let firstSize = hasReply ? 3 : 2
        let totalLength = try line.size(arguments[arguments.count - 1])
        var headerLength = -1
        if hasHeaders {
            headerLength = try line.size(arguments[firstSize])
            guard headerLength <= totalLength else {
                throw NATSProtocolError(
                    code: .headerSizeExceedsTotalSize,
                    message: "HMSG header size \(headerLength) exceeds total size \(totalLength)"
                )
            }
        }
        guard totalLength <= maxPayload else {
            throw NATSProtocolError(
                code: .payloadTooLarge,
                message: "\(op) of \(totalLength) bytes exceeds the limit of \(maxPayload)"
            )
        }
        let frameLength = lineLength + totalLength + 2
        guard available >= frameLength else {
            return .incomplete(needed: frameLength)
        }
        let terminator = lineLength + totalLength
        guard line.bytes[terminator] == UInt8(ascii: "\r"), line.bytes[terminator + 1] == UInt8(ascii: "\n") else {
            throw NATSProtocolError(
                code: .missingPayloadTerminator,
                message: "\(op) payload of \(totalLength) bytes is not followed by CRLF"
            )
        }
        let sid = try line.sid(arguments[1])
        return .message(
            MessageHead(
                subject: line.string(arguments[0]),
                sid: sid,
                replyTo: hasReply ? line.string(arguments[2]) : nil,
                lineLength: lineLength,
                headerLength: headerLength,
                totalLength: totalLength
            )
        )
    }

    private static func unknownOperation(_ line: Line) -> NATSProtocolError {
        // Show only a short prefix: the line may be huge or binary.
        let shown = line.string(0..<min(line.end, 16))
        return NATSProtocolError(code: .unknownOperation, message: "unknown operation in line starting '\(shown)'")
    }
}

// MARK: - Control line helpers

/// Up to five argument ranges (HMSG with a reply has five), held inline so splitting never allocates.
struct Arguments {
    private var storage: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) = (
        0..<0, 0..<0, 0..<0, 0..<0, 0..<0
    )
    private(set) var count = 0
    static let capacity = 5

    subscript(index: Int) -> Range<Int> {
        switch index {
        case 0: return self.storage.0
        case 1: return self.storage.1
        case 2: return self.storage.2
        case 3: return self.storage.3
        default: return self.storage.4
        }
    }

    /// Returns false when full.
    mutating func append(_ range: Range<Int>) -> Bool {
        switch self.count {
        case 0: self.storage.0 = range
        case 1: self.storage.1 = range
        case 2: self.storage.2 = range
        case 3: self.storage.3 = range
        case 4: self.storage.4 = range
        default: return false
        }
        self.count += 1
        return true
    }
}

/// One control line: the bytes `0..<end` of `bytes` (the line end excluded).
struct Line {
    let bytes: UnsafeRawBufferPointer
    let end: Int

    /// If the line is `op` (case-insensitively), alone or followed by a blank, the index where its arguments start.
    /// An op without arguments matches too (returning `end`), so that "MSG" alone is reported as a malformed MSG.
    func argumentsStart(afterOp op: StaticString) -> Int? {
        let length = op.utf8CodeUnitCount
        guard self.hasPrefix(op) else {
            return nil
        }
        if length == self.end {
            return self.end
        }
        guard ASCII.isBlank(self.bytes[length]) else {
            return nil
        }
        var index = length
        while index < self.end, ASCII.isBlank(self.bytes[index]) {
            index += 1
        }
        return index
    }

    /// The line is `op` (case-insensitively), optionally followed by blanks.
    func isBare(op: StaticString) -> Bool {
        guard self.hasPrefix(op) else {
            return false
        }
        var index = op.utf8CodeUnitCount
        while index < self.end {
            guard ASCII.isBlank(self.bytes[index]) else {
                return false
            }
            index += 1
        }
        return true
    }

    private func hasPrefix(_ op: StaticString) -> Bool {
        let length = op.utf8CodeUnitCount
        guard self.end >= length else {
            return false
        }
        let expected = op.utf8Start
        for index in 0..<length where ASCII.lowercased(self.bytes[index]) != expected[index] {
            return false
        }
        return true
    }

    /// Splits blank-separated arguments from `start` to the end of the line.
    func split(from start: Int, into arguments: inout Arguments) throws {
        var index = start
        while index < self.end {
            while index < self.end, ASCII.isBlank(self.bytes[index]) {
                index += 1
            }
            guard index < self.end else {
                break
            }
            let tokenStart = index
            while index < self.end, !ASCII.isBlank(self.bytes[index]) {
                index += 1
            }
            guard arguments.append(tokenStart..<index) else {
                throw NATSProtocolError(code: .malformedControlLine, message: "too many arguments")
            }
        }
    }

    /// A byte count: decimal digits only (so no sign), at most 18 of them so it cannot overflow `Int`.
    func size(_ range: Range<Int>) throws -> Int {
        guard !range.isEmpty, range.count <= 18 else {
            throw self.invalidSize(range)
        }
        var value = 0
        for index in range {
            guard let digit = ASCII.digitValue(self.bytes[index]) else {
                throw self.invalidSize(range)
            }
            value = value * 10 + digit
        }
        return value
    }

    func sid(_ range: Range<Int>) throws -> UInt64 {
        var value: UInt64 = 0
        for index in range {
            guard let digit = ASCII.digitValue(self.bytes[index]) else {
                throw NATSProtocolError(code: .malformedControlLine, message: "sid '\(self.string(range))' is not a number")
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else {
                throw NATSProtocolError(code: .malformedControlLine, message: "sid '\(self.string(range))' overflows")
            }
            value = sum
        }
        return value
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[range]), as: UTF8.self)
    }

    private func invalidSize(_ range: Range<Int>) -> NATSProtocolError {
        NATSProtocolError(code: .invalidSize, message: "size '\(self.string(range))' is not a non-negative number")
    }
}
