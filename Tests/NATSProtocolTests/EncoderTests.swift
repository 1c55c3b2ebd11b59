import Foundation
import NIOCore
import Testing

@testable import NATSProtocol

@Suite("Encoder golden output")
struct EncoderTests {
    private func encode(_ body: (inout ByteBuffer) -> Void) -> String {
        var buffer = ByteBuffer()
        body(&buffer)
        return String(buffer: buffer)
    }

    @Test func publish() {
        #expect(self.encode { $0.writePublish(subject: "foo", replyTo: nil, headers: nil, payload: ByteBuffer(string: "hello")) }
            == "PUB foo 5\r\nhello\r\n")
        #expect(self.encode { $0.writePublish(subject: "foo.bar", replyTo: "_INBOX.x.1", headers: nil, payload: ByteBuffer(string: "hi")) }
            == "PUB foo.bar _INBOX.x.1 2\r\nhi\r\n")
        #expect(self.encode { $0.writePublish(subject: "z", replyTo: nil, headers: nil, payload: ByteBuffer()) }
            == "PUB z 0\r\n\r\n")
    }

    @Test func publishFromRawBytes() {
        let bytes: [UInt8] = Array("a\r\nb".utf8)
        let out = self.encode { buffer in
            bytes.withUnsafeBytes { buffer.writePublish(subject: "s", replyTo: "r", headers: nil, payload: $0) }
        }
        #expect(out == "PUB s r 4\r\na\r\nb\r\n")
    }

    @Test func publishWithHeaders() {
        var headers = NATSHeaders()
        headers.append("b:c", for: "A")
        headers.append("d", for: "A")
        #expect(self.encode { $0.writePublish(subject: "foo", replyTo: "rep", headers: headers, payload: ByteBuffer(string: "hello")) }
            == "HPUB foo rep 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\nhello\r\n")
        #expect(self.encode { $0.writePublish(subject: "foo", replyTo: nil, headers: headers, payload: ByteBuffer()) }
            == "HPUB foo 26 26\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\n\r\n")

        let bytes: [UInt8] = [1, 2, 3]
        let raw = self.encode { buffer in
            bytes.withUnsafeBytes { buffer.writePublish(subject: "x", replyTo: nil, headers: headers, payload: $0) }
        }
        #expect(raw == "HPUB x 26 29\r\nNATS/1.0\r\nA: b:c\r\nA: d\r\n\r\n\u{1}\u{2}\u{3}\r\n")
    }

    @Test func publishWithMultiByteHeaderCountsBytesNotCharacters() {
        var headers = NATSHeaders()
        headers["Ключ"] = "значение ✓"
        let out = self.encode { $0.writePublish(subject: "u", replyTo: nil, headers: headers, payload: ByteBuffer(string: "é")) }
        let block = "NATS/1.0\r\nКлюч: значение ✓\r\n\r\n"
        #expect(out == "HPUB u \(block.utf8.count) \(block.utf8.count + 2)\r\n\(block)é\r\n")
        #expect(block.utf8.count == 44)
    }

    @Test func emptyHeadersArePlainPublish() {
        #expect(self.encode { $0.writePublish(subject: "foo", replyTo: nil, headers: NATSHeaders(), payload: ByteBuffer(string: "x")) }
            == "PUB foo 1\r\nx\r\n")
    }

    @Test func statusOnlyHeadersArePublished() {
        var headers = NATSHeaders()
        headers.status = 503
        #expect(self.encode { $0.writePublish(subject: "r", replyTo: nil, headers: headers, payload: ByteBuffer()) }
            == "HPUB r 16 16\r\nNATS/1.0 503\r\n\r\n\r\n")
    }

    @Test func publishedBytesDecodeAsTheSameMessage() throws {
        var headers = NATSHeaders()
        headers.append("1", for: "Nats-Msg-Id")
        var buffer = ByteBuffer()
        buffer.writePublish(subject: "orders.new", replyTo: "_INBOX.q", headers: headers, payload: ByteBuffer(string: "body\r\n"))
        // The server relays HPUB as HMSG with the same sizes; rewrite the op to check the sizes agree with the decoder.
        var line = String(buffer: buffer)
        line = line.replacingOccurrences(of: "HPUB orders.new", with: "HMSG orders.new 9")
        let op = try decodeOne(line)
        #expect(op == message("orders.new", sid: 9, replyTo: "_INBOX.q", headers: headers, payload: "body\r\n"))
    }

    @Test func subscribe() {
        #expect(self.encode { $0.writeSubscribe(sid: 1, subject: "foo", queue: nil) } == "SUB foo 1\r\n")
        #expect(self.encode { $0.writeSubscribe(sid: 42, subject: "jobs.>", queue: "workers") } == "SUB jobs.> workers 42\r\n")
        #expect(self.encode { $0.writeSubscribe(sid: UInt64.max, subject: "a.*", queue: nil) }
            == "SUB a.* 18446744073709551615\r\n")
    }

    @Test func unsubscribe() {
        #expect(self.encode { $0.writeUnsubscribe(sid: 1, max: nil) } == "UNSUB 1\r\n")
        #expect(self.encode { $0.writeUnsubscribe(sid: 7, max: 10) } == "UNSUB 7 10\r\n")
        #expect(self.encode { $0.writeUnsubscribe(sid: 7, max: 0) } == "UNSUB 7 0\r\n")
        #expect(self.encode { $0.writeUnsubscribe(sid: 7, max: -3) } == "UNSUB 7 0\r\n")
    }

    @Test func pingPong() {
        #expect(self.encode { $0.writePing() } == "PING\r\n")
        #expect(self.encode { $0.writePong() } == "PONG\r\n")
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 12345, 1_048_576])
    func decimalSizes(_ size: Int) {
        let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        let out = self.encode { $0.writePublish(subject: "s", replyTo: nil, headers: nil, payload: payload) }
        #expect(out.hasPrefix("PUB s \(size)\r\n"))
        #expect(out.utf8.count == "PUB s \(size)\r\n".utf8.count + size + 2)
    }

    @Test func operationsAppend() {
        var buffer = ByteBuffer()
        buffer.writePing()
        buffer.writeSubscribe(sid: 1, subject: "a", queue: nil)
        buffer.writePublish(subject: "a", replyTo: nil, headers: nil, payload: ByteBuffer(string: "1"))
        buffer.writeUnsubscribe(sid: 1, max: nil)
        buffer.writePong()
        #expect(String(buffer: buffer) == "PING\r\nSUB a 1\r\nPUB a 1\r\n1\r\nUNSUB 1\r\nPONG\r\n")
    }
}
