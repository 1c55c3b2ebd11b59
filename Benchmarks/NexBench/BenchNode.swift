import Foundation
import JetStream
import Logging
import NATS
import NKeys
import NexAPI
import NexClient
import NexNode
import ServiceLifecycle

/// An in-process Nex node on a benchmark's nats-server, with a client beside it, for the node, function
/// and sandbox benchmarks: uploads artifacts, deploys and stops workloads as one issuer.
struct BenchNode: Sendable {
    let client: NATSClient
    let nex: NexClient
    let node: NodeID
    let url: String
    let issuer = KeyPair.generate(.account)
    let sender = CurveKeyPair.generate()

    /// Runs a node with `configuration` and `options` on `url` (the node client first in one service group,
    /// as `nex node up` does), waits until it answers, runs `body`, then shuts the node down gracefully.
    static func run<T: Sendable>(url: String, configuration: NodeConfiguration, options: NexNode.Options,
                                 _ body: (BenchNode) async throws -> T) async throws -> T {
        let identity = NodeIdentity.generate()
        let nodeClient = NATSClient(configuration: try NATSClient.Configuration(url: url), logger: benchLogger("bench.node.nats"))
        let node = NexNode(configuration: configuration, client: nodeClient, identity: identity, options: options,
                           logger: benchLogger("bench.node"))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [
            .init(service: nodeClient), .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup),
        ], logger: benchLogger("bench.group")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await withNATSClient(try NATSClient.Configuration(url: url), logger: benchLogger("bench.client")) { client in
                let nex = NexClient(client: client, timeout: .seconds(10), logger: benchLogger("bench.nexclient"))
                try await waitUntil("the node") { try await nex.ping(node: identity.nodeID) != nil }
                return try await body(BenchNode(client: client, nex: nex, node: identity.nodeID, url: url))
            }
            await group.triggerGracefulShutdown()
            return result
        }
    }

    /// Runs `nex node up` (the release build beside this executable) with `configuration` on `url` as a
    /// process of its own, as in production, so that the node's work (events of every function execution)
    /// does not share this benchmark's threads; runs `body`, then stops the node with SIGTERM.
    static func runProcess<T: Sendable>(url: String, configuration: NodeConfiguration,
                                        _ body: (BenchNode) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "nex-bench-node-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seedFile = directory + "/node.nk"
        let identity = try NodeIdentity.load(seedFile: seedFile)
        let configFile = directory + "/node.json"
        try Data(try NexJSON.encode(configuration)).write(to: URL(fileURLWithPath: configFile))

        let node = Process()
        node.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nex")
        node.arguments = ["node", "up", "--server", url, "--config", configFile, "--node-seed", seedFile]
        node.standardOutput = FileHandle.nullDevice
        node.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/null"))
        try node.run()
        defer {
            // SIGTERM: the node stops its workloads and agents; it must be gone before the server is.
            node.terminate()
            let deadline = ContinuousClock.now + .seconds(30)
            while node.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            if node.isRunning { kill(node.processIdentifier, SIGKILL) }
        }
        return try await withNATSClient(try NATSClient.Configuration(url: url), logger: benchLogger("bench.client")) { client in
            let nex = NexClient(client: client, timeout: .seconds(10), logger: benchLogger("bench.nexclient"))
            try await waitUntil("the node") {
                guard node.isRunning else { throw BenchError(code: .comparatorFailed, message: "nex node up exited") }
                return try await nex.ping(node: identity.nodeID) != nil
            }
            return try await body(BenchNode(client: client, nex: nex, node: identity.nodeID, url: url))
        }
    }

    /// The default configuration with unsandboxed (or sandboxed) agents, duplicates allowed, the given pool
    /// and workload types.
    static func configuration(sandboxed: Bool = false, poolSize: Int, types: [WorkloadType] = [.native]) -> NodeConfiguration {
        var configuration = NodeConfiguration()
        configuration.noSandbox = !sandboxed
        configuration.machinePoolSize = poolSize
        configuration.allowDuplicateWorkloads = true
        configuration.workloadTypes = types
        configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects
        return configuration
    }

    /// Puts `bytes` into object store `bucket` (created when missing) under `key`; where it is and its
    /// sha256 hex.
    func upload(_ bytes: [UInt8], bucket: String, key: String) async throws -> (location: ArtifactLocation, hash: String) {
        let jetStream = JetStreamContext(client: client, timeout: .seconds(10))
        let store: ObjectStore
        do {
            store = try await jetStream.objectStore(bucket)
        } catch {
            store = try await jetStream.createObjectStore(ObjectStoreConfig(bucket: bucket))
        }
        let info = try await store.put(key, bytes: bytes)
        guard let hash = DeployRequestBuilder.hash(fromObjectStoreDigest: info.digest ?? "") else {
            throw BenchError(code: .comparatorFailed, message: "the object store gave no SHA-256 digest")
        }
        return (ArtifactLocation(bucket: bucket, key: key), hash)
    }

    /// A deploy request for the artifact at `location` as `name`, signed by ``issuer`` and sealed to the
    /// node's xkey (built before a timed deploy starts).
    func deployRequest(_ location: ArtifactLocation, hash: String, name: String, type: WorkloadType = .native,
                       environment: [String: String] = [:], triggers: [String] = [], nodeXKey: String) throws -> DeployRequest {
        let builder = DeployRequestBuilder(workloadName: try WorkloadName(name), workloadType: type, location: location, hash: hash,
                                           environment: environment, triggerSubjects: triggers)
        return try builder.build(for: node, nodeXKey: nodeXKey, issuer: issuer, senderXKey: sender)
    }

    func deploy(_ request: DeployRequest) async throws -> WorkloadID {
        try WorkloadID(try await nex.deploy(request, to: node).id)
    }

    func stop(_ workload: WorkloadID) async throws {
        _ = try await nex.stop(try DeployRequestBuilder.stopRequest(workloadID: workload, on: node, issuer: issuer), on: node)
    }

    /// Runs `body` while a plain responder echoes every request on `subject` (the reference round trip).
    func withRawResponder<T: Sendable>(on subject: String = "bench.raw", _ body: () async throws -> T) async throws -> T {
        let responder = try await client.subscribe(to: subject)
        let client = self.client
        let responding = Task {
            for try await message in responder {
                if let reply = message.replyTo { try await client.publish(message.payload, to: reply) }
            }
        }
        defer { responding.cancel() }
        let result = try await body()
        try await responder.unsubscribe()
        return result
    }

    /// Until the node has at least `count` agents that completed their handshake.
    func waitForPool(_ count: Int, poll: Duration) async throws {
        try await waitUntil("a warm pool", poll: poll) { try await nex.info(node: node).availableAgents >= count }
    }
}

/// A logger that only reports errors: benchmark output is the BENCH lines.
func benchLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}

/// Polls `condition` every `poll` until it holds; fails the benchmark after a minute.
func waitUntil(_ what: String, poll: Duration = .milliseconds(5), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: poll)
    }
    throw BenchError(code: .comparatorFailed, message: "timed out waiting for \(what)")
}
