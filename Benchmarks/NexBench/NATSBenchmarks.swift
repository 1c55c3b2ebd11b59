import Foundation
import NATS
import NATSTestSupport
import NIOCore

/// Core NATS client benchmarks: our client against nats.c and nats-py, on one nats-server, in the same run.
enum NATSBenchmarks {
    static let pubsubCount = 1_000_000
    static let pubsubSize = 16
    static let requestCount = 10_000
    static let requestWarmup = 500

    static func all(comparators: Comparators) -> [Benchmark] {
        [
            Benchmark(names: ["nats.pubsub", "nats.pubsub_py"]) { context in
                try await withNATSServer { server in
                    // Reference first, ours last, alternating would double the run time; each gets a fresh warm server.
                    let c = try await comparators.natsC(.pubsub(url: server.url, count: pubsubCount, size: pubsubSize))
                    let ours = try await pubsub(url: server.url, count: pubsubCount, size: pubsubSize)
                    context.report(name: "nats.pubsub", ours: ours, ref: try ComparatorResult.field("msgs_per_sec", of: c), unit: "msgs/s",
                                   refName: "nats.c")
                    if context.isSelected("nats.pubsub_py") {
                        // nats-py is ~20x slower: 200k messages keep its run short without changing the rate.
                        let py = try await comparators.natsPy(.pubsub(url: server.url, count: pubsubCount / 5, size: pubsubSize))
                        context.report(name: "nats.pubsub_py", ours: ours, ref: try ComparatorResult.field("msgs_per_sec", of: py), unit: "msgs/s",
                                       refName: "nats-py")
                    }
                }
            },
            Benchmark(names: ["nats.request", "nats.request_p99"]) { context in
                try await withNATSServer { server in
                    let c = try await comparators.natsC(.request(url: server.url, count: requestCount))
                    let ours = try await request(url: server.url, count: requestCount)
                    context.report(name: "nats.request", ours: ours.p50, ref: try ComparatorResult.field("p50_us", of: c), unit: "us", refName: "nats.c")
                    context.report(name: "nats.request_p99", ours: ours.p99, ref: try ComparatorResult.field("p99_us", of: c), unit: "us",
                                   refName: "nats.c")
                }
            },
        ]
    }

    /// One connection subscribes, another publishes `count` messages; msgs/s from the first publish to the
    /// last message received.
    static func pubsub(url: String, count: Int, size: Int) async throws -> Double {
        var configuration = try NATSClient.Configuration(url: url)
        configuration.subscriptionBufferLimit = .init(messages: count, bytes: 1 << 30)
        return try await withNATSClient(configuration) { subscriber in
            try await withNATSClient(configuration) { publisher in
                let subscription = try await subscriber.subscribe(to: "bench.pubsub")
                try await subscriber.flush()
                let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
                let start = ContinuousClock.now
                async let received: Int = {
                    var received = 0
                    for try await _ in subscription {
                        received += 1
                        if received == count { break }
                    }
                    return received
                }()
                for _ in 0..<count {
                    try await publisher.publish(payload, to: "bench.pubsub")
                }
                try await publisher.flush(timeout: .seconds(60))
                let got = try await received
                let elapsed = ContinuousClock.now - start
                guard got == count else { throw BenchError(code: .comparatorFailed, message: "received \(got) of \(count)") }
                return Double(count) / elapsed.inSeconds
            }
        }
    }

    /// `count` sequential requests to an echo responder on another connection, after a warm-up.
    static func request(url: String, count: Int) async throws -> (p50: Double, p99: Double) {
        let configuration = try NATSClient.Configuration(url: url)
        return try await withNATSClient(configuration) { responder in
            try await withNATSClient(configuration) { requester in
                let service = try await responder.subscribe(to: "bench.echo")
                try await responder.flush()
                async let serving: Void = {
                    for try await message in service {
                        if let reply = message.replyTo { try await responder.publish(message.payload, to: reply) }
                    }
                }()
                let payload = ByteBuffer(repeating: UInt8(ascii: "r"), count: 16)
                for _ in 0..<requestWarmup {
                    _ = try await requester.request(payload, to: "bench.echo", timeout: .seconds(5))
                }
                var samples: [Duration] = []
                samples.reserveCapacity(count)
                let clock = ContinuousClock()
                for _ in 0..<count {
                    let start = clock.now
                    _ = try await requester.request(payload, to: "bench.echo", timeout: .seconds(5))
                    samples.append(clock.now - start)
                }
                try await service.unsubscribe()
                try await serving
                guard let summary = LatencySummary(samples) else {
                    throw BenchError(code: .comparatorFailed, message: "no request samples")
                }
                return (summary.p50Microseconds, summary.p99Microseconds)
            }
        }
    }
}

