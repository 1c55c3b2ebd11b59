import Foundation
import Logging
import NATS
import NativeRuntime
import NexAPI
import NexSandbox

/// Starts `nex-agent` processes: a private directory each (0700; artifacts arrive there), credentials
/// that reach only the agent's own internal-NATS subjects, and an environment that says where the
/// node is (``AgentEnvironment``) and nothing else of the node's. With a ``Sandbox`` (the default mode),
/// every agent starts inside one, and ``release(_:)`` tears it down once the agent is gone.
struct AgentLauncher: Sendable {
    /// Credentials on the internal NATS for one agent ID.
    typealias Credentials = @Sendable (_ agentID: String) throws -> (jwt: String, seed: String)
    /// Withdraws an agent's credentials once it is gone.
    typealias Revocation = @Sendable (_ agentID: String) async -> Void

    var executable: String
    var natsURL: String
    /// Agent directories are created under here.
    var directory: String
    var handshakeTimeout: Duration
    /// How long an agent gets to stop its workloads before it is killed.
    var stopGracePeriod: Duration
    var logLevel: Logger.Level
    var credentials: Credentials
    var revoke: Revocation
    /// `nil`: no sandbox (`no_sandbox: true`).
    var sandbox: (any Sandbox)? = nil
    var sandboxLimits = SandboxLimits(memoryMiB: 256, vcpuCount: 1)
    var allowedDestinations: [SandboxDestination] = []
    /// Tells a sandboxed agent that dynamically linked native services may run (the host's libraries are mounted).
    var allowDynamicServices = false

    struct Launched: Sendable {
        var id: String
        var process: NativeProcess
        /// On the host.
        var directory: String
        /// The agent's sandbox, if it runs in one. Pids the agent reports are then its namespace's, not the host's.
        var sandbox: PreparedSandbox? = nil
    }

