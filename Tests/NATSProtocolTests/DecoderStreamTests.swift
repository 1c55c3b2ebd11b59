import NIOCore
import NIOTestUtils
import Testing

@testable import NATSProtocol

/// A stream of every server operation, with payloads and header blocks that contain protocol-looking bytes.
private let mixedStream: [(String, ServerOp)] = [
    (realInfoLine, .info(realInfo)),
    ("+OK\r\n", .ok),
    ("PING\r\n", .ping),
    ("MSG foo 1 5\r\nhello\r\n", message("foo", sid: 1, payload: "hello")),
    ("MSG foo.bar 22 _INBOX.a.b 0\r\n\r\n", message("foo.bar", sid: 22, replyTo: "_INBOX.a.b", payload: "")),
    ("msg\tx\t3\t\t8\r\nPONG\r\n\r\n\r\n", message("x", sid: 3, payload: "PONG\r\n\r\n")),
    ("PONG\r\n", .pong),
    (
        "HMSG foo 1 rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\nhello\r\n",
        message("foo", sid: 1, replyTo: "rep", headers: headers([("A", "b:c"), ("A", "d")]), payload: "hello")
    ),
    ("HMSG _INBOX.x 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n", message("_INBOX.x", sid: 2, headers: headers(status: 503), payload: "")),
    (
        "HMSG _INBOX.y 4 32 34\r\nNATS/1.0 408 Request Timeout\r\n\r\nok\r\n",
        message("_INBOX.y", sid: 4, headers: headers(status: 408, description: "Request Timeout"), payload: "ok")
    ),
    ("-ERR 'Permissions Violation for Publish to \"secret\"'\r\n", .error(ServerError(message: "Permissions Violation for Publish to \"secret\""))),
    ("MSG big 7 300\r\n\(String(repeating: "0123456789", count: 30))\r\n", message("big", sid: 7, payload: String(repeating: "0123456789", count: 30))),
    ("-ERR 'Stale Connection'\r\n", .error(ServerError(message: "Stale Connection"))),
]

@Suite("Decoder: streams and splits")
struct DecoderStreamTests {
    @Test func verifierByteByByteAndWhole() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: mixedStream.map { ($0.0, [$0.1]) },
            decoderFactory: { NATSProtocolDecoder() }
        )
    }

    @Test func verifierWithSeveralOpsPerInput() throws {
        let pairs: [(String, [ServerOp])] = [
            ("PING\r\nPONG\r\n", [.ping, .pong]),
            ("MSG a 1 2\r\nhi\r\nMSG b 2 r 0\r\n\r\n", [message("a", sid: 1, payload: "hi"), message("b", sid: 2, replyTo: "r", payload: "")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs, decoderFactory: { NATSProtocolDecoder() })
    }

    @Test(arguments: [
        (["MSG foo 1 5\r\nwo", "rld\r\n"], "world"),
        (["MSG foo 1 5\r", "\nworld\r\n"], "world"),
        (["MSG foo 1 5\r\n", "world", "\r\n"], "world"),
        (["MSG foo 1 5\r\nworld\r", "\n"], "world"),
        (["M", "SG foo 1 5\r\nworld\r\n"], "world"),
        (["MSG foo 1", " 5\r\nworld\r\n"], "world"),
        (["MSG foo 1 5\r\nworld", "\r\n"], "world"),
        (["MSG foo 1 5\r\nw", "o", "r", "l", "d", "\r", "\n"], "world"),
        (["MSG foo 1 10\r\n\r\n\r\n", "\r\n\r\n\r\n\r\n"], "\r\n\r\n\r\n\r\n\r\n"),
    ])
    func explicitChunkSplits(_ chunks: [String], _ payload: String) throws {
        let ops = try decodeAll(chunks)
        #expect(ops == [message("foo", sid: 1, payload: payload)])
    }

    @Test func headerMessageChunkSplits() throws {
        let whole = "HMSG foo 1 rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\nhello\r\n"
        let expected = message("foo", sid: 1, replyTo: "rep", headers: headers([("A", "b:c"), ("A", "d")]), payload: "hello")
        for chunks in [
            ["HMSG foo 1 rep 26 31\r\nNATS/1.0\r\n", "A: b:c\r\nA: d\r\n\r\nhello\r\n"],
            ["HMSG foo 1 rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\n", "hello\r\n"],
            ["HMSG foo 1 rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r", "\n\r\nhello\r\n"],
        ] {
            #expect(chunks.joined() == whole)
            #expect(try decodeAll(chunks) == [expected])
        }
    }

    /// The whole mixed stream split in two at every possible offset, and in three around every offset,
    /// decodes to the same operations as the stream in one piece.
    @Test func everySplitOffsetGivesTheSameOperations() throws {
        let stream = ByteBuffer(string: mixedStream.map(\.0).joined())
        let expected = mixedStream.map(\.1)
        #expect(try decodeAll([stream]) == expected)
        for offset in 0...stream.readableBytes {
            let first = stream.getSlice(at: 0, length: offset)!
            let second = stream.getSlice(at: offset, length: stream.readableBytes - offset)!
            let ops = try decodeAll([first, second])
            #expect(ops == expected, "split at \(offset)")
            if ops != expected {
                return
            }
        }
        for offset in stride(from: 0, to: stream.readableBytes - 7, by: 3) {
            let chunks = [
                stream.getSlice(at: 0, length: offset)!,
                stream.getSlice(at: offset, length: 7)!,
                stream.getSlice(at: offset + 7, length: stream.readableBytes - offset - 7)!,
            ]
            #expect(try decodeAll(chunks) == expected, "split at \(offset) and \(offset + 7)")
        }
    }

    @Test func byteByByteGivesTheSameOperations() throws {
        let stream = ByteBuffer(string: mixedStream.map(\.0).joined())
        let chunks = (0..<stream.readableBytes).map { stream.getSlice(at: $0, length: 1)! }
        #expect(try decodeAll(chunks) == mixedStream.map(\.1))
    }
}
