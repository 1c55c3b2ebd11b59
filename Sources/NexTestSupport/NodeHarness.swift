import Foundation
import Logging
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexNode
import ServiceLifecycle

/// A node under test: its own NATS connection and the node, run as the `nex node up` command will run
/// them (one `ServiceGroup`, the client first so the node shuts down before its connection).
public struct NodeUnderTest: Sendable {
    public var url: String
    public var configuration = NodeConfiguration()
    public var identity = NodeIdentity.generate()
    public var options = NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600))

    public init(url: String, configuration: NodeConfiguration = NodeConfiguration(), identity: NodeIdentity = .generate(),
                options: NexNode.Options = NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600))) {
        self.url = url
        self.configuration = configuration
        self.identity = identity
        self.options = options
    }
}

public func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

public func clientConfiguration(_ url: String) throws -> NATSClient.Configuration {
    var configuration = try NATSClient.Configuration(url: url)
    configuration.connectTimeout = .seconds(10)
    return configuration
}

/// Runs `nodes`, waits until each answers a ping by ID, runs `body` with a `NexClient` on `testURL`,
/// then shuts every node down gracefully.
///
/// `beforeStart` runs on the test connection before any node starts (to watch events from the start).
public func withNodes<T: Sendable>(_ nodes: [NodeUnderTest], testURL: String, timeout: Duration = .seconds(3),
                            _ body: @Sendable (NexClient, [NexNode]) async throws -> T) async throws -> T {
    try await withNATSClient(clientConfiguration(testURL), logger: quietLogger("nex.node.tests.client")) { client in
        let nex = NexClient(client: client, timeout: timeout, logger: quietLogger("nex.node.tests.nexclient"))
        let running = try nodes.map { spec in
            let nodeClient = NATSClient(configuration: try clientConfiguration(spec.url), logger: quietLogger("nex.node.tests.nats"))
            let node = NexNode(configuration: spec.configuration, client: nodeClient, identity: spec.identity,
                               options: spec.options, logger: quietLogger("nex.node.tests.node"))
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [
                .init(service: nodeClient),
                .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup),
            ], logger: quietLogger("nex.node.tests.group")))
            return (node, group)
        }
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (_, group) in running { tasks.addTask { try await group.run() } }
            do {
                for (node, _) in running { try await waitUntilAnswering(nex, node.nodeID) }
                let result = try await body(nex, running.map(\.0))
                for (_, group) in running { await group.triggerGracefulShutdown() }
                try await tasks.waitForAll()
                return result
            } catch {
                for (_, group) in running { await group.triggerGracefulShutdown() }
                tasks.cancelAll()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// Polls `$NEX.PING.{node}` until the node answers (it subscribes everything before that one answers).
public func waitUntilAnswering(_ nex: NexClient, _ node: NodeID, limit: Duration = .seconds(30)) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while clock.now < deadline {
        if try await nex.ping(node: node) != nil { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestTimeout(what: "node \(node) to answer pings")
}

public struct TestTimeout: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// The first element of `sequence` that satisfies `predicate`; a hang guard fails the test after
/// `limit` instead of hanging (it asserts nothing about speed).
public func firstMatch<S: AsyncSequence & Sendable>(in sequence: S, limit: Duration = .seconds(20),
                                             where predicate: @escaping @Sendable (S.Element) -> Bool) async throws -> S.Element
where S.Element: Sendable {
    try await withThrowingTaskGroup(of: S.Element?.self) { group in
        group.addTask {
            for try await element in sequence where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let result = try await group.next()!
        group.cancelAll()
        guard let result else { throw TestTimeout(what: "a matching element") }
        return result
    }
}

/// Sends raw bytes to a control subject and decodes the envelope of the reply.
public func rawRequest<P: Codable & Sendable>(_ client: NATSClient, _ body: [UInt8], to subject: NexSubject,
                                       as: P.Type) async throws -> NexEnvelope<P> {
    let reply = try await client.request(body, to: subject.description, timeout: .seconds(10))
    return try NexJSON.decode(NexEnvelope<P>.self, from: reply.bytes)
}

extension NexEnvelope {
    public var failureReason: String? {
        if case .failure(let reason) = outcome { return reason }
        return nil
    }
}
