import NexTestSupport
import Foundation
import NATS
import NATSTestSupport
import NexAPI
import NexNode

/// The node's deploy path: from sending a deploy request to the first reply of the deployed native echo
/// service (`Benchmarks/c/echo_service.c`), with a warm agent pool, against the raw NATS request round
/// trip to a plain responder on the same server, in the same run.
enum NodeBenchmarks {
    static let deploys = 50
    static let poolSize = 2
    static let rawRequests = 2_000

    static func all() -> [Benchmark] {
        [
            Benchmark(names: ["node.deploy"]) { context in
                try await withNATSServer(.init(jetStream: true)) { server in
                    let result = try await deployLatency(url: server.url)
                    context.report(name: "node.deploy", ours: result.deploy.p50Microseconds / 1000,
                                   ref: result.raw.p50Microseconds / 1000, unit: "ms", refName: "raw NATS request round trip")
                }
            },
        ]
    }

    /// The static C echo service, built into a fresh temporary directory (removed by `body`'s caller).
    static func withEchoService<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "nex-bench-echo-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(try EchoService.build(into: directory))
    }

    static func deployLatency(url: String) async throws -> (deploy: LatencySummary, raw: LatencySummary) {
        try await withEchoService { echo in try await deployLatency(url: url, echo: echo) }
    }

    private static func deployLatency(url: String, echo: String) async throws -> (deploy: LatencySummary, raw: LatencySummary) {
        let options = NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600),
                                      stopGracePeriod: .seconds(1), agentLogLevel: .error)
        return try await BenchNode.run(url: url, configuration: BenchNode.configuration(poolSize: poolSize), options: options) { bench in
            let artifact = try await bench.upload(Array(try Data(contentsOf: URL(fileURLWithPath: echo))), bucket: "NEXBENCH", key: "echo")
            let nodeXKey = try await bench.nex.info(node: bench.node).publicXKey

            var samples: [Duration] = []
            for index in 0..<deploys {
                try await bench.waitForPool(poolSize, poll: .milliseconds(5))
                let subject = "bench.echo.\(index)"
                let request = try bench.deployRequest(artifact.location, hash: artifact.hash, name: "echo\(index)",
                                                      environment: ["NATS_URL": url, "ECHO_SUBJECT": subject], nodeXKey: nodeXKey)
                let start = ContinuousClock.now
                let workload = try await bench.deploy(request)
                while true {
                    if (try? await bench.client.request([0x78], to: subject, timeout: .seconds(1))) != nil { break }
                    try await Task.sleep(for: .microseconds(200))
                }
                samples.append(ContinuousClock.now - start)
                try await bench.stop(workload)
            }

            // The reference: a plain responder on the same server.
            let raw = try await bench.withRawResponder {
                var raw: [Duration] = []
                for _ in 0..<rawRequests {
                    let start = ContinuousClock.now
                    _ = try await bench.client.request([0x78], to: "bench.raw", timeout: .seconds(5))
                    raw.append(ContinuousClock.now - start)
                }
                return raw
            }
            guard let deploy = LatencySummary(samples), let rawSummary = LatencySummary(raw) else {
                throw BenchError(code: .comparatorFailed, message: "no samples")
            }
            return (deploy, rawSummary)
        }
    }
}
