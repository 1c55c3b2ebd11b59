#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NATS
import NKeys
import NexAPI
import Synchronization

/// The node's internal NATS: a `nats-server` child on loopback, on a random port, that only the node and
/// its agents use.
///
/// The server runs in operator mode with a MEMORY resolver. The node generates a fresh operator and account
/// at every start and mints a user JWT per agent (``credentials(forAgent:)``), limited to that agent's
/// subjects (``AgentSubjects``), so an agent cannot reach or impersonate another. The server trusts the
/// account key rather than a list of users, so adding an agent needs no server reload (0.x re-rendered
/// its config and reloaded the server for every agent, and listened on every interface).
public final class InternalNATS: Sendable {
    /// How to start the internal NATS.
    public struct Configuration: Sendable {
        /// Where the server's configuration and log (`nats-server.log`) go; `nil` = a fresh private
        /// directory under `$TMPDIR`, removed by ``InternalNATS/stop()``. JetStream stays off: the agent
        /// protocol needs none.
        public var storeDirectory: String?
        /// The `nats-server` binary; `nil` searches ``searchPath`` (then `/usr/sbin`, `/usr/local/bin`, `/usr/bin`).
        public var executable: String?
        /// Directories searched for `nats-server` when ``executable`` is `nil` (usually `$PATH`).
        public var searchPath: [String]
        /// Debug (`-D`) and protocol trace (`-V`) logging, into the log file.
        public var debug: Bool
        public var trace: Bool
        /// How long to wait for the server to accept clients.
        public var readyTimeout: Duration
        /// The largest message payload (`max_payload`); generous, as deploy and log messages pass here.
        public var maxPayload: Int

        public init(storeDirectory: String? = nil, executable: String? = nil,
                    searchPath: [String] = EmbeddedNATSServer.environmentPath(), debug: Bool = false, trace: Bool = false,
                    readyTimeout: Duration = .seconds(30), maxPayload: Int = 8 * 1024 * 1024) {
            self.storeDirectory = storeDirectory
            self.executable = executable
            self.searchPath = searchPath
            self.debug = debug
            self.trace = trace
            self.readyTimeout = readyTimeout
            self.maxPayload = maxPayload
        }
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    public let url: String
    /// Where the server writes its log.
    public var logPath: String { server.logPath }

    let server: EmbeddedNATSServer
    let trustChain: OperatorTrustChain
    let logger: Logger
    private let nodeCredentials: NATSCredentials
    /// The directory we created (and remove at stop) when none was configured.
    private let temporaryDirectory: String?
    /// Every user key minted per agent ID, so ``revoke(agentID:)`` can name them all.
    let agentUsers = Mutex<[String: [String]]>([:])
    let revocations = Revocations()

    private init(url: String, server: EmbeddedNATSServer, trustChain: OperatorTrustChain, nodeCredentials: NATSCredentials,
                 temporaryDirectory: String?, logger: Logger) {
        self.url = url
        self.server = server
        self.trustChain = trustChain
        self.nodeCredentials = nodeCredentials
        self.temporaryDirectory = temporaryDirectory
        self.logger = logger
    }

    /// Generates the trust chain and the node's user, starts the server and returns once it accepts clients.
    ///
    /// - Throws: ``NexNodeError`` with code ``NexNodeError/Code/internalNATS`` when the keys or the directory
    ///   cannot be made, or ``NexNodeError/Code/embeddedServer`` when the server does not start.
    public static func start(_ configuration: Configuration, logger: Logger) async throws(NexNodeError) -> InternalNATS {
        let trustChain: OperatorTrustChain
        let nodeCredentials: NATSCredentials
        do {
            trustChain = try OperatorTrustChain.generate(operatorName: "nex-node", accountName: "nex-internal")
            // The node is the trusted side: no permission limits.
            nodeCredentials = try trustChain.mintUser(name: "nex-node")
        } catch {
            throw NexNodeError(code: .internalNATS, message: "cannot create the internal NATS trust chain: \(error)")
        }

        let temporaryDirectory: String?
        let directory: String
        if let configured = configuration.storeDirectory {
            temporaryDirectory = nil
            directory = configured
        } else {
            directory = try makeTemporaryDirectory()
            temporaryDirectory = directory
        }

        let serverConfiguration = EmbeddedNATSServer.Configuration(
            executable: configuration.executable, searchPath: configuration.searchPath,
            // Loopback only: agents run on this host (0.x listened on 0.0.0.0).
            host: "127.0.0.1", port: nil, storeDirectory: directory, readyTimeout: configuration.readyTimeout,
            jetStream: false, configurationText: trustChain.serverConfig + "max_payload: \(configuration.maxPayload)\n",
            debug: configuration.debug, trace: configuration.trace)
        let server: EmbeddedNATSServer
        do {
            server = try await EmbeddedNATSServer.start(serverConfiguration, logger: logger)
        } catch {
            if let temporaryDirectory { removeDirectory(temporaryDirectory) }
            throw error
        }
        logger.debug("Internal NATS started", metadata: ["nats.url": "\(server.url)", "log": "\(server.logPath)"])
        return InternalNATS(url: server.url, server: server, trustChain: trustChain, nodeCredentials: nodeCredentials,
                            temporaryDirectory: temporaryDirectory, logger: logger)
    }