    func launch(agentID: String, logger: Logger) throws -> Launched {
        let agentDirectory = (directory as NSString).appendingPathComponent(agentID)
        do {
            try FileManager.default.createDirectory(atPath: agentDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw NexNodeError(code: .agent, message: "cannot create the agent directory \(agentDirectory): \(error)")
        }
        let (jwt, seed): (String, String)
        do {
            (jwt, seed) = try credentials(agentID)
        } catch {
            try? FileManager.default.removeItem(atPath: agentDirectory)
            throw NexNodeError(code: .agent, message: "cannot mint credentials for agent \(agentID): \(error)")
        }
        let environment = AgentEnvironment(
            agentID: agentID, natsURL: natsURL, userJWT: jwt, userSeed: seed,
            directory: sandbox == nil ? agentDirectory : RootFileSystem.agentDirectory, sandboxed: sandbox != nil,
            handshakeTimeoutMilliseconds: Int(handshakeTimeout.components.seconds * 1000
                + handshakeTimeout.components.attoseconds / 1_000_000_000_000_000),
            allowsDynamicServices: sandbox != nil && allowDynamicServices)
        var variables = environment.variables
        variables["NEX_AGENT_LOG_LEVEL"] = logLevel.rawValue
        var configuration = NativeProcessConfiguration(
            executable: executable, arguments: [], environment: variables, workingDirectory: agentDirectory,
            stopGracePeriod: stopGracePeriod)
        var prepared: PreparedSandbox?
        if let sandbox {
            do {
                let sandboxed = try sandbox.prepare(SandboxRequest(
                    agentID: agentID, executable: executable, environment: variables, directory: agentDirectory,
                    limits: sandboxLimits, allowedDestinations: allowedDestinations))
                configuration.executable = sandboxed.launch.executable
                configuration.arguments = sandboxed.launch.arguments
                configuration.environment = sandboxed.launch.environment
                configuration.workingDirectory = sandboxed.launch.workingDirectory
                prepared = sandboxed
            } catch {
                try? FileManager.default.removeItem(atPath: agentDirectory)
                throw NexNodeError(code: .agent, message: "cannot prepare the sandbox for agent \(agentID): \(error)")
            }
        }
        do {
            let process = try NativeProcess.start(configuration, logger: logger)
            return Launched(id: agentID, process: process, directory: agentDirectory, sandbox: prepared)
        } catch {
            if let prepared { sandbox?.teardown(prepared) }
            try? FileManager.default.removeItem(atPath: agentDirectory)
            throw NexNodeError(code: .agent, message: "cannot start \(executable): \(error)")
        }
    }

    /// Makes a file the node wrote into the agent's directory usable by the (sandboxed) agent.
    func handOver(_ path: String, to agent: Launched) throws {
        guard let prepared = agent.sandbox, let sandbox else { return }
        try sandbox.handOver(file: path, to: prepared)
    }

    /// What the agent's sandbox limits did so far (an OOM kill, …).
    func limitEvents(_ agent: Launched) -> [SandboxLimitEvent] {
        guard let prepared = agent.sandbox, let sandbox else { return [] }
        return sandbox.limitEvents(prepared)
    }

    /// Tears down the agent's sandbox once its process is gone; its limit events over its whole life.
    @discardableResult
    func release(_ agent: Launched) -> [SandboxLimitEvent] {
        guard let prepared = agent.sandbox, let sandbox else { return [] }
        return sandbox.teardown(prepared)
    }

    /// The configured root directory; `nil` when none is configured or the path is an ext4 image (0.x's
    /// Firecracker default `<default_resource_dir>/rootfs.ext4`): the sandbox mounts directories, and
    /// the node then builds its own.
    static func rootfsDirectory(_ path: String) -> String? {
        path.isEmpty || path.hasSuffix(".ext4") ? nil : path
    }

    /// The sandbox for a node: `rootfs_filepath` when set, else a root built from `agentExecutable` and
    /// cached under the work directory; limits from `machine_template`; the network reaches the
    /// internal NATS and the workload NATS servers (control connection, host services) plus the
    /// configured extra destinations.
    static func makeSandbox(configuration: NodeConfiguration, options: NexNode.SandboxOptions, agentExecutable: String,
                            workDirectory: String, internalURL: String, controlServers: [ServerURL])
        throws -> (sandbox: any Sandbox, limits: SandboxLimits, destinations: [SandboxDestination]) {
        let sandboxDirectory = (workDirectory as NSString).appendingPathComponent("sandbox")
        let rootFileSystem: RootFileSystem
        do {
            rootFileSystem = try rootfsDirectory(configuration.rootfsFilePath).map(RootFileSystem.init(path:))
                ?? RootFileSystem.cached(for: agentExecutable, in: sandboxDirectory)
        } catch {
            throw NexNodeError(code: .agent, message: "cannot build the sandbox rootfs: \(error)")
        }
        let sandbox: BubblewrapSandbox
        do {
            sandbox = try BubblewrapSandbox(.init(rootFileSystem: rootFileSystem, stateDirectory: sandboxDirectory,
                                                  hostLibraries: options.allowDynamicServices))
        } catch {
            throw NexNodeError(code: .agent, message: "the sandbox is not available: \(error) (run `nex node preflight`)")
        }
        var destinations: [SandboxDestination] = []
        var urls = [internalURL]
        if !configuration.hostServices.nats.natsURL.isEmpty { urls.append(configuration.hostServices.nats.natsURL) }
        for url in urls {
            for server in (try? ServerURL.parseList(url)) ?? [] {
                destinations.append(SandboxDestination(host: server.host, port: UInt16(clamping: server.port)))
            }
        }
        for server in controlServers { destinations.append(SandboxDestination(host: server.host, port: UInt16(clamping: server.port))) }
        destinations += options.allowedDestinations
        let limits = SandboxLimits(memoryMiB: configuration.machineTemplate.memSizeMiB, vcpuCount: configuration.machineTemplate.vcpuCount,
                                   pids: options.pidsLimit)
        return (sandbox, limits, destinations)
    }

    /// Where `nex-agent` is: beside the running executable (how it is installed and built), else on
    /// `PATH`; `nil` when neither has it.
    static func findExecutable(path: [String] = EmbeddedNATSServer.environmentPath()) -> String? {
        let name = "nex-agent"
        if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = ((own as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return path.lazy.map { ($0 as NSString).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension NexNode {
    /// How sandboxed agents are set up, beyond `machine_template` and `rootfs_filepath`.
    public struct SandboxOptions: Sendable, Hashable {
        /// Processes and threads per sandbox (the agent's included).
        public var pidsLimit: Int
        /// TCP destinations sandboxes may reach besides the internal NATS and the workload NATS servers.
        public var allowedDestinations: [SandboxDestination]
        /// Mounts the host's library directories read-only in every sandbox, so dynamically linked native
        /// services can run (0.x allowed only static ones in a sandbox; off by default).
        public var allowDynamicServices: Bool

        public init(pidsLimit: Int = 256, allowedDestinations: [SandboxDestination] = [], allowDynamicServices: Bool = false) {
            self.pidsLimit = pidsLimit
            self.allowedDestinations = allowedDestinations
            self.allowDynamicServices = allowDynamicServices
        }
    }
}

extension NexNode {
    /// One sandbox requirement and whether this host meets it (for `nex node preflight` and `nex node up`).
    public struct SandboxCheck: Sendable, Hashable {
        public var name: String
        public var passed: Bool
        /// What was found, or what is missing and what to do.
        public var detail: String
    }

    /// Whether this host can run sandboxed agents: bubblewrap, setpriv, root, user namespaces, cgroups,
    /// seccomp, Landlock, and the root file system (`rootfs_filepath`, or one the node can build from
    /// `agentExecutable`).
    public static func sandboxChecks(rootfsFilePath: String, agentExecutable: String?) -> [SandboxCheck] {
        SandboxPreflight.run(rootFileSystem: AgentLauncher.rootfsDirectory(rootfsFilePath), agent: agentExecutable).checks
            .map { SandboxCheck(name: $0.name, passed: $0.passed, detail: $0.detail) }
    }

    /// Builds the sandbox root directory for `agentExecutable` into `directory` (`nex rootfs`); returns
    /// the shared libraries it copied.
    public static func buildSandboxRootfs(agentExecutable: String, into directory: String) throws -> [String] {
        let libraries = try RootFileSystem.sharedLibraries(of: agentExecutable)
        try RootFileSystem.build(agent: agentExecutable, into: directory)
        return libraries
    }

    /// The `nex-agent` the node would run: beside the running executable, else on `PATH`.
    public static func defaultAgentExecutable() -> String? { AgentLauncher.findExecutable() }
}
