import ArgumentParser
import Foundation
import NexAPI
import NexNode

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One requirement of a node configuration and whether this host meets it.
public struct PreflightItem: Sendable, Hashable {
    public var name: String
    public var satisfied: Bool
    /// Where it was found, or what is missing.
    public var detail: String
    /// What to do when it is missing.
    public var remedy: String

    public init(name: String, satisfied: Bool, detail: String, remedy: String = "") {
        self.name = name
        self.satisfied = satisfied
        self.detail = detail
        self.remedy = remedy
    }

    /// `✅ name: detail` or `⛔ name: detail — remedy`.
    public var line: String {
        satisfied ? "✅ \(name): \(detail)" : "⛔ \(name): \(detail)" + (remedy.isEmpty ? "" : " — \(remedy)")
    }
}

/// How preflight looks at the host, as functions so the rules are tested on their own and the command
/// uses the real file system.
public struct HostProbe: Sendable {
    /// The path of an executable named `name` in `directories`, or `nil`.
    public var findExecutable: @Sendable (_ name: String, _ directories: [String]) -> String?
    public var fileExists: @Sendable (String) -> Bool
    public var readFile: @Sendable (String) -> [UInt8]?
    /// Whether the dynamic loader can load the shared library `name`.
    public var canLoadLibrary: @Sendable (String) -> Bool

    public init(findExecutable: @escaping @Sendable (String, [String]) -> String?, fileExists: @escaping @Sendable (String) -> Bool,
                readFile: @escaping @Sendable (String) -> [UInt8]?, canLoadLibrary: @escaping @Sendable (String) -> Bool) {
        self.findExecutable = findExecutable
        self.fileExists = fileExists
        self.readFile = readFile
        self.canLoadLibrary = canLoadLibrary
    }

    /// This machine.
    public static let current = HostProbe(
        findExecutable: { name, directories in
            directories.lazy.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
        },
        fileExists: { access($0, F_OK) == 0 },
        readFile: readWholeFile,
        canLoadLibrary: { name in
            guard let handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL) else { return false }
            dlclose(handle)
            return true
        })
}

/// The checks of `nex node preflight` (spec §9, for this implementation's sandbox instead of Firecracker).
public enum Preflight {
    /// JavaScriptCore sonames, newest first (Debian `libjavascriptcoregtk-4.1-0`, then 4.0).
    public static let javaScriptCoreLibraries = ["libjavascriptcoregtk-4.1.so.0", "libjavascriptcoregtk-4.0.so.18"]

    /// What `configuration` needs from this host.
    /// - Parameters:
    ///   - agentDirectories: where `nex-agent` may live: the directory of `nex` first, then `bin_path` and `PATH`.
    ///   - path: the `PATH` directories.
    public static func check(_ configuration: NodeConfiguration, agentDirectories: [String], path: [String],
                             probe: HostProbe) -> [PreflightItem] {
        var items: [PreflightItem] = []
        func executable(_ name: String, in directories: [String], purpose: String, remedy: String) {
            if let found = probe.findExecutable(name, directories) {
                items.append(PreflightItem(name: name, satisfied: true, detail: "\(found) [\(purpose)]"))
            } else {
                items.append(PreflightItem(name: name, satisfied: false, detail: "not found [\(purpose)]", remedy: remedy))
            }
        }
        executable("nats-server", in: path, purpose: "embedded and internal NATS server",
                   remedy: "install it (apt install nats-server) or put it on PATH")
        executable("nex-agent", in: agentDirectories, purpose: "runs workloads for the node",
                   remedy: "build it (swift build --product nex-agent) and put it next to nex or on PATH")

        if !configuration.noSandbox {
            executable("bwrap", in: path, purpose: "sandbox namespaces",
                       remedy: "install bubblewrap (apt install bubblewrap), or run with no_sandbox")
            if probe.fileExists("/sys/fs/cgroup/cgroup.controllers") {
                items.append(PreflightItem(name: "cgroups", satisfied: true, detail: "cgroup v2 at /sys/fs/cgroup [resource limits]"))
            } else if probe.fileExists("/sys/fs/cgroup/memory") && probe.fileExists("/sys/fs/cgroup/cpu") {
                items.append(PreflightItem(name: "cgroups", satisfied: true, detail: "cgroup v1 at /sys/fs/cgroup [resource limits]"))
            } else {
                items.append(PreflightItem(name: "cgroups", satisfied: false, detail: "no cgroup v1 or v2 mount at /sys/fs/cgroup [resource limits]",
                                           remedy: "mount cgroup2 on /sys/fs/cgroup, or run with no_sandbox"))
            }
            let status = probe.readFile("/proc/self/status").map { String(decoding: $0, as: UTF8.self) } ?? ""
            if status.split(separator: "\n").contains(where: { $0.hasPrefix("Seccomp:") }) {
                items.append(PreflightItem(name: "seccomp", satisfied: true, detail: "supported by the kernel [system call filter]"))
            } else {
                items.append(PreflightItem(name: "seccomp", satisfied: false, detail: "the kernel reports no seccomp support [system call filter]",
                                           remedy: "use a kernel built with CONFIG_SECCOMP_FILTER, or run with no_sandbox"))
            }
        }

        let scripted = configuration.workloadTypes.filter { $0 == .v8 || $0 == .wasm }
        if !scripted.isEmpty {
            let purpose = scripted.map(\.rawValue).joined(separator: ", ") + " workloads"
            if let library = javaScriptCoreLibraries.first(where: probe.canLoadLibrary) {
                items.append(PreflightItem(name: "JavaScriptCore", satisfied: true, detail: "\(library) [\(purpose)]"))
            } else {
                items.append(PreflightItem(name: "JavaScriptCore", satisfied: false, detail: "library not found [\(purpose)]",
                                           remedy: "install libjavascriptcoregtk-4.1-0, or remove v8/wasm from workload_types"))
            }
        }
        return items
    }

