import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Linux sandbox: bubblewrap namespaces, a minimal read-only root, seccomp, cgroups, and Landlock
/// network rules that the agent applies to itself (see docs/sandbox.md).
///
/// Each agent starts as `/bin/sh -c <wrapper> …`: the wrapper (still the node's root) writes its own pid
/// into the sandbox's cgroups, then `exec`s `setpriv` (an unprivileged host user of its own) which
/// `exec`s `bwrap`, which `exec`s the agent. The pid never changes, so the agent and everything it forks
/// are in the cgroup before any of its code runs: no window in which a fork escapes the limits.
public final class BubblewrapSandbox: Sandbox {
    public struct Configuration: Sendable, Hashable {
        /// The root directory (``RootFileSystem``).
        public var rootFileSystem: RootFileSystem
        /// Where the sandbox keeps its own files (the seccomp program).
        public var stateDirectory: String
        /// Cgroups; `nil` = discover (``CgroupHierarchy/discover(mountInfo:ownCgroups:)``).
        public var cgroups: CgroupHierarchy?
        public var bwrap: String
        public var setpriv: String
        public var prlimit: String
        public var shell: String
        /// Host users for sandboxes: `hostUIDBase ..< hostUIDBase + hostUIDCount`, one per live agent.
        public var hostUIDBase: UInt32
        public var hostUIDCount: UInt32
        /// The user (and group) the agent is inside.
        public var sandboxUID: UInt32
        /// Mounts the host's library directories read-only, for dynamically linked native services
        /// (the node's opt-in; off = only the agent's own libraries are there).
        public var hostLibraries: Bool

        public init(rootFileSystem: RootFileSystem, stateDirectory: String, cgroups: CgroupHierarchy? = nil,
                    bwrap: String = "/usr/bin/bwrap", setpriv: String = "/usr/bin/setpriv", prlimit: String = "/usr/bin/prlimit",
                    shell: String = "/bin/sh", hostUIDBase: UInt32 = 200_000, hostUIDCount: UInt32 = 50_000,
                    sandboxUID: UInt32 = 1000, hostLibraries: Bool = false) {
            self.rootFileSystem = rootFileSystem
            self.stateDirectory = stateDirectory
            self.cgroups = cgroups
            self.bwrap = bwrap
            self.setpriv = setpriv
            self.prlimit = prlimit
            self.shell = shell
            self.hostUIDBase = hostUIDBase
            self.hostUIDCount = hostUIDCount
            self.sandboxUID = sandboxUID
            self.hostLibraries = hostLibraries
        }
    }

    /// The environment variable that carries the allowed TCP ports to the agent, which restricts itself
    /// with Landlock before it does anything else (`NexAgent.SandboxSelfRestriction`).
    public static let allowedPortsVariable = "NEX_SANDBOX_TCP_PORTS"

    public let configuration: Configuration
    private let cgroups: CgroupHierarchy
    private let seccompPath: String
    private let nextUID = Mutex<UInt32>(0)

