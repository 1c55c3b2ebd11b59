/// Isolation for agents: a ``Sandbox`` turns "start this agent" into a launch (what to execute, with
/// which arguments and environment) plus the setup and teardown around it, and reports when the
/// sandbox's limits ended something.
///
/// ``BubblewrapSandbox`` is the backend on Linux hosts (namespaces, a minimal read-only root, seccomp,
/// cgroups, Landlock network rules); a microVM backend can implement the same protocol.
public protocol Sandbox: Sendable {
    /// Sets up the isolation for one agent (its cgroup, its directory's owner, …) and says how to start it.
    /// The caller starts ``PreparedSandbox/launch`` as a plain child process and, whatever happens,
    /// calls ``teardown(_:)`` once that process is gone.
    func prepare(_ request: SandboxRequest) throws(SandboxError) -> PreparedSandbox

    /// Makes a file that the node put into the agent's directory (an artifact) usable from inside.
    func handOver(file path: String, to sandbox: PreparedSandbox) throws(SandboxError)

    /// What the sandbox's limits did so far (an OOM kill, …); empty when nothing happened.
    func limitEvents(_ sandbox: PreparedSandbox) -> [SandboxLimitEvent]

    /// Removes what ``prepare(_:)`` set up; kills whatever is left inside. Returns the limit events of the
    /// sandbox's whole life. Calling it twice is harmless.
    @discardableResult
    func teardown(_ sandbox: PreparedSandbox) -> [SandboxLimitEvent]
}

/// What to isolate: one agent.
public struct SandboxRequest: Sendable, Hashable {
    /// The agent ID (names the cgroup); letters, digits, `-` and `_`.
    public var agentID: String
    /// The `nex-agent` executable on the host (the root file system holds a copy of it).
    public var executable: String
    /// The agent's whole environment.
    public var environment: [String: String]
    /// The agent's directory on the host: bind-mounted at the same path, writable, the only shared directory.
    public var directory: String
    /// Resource limits.
    public var limits: SandboxLimits
    /// Where the sandbox may open TCP connections (everything else is refused).
    public var allowedDestinations: [SandboxDestination]

    public init(agentID: String, executable: String, environment: [String: String], directory: String,
                limits: SandboxLimits, allowedDestinations: [SandboxDestination]) {
        self.agentID = agentID
        self.executable = executable
        self.environment = environment
        self.directory = directory
        self.limits = limits
        self.allowedDestinations = allowedDestinations
    }
}

/// Resource limits of one sandbox (the node's `machine_template` plus a pids limit).
public struct SandboxLimits: Sendable, Hashable {
    /// `memsize_mib`: memory (and swap) of everything in the sandbox; exceeding it means an OOM kill.
    public var memoryMiB: Int
    /// `vcpu_count`: CPU time per period, in whole CPUs.
    public var vcpuCount: Int
    /// Processes and threads in the sandbox, the agent's included.
    public var pids: Int

    public init(memoryMiB: Int, vcpuCount: Int, pids: Int = 256) {
        self.memoryMiB = memoryMiB
        self.vcpuCount = vcpuCount
        self.pids = pids
    }
}

/// A TCP destination a sandbox may connect to.
public struct SandboxDestination: Sendable, Hashable, CustomStringConvertible {
    /// The host as configured (informational for backends that can only filter by port; see docs/sandbox.md).
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// How to start the sandboxed agent: a plain child process (for `NativeProcess`).
public struct SandboxLaunch: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(executable: String, arguments: [String], environment: [String: String], workingDirectory: String?) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// One agent's prepared sandbox: its launch and what ``Sandbox/teardown(_:)`` needs.
public struct PreparedSandbox: Sendable, Hashable {
    public var agentID: String
    public var launch: SandboxLaunch
    /// The host user the sandbox runs as (files handed over belong to it).
    public var hostUID: UInt32
    /// The cgroup directories made for this sandbox, one per controller hierarchy.
    public var cgroups: CgroupSet?
    public var limits: SandboxLimits

    public init(agentID: String, launch: SandboxLaunch, hostUID: UInt32, cgroups: CgroupSet?, limits: SandboxLimits) {
        self.agentID = agentID
        self.launch = launch
        self.hostUID = hostUID
        self.cgroups = cgroups
        self.limits = limits
    }
}

/// Something a sandbox limit did.
public struct SandboxLimitEvent: Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// The kernel's OOM killer killed a process in the sandbox (memory limit reached).
        public static let outOfMemoryKill = Kind("oomKill")
    }

    public var kind: Kind
    /// How many times it happened.
    public var count: Int
    /// Human-readable, suitable for a workload event.
    public var message: String

    public init(kind: Kind, count: Int, message: String) {
        self.kind = kind
        self.count = count
        self.message = message
    }

    public var description: String { message }
}

/// A sandbox could not be set up or used.
public struct SandboxError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// A tool the backend needs (bwrap, setpriv, ldd) is missing.
        public static let missingTool = Code("missingTool")
        /// The root file system could not be built or is unusable.
        public static let rootFileSystem = Code("rootFileSystem")
        /// A cgroup could not be created, limited or removed.
        public static let cgroup = Code("cgroup")
        /// The seccomp program could not be made.
        public static let seccomp = Code("seccomp")
        /// A file or directory operation failed.
        public static let fileSystem = Code("fileSystem")
        /// The request is not valid (an agent ID that is not a plain token, …).
        public static let invalidRequest = Code("invalidRequest")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
