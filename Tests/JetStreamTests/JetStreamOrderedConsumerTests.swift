import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream ordered consumer")
struct JetStreamOrderedConsumerTests {
    @Test func replaysTenThousandInOrder() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "ORD", subjects: ["ord.*"]))
            let count = 10_000
            for index in 0..<count { _ = try await js.publishAsync(ByteBuffer(string: "\(index)"), to: "ord.\(index % 3)") }
            try await js.waitForPendingPublishes()
            let ordered = try await js.orderedConsumer(stream: "ORD", config: .init())
            #expect(ordered.initialPending == UInt64(count))
            let sequences = try await withCoreTimeout(.seconds(120), "ordered replay") {
                var sequences: [UInt64] = []
                for try await message in ordered {
                    #expect(message.string == "\(sequences.count)")
                    sequences.append(message.metadata.streamSequence)
                    if sequences.count == count { break }
                }
                return sequences
            }
            #expect(sequences == Array(1...UInt64(count)))
            await ordered.stop()
            #expect(try await js.streamInfo("ORD").state.consumerCount == 0)
        }
    }

    @Test func filterAndCaughtUpSignal() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "F", subjects: ["f.*"]))
            let empty = try await js.orderedConsumer(stream: "F", config: .init(filterSubjects: ["f.a"]))
            #expect(empty.initialPending == 0)
            await empty.stop()
            for index in 0..<6 { _ = try await js.publish(ByteBuffer(string: "\(index)"), to: index.isMultiple(of: 2) ? "f.a" : "f.b") }
            let ordered = try await js.orderedConsumer(stream: "F", config: .init(filterSubjects: ["f.a"], headersOnly: false))
            #expect(ordered.initialPending == 3)
            var seen: [String] = []
            for try await message in ordered {
                seen.append(message.string)
                if message.metadata.pending == 0 { break }
            }
            #expect(seen == ["0", "2", "4"])
            await ordered.stop()
            await #expect { try await js.orderedConsumer(stream: "F", config: .init(filterSubjects: ["f.a", "f.b"])) } throws: {
                ($0 as? JetStreamError)?.code == .invalidArgument
            }
        }
    }

    @Test func survivesItsConsumerBeingDeleted() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "RE", subjects: ["re"]))
            let count = 10_000
            for index in 0..<(count / 2) { _ = try await js.publishAsync(ByteBuffer(string: "\(index)"), to: "re") }
            try await js.waitForPendingPublishes()
            let ordered = try await js.orderedConsumer(stream: "RE", config: .init(idleHeartbeat: .milliseconds(500)))
            let firstName = ordered.initialInfo.name
            let sequences = try await withCoreTimeout(.seconds(120), "ordered replay across a reset") {
                var sequences: [UInt64] = []
                for try await message in ordered {
                    sequences.append(message.metadata.streamSequence)
                    if sequences.count == 1000 {
                        // Delete the consumer under it, then publish the rest: they must all arrive once.
                        try await js.deleteConsumer(stream: "RE", name: firstName)
                        for index in (count / 2)..<count {
                            _ = try await js.publishAsync(ByteBuffer(string: "\(index)"), to: "re")
                        }
                        try await js.waitForPendingPublishes()
                    }
                    if sequences.count == count { break }
                }
                return sequences
            }
            #expect(sequences == Array(1...UInt64(count)))
            #expect(ordered.resets >= 1)
            await ordered.stop()
        }
    }
}
