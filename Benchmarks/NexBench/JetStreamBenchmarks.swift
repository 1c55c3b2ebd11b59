import Foundation
import JetStream
import NATSTestSupport
import NIOCore

/// JetStream publish against nats.c's js_Publish / js_PublishAsync, and the object store against nats-py,
/// on one JetStream-enabled nats-server, in the same run.
enum JetStreamBenchmarks {
    static let syncCount = 10_000
    static let syncWarmup = 500
    static let asyncCount = 200_000
    static let objectMiB = 64

    static func all(comparators: Comparators) -> [Benchmark] {
        [
            Benchmark(names: ["jetstream.publish", "jetstream.publish_p99"]) { context in
                try await withNATSServer(.init(jetStream: true)) { server in
                    let c = try await comparators.runC("js_bench", ["publish", server.url, String(syncCount)], mode: "publish")
                    let ours = try await syncPublish(url: server.url)
                    context.report(name: "jetstream.publish", ours: ours.p50Microseconds, ref: try ComparatorResult.field("p50_us", of: c),
                                   unit: "us", refName: "nats.c js_Publish")
                    context.report(name: "jetstream.publish_p99", ours: ours.p99Microseconds, ref: try ComparatorResult.field("p99_us", of: c),
                                   unit: "us", refName: "nats.c js_Publish")
                }
            },
            Benchmark(names: ["jetstream.publish_async"]) { context in
                try await withNATSServer(.init(jetStream: true)) { server in
                    let c = try await comparators.runC("js_bench", ["publish_async", server.url, String(asyncCount)],
                                                       mode: "publish_async")
                    let ours = try await asyncPublish(url: server.url)
                    context.report(name: "jetstream.publish_async", ours: ours, ref: try ComparatorResult.field("msgs_per_sec", of: c),
                                   unit: "msgs/s", refName: "nats.c js_PublishAsync")
                }
            },
            Benchmark(names: ["objectstore.put", "objectstore.get", "objectstore.put_memory", "objectstore.get_memory"]) { context in
                try await withNATSServer(.init(jetStream: true)) { server in
                    let py = try await comparators.runPython("objectstore_bench.py", [server.url, String(objectMiB)],
                                                             mode: "objectstore")
                    let ours = try await objectStore(url: server.url, mebibytes: objectMiB)
                    context.report(name: "objectstore.put", ours: ours.putMBps, ref: try ComparatorResult.field("put_mb_per_sec", of: py),
                                   unit: "MB/s", refName: "nats-py")
                    context.report(name: "objectstore.get", ours: ours.getMBps, ref: try ComparatorResult.field("get_mb_per_sec", of: py),
                                   unit: "MB/s", refName: "nats-py")
                    context.report(name: "objectstore.put_memory", ours: ours.putPeakMiB, ref: 64, unit: "MiB",
                                   refName: "bound: RSS growth during a 64 MiB put")
                    context.report(name: "objectstore.get_memory", ours: ours.getPeakMiB, ref: 64, unit: "MiB",
                                   refName: "bound: RSS growth during a 64 MiB get")
                }
            },
        ]
    }

    static func syncPublish(url: String) async throws -> LatencySummary {
        try await withNATSClient(try NATSClient.Configuration(url: url)) { nats in
            let js = JetStreamContext(client: nats)
            _ = try await js.createStream(StreamConfig(name: "SBENCH_SYNC", subjects: ["sbench.publish"]))
            let payload = ByteBuffer(string: "0123456789abcdef")
            for _ in 0..<syncWarmup { _ = try await js.publish(payload, to: "sbench.publish") }
            var samples: [Duration] = []
            samples.reserveCapacity(syncCount)
            let clock = ContinuousClock()
            for _ in 0..<syncCount {
                let start = clock.now
                _ = try await js.publish(payload, to: "sbench.publish")
                samples.append(clock.now - start)
            }
            try await js.deleteStream("SBENCH_SYNC")
            guard let summary = LatencySummary(samples) else {
                throw BenchError(code: .comparatorFailed, message: "no publish samples")
            }
            return summary
        }
    }

