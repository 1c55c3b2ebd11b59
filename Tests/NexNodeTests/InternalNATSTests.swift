import NexTestSupport
import Foundation
import Logging
import NATS
import NKeys
import NexAPI
import Synchronization
import Testing
@testable import NexNode

/// The internal NATS against a real nats-server child: loopback, operator mode, per-agent users that
/// only reach their own subjects.
@Suite("InternalNATSTests")
struct InternalNATSTests {
    /// Starts an internal NATS, runs `body`, and stops it whatever happens.
    private func withInternalNATS<T: Sendable>(_ configuration: InternalNATS.Configuration = .init(),
                                               _ body: (InternalNATS) async throws -> T) async throws -> T {
        let nats = try await InternalNATS.start(configuration, logger: quietLogger("inats.test"))
        do {
            let result = try await body(nats)
            await nats.stop()
            return result
        } catch {
            await nats.stop()
            throw error
        }
    }

    private func nodeConfiguration(_ nats: InternalNATS) throws -> NATSClient.Configuration {
        var configuration = try clientConfiguration(nats.url)
        configuration.authentication = nats.nodeAuthentication
        configuration.requestTimeout = .seconds(10)
        return configuration
    }

    /// How an agent connects: its credentials and its own inbox prefix.
    private func agentConfiguration(_ nats: InternalNATS, agent: String, credentials: AgentCredentials) throws -> NATSClient.Configuration {
        var configuration = try clientConfiguration(nats.url)
        configuration.authentication = credentials.authentication
        configuration.inboxPrefix = AgentSubjects.inboxPrefix(agent: agent)
        configuration.requestTimeout = .seconds(10)
        configuration.reconnect.enabled = false
        return configuration
    }

    /// Answers every request on `subject` with `reply` until cancelled; returns once the subscription is registered.
    private func answer(_ client: NATSClient, on subject: String, with reply: String, in group: inout ThrowingTaskGroup<Void, any Error>) async throws {
        let subscription = try await client.subscribe(to: subject)
        try await client.flush()
        group.addTask {
            for try await message in subscription {
                if let replyTo = message.replyTo { try await client.publish(reply, to: replyTo) }
            }
        }
    }

