import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process we spawned with `posix_spawn` and must reap exactly once.
///
/// Signals are only sent while the process is not yet reaped: until `waitpid` collects it, its pid
/// cannot be reused, so a late signal can never hit an unrelated process.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The raw wait status, once reaped.
    private let waitStatus = Mutex<Int32?>(nil)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Where the child's standard input comes from.
    enum Input {
        case null
        /// A descriptor we own; the child gets its own copy as fd 0.
        case descriptor(Int32)
    }

    /// Spawns `executable` with `arguments` (without argv[0]).
    ///
    /// - Parameters:
    ///   - outputPath: stdout (and stderr unless `errorPath` is given) is appended to this file
    ///     (`/dev/null` when nil); a file rather than a pipe so nobody has to drain it and it
    ///     survives for post-mortems.
    ///   - newProcessGroup: puts the child in its own process group, so a terminal's Ctrl-C (sent to
    ///     the test runner's group) does not reach it and cleanup stays under our control.
    static func spawn(
        executable: String,
        arguments: [String],
        input: Input = .null,
        outputPath: String? = nil,
        errorPath: String? = nil,
        extraEnvironment: [String: String] = [:],
        newProcessGroup: Bool = false
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        switch input {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .descriptor(let fd):
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Our own descriptors are close-on-exec, but other code in the test process may have opened
        // some without it; a leaked copy of a watchdog socket would keep it from ever seeing EOF.
        // (glibc >= 2.34; Swift does not import the `_np` declaration, hence the lookup.)
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }

        // Reset signal state: the Swift runtime or NIO may ignore SIGPIPE or block signals in the
        // spawning thread, and children would inherit that.
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        sigdelset(&defaultSignals, SIGKILL)
        sigdelset(&defaultSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if newProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result: Int32
        if extraEnvironment.isEmpty {
            result = argv.withUnsafeBufferPointer { argvBuffer in
                posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, environ)
            }
        } else {
            let merged = ProcessInfo.processInfo.environment.merging(extraEnvironment) { _, extra in extra }
            let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            result = argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
                }
            }
        }
        guard result == 0 else {
            throw NATSTestSupportError(
                code: .systemCall,
                message: "posix_spawn \(executable) failed: \(String(cString: strerror(result)))"
            )
        }
        return ChildProcess(pid: pid)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Whether the process has terminated. Does not reap it, so the pid stays reserved.
    var hasExited: Bool {
        waitStatus.withLock { status in
            if status != nil { return true }
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            // Linux zeroes `info` when no child is waitable, so a set signal number means it exited.
            return result == 0 && info.si_signo == SIGCHLD
        }
    }

    /// Sends `signal` unless the process was already reaped.
    func send(_ signal: Int32) {
        waitStatus.withLock { status in
            if status == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// Collects the exit status, blocking until the process exits. Call after `hasExited` is true
    /// (or after SIGKILL) so the block is short.
    @discardableResult
    func reap() -> Int32 {
        waitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            status = raw
            return raw
        }
    }

    /// Polls until the process exits or `timeout` passes; returns whether it exited.
    /// Throws only on task cancellation.
    func waitForExit(timeout: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !hasExited {
            if clock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// The exit code (128 + signal number when killed by a signal), once reaped.
    var exitCode: Int32? {
        waitStatus.withLock { status in
            guard let status else { return nil }
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }
}

/// Finds an executable by name in `PATH` (plus the usual system directories).
func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin"]
    for directory in directories where !directory.isEmpty {
        let candidate = directory + "/" + name
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}

/// Creates a fresh private temporary directory.
func makeTemporaryDirectory(prefix: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((base + "/" + prefix + "-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard created != nil else { throw NATSTestSupportError.systemCall("mkdtemp", errno: errno) }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Reads a whole file as UTF-8 (invalid bytes repaired); empty when it does not exist.
func readTextFile(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    return String(decoding: data, as: UTF8.self)
}
