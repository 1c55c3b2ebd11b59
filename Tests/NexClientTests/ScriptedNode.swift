import Foundation
import Logging
import NATS
import NATSTestSupport
import NKeys
import NexAPI
@testable import NexClient

/// A stand-in for a Nex node: it subscribes to the subjects a 0.x node subscribes to on a real
/// nats-server and answers with whatever `respond` returns (`nil` stays silent, as a node that does not
/// match an auction or a workload ping).
struct ScriptedNode: Sendable {
    let key = KeyPair.generate(.server)
    let xkey = CurveKeyPair.generate()
    let respond: @Sendable (ScriptedNode, NexSubject, [UInt8]) throws -> [UInt8]?

    var id: NodeID { try! NodeID(keyPair: key) }

    init(respond: @escaping @Sendable (ScriptedNode, NexSubject, [UInt8]) throws -> [UInt8]?) {
        self.respond = respond
    }

    /// The subscriptions of a 0.x node (spec §2.1): node-specific ones name this node, so a request for
    /// another node finds no responders.
    var patterns: [String] {
        [NexSubscriptions.ping, NexSubscriptions.ping(node: id), NexSubscriptions.auction, NexSubscriptions.workloadPing,
         NexSubscriptions.info(node: id), NexSubscriptions.deploy(node: id), NexSubscriptions.stop(node: id),
         NexSubscriptions.lameDuck(node: id)]
    }

    /// This node's ping reply.
    var pingResponse: PingResponse {
        PingResponse(nodeID: id.rawValue, version: "0.2.8", uptime: "1m0s", targetXKey: xkey.publicKey,
                     tags: ["node_name": "scripted"], runningMachines: 0)
    }
}

/// A success envelope's bytes.
func success<P: Codable & Sendable>(_ type: NexResponseType, _ payload: P) throws -> [UInt8] {
    try NexJSON.encode(NexEnvelope.success(type, payload))
}

/// A failure envelope's bytes, as Go `respondFail` writes it.
func failure<P: Codable & Sendable>(_ type: NexResponseType, _ payload: P.Type, reason: String) throws -> [UInt8] {
    try NexJSON.encode(NexEnvelope<P>.failure(type, reason: reason))
}

/// Runs `body` with a server, a connected client and `nodes` answering on it.
func withScriptedNodes<T: Sendable>(_ nodes: [ScriptedNode], _ body: @Sendable (NATSClient) async throws -> T) async throws -> T {
    try await withNATSServer { server in
        var configuration = try NATSClient.Configuration(url: server.url)
        configuration.connectTimeout = .seconds(10)
        var logger = Logger(label: "nex.client.tests")
        logger.logLevel = .warning
        return try await withNATSClient(configuration, logger: logger) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                var subscriptions: [NATSSubscription] = []
                for node in nodes {
                    for pattern in node.patterns {
                        let subscription = try await client.subscribe(to: pattern)
                        subscriptions.append(subscription)
                        group.addTask {
                            for try await message in subscription {
                                guard let reply = message.replyTo, let subject = NexSubject(parsing: message.subject),
                                      let answer = try node.respond(node, subject, message.bytes) else { continue }
                                try await client.publish(answer, to: reply)
                            }
                        }
                    }
                }
                try await client.flush()
                do {
                    let result = try await body(client)
                    for subscription in subscriptions { try? await subscription.unsubscribe() }
                    try await group.waitForAll()
                    return result
                } catch {
                    for subscription in subscriptions { try? await subscription.unsubscribe() }
                    group.cancelAll()
                    throw error
                }
            }
        }
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// The first `count` elements of `sequence`; a hang guard fails the test after `timeout` instead of
/// hanging (it asserts nothing about speed).
func first<S: AsyncSequence & Sendable>(_ count: Int, of sequence: S, timeout: Duration = .seconds(10)) async throws -> [S.Element]
where S.Element: Sendable {
    try await withThrowingTaskGroup(of: [S.Element]?.self) { group in
        group.addTask {
            var elements: [S.Element] = []
            for try await element in sequence {
                elements.append(element)
                if elements.count == count { break }
            }
            return elements
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let result = try await group.next()!
        group.cancelAll()
        guard let result else { throw TestTimeout(what: "\(count) elements") }
        return result
    }
}
