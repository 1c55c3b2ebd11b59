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

    private static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .error
        return logger
    }

    /// Runs one node (pool of one), then per sample: deploy the echo service, stop it, and time the pool's
    /// refill (a fresh agent started and handshaken). The last deploy serves the round-trip samples.
    static func measure(url: String, sandboxed: Bool) async throws -> (start: LatencySummary, rtt: LatencySummary) {
        let echo = try NodeBenchmarks.buildEchoService()
        defer { unlink(echo) }
        var configuration = NodeConfiguration()
        configuration.noSandbox = !sandboxed
        configuration.machinePoolSize = 1
        configuration.allowDuplicateWorkloads = true
        configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects
        let identity = NodeIdentity.generate()
        let work = NSTemporaryDirectory() + "nex-bench-sandbox-\(getpid())-\(sandboxed)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let nodeClient = NATSClient(configuration: try NATSClient.Configuration(url: url), logger: quiet("bench.node.nats"))
        let node = NexNode(configuration: configuration, client: nodeClient, identity: identity,
                           options: NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600),
                                                    workDirectory: work, stopGracePeriod: .seconds(1), agentLogLevel: .error),
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
                let store: ObjectStore
                do {
                    store = try await jetStream.objectStore("NEXSANDBOXBENCH")
                } catch {
                    store = try await jetStream.createObjectStore(ObjectStoreConfig(bucket: "NEXSANDBOXBENCH"))
                }
                let info = try await store.putFile("echo", path: echo)
                guard let hash = DeployRequestBuilder.hash(fromObjectStoreDigest: info.digest ?? "") else {
                    throw BenchError(code: .comparatorFailed, message: "the object store gave no SHA-256 digest")
                }
                let issuer = KeyPair.generate(.account)
                let sender = CurveKeyPair.generate()
                let nodeXKey = try await nex.info(node: identity.nodeID).publicXKey
                let subject = "bench.sandbox.\(sandboxed)"
                func deploy(_ index: Int) async throws -> WorkloadID {
                    try await waitFor("a warm pool") { try await nex.info(node: identity.nodeID).availableAgents >= 1 }
                    let builder = DeployRequestBuilder(
                        workloadName: try WorkloadName("echo\(index)"), workloadType: .native,
                        location: ArtifactLocation(bucket: "NEXSANDBOXBENCH", key: "echo"), hash: hash,
                        environment: ["NATS_URL": url, "ECHO_SUBJECT": subject])
                    let response = try await nex.deploy(try builder.build(for: identity.nodeID, nodeXKey: nodeXKey, issuer: issuer, senderXKey: sender),
                                                        to: identity.nodeID)
                    return try WorkloadID(response.id)
                }

                var starts: [Duration] = []
                for index in 0..<Self.starts {
                    let id = try await deploy(index)
                    let stop = try DeployRequestBuilder.stopRequest(workloadID: id, on: identity.nodeID, issuer: issuer)
                    _ = try await nex.stop(stop, on: identity.nodeID)
                    // The pool now starts a fresh agent; time until it has shaken hands.
                    let begin = ContinuousClock.now
                    try await waitFor("the refilled pool") { try await nex.info(node: identity.nodeID).availableAgents >= 1 }
                    starts.append(ContinuousClock.now - begin)
                }

                _ = try await deploy(Self.starts)
                while (try? await client.request([0x78], to: subject, timeout: .seconds(1))) == nil {
                    try await Task.sleep(for: .milliseconds(1))
                }
                var rtt: [Duration] = []
                for _ in 0..<requests {
                    let begin = ContinuousClock.now
                    _ = try await client.request([0x78], to: subject, timeout: .seconds(5))
                    rtt.append(ContinuousClock.now - begin)
                }
                guard let start = LatencySummary(starts), let round = LatencySummary(rtt) else {
                    throw BenchError(code: .comparatorFailed, message: "no samples")
                }
                return (start, round)
            }
            await group.triggerGracefulShutdown()
            return result
        }
    }

    private static func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw BenchError(code: .comparatorFailed, message: "timed out waiting for \(what)")
    }
}
