import NATS
import NATSTestSupport
import Synchronization
import Testing

@Suite("Handler subscriptions and publishNow against a real nats-server")
struct HandlerSubscriptionTests {
    /// Messages a handler received, and a way to wait for a count of them.
    final class Received: Sendable {
        private let messages = Mutex<[NATSMessage]>([])
        var all: [NATSMessage] { messages.withLock { $0 } }
        func add(_ message: NATSMessage) { messages.withLock { $0.append(message) } }

        func wait(for count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while all.count < count {
                guard ContinuousClock.now < deadline else { throw TestTimeout(what: "\(count) handled messages") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    @Test func theHandlerGetsEveryMessageInOrderAndDrainEndsTheSubscription() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let received = Received()
                let subscription = try await nats.subscribe(to: "h.>") { received.add($0) }
                try await nats.flush()
                for index in 0..<500 { try await nats.publish("m\(index)", to: "h.\(index % 3)") }
                try await received.wait(for: 500)
                #expect(received.all.map(\.string) == (0..<500).map { "m\($0)" })
                #expect(received.all[1].subject == "h.1")

                let ended = Task { for try await _ in subscription { Issue.record("a handler subscription yields nothing") } }
                try await subscription.drain()
                try await ended.value
                try await nats.publish("late", to: "h.0")
                try await nats.flush()
                #expect(received.all.count == 500)
            }
        }
    }

    @Test func publishNowFromAHandlerAnswersRequests() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                // A responder that replies on the event loop thread, without a task.
                let responder = try await nats.subscribe(to: "echo", queue: "echo") { message in
                    guard let reply = message.replyTo else { return }
                    try? nats.publishNow(message.bytes.reversed(), to: reply)
                }
                try await nats.flush()
                for index in 0..<50 {
                    let answer = try await nats.request("abc\(index)", to: "echo", timeout: .seconds(10))
                    #expect(answer.string == String("abc\(index)".reversed()))
                }
                #expect(throws: NATSError.self) { try nats.publishNow([1], to: "bad subject") }
                try await responder.unsubscribe()
            }
        }
    }
}
