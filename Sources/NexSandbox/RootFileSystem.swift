import NativeRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The sandbox's root file system: a directory holding the agent (`/usr/bin/nex-agent`), the shared
/// libraries it loads (found from the binary itself with the dynamic loader, `ldd`), and the empty mount
/// points the sandbox needs (`/proc`, `/dev`, `/tmp`, `/agent`). Nothing else of the host: no shell, no
/// `/etc`, no home.
///
/// The engines a function needs come along because the agent links them (JavaScriptCore and its
/// dependencies are in the agent's own `DT_NEEDED` tree).
public struct RootFileSystem: Sendable, Hashable {
    /// The directory.
    public var path: String

    public init(path: String) {
        self.path = path
    }

    /// Where the agent is inside.
    public static let agentPath = "/usr/bin/nex-agent"
    /// Where the agent's directory is mounted inside.
    public static let agentDirectory = "/agent"
    /// Mount points the sandbox fills at start.
    static let mountPoints = ["proc", "dev", "tmp", "agent"]
    /// Records what the directory was built from (to know when it is stale).
    static let stampName = ".nex-rootfs"

    /// The agent executable inside, on the host.
    public var agentExecutable: String { path + Self.agentPath }

    /// What is missing for this to be a usable root (empty: fine).
    public func problems() -> [String] {
        var problems: [String] = []
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ["rootfs \(path) is not a directory"]
        }
        if !FileManager.default.isExecutableFile(atPath: agentExecutable) { problems.append("rootfs \(path) has no \(Self.agentPath)") }
        for mountPoint in Self.mountPoints where !FileManager.default.fileExists(atPath: path + "/" + mountPoint) {
            problems.append("rootfs \(path) has no /\(mountPoint) mount point")
        }
        return problems
    }

    /// The root directory for `agent`, under `cacheDirectory` (reused when it was built from the same
    /// binary: same path, size and modification time; rebuilt otherwise).
    public static func cached(for agent: String, in cacheDirectory: String) throws(SandboxError) -> RootFileSystem {
        let stamp = try stamp(of: agent)
        let destination = (cacheDirectory as NSString).appendingPathComponent("rootfs")
        let existing = RootFileSystem(path: destination)
        if (try? String(contentsOfFile: destination + "/" + stampName, encoding: .utf8)) == stamp, existing.problems().isEmpty {
            return existing
        }
        return try build(agent: agent, into: destination)
    }

    /// Builds the root for `agent` into `destination` (replaced if it exists). The directory is built
    /// beside and renamed into place, so a reader never sees half a root.
    @discardableResult
    public static func build(agent: String, into destination: String, ldd: String = "/usr/bin/ldd") throws(SandboxError) -> RootFileSystem {
        let stamp = try stamp(of: agent)
        let libraries = try sharedLibraries(of: agent, ldd: ldd)
        let fileManager = FileManager.default
        let staging = destination + ".building-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try fileManager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            for mountPoint in mountPoints {
                try fileManager.createDirectory(atPath: staging + "/" + mountPoint, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
            }
            try install(agent, at: staging + agentPath, mode: 0o755)
            let agentDirectory = (realPath(agent) as NSString).deletingLastPathComponent
            for library in libraries {
                // Libraries found through `$ORIGIN` live beside the agent: they go beside its copy.
                let inside = (library as NSString).deletingLastPathComponent == agentDirectory
                    ? ((agentPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent((library as NSString).lastPathComponent)
                    : library
                try install(library, at: staging + inside, mode: 0o755)
            }
            try stamp.write(toFile: staging + "/" + stampName, atomically: false, encoding: .utf8)
            if fileManager.fileExists(atPath: destination) {
                let old = destination + ".old-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                try fileManager.moveItem(atPath: destination, toPath: old)
                try? fileManager.removeItem(atPath: old)
            }
            try fileManager.moveItem(atPath: staging, toPath: destination)
        } catch {
            try? fileManager.removeItem(atPath: staging)
            throw SandboxError(code: .rootFileSystem, message: "cannot build the rootfs at \(destination): \(error)")
        }
        return RootFileSystem(path: destination)
    }

    /// The shared libraries `executable` loads, with the loader itself: absolute host paths from `ldd`
    /// (which follows `DT_NEEDED`, `RUNPATH` and the loader's search path transitively). Empty for a
    /// static executable.
    public static func sharedLibraries(of executable: String, ldd: String = "/usr/bin/ldd") throws(SandboxError) -> [String] {
        guard FileManager.default.isExecutableFile(atPath: ldd) else {
            throw SandboxError(code: .missingTool, message: "\(ldd) is missing (package libc-bin): it finds the agent's libraries")
        }
        let output: String
        do {
            output = try Program.run(ldd, [executable]).standardOutput
        } catch {
            throw SandboxError(code: .rootFileSystem, message: "cannot run ldd on \(executable): \(error)")
        }
        return parseLDD(output)
    }

    /// The absolute paths in `ldd` output (`name => /path (addr)`, `/path (addr)`); unresolved and
    /// virtual entries (`linux-vdso.so.1`) are skipped.
    public static func parseLDD(_ text: String) -> [String] {
        var paths: [String] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let candidate: Substring
            if let arrow = trimmed.range(of: "=> ") {
                candidate = trimmed[arrow.upperBound...]
            } else {
                candidate = Substring(trimmed)
            }
            guard let path = candidate.split(separator: " ").first, path.hasPrefix("/") else { continue }
            if !paths.contains(String(path)) { paths.append(String(path)) }
        }
        return paths
    }

    /// Copies `source` (following links: the root holds plain files) to `target`, making directories.
    private static func install(_ source: String, at target: String, mode: mode_t) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                        attributes: [.posixPermissions: 0o755])
        if fileManager.fileExists(atPath: target) { return }
        let file = realPath(source)
        // A hard link when on the same file system (the root is mounted read-only, and a rebuilt binary
        // is a new inode); a copy otherwise.
        if link(file, target) == 0 { return }
        try fileManager.copyItem(atPath: file, toPath: target)
        chmod(target, mode)
    }

    /// The file a path names, all links followed (`realpath`).
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func stamp(of agent: String) throws(SandboxError) -> String {
        let resolved = realPath(agent)
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            throw SandboxError(code: .rootFileSystem, message: "cannot read the agent \(agent): \(String(cString: strerror(errno)))")
        }
        return "\(resolved)\n\(info.st_size)\n\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\n"
    }
}
