import NIOCore
import Testing

@testable import NATSProtocol

@Suite("Headers")
struct HeadersTests {
    private func parse(_ block: String) throws -> NATSHeaders {
        try NATSHeaders(parsing: ByteBuffer(string: block))
    }

    @Test func multiMapBehaviour() {
        var headers = NATSHeaders()
        #expect(headers.isEmpty)
        headers.append("1", for: "A")
        headers.append("x", for: "B")
        headers.append("2", for: "A")
        #expect(!headers.isEmpty)
        #expect(headers["A"] == "1")
        #expect(headers.values(for: "A") == ["1", "2"])
        #expect(headers["a"] == nil, "names are case-sensitive")
        #expect(headers.map { "\($0.name)=\($0.value)" } == ["A=1", "B=x", "A=2"])

        headers["A"] = "3"
        #expect(headers.values(for: "A") == ["3"])
        #expect(headers.map(\.name) == ["A", "B"], "set replaces in place of the first value")

        headers["C"] = "new"
        #expect(headers.map(\.name) == ["A", "B", "C"])

        headers["B"] = nil
        #expect(headers.values(for: "B") == [])
        headers.removeAll(named: "A")
        #expect(headers.map(\.name) == ["C"])
        headers.removeAll(named: "C")
        #expect(headers.isEmpty)

        headers.status = 503
        #expect(!headers.isEmpty, "a status alone is content")
    }

    @Test func parsesRepeatedNamesAndColonsInValues() throws {
        let headers = try self.parse("NATS/1.0\r\nNats-Msg-Id: a:b:c\r\nX: 1\r\nX:2\r\nX:  3 \r\nUrl: http://h:80/p\r\n\r\n")
        #expect(headers.status == nil)
        #expect(headers["Nats-Msg-Id"] == "a:b:c")
        #expect(headers.values(for: "X") == ["1", "2", "3"])
        #expect(headers["Url"] == "http://h:80/p")
        #expect(headers.count == 5)
    }

    @Test func parsesEmptyValues() throws {
        let headers = try self.parse("NATS/1.0\r\nEmpty:\r\nBlank:   \r\n\r\n")
        #expect(headers["Empty"] == "")
        #expect(headers["Blank"] == "")
    }

    @Test(arguments: [
        ("NATS/1.0 503\r\n\r\n", 503, nil as String?),
        ("NATS/1.0 408 Request Timeout\r\n\r\n", 408, "Request Timeout"),
        ("NATS/1.0 100 Idle Heartbeat\r\n\r\n", 100, "Idle Heartbeat"),
        ("NATS/1.0 503 No Responders\r\n\r\n", 503, "No Responders"),
        ("NATS/1.0\t409   Consumer Deleted \r\n\r\n", 409, "Consumer Deleted"),
    ])
    func statusLines(_ block: String, _ status: Int, _ description: String?) throws {
        let headers = try self.parse(block)
        #expect(headers.status == status)
        #expect(headers.statusDescription == description)
        #expect(headers.count == 0)
    }

    @Test func statusWithHeaders() throws {
        let headers = try self.parse("NATS/1.0 404 No Messages\r\nNats-Pending-Messages: 3\r\n\r\n")
        #expect(headers.status == 404)
        #expect(headers.statusDescription == "No Messages")
        #expect(headers["Nats-Pending-Messages"] == "3")
    }

    @Test func lenientEndings() throws {
        // The closing empty line missing, but every line complete.
        #expect(try self.parse("NATS/1.0\r\nA: 1\r\n")["A"] == "1")
        // Bytes after the closing empty line are ignored.
        #expect(try self.parse("NATS/1.0\r\nA: 1\r\n\r\ntrailing")["A"] == "1")
    }

    @Test(arguments: [
        "",
        "NATS/1.",
        "NATS/2.0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
        "NATS/1.0",
        "NATS/1.0503\r\n\r\n",
        "NATS/1.0 5O3\r\n\r\n",
        "NATS/1.0 abc\r\n\r\n",
        "NATS/1.0 1234567890\r\n\r\n",
        "NATS/1.0\r\nno colon here\r\n\r\n",
        "NATS/1.0\r\n: value\r\n\r\n",
        "NATS/1.0\r\nA: 1",
    ])
    func malformedBlocks(_ block: String) {
        #expect(throws: NATSProtocolError.self) {
            _ = try self.parse(block)
        }
        do {
            _ = try self.parse(block)
        } catch let error as NATSProtocolError {
            #expect(error.code == .malformedHeaders)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func encodingGoldenAndByteCount() {
        var headers = NATSHeaders()
        headers.append("b:c", for: "A")
        headers.append("d", for: "A")
        var buffer = ByteBuffer()
        let written = buffer.writeHeaders(headers)
        #expect(String(buffer: buffer) == "NATS/1.0\r\nA: b:c\r\nA: d\r\n\r\n")
        #expect(written == 26)
        #expect(headers.encodedByteCount == 26)

        var status = NATSHeaders()
        status.status = 408
        status.statusDescription = "Request Timeout"
        buffer.clear()
        buffer.writeHeaders(status)
        #expect(String(buffer: buffer) == "NATS/1.0 408 Request Timeout\r\n\r\n")
        #expect(status.encodedByteCount == buffer.readableBytes)

        buffer.clear()
        buffer.writeHeaders(NATSHeaders())
        #expect(String(buffer: buffer) == "NATS/1.0\r\n\r\n")
        #expect(NATSHeaders().encodedByteCount == 12)
    }

    @Test func encodingNeutralisesLineBreaks() throws {
        var headers = NATSHeaders()
        headers["Evil"] = "x\r\nInjected: yes"
        headers["Ünïcode"] = "välue\n"
        var buffer = ByteBuffer()
        let written = buffer.writeHeaders(headers)
        #expect(written == headers.encodedByteCount)
        let parsed = try NATSHeaders(parsing: buffer)
        #expect(parsed["Injected"] == nil)
        #expect(parsed["Evil"] == "x  Injected: yes")
        #expect(parsed["Ünïcode"] == "välue")
    }

    @Test func roundTrip() throws {
        var headers = NATSHeaders()
        headers.status = 503
        headers.statusDescription = "No Responders"
        headers.append("1", for: "Nats-Expected-Last-Sequence")
        headers.append("v1", for: "Multi")
        headers.append("v2:with:colons", for: "Multi")
        var buffer = ByteBuffer()
        buffer.writeHeaders(headers)
        #expect(try NATSHeaders(parsing: buffer) == headers)
    }
}