    /// Checks the tools, finds the cgroups and writes the seccomp program.
    public init(_ configuration: Configuration) throws(SandboxError) {
        for tool in [configuration.bwrap, configuration.setpriv, configuration.shell] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw SandboxError(code: .missingTool, message: "\(tool) is missing")
        }
        let problems = configuration.rootFileSystem.problems()
        guard problems.isEmpty else { throw SandboxError(code: .rootFileSystem, message: problems.joined(separator: "; ")) }
        guard let cgroups = configuration.cgroups ?? CgroupHierarchy.discover() else {
            throw SandboxError(code: .cgroup, message: "no cgroup memory and cpu controllers are mounted")
        }
        if !cgroups.hasPidsController, !FileManager.default.isExecutableFile(atPath: configuration.prlimit) {
            throw SandboxError(code: .missingTool, message: "no pids cgroup controller, and \(configuration.prlimit) for RLIMIT_NPROC is missing")
        }
        self.configuration = configuration
        self.cgroups = cgroups
        seccompPath = (configuration.stateDirectory as NSString).appendingPathComponent("seccomp.bpf")
        do {
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try Data(SeccompFilter().bytes).write(to: URL(fileURLWithPath: seccompPath))
        } catch {
            throw SandboxError(code: .seccomp, message: "cannot write the seccomp program to \(seccompPath): \(error)")
        }
        // The sandbox's unprivileged user must reach the root directory to mount it.
        Self.makeTraversable(configuration.rootFileSystem.path)
    }

    public func prepare(_ request: SandboxRequest) throws(SandboxError) -> PreparedSandbox {
        guard !request.agentID.isEmpty, request.agentID.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw SandboxError(code: .invalidRequest, message: "agent ID \"\(request.agentID)\" is not a plain token")
        }
        let uid = nextUID.withLock { next -> UInt32 in
            defer { next = (next + 1) % max(configuration.hostUIDCount, 1) }
            return configuration.hostUIDBase + next
        }
        // The agent's directory belongs to the agent's host user: only it (and root) can enter.
        guard chown(request.directory, uid, uid) == 0 else {
            throw SandboxError(code: .fileSystem, message: "cannot hand \(request.directory) to uid \(uid): \(String(cString: strerror(errno)))")
        }
        Self.makeTraversable((request.directory as NSString).deletingLastPathComponent)
        let cgroupSet = try cgroups.create(name: "nex-\(request.agentID)", limits: request.limits)

        var environment = request.environment
        environment[Self.allowedPortsVariable] = Array(Set(request.allowedDestinations.map(\.port))).sorted().map(String.init).joined(separator: ",")

        var script = "set -e\n"
        for file in cgroupSet.procsFiles { script += "echo $$ > \(Self.quoted(file))\n" }
        var command: [String] = []
        if !cgroups.hasPidsController {
            // No pids controller: the per-user process limit of the sandbox's own host user stands in.
            command += [configuration.prlimit, "--nproc=\(request.limits.pids):\(request.limits.pids)", "--"]
        }
        command += [configuration.setpriv, "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all", "--",
                    configuration.bwrap] + bwrapArguments(request)
        script += "exec \(command.map(Self.quoted).joined(separator: " ")) 3< \(Self.quoted(seccompPath))\n"
        let launch = SandboxLaunch(executable: configuration.shell, arguments: ["-c", script, "nex-sandbox"], environment: environment,
                                   workingDirectory: "/")
        return PreparedSandbox(agentID: request.agentID, launch: launch, hostUID: uid, cgroups: cgroupSet, limits: request.limits)
    }

    /// The namespaces, the mounts and the seccomp program, in bubblewrap's terms.
    func bwrapArguments(_ request: SandboxRequest) -> [String] {
        var arguments = [
            "--unshare-user", "--uid", "\(configuration.sandboxUID)", "--gid", "\(configuration.sandboxUID)",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "nex-sandbox",
            "--disable-userns", "--die-with-parent", "--cap-drop", "ALL",
            "--ro-bind", configuration.rootFileSystem.path, "/",
        ]
        if configuration.hostLibraries {
            for directory in ["/usr/lib", "/usr/lib64", "/lib", "/lib64"] where FileManager.default.fileExists(atPath: directory) {
                arguments += ["--ro-bind", directory, directory]
            }
        }
        arguments += [
            // /dev is bwrap's own small tmpfs of device nodes: read-only, so /tmp and /agent stay the only writable places.
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev", "--tmpfs", "/tmp",
            "--bind", request.directory, RootFileSystem.agentDirectory, "--chdir", RootFileSystem.agentDirectory,
            "--seccomp", "3",
            "--", RootFileSystem.agentPath,
        ]
        return arguments
    }

    public func handOver(file path: String, to sandbox: PreparedSandbox) throws(SandboxError) {
        guard chown(path, sandbox.hostUID, sandbox.hostUID) == 0 else {
            throw SandboxError(code: .fileSystem, message: "cannot hand \(path) to uid \(sandbox.hostUID): \(String(cString: strerror(errno)))")
        }
    }

    public func limitEvents(_ sandbox: PreparedSandbox) -> [SandboxLimitEvent] {
        guard let cgroupSet = sandbox.cgroups else { return [] }
        let kills = cgroupSet.oomKills
        guard kills > 0 else { return [] }
        return [SandboxLimitEvent(kind: .outOfMemoryKill, count: kills,
                                  message: "killed for exceeding its memory limit (memsize_mib \(sandbox.limits.memoryMiB))")]
    }

    @discardableResult
    public func teardown(_ sandbox: PreparedSandbox) -> [SandboxLimitEvent] {
        let events = limitEvents(sandbox)
        sandbox.cgroups?.remove()
        return events
    }

    /// Adds search permission for others (never read) to `path` and its ancestors that lack it, so that
    /// the sandbox's unprivileged host user can reach a mount source below a private (0700) directory.
    static func makeTraversable(_ path: String) {
        var current = (path as NSString).standardizingPath
        while current != "/" && !current.isEmpty {
            var info = stat()
            if stat(current, &info) == 0, info.st_mode & S_IXOTH == 0 {
                chmod(current, (info.st_mode & 0o7777) | S_IXOTH)
            }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

