import Foundation
import NIOCore
import NIOTestUtils
import Testing

@testable import NATSProtocol

@Suite("Decoder: operations")
struct DecoderOperationTests {
    @Test func simpleOperations() throws {
        #expect(try decodeOne("PING\r\n") == .ping)
        #expect(try decodeOne("PONG\r\n") == .pong)
        #expect(try decodeOne("+OK\r\n") == .ok)
        #expect(try decodeOne("-ERR 'Stale Connection'\r\n") == .error(ServerError(message: "Stale Connection")))
    }

    @Test(arguments: ["ping\r\n", "Ping\r\n", "pInG\r\n", "PING \r\n", "PING\t\r\n", "PING\n"])
    func operationNamesAreCaseInsensitiveAndTolerant(_ input: String) throws {
        #expect(try decodeOne(input) == .ping)
    }

    @Test func lowercaseOperations() throws {
        #expect(try decodeOne("pong\r\n") == .pong)
        #expect(try decodeOne("+ok\r\n") == .ok)
        #expect(try decodeOne("-err 'Slow Consumer'\r\n") == .error(ServerError(message: "'Slow Consumer'")))
        #expect(try decodeOne("msg a 1 1\r\nx\r\n") == message("a", sid: 1, payload: "x"))
        #expect(try decodeOne("hmsg a 1 12 12\r\nNATS/1.0\r\n\r\n\r\n") == message("a", sid: 1, headers: headers(), payload: ""))
        #expect(try decodeOne(realInfoLine.replacingOccurrences(of: "INFO", with: "info")) == .info(realInfo))
    }

    @Test func realServerInfo() throws {
        #expect(try decodeOne(realInfoLine) == .info(realInfo))
    }

    @Test func errorWithoutText() throws {
        let op = try decodeOne("-ERR\r\n")
        #expect(op == .error(ServerError(message: "")))
    }

    @Test func messageWithoutReply() throws {
        #expect(try decodeOne("MSG foo.bar 9 11\r\nhello world\r\n") == message("foo.bar", sid: 9, payload: "hello world"))
    }

    @Test func messageWithReply() throws {
        let op = try decodeOne("MSG foo 1 _INBOX.abc.1 5\r\nhello\r\n")
        #expect(op == message("foo", sid: 1, replyTo: "_INBOX.abc.1", payload: "hello"))
    }

    @Test(arguments: [
        "MSG\tfoo\t1\t_INBOX.x\t5\r\nhello\r\n",
        "MSG  foo   1 \t _INBOX.x    5\r\nhello\r\n",
        "MSG foo 1 _INBOX.x 5   \r\nhello\r\n",
        "MSG foo 1 _INBOX.x 5\nhello\r\n",
    ])
    func messageSeparators(_ input: String) throws {
        #expect(try decodeOne(input) == message("foo", sid: 1, replyTo: "_INBOX.x", payload: "hello"))
    }

    @Test func zeroLengthPayloads() throws {
        #expect(try decodeOne("MSG foo 1 0\r\n\r\n") == message("foo", sid: 1, payload: ""))
        #expect(try decodeOne("MSG foo 1 bar 0\r\n\r\n") == message("foo", sid: 1, replyTo: "bar", payload: ""))
        #expect(try decodeOne("HMSG foo 1 12 12\r\nNATS/1.0\r\n\r\n\r\n") == message("foo", sid: 1, headers: headers(), payload: ""))
    }

    @Test func payloadContainingLineEnds() throws {
        let op = try decodeOne("MSG foo 1 12\r\n\r\nPING\r\n\r\n\r\n\r\n")
        #expect(op == message("foo", sid: 1, payload: "\r\nPING\r\n\r\n\r\n"))
    }

    @Test func binaryPayload() throws {
        var input = ByteBuffer(string: "MSG bin 3 256\r\n")
        input.writeBytes((0...255).map { UInt8($0) })
        input.writeString("\r\n")
        let ops = try decodeAll([input])
        #expect(ops.first?.inboundMessage?.payload == ByteBuffer(bytes: (0...255).map { UInt8($0) }))
    }

    @Test func largeSid() throws {
        let op = try decodeOne("MSG foo 18446744073709551615 1\r\nx\r\n")
        #expect(op?.inboundMessage?.sid == UInt64.max)
    }

