import NativeRuntime
import Foundation
import JetStream
import Logging
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexNode
import ServiceLifecycle

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

    private static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .error
        return logger
    }

    /// The static C echo service (`Benchmarks/c/echo_service.c`), built into a temporary file.
    static func buildEchoService() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("c/echo_service.c").path
        let output = NSTemporaryDirectory() + "nex-bench-echo-\(getpid())"
        guard try Program.run("/usr/bin/gcc", ["-O2", "-static", "-o", output, source]).succeeded else {
            throw BenchError(code: .compileFailed, message: "gcc could not build \(source) statically (is libc6-dev installed?)")
        }
        return output
    }

    static func deployLatency(url: String) async throws -> (deploy: LatencySummary, raw: LatencySummary) {
        let echo = try buildEchoService()
        defer { unlink(echo) }
        var configuration = NodeConfiguration()
        configuration.noSandbox = true
        configuration.machinePoolSize = poolSize
        configuration.allowDuplicateWorkloads = true
        configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects
        let identity = NodeIdentity.generate()
        let nodeClient = NATSClient(configuration: try NATSClient.Configuration(url: url), logger: quiet("bench.node.nats"))
        let node = NexNode(configuration: configuration, client: nodeClient, identity: identity,
                           options: NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600),
                                                    stopGracePeriod: .seconds(1), agentLogLevel: .error),
                           logger: quiet("bench.node"))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [
            .init(service: nodeClient), .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup),
        ], logger: quiet("bench.group")))

        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await withNATSClient(try NATSClient.Configuration(url: url), logger: quiet("bench.client")) { client in
                let nex = NexClient(client: client, timeout: .seconds(10), logger: quiet("bench.nexclient"))
                try await waitFor("the node") { try await nex.ping(node: identity.nodeID) != nil }
                let jetStream = JetStreamContext(client: client, timeout: .seconds(10))
                let store = try await jetStream.createObjectStore(ObjectStoreConfig(bucket: "NEXBENCH"))
                let info = try await store.putFile("echo", path: echo)
                guard let hash = DeployRequestBuilder.hash(fromObjectStoreDigest: info.digest ?? "") else {
                    throw BenchError(code: .comparatorFailed, message: "the object store gave no SHA-256 digest")
                }
                let issuer = KeyPair.generate(.account)
                let sender = CurveKeyPair.generate()
                let nodeXKey = try await nex.info(node: identity.nodeID).publicXKey

                var samples: [Duration] = []
                for index in 0..<deploys {
                    try await waitFor("a warm pool") { try await nex.info(node: identity.nodeID).availableAgents >= poolSize }
                    let subject = "bench.echo.\(index)"
                    let builder = DeployRequestBuilder(
                        workloadName: try WorkloadName("echo\(index)"), workloadType: .native,
                        location: ArtifactLocation(bucket: "NEXBENCH", key: "echo"), hash: hash,
                        environment: ["NATS_URL": url, "ECHO_SUBJECT": subject])
                    let request = try builder.build(for: identity.nodeID, nodeXKey: nodeXKey, issuer: issuer, senderXKey: sender)
                    let start = ContinuousClock.now
                    let response = try await nex.deploy(request, to: identity.nodeID)
                    while true {
                        if (try? await client.request([0x78], to: subject, timeout: .seconds(1))) != nil { break }
                        try await Task.sleep(for: .microseconds(200))
                    }
                    samples.append(ContinuousClock.now - start)
                    let stop = try DeployRequestBuilder.stopRequest(workloadID: try WorkloadID(response.id), on: identity.nodeID, issuer: issuer)
                    _ = try await nex.stop(stop, on: identity.nodeID)
                }

                // The reference: a plain responder on the same server.
                let responder = try await client.subscribe(to: "bench.raw")
                let responding = Task {
                    for try await message in responder {
                        if let reply = message.replyTo { try await client.publish(message.payload, to: reply) }
                    }
                }
                defer { responding.cancel() }
                var raw: [Duration] = []
                for _ in 0..<rawRequests {
                    let start = ContinuousClock.now
                    _ = try await client.request([0x78], to: "bench.raw", timeout: .seconds(5))
                    raw.append(ContinuousClock.now - start)
                }
                try await responder.unsubscribe()
                guard let deploy = LatencySummary(samples), let rawSummary = LatencySummary(raw) else {
                    throw BenchError(code: .comparatorFailed, message: "no samples")
                }
                return (deploy, rawSummary)
            }
            await group.triggerGracefulShutdown()
            return result
        }
    }

    private static func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError(code: .comparatorFailed, message: "timed out waiting for \(what)")
    }
}