    /// Reads `events` until, for each of `fragments`, a permissions violation containing it has been seen
    /// (or 10 s pass); returns the messages of all violations seen.
    private func permissionViolations(in events: AsyncStream<NATSEvent>, containing fragments: [String]) async -> [String] {
        final class Seen: Sendable { let messages = Mutex<[String]>([]) }
        let seen = Seen()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    guard case .serverError(let error) = event, error.kind == .permissionsViolation else { continue }
                    let complete = seen.messages.withLock { messages in
                        messages.append(error.message)
                        return fragments.allSatisfy { fragment in messages.contains { $0.contains(fragment) } }
                    }
                    if complete { return }
                }
            }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }
        return seen.messages.withLock { $0 }
    }

    /// The error of the first disconnection in `events` (nil when the client closed without one or 10 s passed).
    private func firstDisconnection(in events: AsyncStream<NATSEvent>) async -> NATSError? {
        await withTaskGroup(of: NATSError?.self) { group in
            group.addTask {
                for await event in events {
                    if case .disconnected(_, let error) = event { return error }
                    if case .closed = event { return nil }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func startsOnLoopbackTheNodeMayDoAnythingAndStops() async throws {
        let nats = try await InternalNATS.start(.init(), logger: quietLogger("inats.test"))
        #expect(nats.url.hasPrefix("nats://127.0.0.1:"))
        #expect(nats.isRunning)
        #expect(FileManager.default.fileExists(atPath: nats.logPath))
        let configuration = try nodeConfiguration(nats)
        let received = try await withNATSClient(configuration, logger: quietLogger("inats.test.node")) { node in
            // Any subject, agent-side ones included.
            let subscription = try await node.subscribe(to: ">")
            var subjects: [String] = []
            var iterator = subscription.makeAsyncIterator()
            for subject in ["anything.at.all", "agentint.A.ping", "hostint.B.handshake", "_INBOX.x"] {
                try await node.publish("hello", to: subject)
                if case .message(let message) = try await iterator.next(timeout: .seconds(10)) { subjects.append(message.subject) }
            }
            // Payloads above nats-server's 1 MiB default pass: max_payload is raised.
            #expect((node.serverInfo?.maxPayload ?? 0) >= 8 * 1024 * 1024)
            return subjects
        }
        #expect(received == ["anything.at.all", "agentint.A.ping", "hostint.B.handshake", "_INBOX.x"])
        let logPath = nats.logPath
        await nats.stop()
        #expect(!nats.isRunning)
        // The temporary directory (config and log) is gone; a second stop is harmless.
        #expect(!FileManager.default.fileExists(atPath: logPath))
        await nats.stop()
    }

    @Test func theLogGoesToTheConfiguredDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inats-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withInternalNATS(.init(storeDirectory: directory, debug: true)) { nats in
            #expect(nats.logPath == directory + "/nats-server.log")
            let log = try String(contentsOfFile: nats.logPath, encoding: .utf8)
            #expect(log.contains("Server is ready"))
            // Operator mode with the memory resolver, and no JetStream.
            #expect(log.contains("Trusted Operators"))
            #expect(!log.contains("Starting JetStream"))
        }
        // A configured directory is the caller's: it stays.
        #expect(FileManager.default.fileExists(atPath: directory + "/nats-server.log"))
    }

    @Test func anAgentAnswersTheNodeAndTheNodeAnswersTheAgent() async throws {
        try await withInternalNATS { nats in
            let credentials = try nats.credentials(forAgent: "A")
            try await withNATSClient(try nodeConfiguration(nats), logger: quietLogger("inats.test.node")) { node in
                try await withNATSClient(try agentConfiguration(nats, agent: "A", credentials: credentials),
                                         logger: quietLogger("inats.test.agent")) { agent in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        try await answer(agent, on: AgentSubjects.ping(agent: "A"), with: "OK", in: &group)
                        try await answer(node, on: AgentSubjects.handshake(agent: "A"), with: "welcome A", in: &group)

                        // node → agent: the reply goes to the node's `_INBOX…`, allowed by `resp`.
                        let pong = try await node.request("", to: AgentSubjects.ping(agent: "A"), timeout: .seconds(10))
                        #expect(pong.bytes == AgentSubjects.pingReply)
                        // agent → node: the reply comes back on the agent's own inbox prefix.
                        let welcome = try await agent.request("hello", to: AgentSubjects.handshake(agent: "A"), timeout: .seconds(10))
                        #expect(welcome.string == "welcome A")
                        #expect(welcome.subject.hasPrefix(AgentSubjects.inboxPrefix(agent: "A") + "."))
                        group.cancelAll()
                    }
                }
            }
        }
    }

    @Test func anAgentCannotReachAnotherAgentsSubjects() async throws {
        try await withInternalNATS { nats in
            let credentials = try nats.credentials(forAgent: "A")
            _ = try nats.credentials(forAgent: "B")
            try await withNATSClient(try nodeConfiguration(nats), logger: quietLogger("inats.test.node")) { node in
                try await withNATSClient(try agentConfiguration(nats, agent: "A", credentials: credentials),
                                         logger: quietLogger("inats.test.agent")) { agent in
                    let events = agent.events()
                    // The node watches everything agents publish.
                    let hostSide = try await node.subscribe(to: "hostint.>")
                    try await node.flush()

                    // A publishes as B (refused), then as itself (allowed). Messages from one connection keep
                    // their order, so if the first got through the node would see it first.
                    try await agent.publish("spoofed", to: AgentSubjects.handshake(agent: "B"))
                    try await agent.publish("genuine", to: AgentSubjects.logs(agent: "A"))
                    try await agent.flush()
                    var hostIterator = hostSide.makeAsyncIterator()
                    guard case .message(let first) = try await hostIterator.next(timeout: .seconds(10)) else {
                        Issue.record("the node did not receive A's own publish")
                        return
                    }
                    #expect(first.subject == AgentSubjects.logs(agent: "A"))
                    #expect(first.string == "genuine")

                    // A subscribes to B's subjects, to everything and to the host side: all refused.
                    let refused = ["agentint.B.>", ">", "hostint.>"]
                    let spies = try await refused.asyncMap { try await agent.subscribe(to: $0) }
                    let own = try await agent.subscribe(to: "agentint.A.>")
                    try await agent.flush()
                    try await node.publish("for B", to: AgentSubjects.deploy(agent: "B"))
                    try await node.publish("for everyone", to: "broadcast.all")
                    try await node.publish("for A", to: AgentSubjects.ping(agent: "A"))
                    try await node.flush()
                    var ownIterator = own.makeAsyncIterator()
                    guard case .message(let mine) = try await ownIterator.next(timeout: .seconds(10)) else {
                        Issue.record("A did not receive its own message")
                        return
                    }
                    #expect(mine.string == "for A")
                    // Everything the node sent before "for A" has reached A's connection by now.
                    for spy in spies {
                        var iterator = spy.makeAsyncIterator()
                        if case .message(let leaked) = try await iterator.next(timeout: .milliseconds(1)) {
                            Issue.record("A received \(leaked.subject) on \(spy.subject)")
                        }
                    }

                    // And the server told A so, once per refusal.
                    let violations = await permissionViolations(in: events, containing: ([AgentSubjects.handshake(agent: "B")] + refused).map { "\"\($0)\"" })
                    #expect(violations.contains { $0.contains("Publish") && $0.contains("\"hostint.B.handshake\"") }, "\(violations)")
                    for subject in refused {
                        #expect(violations.contains { $0.contains("Subscription") && $0.contains("\"\(subject)\"") }, "\(violations)")
                    }
                }
            }
        }
    }

    @Test func anAgentMustUseItsOwnInboxPrefix() async throws {
        try await withInternalNATS { nats in
            let credentials = try nats.credentials(forAgent: "A")
            var defaultInbox = try agentConfiguration(nats, agent: "A", credentials: credentials)
            defaultInbox.inboxPrefix = "_INBOX"
            try await withNATSClient(try nodeConfiguration(nats), logger: quietLogger("inats.test.node")) { node in
                try await withNATSClient(defaultInbox, logger: quietLogger("inats.test.agent")) { agent in
                    let events = agent.events()
                    let handshakes = try await node.subscribe(to: AgentSubjects.handshake(agent: "A"))
                    try await node.flush()
                    await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // The node gets the request and answers, but A may not listen on `_INBOX.>`.
                            for try await message in handshakes {
                                if let replyTo = message.replyTo { try await node.publish("welcome", to: replyTo) }
                            }
                        }
                        await #expect(throws: (any Error).self) {
                            _ = try await agent.request("hello", to: AgentSubjects.handshake(agent: "A"), timeout: .seconds(3))
                        }
                        group.cancelAll()
                    }
                    let violations = await permissionViolations(in: events, containing: ["\"_INBOX."])
                    #expect(violations.contains { $0.contains("Subscription") && $0.contains("_INBOX.") }, "\(violations)")
                }
            }
        }
    }

    @Test func forgedCredentialsCannotConnect() async throws {
        try await withInternalNATS { nats in
            let genuine = try nats.credentials(forAgent: "A")
            let stranger = try OperatorTrustChain.generate()
            let foreignUser = try stranger.mintUser(name: "agent-A", permissions: JWTPermissions(allowPublish: nil, allowSubscribe: nil))
            let forgeries = [
                // A's genuine JWT, but a seed that is not its subject's.
                AgentCredentials(jwt: genuine.jwt, seed: KeyPair.generate(.user).seed),
                // A well-formed user signed by an account the server does not trust.
                AgentCredentials(jwt: foreignUser.jwt, seed: foreignUser.seed),
            ]
            for forged in forgeries {
                var configuration = try agentConfiguration(nats, agent: "A", credentials: forged)
                configuration.reconnect.enabled = false
                do {
                    try await withNATSClient(configuration, logger: quietLogger("inats.test.forged")) { _ in }
                    Issue.record("forged credentials connected")
                } catch let error as NATSError {
                    #expect(error.code == .authentication, "\(error)")
                    #expect(error.message.contains("Authorization Violation"), "\(error)")
                }
            }
            // The genuine credentials still work.
            try await withNATSClient(try agentConfiguration(nats, agent: "A", credentials: genuine),
                                     logger: quietLogger("inats.test.agent")) { agent in
                try await agent.flush()
            }
        }
    }

    @Test func agentIDsMustBePlainTokens() async throws {
        try await withInternalNATS { nats in
            for bad in ["", "A.B", "*", ">", "A B", "A\u{0}", String(repeating: "x", count: 129)] {
                #expect(throws: NexNodeError.self, "\(bad)") { _ = try nats.credentials(forAgent: bad) }
            }
            let error = #expect(throws: NexNodeError.self) { _ = try nats.credentials(forAgent: "A.>") }
            #expect(error?.code == .invalidAgentID)
            let credentials = try nats.credentials(forAgent: "NAGENT_42-x")
            let claims = try JWT.decode(credentials.jwt, as: UserClaims.self)
            #expect(claims.nats.permissions.publish.allow == ["hostint.NAGENT_42-x.>"])
            #expect(claims.nats.permissions.subscribe.allow == ["agentint.NAGENT_42-x.>", "_INBOX_NAGENT_42-x.>"])
            #expect(claims.nats.permissions.response?.maxMessages == 1)
        }
    }

    @Test func revokedAgentsAreDisconnectedAndRefused() async throws {
        try await withInternalNATS { nats in
            let credentialsA = try nats.credentials(forAgent: "A")
            let credentialsB = try nats.credentials(forAgent: "B")
            try await withNATSClient(try nodeConfiguration(nats), logger: quietLogger("inats.test.node")) { node in
                try await withNATSClient(try agentConfiguration(nats, agent: "B", credentials: credentialsB),
                                         logger: quietLogger("inats.test.agentB")) { agentB in
                    let agentA = NATSClient(configuration: try agentConfiguration(nats, agent: "A", credentials: credentialsA),
                                            logger: quietLogger("inats.test.agentA"))
                    let eventsA = agentA.events()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try? await agentA.run() }
                        try await agentA.waitUntilConnected()
                        try await answer(agentB, on: AgentSubjects.ping(agent: "B"), with: "OK", in: &group)

                        try await nats.revoke(agentID: "A")

                        // The server drops A's connection, saying why.
                        let revokedError = await firstDisconnection(in: eventsA)
                        #expect(revokedError?.message.contains("Revoked") == true, "\(String(describing: revokedError))")
                        await agentA.close()

                        // A's credentials no longer connect; B and the node are untouched.
                        do {
                            try await withNATSClient(try agentConfiguration(nats, agent: "A", credentials: credentialsA),
                                                     logger: quietLogger("inats.test.agentA")) { _ in }
                            Issue.record("revoked credentials connected")
                        } catch let error as NATSError {
                            #expect(error.code == .authentication, "\(error)")
                        }
                        let pong = try await node.request("", to: AgentSubjects.ping(agent: "B"), timeout: .seconds(10))
                        #expect(pong.bytes == AgentSubjects.pingReply)
                        group.cancelAll()
                    }
                    // Revoking again, or an unknown agent, is a no-op.
                    try await nats.revoke(agentID: "A")
                    try await nats.revoke(agentID: "nobody")
                    // Later revocations keep the earlier ones: B goes too, A stays out.
                    try await nats.revoke(agentID: "B")
                    for credentials in [credentialsA, credentialsB] {
                        await #expect(throws: NATSError.self) {
                            try await withNATSClient(try agentConfiguration(nats, agent: "A", credentials: credentials),
                                                     logger: quietLogger("inats.test.agent")) { _ in }
                        }
                    }
                }
            }
        }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
