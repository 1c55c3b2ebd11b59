import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream consumers")
struct JetStreamConsumerTests {
    private func setUp(_ js: JetStreamContext, messages: Int, ackWait: Duration? = nil) async throws -> PullConsumer {
        _ = try await js.createStream(StreamConfig(name: "WORK", subjects: ["work.>"]))
        for index in 0..<messages {
            _ = try await js.publish(ByteBuffer(string: "job-\(index)"), to: "work.\(index)")
        }
        var config = ConsumerConfig(durableName: "worker")
        config.ackWait = ackWait
        _ = try await js.createConsumer(stream: "WORK", config: config)
        return js.pullConsumer(stream: "WORK", name: "worker")
    }

    @Test func durableAndEphemeralCreateInfoDelete() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "C", subjects: ["c.>"]))
            var config = ConsumerConfig(durableName: "dur", filterSubject: "c.a")
            config.description = "durable"
            config.maxAckPending = 100
            let durable = try await js.createConsumer(stream: "C", config: config)
            #expect(durable.name == "dur")
            #expect(durable.stream == "C")
            #expect(durable.config.durableName == "dur")
            #expect(durable.config.filterSubject == "c.a")
            #expect(durable.config.maxAckPending == 100)
            #expect(durable.config.ackPolicy == .explicit)

            let ephemeral = try await js.createConsumer(stream: "C", config: ConsumerConfig(ackPolicy: .none))
            #expect(!ephemeral.name.isEmpty)
            #expect(ephemeral.config.durableName == nil)

            let named = try await js.createConsumer(stream: "C", config: ConsumerConfig(name: "named", filterSubject: "c.b"))
            #expect(named.name == "named")

            _ = try await js.publish(ByteBuffer(string: "x"), to: "c.a")
            let info = try await js.consumerInfo(stream: "C", name: "dur")
            #expect(info.numPending == 1)
            #expect(Set(try await js.consumerNames(stream: "C")) == ["dur", ephemeral.name, "named"])
            #expect(try await js.streamInfo("C").state.consumerCount == 3)

            try await js.deleteConsumer(stream: "C", name: "dur")
            await #expect { try await js.consumerInfo(stream: "C", name: "dur") } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .consumerNotFound && error?.errorCode == 10014
            }
        }
    }

    @Test func fetchAndAck() async throws {
        try await withCoreJetStream { js, _ in
            let consumer = try await setUp(js, messages: 10)
            let first = try await consumer.fetch(batch: 4)
            #expect(first.map(\.string) == (0..<4).map { "job-\($0)" })
            #expect(first.map(\.metadata.streamSequence) == [1, 2, 3, 4])
            #expect(first.map(\.metadata.consumerSequence) == [1, 2, 3, 4])
            #expect(first[0].metadata.stream == "WORK")
            #expect(first[0].metadata.consumer == "worker")
            #expect(first[0].metadata.delivered == 1)
            #expect(first[0].metadata.pending == 9)
            for message in first { try await message.ack() }
            let rest = try await consumer.fetch(batch: 6)
            #expect(rest.count == 6)
            for message in rest { try await message.ackSync() }
            let info = try await consumer.info()
            #expect(info.ackFloor.streamSequence == 10)
            #expect(info.numAckPending == 0)
            #expect(info.numPending == 0)
            // Nothing left: the fetch ends when the request expires.
            #expect(try await consumer.fetch(batch: 5, expires: .seconds(1)).isEmpty)
        }
    }

    @Test func nakRedeliversAndTermDoesNot() async throws {
        try await withCoreJetStream { js, _ in
            let consumer = try await setUp(js, messages: 2)
            let batch = try await consumer.fetch(batch: 2)
            try #require(batch.count == 2)
            try await batch[0].nak()
            try await batch[1].term()
            let again = try await consumer.fetch(batch: 2, expires: .seconds(2))
            #expect(again.map(\.string) == ["job-0"])
            #expect(again.first?.metadata.delivered == 2)
            try await again.first?.ackSync()
            #expect(try await consumer.info().numAckPending == 0)
        }
    }

    @Test func nakWithDelayRedeliversLater() async throws {
        try await withCoreJetStream { js, _ in
            let consumer = try await setUp(js, messages: 1)
            let batch = try await consumer.fetch(batch: 1)
            try #require(batch.count == 1)
            try await batch[0].nak(delay: .seconds(2))
            // Not yet there right away…
            let immediate = try await consumer.fetch(batch: 1, expires: .milliseconds(300))
            #expect(immediate.isEmpty)
            // …but redelivered after the delay.
            var redelivered: [JetStreamMessage] = []
            for _ in 0..<10 where redelivered.isEmpty {
                redelivered = try await consumer.fetch(batch: 1, expires: .seconds(1))
            }
            #expect(redelivered.first?.metadata.delivered == 2)
            #expect(redelivered.first?.string == "job-0")
        }
    }

    @Test func inProgressExtendsTheAckWait() async throws {
        try await withCoreJetStream { js, _ in
            let consumer = try await setUp(js, messages: 1, ackWait: .seconds(8))
            let batch = try await consumer.fetch(batch: 1)
            try #require(batch.count == 1)
            // Keep the message for longer than the ack wait while saying we work on it: never redelivered.
            // (Progress every half second against an 8 s ack wait: a wide margin for a busy machine, where a
            // half-second sleep has been seen to take over a second.)
            for _ in 0..<20 {
                try await Task.sleep(for: .milliseconds(500))
                try await batch[0].inProgress()
            }
            #expect(try await consumer.fetch(batch: 1, expires: .milliseconds(500)).isEmpty)
            try await batch[0].ackSync()
            #expect(try await consumer.info().numRedelivered == 0)
        }
    }

    @Test func fetchFromMissingConsumerFails() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "E", subjects: ["e"]))
            let consumer = js.pullConsumer(stream: "E", name: "missing")
            await #expect { try await consumer.fetch(batch: 1, expires: .seconds(1)) } throws: {
                ($0 as? JetStreamError)?.code == .consumerNotFound
            }
        }
    }

    @Test func messagesConsumesTenThousandContinuously() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "FLOW", subjects: ["flow"]))
            _ = try await js.createConsumer(stream: "FLOW", config: ConsumerConfig(durableName: "all"))
            let count = 10_000
            // Half before, half while consuming.
            for index in 0..<(count / 2) { _ = try await js.publishAsync(ByteBuffer(string: "\(index)"), to: "flow") }
            try await js.waitForPendingPublishes()
            let messages = try await js.pullConsumer(stream: "FLOW", name: "all").messages(batchSize: 100, expires: .seconds(5))
            let received = try await withCoreTimeout(.seconds(120), "10k messages") {
                try await withThrowingTaskGroup(of: [UInt64].self) { group in
                    group.addTask {
                        var sequences: [UInt64] = []
                        for try await message in messages {
                            #expect(message.string == "\(sequences.count)")
                            sequences.append(message.metadata.streamSequence)
                            try await message.ack()
                            if sequences.count == count { break }
                        }
                        return sequences
                    }
                    for index in (count / 2)..<count {
                        _ = try await js.publishAsync(ByteBuffer(string: "\(index)"), to: "flow")
                    }
                    try await js.waitForPendingPublishes()
                    return try await group.next()!
                }
            }
            await messages.stop()
            #expect(received == Array(1...UInt64(count)))
            let info = try await js.consumerInfo(stream: "FLOW", name: "all")
            #expect(info.numPending == 0)
        }
    }
}
