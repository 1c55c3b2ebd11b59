import NativeRuntime
import Foundation
import Logging
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexAgent
import ServiceLifecycle
import Synchronization
import Testing

/// Static C services for the agent tests, compiled once per test run (static, so they run with an
/// empty environment and, in a sandbox, without shared libraries).
enum AgentFixture {
    static let source = #"""
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>

    extern char **environ;

    int main(int argc, char **argv) {
        if (argc < 2) return 64;
        const char *mode = argv[1];
        if (strcmp(mode, "echo") == 0) {
            for (char **e = environ; *e; e++) { printf("env %s\n", *e); }
            for (int i = 2; i < argc; i++) { printf("arg %s\n", argv[i]); }
            char cwd[4096];
            if (getcwd(cwd, sizeof cwd)) printf("cwd %s\n", cwd);
            fflush(stdout);
            printf("out 1\n"); fflush(stdout);
            fprintf(stderr, "err 1\n"); fflush(stderr);
            printf("out 2\n"); fflush(stdout);
            fprintf(stderr, "err 2\n"); fflush(stderr);
            printf("out 3\n"); fflush(stdout);
            printf("ready\n"); fflush(stdout);
            for (;;) pause();
        }
        if (strcmp(mode, "exit") == 0) {
            printf("exiting with %s\n", argv[2]); fflush(stdout);
            return atoi(argv[2]);
        }
        if (strcmp(mode, "stubborn") == 0) {
            signal(SIGTERM, SIG_IGN);
            pid_t child = fork();
            if (child == 0) {
                printf("grandchild %d\n", (int)getpid()); fflush(stdout);
                for (;;) pause();
            }
            printf("leader %d\n", (int)getpid()); fflush(stdout);
            for (;;) pause();
        }
        if (strcmp(mode, "waitfile") == 0) {
            printf("waiting for %s\n", argv[2]); fflush(stdout);
            while (access(argv[2], F_OK) != 0) usleep(20000);
            return atoi(argv[3]);
        }
        return 65;
    }
    """#

    private static let directory: URL = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nex-agent-fixture-\(getpid())-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try! source.write(to: directory.appendingPathComponent("service.c"), atomically: true, encoding: .utf8)
        return directory
    }()

    private static func compile(_ name: String, static isStatic: Bool) -> String {
        let binary = directory.appendingPathComponent(name).path
        let compiler = try! Program.run("/usr/bin/gcc", (isStatic ? ["-static"] : [])
            + ["-O1", "-o", binary, directory.appendingPathComponent("service.c").path])
        precondition(compiler.succeeded, "gcc failed to build the agent test fixture: \(compiler.standardError)")
        return binary
    }

    /// The static service.
    static let staticPath = compile("service-static", static: true)
    /// The same service, dynamically linked (needs the host's loader).
    static let dynamicPath = compile("service-dynamic", static: false)
}

/// Whether `pid` exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != nil && state != "Z" && state != "X"
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` until it holds; the deadline is generous because the machine is loaded.
func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The test's stand-in for the node: a NATS server in operator mode, a connection with full
/// permissions, and everything the agent publishes under `hostint.{id}.>`, in arrival order.
final class NodeSide: Sendable {
    let server: NATSServer
    let mode: OperatorMode
    let client: NATSClient
    let agentID: String
    let directory: URL
    private let received = Mutex<[NATSMessage]>([])

    init(server: NATSServer, mode: OperatorMode, client: NATSClient, agentID: String, directory: URL) {
        self.server = server
        self.mode = mode
        self.client = client
        self.agentID = agentID
        self.directory = directory
    }

    /// An environment for an agent `id` with credentials that reach only its own subjects.
    func environment(agentID id: String? = nil, sandboxed: Bool = false, handshakeTimeoutMilliseconds: Int = 30_000) throws -> AgentEnvironment {
        let id = id ?? agentID
        // Minted the way the node mints them: own subjects only, plus replies to the node's requests.
        let user = KeyPair.generate(.user)
        var payload = UserPayload()
        payload.permissions = JWTPermissions(
            publish: JWTPermission(allow: AgentSubjects.agentPublishPermissions(agent: id)),
            subscribe: JWTPermission(allow: AgentSubjects.agentSubscribePermissions(agent: id)),
            response: JWTResponsePermission(maxMessages: AgentSubjects.agentResponsesPerRequest, ttlNanoseconds: 0))
        let jwt = try JWT.encode(claims: UserClaims(subject: user.publicKey, name: id, nats: payload), signer: mode.accountKey)
        return AgentEnvironment(agentID: id, natsURL: server.url, userJWT: jwt, userSeed: user.seed,
                                directory: directory.path, sandboxed: sandboxed, handshakeTimeoutMilliseconds: handshakeTimeoutMilliseconds)
    }

    /// Answers handshakes and records every message until the subscription ends.
    func collect(_ subscription: NATSSubscription) async {
        do {
            for try await message in subscription {
                if message.subject == AgentSubjects.handshake(agent: agentID), let reply = message.replyTo {
                    try await client.publish(try NexJSON.encode(AgentHandshakeReply(accepted: true)), to: reply)
                }
                received.withLock { $0.append(message) }
            }
        } catch {}
    }

    var messages: [NATSMessage] { received.withLock { $0 } }

    var handshakes: [AgentHandshake] {
        messages.filter { $0.subject == AgentSubjects.handshake(agent: agentID) }
            .compactMap { try? NexJSON.decode(AgentHandshake.self, from: $0.bytes) }
    }

    /// Logs of `workload`, in order.
    func logs(_ workload: String) -> [AgentLogEntry] {
        messages.filter { $0.subject == AgentSubjects.logs(agent: agentID) }
            .compactMap { try? NexJSON.decode(AgentLogEntry.self, from: $0.bytes) }
            .filter { $0.workloadID == workload }
    }

    func events(_ type: NexEventType, _ workload: String) -> [WorkloadStatusEvent] {
        messages.filter { $0.subject == AgentSubjects.event(agent: agentID, type: type) }
            .compactMap { try? NexJSON.decode(WorkloadStatusEvent.self, from: $0.bytes) }
            .filter { $0.workloadID == workload }
    }

    func processStarts(_ workload: String) -> [AgentProcessStarted] {
        messages.filter { $0.subject == AgentSubjects.process(agent: agentID) }
            .compactMap { try? NexJSON.decode(AgentProcessStarted.self, from: $0.bytes) }
            .filter { $0.workloadID == workload }
    }

    /// Position of the first message satisfying `predicate` in arrival order.
    func index(where predicate: (NATSMessage) -> Bool) -> Int? {
        messages.firstIndex(where: predicate)
    }

    // MARK: - Requests to the agent

    func deploy(_ request: AgentDeployRequest) async throws -> AgentDeployReply {
        try await deploy(raw: try NexJSON.encode(request))
    }

    func deploy(raw bytes: [UInt8]) async throws -> AgentDeployReply {
        let reply = try await client.request(bytes, to: AgentSubjects.deploy(agent: agentID), timeout: .seconds(30))
        return try NexJSON.decode(AgentDeployReply.self, from: reply.bytes)
    }

    func undeploy(_ workloadID: String) async throws -> AgentUndeployReply {
        try await undeploy(raw: try NexJSON.encode(AgentUndeployRequest(workloadID: workloadID)))
    }

    func undeploy(raw bytes: [UInt8]) async throws -> AgentUndeployReply {
        let reply = try await client.request(bytes, to: AgentSubjects.undeploy(agent: agentID), timeout: .seconds(60))
        return try NexJSON.decode(AgentUndeployReply.self, from: reply.bytes)
    }

    func ping(agentID id: String? = nil) async throws -> String {
        try await client.request([], to: AgentSubjects.ping(agent: id ?? agentID), timeout: .seconds(20)).string
    }

    /// Lame duck as a request, so the test knows the agent has taken it in.
    func lameDuck() async throws {
        _ = try await client.request([], to: AgentSubjects.lameDuck(agent: agentID), timeout: .seconds(20))
    }

    /// Copies `binary` into the agent directory as `name`.
    func install(_ binary: String, as name: String) throws {
        try FileManager.default.copyItem(atPath: binary, toPath: directory.appendingPathComponent(name).path)
    }

    /// A deploy request for an artifact already in the agent directory.
    func request(_ workloadID: String, artifact: String, argv: [String], environment: [String: String] = [:],
                 essential: Bool = false, restartPolicy: AgentRestartPolicy? = nil,
                 type: WorkloadType = .native) -> AgentDeployRequest {
        AgentDeployRequest(workloadID: workloadID, workloadName: "svc-\(workloadID)", namespace: "default", workloadType: type,
                           artifact: artifact, hash: "0123abcd", totalBytes: 1000, argv: argv, environment: environment,
                           essential: essential, restartPolicy: restartPolicy)
    }
}

func testLogger() -> Logger {
    var logger = Logger(label: "nex-agent-test")
    logger.logLevel = .notice
    return logger
}

/// Runs `body` with a node side on a fresh operator-mode server and an empty agent directory.
func withNodeSide<T: Sendable>(_ body: (NodeSide) async throws -> T) async throws -> T {
    let mode = try OperatorMode.generate()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nex-agent-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await withNATSServer(.init(auth: .config(mode.serverConfig))) { server in
        let credentials = try NATSCredentials(parsing: mode.userCredentials)
        var configuration = try NATSClient.Configuration(url: server.url)
        configuration.authentication = .jwt(credentials.jwt, seed: credentials.seed)
        return try await withNATSClient(configuration, logger: testLogger()) { client in
            let node = NodeSide(server: server, mode: mode, client: client, agentID: "agent\(UInt32.random(in: 1...UInt32.max))",
                                directory: directory)
            let subscription = try await client.subscribe(to: "hostint.\(node.agentID).>")
            try await client.flush()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await node.collect(subscription) }
                defer { group.cancelAll() }
                let result: T
                do {
                    result = try await body(node)
                } catch {
                    try? await subscription.unsubscribe()
                    throw error
                }
                try? await subscription.unsubscribe()
                return result
            }
        }
    }
}

/// Runs an in-process agent (and its own scoped NATS connection) in a `ServiceGroup` for `body`, after
/// its handshake; shuts it down gracefully afterwards.
func withAgent(sandboxed: Bool = false, stopGracePeriod: Duration = .seconds(1), _ body: (NodeSide) async throws -> Void) async throws {
    try await withNodeSide { node in
        let environment = try node.environment(sandboxed: sandboxed)
        let client = NATSClient(configuration: try NexAgent.clientConfiguration(for: environment), logger: testLogger())
        let agent = NexAgent(environment: environment, client: client,
                             options: .init(stopGracePeriod: stopGracePeriod), logger: testLogger())
        let group = ServiceGroup(configuration: .init(services: [.init(service: client), .init(service: agent)], logger: testLogger()))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await waitUntil("the handshake") { !node.handshakes.isEmpty }
                try await body(node)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
