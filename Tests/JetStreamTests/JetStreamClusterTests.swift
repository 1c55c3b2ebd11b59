import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream in a cluster")
struct JetStreamClusterTests {
    @Test func survivesLosingTheStreamLeader() async throws {
        try await withNATSCluster(size: 3, options: .init(jetStream: true)) { cluster in
            try await cluster.waitForJetStreamReady()
            try await withNATSClient(try coreTestConfiguration(cluster.urls)) { nats in
                let js = JetStreamContext(client: nats, timeout: .seconds(5))
                var config = StreamConfig(name: "R3", subjects: ["r3.>"])
                config.replicas = 3
                let created = try await Self.retrying { try await js.createStream(config) }
                #expect(created.config.replicas == 3)

                var acknowledged = Set<UInt64>()
                for index in 0..<1000 {
                    let ack = try await js.publish(ByteBuffer(string: "\(index)"), to: "r3.x", options: .init(messageID: "m\(index)"))
                    acknowledged.insert(ack.sequence)
                }
                let leader = try #require(try await js.streamInfo("R3").cluster?.leader)
                let victim = try #require(cluster.servers.first { $0.options.serverName == leader }, "leader \(leader)")
                await victim.kill()

                // Keep publishing; retry each message (same ID, so a retry after a lost ack is not stored twice)
                // until a new leader acknowledges it.
                for index in 1000..<1200 {
                    let ack = try await Self.retrying {
                        try await js.publish(ByteBuffer(string: "\(index)"), to: "r3.x", options: .init(messageID: "m\(index)"))
                    }
                    acknowledged.insert(ack.sequence)
                }
                #expect(acknowledged.count == 1200)

                _ = try await Self.retrying {
                    try await js.createConsumer(stream: "R3", config: ConsumerConfig(durableName: "reader"))
                }
                let consumer = js.pullConsumer(stream: "R3", name: "reader")
                var seen: [UInt64: Int] = [:]
                var payloads = Set<String>()
                var emptyFetches = 0
                while seen.count < acknowledged.count, emptyFetches < 10 {
                    let batch = (try? await consumer.fetch(batch: 200, expires: .seconds(2))) ?? []
                    if batch.isEmpty { emptyFetches += 1 }
                    for message in batch {
                        seen[message.metadata.streamSequence, default: 0] += 1
                        payloads.insert(message.string)
                        try await message.ack()
                    }
                }
                // Retries carried the same message ID, so the stream holds each message once.
                #expect(seen.count == 1200)
                #expect(Set(seen.keys).isSuperset(of: acknowledged))
                #expect(seen.values.allSatisfy { $0 == 1 })
                #expect(payloads == Set((0..<1200).map { "\($0)" }))
            }
        }
    }

    /// Retries `body` while the cluster elects new leaders (timeouts, no responders, leaderless errors).
    static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var lastError: (any Error)?
        for _ in 0..<60 {
            do {
                return try await body()
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        throw lastError!
    }
}
