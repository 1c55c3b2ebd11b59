import NexTestSupport
import Foundation
import NATS
import NATSTestSupport
import NexAPI
import NexNode
import Synchronization

/// Functions end to end through a real node (`nex node up`, a process of its own) and agent: the round trip of
/// an echo function (JS, and a C WASI module) against the raw NATS round trip to a plain Swift responder on the
/// same server, in the same run; and throughput with 32 concurrent requesters.
enum FunctionBenchmarks {
    static let requests = 5_000
    static let warmup = 300
    static let concurrency = 32
    static let throughputWindow: Duration = .seconds(3)
    /// Counted round trips per latency block, and the uncounted ones that start each block (see
    /// `Harness.interleavedLatency`).
    static let blockSize = 500
    static let blockSettle = 40

    static func all() -> [Benchmark] {
        [
            Benchmark(names: ["js.echo", "js.echo_p99", "js.throughput"]) { context in
                try await withFunctionNode { harness in
                    let source = Array("(subject, payload) => payload".utf8)
                    let subject = try await harness.deploy(source, name: "jsecho", type: .v8, trigger: "bench.js")
                    try await harness.report(context, prefix: "js", subject: subject, refName: "raw NATS request round trip")
                }
            },
            Benchmark(names: ["wasm.echo", "wasm.big", "wasm.throughput"]) { context in
                try await withFunctionNode { harness in
                    let echo = try WasmGuest.build(WasmGuests.echoSource)
                    let subject = try await harness.deploy(echo, name: "wasmecho", type: .wasm, trigger: "bench.wasm")
                    try await harness.report(context, prefix: "wasm", subject: subject, refName: "raw NATS request round trip",
                                             p99Name: nil)
                    let big = try WasmGuest.build(WasmGuests.bigSource())
                    let bigSubject = try await harness.deploy(big, name: "wasmbig", type: .wasm, trigger: "bench.wasmbig")
                    let (bigLatency, raw) = try await harness.interleavedLatency(bigSubject, reference: "bench.raw", count: 500)
                    context.report(name: "wasm.big", ours: bigLatency.p50Microseconds, ref: raw.p50Microseconds, unit: "us",
                                   refName: "raw NATS request round trip (module \(big.count / 1024) KiB)")
                }
            },
        ]
    }

    /// A node running functions, its client, and a plain responder on `bench.raw` for the reference.
    struct Harness: Sendable {
        let bench: BenchNode
        var client: NATSClient { bench.client }

        func deploy(_ artifact: [UInt8], name: String, type: WorkloadType, trigger: String) async throws -> String {
            let uploaded = try await bench.upload(artifact, bucket: "NEXBENCHFN", key: name)
            let xkey = try await bench.nex.info(node: bench.node).publicXKey
            _ = try await bench.deploy(try bench.deployRequest(uploaded.location, hash: uploaded.hash, name: name, type: type,
                                                               triggers: [trigger], nodeXKey: xkey))
            // Ready once it answers.
            try await waitUntil("\(name) to answer", poll: .milliseconds(10)) {
                (try? await client.request([0x78], to: trigger, timeout: .seconds(1))) != nil
            }
            return trigger
        }

        /// Round trips to `subject` and to `reference` in alternating blocks, so that both see the same machine (on
        /// this shared 2-core machine, two phases one after the other were sometimes tens of percent apart). The
        /// first ``blockSettle`` round trips of each block are not counted: they overlap the previous block's
        /// after-work (the function's execution reports, sent within 2 ms). There is no pause between blocks: after
        /// even a few milliseconds of idleness the next raw round trips ran faster than in a steady stream (20%
        /// after 20 ms), which would compare a restart artefact instead of steady states.
        func interleavedLatency(_ subject: String, reference: String, count: Int) async throws -> (LatencySummary, LatencySummary) {
            let payload = Array("hello function".utf8)
            for _ in 0..<warmup {
                _ = try await client.request(payload, to: subject, timeout: .seconds(10))
                _ = try await client.request(payload, to: reference, timeout: .seconds(10))
            }
            var samples: [[Duration]] = [[], []]
            while samples[1].count < count {
                let counted = min(blockSize, count - samples[1].count)
                for (index, target) in [subject, reference].enumerated() {
                    for round in 0..<(blockSettle + counted) {
                        let start = ContinuousClock.now
                        _ = try await client.request(payload, to: target, timeout: .seconds(10))
                        if round >= blockSettle { samples[index].append(ContinuousClock.now - start) }
                    }
                }
            }
            guard let ours = LatencySummary(samples[0]), let theirs = LatencySummary(samples[1]) else {
                throw BenchError(code: .comparatorFailed, message: "no samples")
            }
            return (ours, theirs)
        }

        func latency(_ subject: String, count: Int) async throws -> LatencySummary {
            let payload = Array("hello function".utf8)
            for _ in 0..<warmup { _ = try await client.request(payload, to: subject, timeout: .seconds(10)) }
            var samples: [Duration] = []
            samples.reserveCapacity(count)
            for _ in 0..<count {
                let start = ContinuousClock.now
                _ = try await client.request(payload, to: subject, timeout: .seconds(10))
                samples.append(ContinuousClock.now - start)
            }
            guard let summary = LatencySummary(samples) else { throw BenchError(code: .comparatorFailed, message: "no samples") }
            return summary
        }