    @Test func headerMessageFromRealServer() throws {
        let op = try decodeOne("HMSG foo 1 rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\nhello\r\n")
        let expected = headers([("A", "b:c"), ("A", "d")])
        #expect(op == message("foo", sid: 1, replyTo: "rep", headers: expected, payload: "hello"))
        #expect(op?.inboundMessage?.headers?.values(for: "A") == ["b:c", "d"])
    }

    @Test func statusOnlyHeaderBlocks() throws {
        let noResponders = try decodeOne("HMSG _INBOX.x 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n")
        #expect(noResponders == message("_INBOX.x", sid: 2, headers: headers(status: 503), payload: ""))
        #expect(noResponders?.inboundMessage?.headers?.statusDescription == nil)

        let timeout = try decodeOne("HMSG _INBOX.x 2 32 32\r\nNATS/1.0 408 Request Timeout\r\n\r\n\r\n")
        let timeoutHeaders = timeout?.inboundMessage?.headers
        #expect(timeoutHeaders?.status == 408)
        #expect(timeoutHeaders?.statusDescription == "Request Timeout")
        #expect(timeoutHeaders?.count == 0)
        #expect(timeout?.inboundMessage?.payload.readableBytes == 0)
    }

    @Test func headerMessageWithReplyAndPayload() throws {
        let block = "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 7\r\n\r\n"
        let input = "HMSG $JS.FC 5 $JS.ACK.x \(block.utf8.count) \(block.utf8.count + 3)\r\n\(block)abc\r\n"
        let op = try decodeOne(input)
        let expected = headers(status: 100, description: "Idle Heartbeat", [("Nats-Last-Consumer", "7")])
        #expect(op == message("$JS.FC", sid: 5, replyTo: "$JS.ACK.x", headers: expected, payload: "abc"))
    }

    @Test func payloadIsASliceOfTheReadBuffer() throws {
        var decoder = NATSProtocolDecoder()
        var buffer = ByteBuffer(string: "MSG a 1 5\r\nhello\r\nPING\r\n")
        let op = try decoder.decode(buffer: &buffer)
        let payload = try #require(op?.inboundMessage?.payload)
        // A slice shares the read buffer's storage: its bytes live inside the buffer's memory.
        let inside = buffer.withUnsafeReadableBytes { whole in
            payload.withUnsafeReadableBytes { part in
                let base = UInt(bitPattern: whole.baseAddress!)
                let start = UInt(bitPattern: part.baseAddress!)
                return start < base && start >= base - 18
            }
        }
        #expect(inside)
        #expect(try decoder.decode(buffer: &buffer) == .ping)
    }

    @Test func incompleteInputIsNotConsumed() throws {
        var decoder = NATSProtocolDecoder()
        for partial in ["M", "MSG foo 1 5", "MSG foo 1 5\r", "MSG foo 1 5\r\nhel", "MSG foo 1 5\r\nhello", "MSG foo 1 5\r\nhello\r"] {
            var buffer = ByteBuffer(string: partial)
            #expect(try decoder.decode(buffer: &buffer) == nil)
            #expect(buffer.readableBytes == partial.utf8.count, "consumed bytes of \(partial.debugDescription)")
        }
    }

    @Test func decodeLastDecodesCompleteOperations() throws {
        var decoder = NATSProtocolDecoder()
        var buffer = ByteBuffer(string: "PING\r\nMSG a 1 3\r\nab")
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == .ping)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
        #expect(buffer.readableBytes == "MSG a 1 3\r\nab".utf8.count)
    }
}

