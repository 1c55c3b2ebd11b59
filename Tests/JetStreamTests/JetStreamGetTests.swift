@testable import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream message get")
struct JetStreamGetTests {
    @Test(arguments: [true, false])
    func getBySequenceAndLastBySubject(allowDirect: Bool) async throws {
        try await withCoreJetStream { js, _ in
            var config = StreamConfig(name: "G", subjects: ["g.>"])
            config.allowDirect = allowDirect
            _ = try await js.createStream(config)
            var headers = NATSHeaders()
            headers["X-Kind"] = "first"
            let first = try await js.publish(ByteBuffer(string: "one"), to: "g.a", headers: headers)
            _ = try await js.publish(ByteBuffer(string: "two"), to: "g.b")
            _ = try await js.publish(ByteBuffer(string: "three"), to: "g.a")
            _ = try await js.publish(ByteBuffer(), to: "g.empty")

            // A fresh context knows nothing about the stream yet and must look up allow_direct itself.
            let fresh = JetStreamContext(client: js.client)
            let bySequence = try await fresh.getMessage(stream: "G", sequence: first.sequence)
            #expect(bySequence.subject == "g.a")
            #expect(bySequence.sequence == 1)
            #expect(bySequence.string == "one")
            #expect(bySequence.headers?["X-Kind"] == "first")
            #expect(bySequence.headers?["Nats-Stream"] == nil)
            #expect(bySequence.time.timeIntervalSince1970 > 1_700_000_000)

            let last = try await fresh.getLastMessage(stream: "G", subject: "g.a")
            #expect(last.sequence == 3)
            #expect(last.string == "three")
            #expect(last.headers == nil)

            let empty = try await fresh.getLastMessage(stream: "G", subject: "g.empty")
            #expect(empty.payload.readableBytes == 0)

            await #expect { try await fresh.getMessage(stream: "G", sequence: 99) } throws: {
                ($0 as? JetStreamError)?.code == .messageNotFound
            }
            await #expect { try await fresh.getLastMessage(stream: "G", subject: "g.none") } throws: {
                ($0 as? JetStreamError)?.code == .messageNotFound
            }
            // Direct get really served (it was not turned off after a no-responders fallback).
            #expect(fresh.shared.directGet.withLockedValue { $0["G"] } == allowDirect)
            await #expect { try await fresh.getMessage(stream: "MISSING", sequence: 1) } throws: {
                ($0 as? JetStreamError)?.code == .streamNotFound
            }
        }
    }
}
