import NativeRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether this host can run ``BubblewrapSandbox``, item by item, with what to do about what is missing.
public struct SandboxPreflight: Sendable {
    /// One check.
    public struct Check: Sendable, Hashable {
        public var name: String
        public var passed: Bool
        /// What was found, or what is missing and how to get it.
        public var detail: String

        public init(name: String, passed: Bool, detail: String) {
            self.name = name
            self.passed = passed
            self.detail = detail
        }
    }

    public var checks: [Check]
    public var passed: Bool { checks.allSatisfy(\.passed) }
    /// The failed checks, one line each.
    public var problems: [String] { checks.filter { !$0.passed }.map { "\($0.name): \($0.detail)" } }

    /// Runs every check. `rootFileSystem`: a configured root (`rootfs_filepath`), or `nil` when the node
    /// builds one from `agent`.
    public static func run(rootFileSystem: String?, agent: String?, bwrap: String = "/usr/bin/bwrap",
                           setpriv: String = "/usr/bin/setpriv") -> SandboxPreflight {
        var checks: [Check] = []
        func tool(_ name: String, _ path: String, _ package: String) {
            let found = FileManager.default.isExecutableFile(atPath: path)
            checks.append(Check(name: name, passed: found, detail: found ? path : "\(path) is missing: apt-get install \(package)"))
        }
        tool("bubblewrap", bwrap, "bubblewrap")
        tool("setpriv", setpriv, "util-linux")
        checks.append(Check(name: "root", passed: geteuid() == 0,
                            detail: geteuid() == 0 ? "running as root" : "the node must run as root to create cgroups and sandbox users"))
        if FileManager.default.isExecutableFile(atPath: bwrap) {
            let works = userNamespacesWork(bwrap: bwrap)
            checks.append(Check(name: "user namespaces", passed: works,
                                detail: works ? "bwrap can create user, pid, ipc and uts namespaces"
                                    : "bwrap --unshare-user failed: enable user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)"))
        }
        if let hierarchy = CgroupHierarchy.discover() {
            let pids = hierarchy.hasPidsController ? "pids controller" : "no pids controller (RLIMIT_NPROC instead)"
            checks.append(Check(name: "cgroups", passed: true, detail: "cgroup \(hierarchy.version.rawValue), memory and cpu, \(pids)"))
        } else {
            checks.append(Check(name: "cgroups", passed: false, detail: "no cgroup v2 and no v1 memory+cpu controllers are mounted under /sys/fs/cgroup"))
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let seccomp = status.contains("Seccomp:")
        checks.append(Check(name: "seccomp", passed: seccomp,
                            detail: seccomp ? "supported by the kernel" : "the kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER)"))
        let abi = landlockABI()
        checks.append(Check(name: "landlock", passed: abi >= 4,
                            detail: abi >= 4 ? "ABI \(abi): TCP connect rules\(abi >= 6 ? ", abstract unix socket scoping" : "")"
                                : abi <= 0 ? "Landlock is not enabled (kernel ≥ 6.7 with lsm=…,landlock needed for the network rules)"
                                : "Landlock ABI \(abi) has no TCP rules (kernel ≥ 6.7 needed)"))
        if let rootFileSystem, !rootFileSystem.isEmpty {
            let problems = RootFileSystem(path: rootFileSystem).problems()
            checks.append(Check(name: "rootfs", passed: problems.isEmpty,
                                detail: problems.isEmpty ? rootFileSystem : problems.joined(separator: "; ") + " (build one with `nex rootfs`)"))
        } else {
            let buildable = agent.map { FileManager.default.isExecutableFile(atPath: $0) } ?? false
            let ldd = FileManager.default.isExecutableFile(atPath: "/usr/bin/ldd")
            checks.append(Check(name: "rootfs", passed: buildable && ldd,
                                detail: !buildable ? "no rootfs_filepath, and no nex-agent to build one from"
                                    : !ldd ? "/usr/bin/ldd is missing (libc-bin): the node cannot build the rootfs"
                                    : "built at start from \(agent!)"))
        }
        return SandboxPreflight(checks: checks)
    }

    /// The Landlock ABI version the kernel offers; 0 or less when Landlock is unavailable.
    public static func landlockABI() -> Int {
        #if os(Linux)
        typealias SyscallFunction = @convention(c) (Int, UnsafeRawPointer?, Int, UInt32) -> Int
        guard let symbol = dlsym(nil, "syscall") else { return 0 }
        let call = unsafeBitCast(symbol, to: SyscallFunction.self)
        let landlockCreateRuleset = 444  // same number on x86_64 and aarch64
        let versionFlag: UInt32 = 1  // LANDLOCK_CREATE_RULESET_VERSION
        return call(landlockCreateRuleset, nil, 0, versionFlag)
        #else
        return 0
        #endif
    }

    private static func userNamespacesWork(bwrap: String) -> Bool {
        let arguments = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--ro-bind", "/", "/", "--", "/bin/true"]
        return (try? Program.run(bwrap, arguments).succeeded) ?? false
    }
}
