import Foundation
import NATS
import NATSTestSupport
import NexAPI
import NexNode

/// The sandbox's costs, each against the same thing unsandboxed in the same run:
/// `sandbox.start` — an agent's start until its handshake (the pool refilling after a workload stops);
/// `sandbox.service_rtt` — a request round trip to the static C echo service.
enum SandboxBenchmarks {
    static let starts = 20
    static let requests = 2_000

    static func all() -> [Benchmark] {
        [
            Benchmark(names: ["sandbox.start", "sandbox.service_rtt"]) { context in
                try await withNATSServer(.init(jetStream: true)) { server in
                    let sandboxed = try await measure(url: server.url, sandboxed: true)
                    let unsandboxed = try await measure(url: server.url, sandboxed: false)
                    context.report(name: "sandbox.start", ours: sandboxed.start.p50Microseconds / 1000,
                                   ref: unsandboxed.start.p50Microseconds / 1000, unit: "ms", refName: "unsandboxed agent start")
                    context.report(name: "sandbox.service_rtt", ours: sandboxed.rtt.p50Microseconds, ref: unsandboxed.rtt.p50Microseconds,
                                   unit: "us", refName: "the same service unsandboxed")
                }
            },
        ]
    }

    /// Runs one node (pool of one), then per sample: deploy the echo service, stop it, and time the pool's
    /// refill (a fresh agent started and handshaken). The last deploy serves the round-trip samples.
    static func measure(url: String, sandboxed: Bool) async throws -> (start: LatencySummary, rtt: LatencySummary) {
        try await NodeBenchmarks.withEchoService { echo in try await measure(url: url, sandboxed: sandboxed, echo: echo) }
    }

    private static func measure(url: String, sandboxed: Bool, echo: String) async throws -> (start: LatencySummary, rtt: LatencySummary) {
        let work = NSTemporaryDirectory() + "nex-bench-sandbox-\(getpid())-\(sandboxed)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let options = NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600),
                                      workDirectory: work, stopGracePeriod: .seconds(1), agentLogLevel: .error)
        let configuration = BenchNode.configuration(sandboxed: sandboxed, poolSize: 1)
        return try await BenchNode.run(url: url, configuration: configuration, options: options) { bench in
            let artifact = try await bench.upload(Array(try Data(contentsOf: URL(fileURLWithPath: echo))), bucket: "NEXSANDBOXBENCH",
                                                  key: "echo")
            let nodeXKey = try await bench.nex.info(node: bench.node).publicXKey
            let subject = "bench.sandbox.\(sandboxed)"
            func deploy(_ index: Int) async throws -> WorkloadID {
                try await bench.waitForPool(1, poll: .milliseconds(1))
                return try await bench.deploy(try bench.deployRequest(
                    artifact.location, hash: artifact.hash, name: "echo\(index)",
                    environment: ["NATS_URL": url, "ECHO_SUBJECT": subject], nodeXKey: nodeXKey))
            }

            var starts: [Duration] = []
            for index in 0..<Self.starts {
                try await bench.stop(try await deploy(index))
                // The pool now starts a fresh agent; time until it has shaken hands.
                let begin = ContinuousClock.now
                try await bench.waitForPool(1, poll: .milliseconds(1))
                starts.append(ContinuousClock.now - begin)
            }

            _ = try await deploy(Self.starts)
            while (try? await bench.client.request([0x78], to: subject, timeout: .seconds(1))) == nil {
                try await Task.sleep(for: .milliseconds(1))
            }
            var rtt: [Duration] = []
            for _ in 0..<requests {
                let begin = ContinuousClock.now
                _ = try await bench.client.request([0x78], to: subject, timeout: .seconds(5))
                rtt.append(ContinuousClock.now - begin)
            }
            guard let start = LatencySummary(starts), let round = LatencySummary(rtt) else {
                throw BenchError(code: .comparatorFailed, message: "no samples")
            }
            return (start, round)
        }
    }
}