    /// The configuration `--init sandbox|nosandbox` writes (0.x's defaults without the Firecracker parts, and
    /// every workload type this node runs: native services, JavaScript and WebAssembly functions).
    public static func defaultConfiguration(sandbox: Bool) -> String {
        """
        {
          "default_resource_dir": "/tmp/nex",
          "machine_pool_size": 1,
          "machine_template": { "vcpu_count": 1, "memsize_mib": 256 },
          "tags": { "simple": "true" },
          "workload_types": ["native", "v8", "wasm"]\(sandbox ? "" : ",\n  \"no_sandbox\": true")
        }

        """
    }
}

/// `nex node preflight`: checks that this host has what the node configuration needs.
public struct NodePreflight: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "preflight", abstract: "Check that this host can run a Nex node with a configuration.",
        discussion: """
        Checks nats-server, the nex-agent binary (next to nex, in bin_path or on PATH), the sandbox \
        (bwrap, setpriv, root, user namespaces, cgroups, seccomp, Landlock, the rootfs) unless no_sandbox, \
        and JavaScriptCore when v8 or wasm workloads are configured. Exits non-zero when something is missing.

        Examples:
          nex node preflight
          nex node preflight --config ./config.json
          nex node preflight --init nosandbox --config ./config.json
        """)

    /// The two configurations `--init` can write.
    public enum InitKind: String, ExpressibleByArgument, Sendable, CaseIterable {
        case sandbox, nosandbox
    }

    @Option(help: "Node configuration file (default: built-in defaults; with --init, ./config.json).")
    public var config: String?

    @Option(name: .customLong("init"), help: "Write a default configuration first: sandbox or nosandbox.")
    public var initKind: InitKind?

    @Flag(help: "Let --init overwrite an existing configuration file.")
    public var force = false

    public init() {}

    public func run() async throws {
        let environment = processEnvironment()
        let home = homeDirectory(environment)
        var configPath = config
        if let initKind {
            let path = config ?? "./config.json"
            if access(path, F_OK) == 0 && !force {
                throw CLIError("\(path) already exists; use --force to overwrite it")
            }
            do {
                try Preflight.defaultConfiguration(sandbox: initKind == .sandbox).write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write \(path): \(error)")
            }
            print("Wrote default \(initKind.rawValue) configuration: \(path)")
            configPath = path
        }

        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        var configuration = NodeConfiguration.defaults(for: .init(homeDirectory: home, path: path, temporaryDirectory: "/tmp",
                                                                  nodeName: "preflight"))
        if let configPath {
            guard let bytes = readWholeFile(configPath) else { throw CLIError("cannot read \(configPath)") }
            do {
                configuration = try NodeConfiguration.load(from: bytes, over: configuration)
            } catch {
                throw CLIError("\(configPath): \(error.message)")
            }
        }
        configuration = configuration.normalized()

        var agentDirectories: [String] = []
        if let executable = Self.executableDirectory() { agentDirectories.append(executable) }
        agentDirectories += configuration.binPath + path
        var items = Preflight.check(configuration, agentDirectories: agentDirectories, path: path, probe: .current)
        if !configuration.noSandbox {
            // What the sandbox itself finds: namespaces, cgroups, seccomp, Landlock, the rootfs.
            let agent = agentDirectories.lazy.map { $0 + "/nex-agent" }.first { access($0, X_OK) == 0 }
            items += NexNode.sandboxChecks(rootfsFilePath: configuration.rootfsFilePath, agentExecutable: agent)
                .filter { !["bubblewrap", "cgroups", "seccomp"].contains($0.name) }
                .map { PreflightItem(name: $0.name, satisfied: $0.passed, detail: $0.detail,
                                     remedy: $0.passed ? "" : "fix it, or run with no_sandbox") }
        }
        print("Preflight for a \(configuration.noSandbox ? "no-sandbox" : "sandboxed") node"
              + (configPath.map { " (\($0))" } ?? " (default configuration)"))
        for item in items { print(item.line) }
        let missing = items.filter { !$0.satisfied }.count
        if missing > 0 {
            print("⛔ \(missing) requirement\(missing == 1 ? " is" : "s are") missing")
            fflush(nil)
            throw ExitCode.failure
        }
        print("✅ All requirements are met")
    }

    /// The directory of the running executable (`/proc/self/exe` on Linux).
    static func executableDirectory() -> String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (path as NSString).deletingLastPathComponent
    }
}
