import NATS
import NATSProtocol
import NATSTestSupport
import NIOCore
import Testing

@Suite("Core pub/sub against a real nats-server")
struct PubSubTests {
    @Test func publishSubscribeWithWildcards() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let star = try await nats.subscribe(to: "greet.*")
                let full = try await nats.subscribe(to: "greet.>")
                try await nats.flush()
                try await nats.publish("hello joe", to: "greet.joe")
                try await nats.publish("hello deep", to: "greet.a.b")
                let starMessages = try await collect(star, count: 1)
                #expect(starMessages.map(\.string) == ["hello joe"])
                #expect(starMessages[0].subject == "greet.joe")
                let fullMessages = try await collect(full, count: 2)
                #expect(fullMessages.map(\.string) == ["hello joe", "hello deep"])
            }
        }
    }

    @Test func binaryPayloadsAndEmptyPayloads() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let subscription = try await nats.subscribe(to: "bin")
                try await nats.flush()
                let all = (0...255).map { UInt8($0) } + Array("\r\nMSG x 1 2\r\n".utf8)
                try await nats.publish(all, to: "bin")
                try await nats.publish([UInt8](), to: "bin")
                let messages = try await collect(subscription, count: 2)
                #expect(messages[0].bytes == all)
                #expect(messages[1].payload.readableBytes == 0)
            }
        }
    }

    @Test func headersRoundTrip() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let subscription = try await nats.subscribe(to: "hdr")
                try await nats.flush()
                var headers = NATSHeaders()
                headers["Nats-Msg-Id"] = "abc"
                headers.append("one", for: "X-Multi")
                headers.append("two", for: "X-Multi")
                try await nats.publish("body", to: "hdr", headers: headers)
                let message = try await collect(subscription, count: 1)[0]
                #expect(message.string == "body")
                #expect(message.headers?["Nats-Msg-Id"] == "abc")
                #expect(message.headers?.values(for: "X-Multi") == ["one", "two"])
            }
        }
    }

    @Test func queueGroupsShareMessages() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let a = try await nats.subscribe(to: "work", queue: "workers")
                let b = try await nats.subscribe(to: "work", queue: "workers")
                try await nats.flush()
                for i in 0..<200 { try await nats.publish("\(i)", to: "work") }
                try await nats.flush()
                try await a.drain()
                try await b.drain()
                var countA = 0
                var countB = 0
                for try await _ in a { countA += 1 }
                for try await _ in b { countB += 1 }
                #expect(countA + countB == 200)
                #expect(countA > 0 && countB > 0)
            }
        }
    }

    @Test func unsubscribeAfterMax() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let subscription = try await nats.subscribe(to: "max")
                try await subscription.unsubscribe(after: 3)
                try await nats.flush()
                for i in 0..<10 { try await nats.publish("\(i)", to: "max") }
                var received: [String] = []
                for try await message in subscription { received.append(message.string) }
                #expect(received == ["0", "1", "2"])
            }
        }
    }

    @Test func echoCanBeTurnedOff() async throws {
        try await withNATSServer { server in
            var configuration = try testConfiguration(server.url)
            configuration.echo = false
            try await withNATSClient(configuration) { quiet in
                try await withClient(server) { other in
                    let mine = try await quiet.subscribe(to: "echo")
                    try await quiet.flush()
                    try await quiet.publish("from me", to: "echo")
                    try await quiet.flush()
                    try await other.publish("from other", to: "echo")
                    let messages = try await collect(mine, count: 1)
                    #expect(messages.map(\.string) == ["from other"])
                }
            }
        }
    }

    @Test func invalidSubjectsAndOversizedPayloadsAreClearErrors() async throws {
        try await withNATSServer(.init(maxPayload: 1024)) { server in
            try await withClient(server) { nats in
                await #expect(throws: NATSError.self) { try await nats.publish("x", to: "bad subject") }
                await #expect(throws: NATSError.self) { try await nats.publish("x", to: "a.*.b") }
                await #expect(throws: NATSError.self) { _ = try await nats.subscribe(to: "a.>.b") }
                do {
                    try await nats.publish([UInt8](repeating: 1, count: 2048), to: "big")
                    Issue.record("oversized publish succeeded")
                } catch let error as NATSError {
                    #expect(error.code == .maxPayloadExceeded)
                    #expect(error.message.contains("1024"))
                }
                // The connection is still fine afterwards.
                let subscription = try await nats.subscribe(to: "ok")
                try await nats.flush()
                try await nats.publish("fine", to: "ok")
                #expect(try await collect(subscription, count: 1)[0].string == "fine")
            }
        }
    }

    @Test func slowConsumerDropsAndReportsWithoutGrowingMemory() async throws {
        try await withNATSServer { server in
            var configuration = try testConfiguration(server.url)
            configuration.subscriptionBufferLimit = .init(messages: 100, bytes: 1024 * 1024)
            try await withNATSClient(configuration) { nats in
                let events = nats.events()
                let subscription = try await nats.subscribe(to: "flood")
                try await nats.flush()
                for i in 0..<1000 { try await nats.publish("\(i)", to: "flood") }
                try await nats.flush()
                let event = try await waitForEvent(events) {
                    if case .slowConsumer = $0 { return true }
                    return false
                }
                guard case .slowConsumer(let subject, _, let dropped) = event else { return }
                #expect(subject == "flood")
                #expect(dropped > 0)
                #expect(subscription.droppedMessages == 900)
                try await subscription.drain()
                var count = 0
                for try await _ in subscription { count += 1 }
                #expect(count == 100)
            }
        }
    }

    @Test func manySubscriptionsAndMessagesInOrder() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let subscription = try await nats.subscribe(to: "seq")
                try await nats.flush()
                let total = 50_000
                let consumer = Task {
                    var expected = 0
                    for try await message in subscription {
                        let value = Int(message.string)
                        if value != expected { return false }
                        expected += 1
                        if expected == total { return true }
                    }
                    return false
                }
                for i in 0..<total { try await nats.publish("\(i)", to: "seq") }
                try await nats.flush()
                #expect(try await consumer.value)
            }
        }
    }

    @Test func clientDrainDeliversWhatArrivedThenCloses() async throws {
        try await withNATSServer { server in
            let nats = NATSClient(configuration: try testConfiguration(server.url))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await nats.run() }
                try await nats.waitUntilConnected()
                let a = try await nats.subscribe(to: "drain.a")
                let b = try await nats.subscribe(to: "drain.b")
                try await nats.flush()
                for i in 0..<500 {
                    try await nats.publish("\(i)", to: "drain.a")
                    try await nats.publish("\(i)", to: "drain.b")
                }
                try await nats.flush()
                async let countA: Int = a.reduce(0) { count, _ in count + 1 }
                async let countB: Int = b.reduce(0) { count, _ in count + 1 }
                try await nats.drain(timeout: .seconds(20))
                #expect(try await countA == 500)
                #expect(try await countB == 500)
                await #expect(throws: NATSError.self) { try await nats.publish("late", to: "drain.a") }
                try await group.waitForAll()
            }
        }
    }
}