        /// Requests per second with `concurrency` requesters for `throughputWindow`.
        func throughput(_ subject: String) async throws -> Double {
            let payload = Array("hello function".utf8)
            let completed = Counter()
            let deadline = ContinuousClock.now + throughputWindow
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while ContinuousClock.now < deadline {
                            _ = try await client.request(payload, to: subject, timeout: .seconds(10))
                            completed.value.add(1, ordering: .relaxed)
                        }
                    }
                }
                try await group.waitForAll()
            }
            return Double(completed.value.load(ordering: .relaxed)) / (ContinuousClock.now - start).inSeconds
        }

        func report(_ context: BenchContext, prefix: String, subject: String, refName: String,
                    p99Name: String? = "_p99") async throws {
            let (ours, raw) = try await interleavedLatency(subject, reference: "bench.raw", count: requests)
            // The agent's own measure of each execution (function_exec_succeeded), to tell engine time from the
            // time around it: a separate, shorter pass, so that receiving the events does not load the timed one.
            let executions = try await client.subscribe(to: NexSubject.event(.default, .functionExecSucceeded).description)
            _ = try await latency(subject, count: requests / 5)
            try await client.flush()
            try await executions.drain()
            var engineNanos: [Int64] = []
            for try await message in executions {
                if case .functionExecSucceeded(let data) = try AnyNexEvent.decode(from: message.bytes).event.data {
                    engineNanos.append(data.elapsedNanos)
                }
            }
            if !engineNanos.isEmpty {
                let median = engineNanos.sorted()[engineNanos.count / 2]
                FileHandle.standardError.write(Data("info: \(prefix).echo: median execution inside the agent \(Double(median) / 1000) µs over \(engineNanos.count)\n".utf8))
            }
            context.report(name: "\(prefix).echo", ours: ours.p50Microseconds, ref: raw.p50Microseconds, unit: "us", refName: refName)
            if let p99Name {
                context.report(name: "\(prefix).echo\(p99Name)", ours: ours.p99Microseconds, ref: raw.p99Microseconds, unit: "us",
                               refName: refName)
            }
            let cpuBefore = CPUTime.ofChildrenAndSelf()
            let oursRate = try await throughput(subject)
            let cpu = CPUTime.ofChildrenAndSelf() - cpuBefore
            let rawRate = try await throughput("bench.raw")
            context.report(name: "\(prefix).throughput", ours: oursRate, ref: rawRate, unit: "req/s",
                           refName: "raw NATS requests, \(concurrency) requesters; function CPU \(String(format: "%.0f", cpu / throughputWindow.inSeconds * 100))%")
        }
    }

    static func withFunctionNode(_ body: (Harness) async throws -> Void) async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let configuration = BenchNode.configuration(poolSize: 2, types: [.native, .v8, .wasm])
            try await BenchNode.runProcess(url: server.url, configuration: configuration) { bench in
                try await bench.withRawResponder { try await body(Harness(bench: bench)) }
            }
        }
    }
}

/// A shared request counter.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// CPU seconds (user + system) of this process and of every live process whose parent chain leads here
/// (agents run as children of the in-process node).
enum CPUTime {
    static func ofChildrenAndSelf() -> Double {
        let me = getpid()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for pid in descendants(of: me) + [me] {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state(0) ppid(1) … utime(11) stime(12).
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            total += (user + system) / ticks
        }
        return total
    }

    private static func descendants(of root: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[pid] = parent }
        }
        return parents.keys.filter { pid in
            var current = parents[pid]
            while let parent = current, parent > 1 {
                if parent == root { return true }
                current = parents[parent]
            }
            return false
        }
    }
}

/// The WASI guests of the benchmarks, in C (built with `WasmGuest`).
enum WasmGuests {

    static let echoSource = """
    #include <stdio.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
        char buffer[65536];
        ssize_t n;
        while ((n = read(0, buffer, sizeof buffer)) > 0) fwrite(buffer, 1, (size_t)n, stdout);
        if (argc > 1) fputs(argv[1], stdout);
        return 0;
    }
    """

    /// An echo that first runs every one of many generated functions (an 857 KB-class module).
    static func bigSource(functions: Int = 7_400) -> String {
        var source = "#include <stdio.h>\n#include <unistd.h>\n"
        for index in 0..<functions {
            source += "__attribute__((noinline)) unsigned f\(index)(unsigned x) { unsigned t[32]; "
            source += "for (int i = 0; i < 32; i++) t[i] = x * \(index * 2 + 1)u + i; "
            source += "return t[x % 32] ^ \(index)u; }\n"
        }
        source += "int main(int argc, char **argv) { unsigned acc = 1;\n"
        for index in 0..<functions { source += "acc = f\(index)(acc);\n" }
        source += """
        char buffer[65536]; ssize_t n;
        while ((n = read(0, buffer, sizeof buffer)) > 0) fwrite(buffer, 1, (size_t)n, stdout);
        if (argc > 1) fputs(argv[1], stdout);
        return acc == 0xFFFFFFFFu ? 1 : 0; }
        """
        return source
    }
}