@Suite("Decoder: malformed input")
struct DecoderMalformedTests {
    @Test(arguments: [
        ("FOO bar\r\n", NATSProtocolError.Code.unknownOperation),
        ("\r\n", .unknownOperation),
        ("PINGX\r\n", .unknownOperation),
        ("PING extra\r\n", .unknownOperation),
        ("PUNG\r\n", .unknownOperation),
        ("+OKAY\r\n", .unknownOperation),
        ("-ERROR\r\n", .unknownOperation),
        ("MSGfoo 1 1\r\nx\r\n", .unknownOperation),
        ("MSG\r\n", .malformedControlLine),
        ("INFO\r\n", .malformedInfo),
        ("HMS foo 1 1 1\r\n", .unknownOperation),
        ("MSG foo 1 -5\r\nhello\r\n", .invalidSize),
        ("MSG foo 1 five\r\nhello\r\n", .invalidSize),
        ("MSG foo 1 5x\r\nhello\r\n", .invalidSize),
        ("MSG foo 1 +5\r\nhello\r\n", .invalidSize),
        ("MSG foo 1 99999999999999999999\r\n", .invalidSize),
        ("HMSG foo 1 -1 5\r\nhello\r\n", .invalidSize),
        ("HMSG foo 1 12 x\r\n", .invalidSize),
        ("HMSG foo 1 20 10\r\nNATS/1.0\r\n\r\n\r\n", .headerSizeExceedsTotalSize),
        ("MSG foo 1 3\r\nhello\r\n", .missingPayloadTerminator),
        ("MSG foo 1 5\r\nhello!!\r\n", .missingPayloadTerminator),
        ("MSG foo 1 5\r\nhello\n\r", .missingPayloadTerminator),
        ("HMSG foo 1 12 12\r\nNATS/1.0\r\n\r\nX\r\n", .missingPayloadTerminator),
        ("MSG foo 1\r\n", .malformedControlLine),
        ("MSG foo\r\n", .malformedControlLine),
        ("MSG foo 1 bar baz 5\r\nhello\r\n", .malformedControlLine),
        ("MSG a b c d e f\r\n", .malformedControlLine),
        ("MSG foo x 5\r\nhello\r\n", .malformedControlLine),
        ("MSG foo 18446744073709551616 1\r\nx\r\n", .malformedControlLine),
        ("HMSG foo 1 5\r\nhello\r\n", .malformedControlLine),
        ("HMSG foo 1 12 12\r\nNATZ/1.0\r\n\r\n\r\n", .malformedHeaders),
        ("HMSG foo 1 16 16\r\nNATS/1.0 abc\r\n\r\n\r\n", .malformedHeaders),
        ("HMSG foo 1 21 21\r\nNATS/1.0\r\nnocolon\r\n\r\n\r\n", .malformedHeaders),
        ("INFO {not json}\r\n", .malformedInfo),
        ("INFO {\"server_id\":\"x\"}\r\n", .malformedInfo),
    ])
    func malformedInputThrows(_ input: String, _ code: NATSProtocolError.Code) {
        let error = decodeError(input)
        #expect(error?.code == code, "input \(input.debugDescription) gave \(String(describing: error))")
        #expect(error?.message.isEmpty == false)
    }

    @Test func payloadOverTheLimit() {
        let decoder = NATSProtocolDecoder(maxPayloadLength: 10)
        #expect(decodeError("MSG foo 1 11\r\n", decoder: decoder)?.code == .payloadTooLarge)
        #expect(decodeError("HMSG foo 1 12 11\r\n", decoder: decoder)?.code == .headerSizeExceedsTotalSize)
        #expect(decodeError("HMSG foo 1 5 11\r\n", decoder: decoder)?.code == .payloadTooLarge)
        #expect(decodeError("MSG foo 1 10\r\n0123456789\r\n", decoder: decoder) == nil)
    }

    @Test func controlLineOverTheLimit() {
        let decoder = NATSProtocolDecoder(maxControlLineLength: 16)
        // Exactly at the limit: accepted.
        #expect(decodeError("MSG abcdefgh 1 0\r\n\r\n", decoder: decoder) == nil)
        // One byte over, with or without the line end having arrived.
        #expect(decodeError("MSG abcdefghi 1 0\r\n\r\n", decoder: decoder)?.code == .controlLineTooLong)
        #expect(decodeError("MSG abcdefghi 1 0\n\r\n", decoder: decoder)?.code == .controlLineTooLong)
        #expect(decodeError(String(repeating: "X", count: 18), decoder: decoder)?.code == .controlLineTooLong)
        // Short of the limit without a line end: just incomplete.
        #expect(decodeError(String(repeating: "X", count: 17), decoder: decoder) == nil)
    }

    @Test func controlLineLimitAppliesWhenFedInPieces() throws {
        var decoder = NATSProtocolDecoder(maxControlLineLength: 16)
        var buffer = ByteBuffer()
        var thrown: NATSProtocolError?
        for _ in 0..<40 {
            buffer.writeString("X")
            do {
                _ = try decoder.decode(buffer: &buffer)
            } catch let error as NATSProtocolError {
                thrown = error
                break
            }
        }
        #expect(thrown?.code == .controlLineTooLong)
    }

    @Test func errorDescriptionNamesTheCode() {
        let error = NATSProtocolError(code: .invalidSize, message: "size 'x'")
        #expect(error.description.contains("invalidSize"))
        #expect(error.description.contains("size 'x'"))
    }
}