    static func asyncPublish(url: String) async throws -> Double {
        try await withNATSClient(try NATSClient.Configuration(url: url)) { nats in
            let js = JetStreamContext(client: nats)
            _ = try await js.createStream(StreamConfig(name: "SBENCH_ASYNC", subjects: ["sbench.async"]))
            let payload = ByteBuffer(string: "0123456789abcdef")
            let start = ContinuousClock.now
            for _ in 0..<asyncCount { _ = try await js.publishAsync(payload, to: "sbench.async") }
            try await js.waitForPendingPublishes()
            let elapsed = ContinuousClock.now - start
            let stored = try await js.streamInfo("SBENCH_ASYNC").state.messages
            try await js.deleteStream("SBENCH_ASYNC")
            guard stored == UInt64(asyncCount) else {
                throw BenchError(code: .comparatorFailed, message: "stream holds \(stored) of \(asyncCount) messages")
            }
            return Double(asyncCount) / elapsed.inSeconds
        }
    }

    struct ObjectResult {
        var putMBps: Double
        var getMBps: Double
        var putPeakMiB: Double
        var getPeakMiB: Double
    }

    /// Puts one object streamed from a 1 MiB buffer repeated (never the whole object in memory), gets it
    /// back streaming, and samples the process's resident memory during both.
    static func objectStore(url: String, mebibytes: Int) async throws -> ObjectResult {
        try await withNATSClient(try NATSClient.Configuration(url: url)) { nats in
            let js = JetStreamContext(client: nats)
            let store = try await js.createObjectStore(ObjectStoreConfig(bucket: "SBENCH"))
            var block = ByteBuffer()
            for i in 0..<(1024 * 1024) { block.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 9)) }
            let chunks = AsyncThrowingStream<ByteBuffer, Error> { continuation in
                for _ in 0..<mebibytes { continuation.yield(block) }
                continuation.finish()
            }
            let putStart = ContinuousClock.now
            let (info, putPeak) = try await MemorySampler.peakGrowth {
                try await store.put(ObjectMeta(name: "big"), data: chunks)
            }
            let putSeconds = (ContinuousClock.now - putStart).inSeconds
            let getStart = ContinuousClock.now
            let (received, getPeak) = try await MemorySampler.peakGrowth {
                var received = 0
                for try await chunk in try await store.get("big") { received += chunk.readableBytes }
                return received
            }
            let getSeconds = (ContinuousClock.now - getStart).inSeconds
            try await js.deleteObjectStore("SBENCH")
            guard received == mebibytes * 1024 * 1024, info.size == UInt64(received) else {
                throw BenchError(code: .comparatorFailed, message: "object store returned \(received) bytes")
            }
            let megabytes = Double(mebibytes) * 1.048576
            return ObjectResult(putMBps: megabytes / putSeconds, getMBps: megabytes / getSeconds,
                                putPeakMiB: putPeak, getPeakMiB: getPeak)
        }
    }
}

/// Peak growth of this process's resident set (`VmRSS` in /proc/self/status) while `body` runs, in MiB.
enum MemorySampler {
    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    static func peakGrowth<T: Sendable>(_ body: () async throws -> T) async throws -> (T, Double) {
        let baseline = residentKiB()
        let sampler = Task {
            var peak = baseline
            while !Task.isCancelled {
                peak = max(peak, residentKiB())
                try? await Task.sleep(for: .milliseconds(5))
            }
            return peak
        }
        let result: T
        do {
            result = try await body()
        } catch {
            sampler.cancel()
            throw error
        }
        sampler.cancel()
        let peak = max(await sampler.value, residentKiB())
        return (result, Double(peak - baseline) / 1024)
    }
}