    /// The node's own user on the internal NATS: it may publish and subscribe to anything.
    public var nodeAuthentication: NATSClient.Authentication {
        .jwt(nodeCredentials.jwt, seed: nodeCredentials.seed)
    }

    /// Mints a user for agent `agentID` (a new key each call) that may only:
    /// publish under `hostint.{id}.>`, subscribe under `agentint.{id}.>` and its inbox prefix
    /// ``AgentSubjects/inboxPrefix(agent:)``, and send one reply to each request it receives.
    ///
    /// - Throws: ``NexNodeError`` with code ``NexNodeError/Code/invalidAgentID`` when `agentID` is not a single
    ///   subject token of letters, digits, `-` and `_` (a `.` or wildcard would widen its permissions).
    public func credentials(forAgent agentID: String) throws(NexNodeError) -> AgentCredentials {
        try Self.validate(agentID: agentID)
        let permissions = JWTPermissions(
            allowPublish: AgentSubjects.agentPublishPermissions(agent: agentID),
            allowSubscribe: AgentSubjects.agentSubscribePermissions(agent: agentID),
            // Replies to the node's requests go to the node's `_INBOX…` subjects, outside `pub`; one each.
            // A TTL of 0 takes the server's default (2 minutes).
            response: JWTResponsePermission(maxMessages: 1, ttlNanoseconds: 0))
        let user: NATSCredentials
        do {
            user = try trustChain.mintUser(name: "agent-\(agentID)", permissions: permissions)
        } catch {
            throw NexNodeError(code: .internalNATS, message: "cannot mint credentials for agent \(agentID): \(error)")
        }
        let publicKey: String
        do {
            publicKey = try user.keyPair().publicKey
        } catch {
            throw NexNodeError(code: .internalNATS, message: "minted an unusable seed for agent \(agentID): \(error)")
        }
        agentUsers.withLock { $0[agentID, default: []].append(publicKey) }
        logger.debug("Minted internal NATS credentials", metadata: ["nex.agent.id": "\(agentID)"])
        return AgentCredentials(jwt: user.jwt, seed: user.seed)
    }

    /// Stops the server (SIGTERM, then SIGKILL after `timeout`) and removes its temporary directory.
    /// Calling it again does nothing.
    public func stop(timeout: Duration = .seconds(10)) async {
        await server.stop(timeout: timeout)
        if let temporaryDirectory { Self.removeDirectory(temporaryDirectory) }
    }

    /// Whether the server process is still running.
    public var isRunning: Bool { server.isRunning }

    // MARK: - Helpers

    static func validate(agentID: String) throws(NexNodeError) {
        let valid = !agentID.isEmpty && agentID.utf8.count <= 128 && agentID.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard valid else {
            throw NexNodeError(code: .invalidAgentID, message: "agent ID \"\(agentID)\" must be 1-128 letters, digits, '-' or '_'")
        }
    }

    private static func makeTemporaryDirectory() throws(NexNodeError) -> String {
        var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        if base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/nex-internal-nats-XXXXXX").utf8CString)
        // mkdtemp makes it 0700: the directory holds the server's config and log.
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw NexNodeError(code: .internalNATS, message: "cannot create a directory under \(base): \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// An agent's user on the internal NATS: its JWT and the seed that signs the server's nonce
/// (`NEX_NODE_NATS_USER_JWT` and `NEX_NODE_NATS_NKEY_SEED` in ``AgentEnvironment``).
public struct AgentCredentials: Sendable, Hashable {
    public var jwt: String
    public var seed: String

    public init(jwt: String, seed: String) {
        self.jwt = jwt
        self.seed = seed
    }

    /// The client authentication for these credentials.
    public var authentication: NATSClient.Authentication { .jwt(jwt, seed: seed) }
}

extension NexNodeError.Code {
    /// The internal NATS could not be set up, or an agent's credentials could not be minted or revoked.
    public static let internalNATS = NexNodeError.Code("internalNATS")
    /// An agent ID is not a single, plain subject token.
    public static let invalidAgentID = NexNodeError.Code("invalidAgentID")
}
