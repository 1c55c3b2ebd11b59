import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where cgroups can be made on this host: cgroup v2 (one unified hierarchy) or v1 (one hierarchy per
/// controller; `memory`, `cpu` and `pids` are used, `cpuacct` for accounting).
public struct CgroupHierarchy: Sendable, Hashable {
    public enum Version: String, Sendable { case v1, v2 }

    public var version: Version
    /// v1: the parent directory per controller (`memory`, `cpu`, `cpuacct`, `pids`); v2: the key `unified`.
    /// Sandbox cgroups are made below these.
    public var parents: [String: String]

    public init(version: Version, parents: [String: String]) {
        self.version = version
        self.parents = parents
    }

    /// Whether a pids controller is available (otherwise the pids limit falls back to `RLIMIT_NPROC`).
    public var hasPidsController: Bool { version == .v2 ? controllersV2.contains("pids") : parents["pids"] != nil }
    private var controllersV2: Set<String> {
        guard let parent = parents["unified"],
              let text = try? String(contentsOfFile: (parent as NSString).appendingPathComponent("cgroup.controllers"), encoding: .utf8)
        else { return [] }
        return Set(text.split(whereSeparator: \.isWhitespace).map(String.init))
    }

    /// Finds the hierarchy from `/proc/self/mountinfo` and `/proc/self/cgroup`: sandbox cgroups nest under
    /// the node's own cgroup on v1 (so the node's own limits still apply), and under `<root>/nex` on v2
    /// (v2 forbids processes in a cgroup whose controllers are delegated, and the node is a process).
    /// `nil` when there is no usable memory and cpu controller.
    public static func discover(mountInfo: String? = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
                                ownCgroups: String? = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) -> CgroupHierarchy? {
        guard let mountInfo else { return nil }
        var v1Mounts: [String: String] = [:]
        var v2Mount: String?
        for line in mountInfo.split(separator: "\n") {
            // id parent major:minor root mountpoint options [optional…] - fstype source superoptions
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            switch right[0] {
            case "cgroup2": v2Mount = mountPoint
            case "cgroup":
                for option in right[2].split(separator: ",") where ["memory", "cpu", "cpuacct", "pids"].contains(String(option)) {
                    v1Mounts[String(option)] = mountPoint
                }
            default: continue
            }
        }
        var own: [String: String] = [:]
        for line in (ownCgroups ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            for controller in fields[1].split(separator: ",") { own[String(controller)] = String(fields[2]) }
        }
        if v1Mounts["memory"] != nil, v1Mounts["cpu"] != nil {
            var parents: [String: String] = [:]
            for (controller, mount) in v1Mounts {
                parents[controller] = mount + (own[controller].map { $0 == "/" ? "" : $0 } ?? "")
            }
            return CgroupHierarchy(version: .v1, parents: parents)
        }
        if let v2Mount {
            return CgroupHierarchy(version: .v2, parents: ["unified": (v2Mount as NSString).appendingPathComponent("nex")])
        }
        return nil
    }

    /// Makes the cgroup(s) for one sandbox and writes its limits.
    public func create(name: String, limits: SandboxLimits) throws(SandboxError) -> CgroupSet {
        var directories: [String: String] = [:]
        // Two controllers can share one hierarchy (`cpu,cpuacct`): one directory then.
        var made: [String] = []
        func make(_ path: String) throws(SandboxError) {
            if made.contains(path) { return }
            if mkdir(path, 0o755) != 0, errno != EEXIST {
                let reason = String(cString: strerror(errno))
                CgroupSet(version: version, directories: Dictionary(uniqueKeysWithValues: made.enumerated().map { ("\($0.offset)", $0.element) })).remove()
                throw SandboxError(code: .cgroup, message: "cannot create the cgroup \(path): \(reason)")
            }
            made.append(path)
        }
        switch version {
        case .v1:
            for (controller, parent) in parents {
                let path = (parent as NSString).appendingPathComponent(name)
                try make(path)
                directories[controller] = path
            }
        case .v2:
            guard let parent = parents["unified"] else { throw SandboxError(code: .cgroup, message: "no cgroup v2 parent") }
            if mkdir(parent, 0o755) != 0, errno != EEXIST {
                throw SandboxError(code: .cgroup, message: "cannot create \(parent): \(String(cString: strerror(errno)))")
            }
            let root = (parent as NSString).deletingLastPathComponent
            // Delegate the controllers down to the sandbox level; failures surface when a limit is written.
            for directory in [root, parent] {
                _ = try? CgroupSet.write("+memory +cpu +pids", to: (directory as NSString).appendingPathComponent("cgroup.subtree_control"))
            }
            let path = (parent as NSString).appendingPathComponent(name)
            try make(path)
            directories["unified"] = path
        }
        let set = CgroupSet(version: version, directories: directories)
        do {
            try set.apply(limits)
        } catch {
            set.remove()
            throw error
        }
        return set
    }
}

/// The cgroup directories of one sandbox.
public struct CgroupSet: Sendable, Hashable {
    public var version: CgroupHierarchy.Version
    /// Per controller (v1) or `unified` (v2).
    public var directories: [String: String]

    public init(version: CgroupHierarchy.Version, directories: [String: String]) {
        self.version = version
        self.directories = directories
    }

    /// Every distinct directory: the `cgroup.procs` files a process joins.
    public var procsFiles: [String] {
        Array(Set(directories.values)).sorted().map { ($0 as NSString).appendingPathComponent("cgroup.procs") }
    }

    public static let cpuPeriodMicroseconds = 100_000

    func apply(_ limits: SandboxLimits) throws(SandboxError) {
        let bytes = max(limits.memoryMiB, 1) * 1024 * 1024
        let quota = max(limits.vcpuCount, 1) * Self.cpuPeriodMicroseconds
        switch version {
        case .v1:
            if let memory = directories["memory"] {
                try Self.write("\(bytes)", to: memory + "/memory.limit_in_bytes")
                // With swap, the limit alone would page out instead of killing; memsw caps memory + swap.
                let memsw = memory + "/memory.memsw.limit_in_bytes"
                if FileManager.default.fileExists(atPath: memsw) { try Self.write("\(bytes)", to: memsw) }
            }
            if let cpu = directories["cpu"] {
                try Self.write("\(Self.cpuPeriodMicroseconds)", to: cpu + "/cpu.cfs_period_us")
                try Self.write("\(quota)", to: cpu + "/cpu.cfs_quota_us")
            }
            if let pids = directories["pids"] { try Self.write("\(max(limits.pids, 1))", to: pids + "/pids.max") }
        case .v2:
            guard let directory = directories["unified"] else { return }
            try Self.write("\(bytes)", to: directory + "/memory.max")
            _ = try? Self.write("0", to: directory + "/memory.swap.max")
            try Self.write("\(quota) \(Self.cpuPeriodMicroseconds)", to: directory + "/cpu.max")
            _ = try? Self.write("\(max(limits.pids, 1))", to: directory + "/pids.max")
        }
    }

    /// OOM kills in this cgroup so far (`oom_kill` of `memory.oom_control` on v1, `memory.events` on v2).
    public var oomKills: Int {
        let file: String
        switch version {
        case .v1:
            guard let memory = directories["memory"] else { return 0 }
            file = memory + "/memory.oom_control"
        case .v2:
            guard let directory = directories["unified"] else { return 0 }
            file = directory + "/memory.events"
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill" { return Int(fields[1]) ?? 0 }
        }
        return 0
    }

    /// CPU time used by the sandbox, in nanoseconds (`cpuacct.usage` on v1, `cpu.stat` on v2).
    public var cpuUsageNanoseconds: UInt64? {
        switch version {
        case .v1:
            guard let cpuacct = directories["cpuacct"],
                  let text = try? String(contentsOfFile: cpuacct + "/cpuacct.usage", encoding: .utf8) else { return nil }
            return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        case .v2:
            guard let directory = directories["unified"],
                  let text = try? String(contentsOfFile: directory + "/cpu.stat", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
                return UInt64(line.dropFirst("usage_usec ".count)).map { $0 * 1000 }
            }
            return nil
        }
    }

    /// The processes in the sandbox's cgroup (host pids).
    public var processes: [Int32] {
        guard let file = procsFiles.first, let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Kills what is left inside, then removes the directories (retrying while the kernel reaps).
    public func remove() {
        for attempt in 0..<200 {
            if attempt > 0 { usleep(5_000) }
            for pid in processes { kill(pid, SIGKILL) }
            var remaining = false
            for directory in Set(directories.values) where rmdir(directory) != 0 && errno != ENOENT {
                remaining = true
            }
            if !remaining { return }
        }
    }

    static func write(_ text: String, to path: String) throws(SandboxError) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SandboxError(code: .cgroup, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw SandboxError(code: .cgroup, message: "cannot write \"\(text)\" to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
