#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts a configured process with `posix_spawn`; returns the pid and our ends of its pipes.
enum Spawner {
    struct Spawned {
        var pid: pid_t
        var stdoutRead: Int32
        var stderrRead: Int32
        var wakeRead: Int32
        var wakeWrite: Int32
    }

    static func spawn(_ configuration: NativeProcessConfiguration) throws(NativeRuntimeError) -> Spawned {
        try validate(configuration)

        // All our descriptors are close-on-exec from birth, so a process spawned concurrently by
        // other code in this program cannot inherit them (which would hold the pipes open).
        let stdoutPipe = try makePipe()
        let stderrPipe: (read: Int32, write: Int32)
        let wakePipe: (read: Int32, write: Int32)
        do {
            stderrPipe = try makePipe()
        } catch {
            closeAll(stdoutPipe.read, stdoutPipe.write)
            throw error
        }
        do {
            wakePipe = try makePipe()
        } catch {
            closeAll(stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write)
            throw error
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 clears close-on-exec on the copy, so the child keeps exactly fds 0, 1 and 2.
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        // Descriptors opened by other code without close-on-exec must not leak into a workload.
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }
        if let directory = configuration.workingDirectory {
            guard let addChdir = Self.addChdir else {
                closeAll(stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write, wakePipe.read, wakePipe.write)
                throw NativeRuntimeError(
                    code: .systemCall, message: "this C library cannot set a working directory for posix_spawn"
                )
            }
            _ = addChdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group (pgid = pid) so one signal reaches everything the workload forks.
        posix_spawnattr_setpgroup(&attributes, 0)
        resetSignals(&attributes)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] =
            ([configuration.executable] + configuration.arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Sorted so the child sees a deterministic order.
        let envp: [UnsafeMutablePointer<CChar>?] =
            configuration.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        // Both arrays hold at least their terminating nil, so their base addresses exist.
        let result = retryingWhileTextBusy {
            argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    posix_spawn(
                        &pid, configuration.executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!
                    )
                }
            }
        }
        // The child has its copies; ours would keep the pipes from ever reaching EOF.
        closeAll(stdoutPipe.write, stderrPipe.write)
        guard result == 0 else {
            closeAll(stdoutPipe.read, stderrPipe.read, wakePipe.read, wakePipe.write)
            throw NativeRuntimeError(
                code: .spawnFailed,
                message: "cannot start \(configuration.executable): \(SystemSupport.errorText(result))"
            )
        }
        return Spawned(
            pid: pid, stdoutRead: stdoutPipe.read, stderrRead: stderrPipe.read,
            wakeRead: wakePipe.read, wakeWrite: wakePipe.write
        )
    }

    /// Runs `spawn` (returning a `posix_spawn` result) again while it fails with `ETXTBSY`, for up to about
    /// a second. A freshly written executable is closed (and close-on-exec) before it runs, but a process
    /// that another thread is spawning at that moment holds a copy of every descriptor from its clone until
    /// its exec, so the kernel can still see a writer for a few milliseconds.
    static func retryingWhileTextBusy(_ spawn: () -> Int32) -> Int32 {
        var result = spawn()
        var attempt = 0
        while result == ETXTBSY, attempt < 100 {
            attempt += 1
            usleep(10_000)
            result = spawn()
        }
        return result
    }

    /// Signal state is inherited across exec: undo any ignored signals (SIGPIPE is ignored by Swift
    /// server runtimes) and any mask of the spawning thread. The caller adds `POSIX_SPAWN_SETSIGDEF |
    /// POSIX_SPAWN_SETSIGMASK` to its flags.
    static func resetSignals(_ attributes: inout posix_spawnattr_t) {
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        sigdelset(&defaultSignals, SIGKILL)
        sigdelset(&defaultSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
    }

    /// Rejects what cannot be expressed as C strings or `KEY=value` pairs, rather than letting the
    /// C layer silently truncate it.
    static func validate(_ configuration: NativeProcessConfiguration) throws(NativeRuntimeError) {
        func invalid(_ message: String) -> NativeRuntimeError {
            NativeRuntimeError(code: .invalidConfiguration, message: message)
        }
        if configuration.executable.isEmpty { throw invalid("the executable path is empty") }
        if configuration.executable.utf8.contains(0) { throw invalid("the executable path contains a NUL byte") }
        if configuration.workingDirectory?.utf8.contains(0) == true {
            throw invalid("the working directory contains a NUL byte")
        }
        for (index, argument) in configuration.arguments.enumerated() where argument.utf8.contains(0) {
            throw invalid("argument \(index + 1) contains a NUL byte")
        }
        for (key, value) in configuration.environment {
            if key.isEmpty || key.utf8.contains(UInt8(ascii: "=")) || key.utf8.contains(0) {
                throw invalid("environment variable name '\(key)' is empty or contains '=' or NUL")
            }
            if value.utf8.contains(0) { throw invalid("environment variable '\(key)' contains a NUL byte") }
        }
    }

    private static func makePipe() throws(NativeRuntimeError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 = Self.pipe2 {
            guard pipe2(&fds, O_CLOEXEC) == 0 else {
                throw NativeRuntimeError(code: .systemCall, message: "pipe2 failed: \(SystemSupport.errorText(errno))")
            }
        } else {
            // Fallback with a window in which a concurrent fork elsewhere could inherit the ends;
            // our own children are protected anyway by closefrom.
            guard pipe(&fds) == 0 else {
                throw NativeRuntimeError(code: .systemCall, message: "pipe failed: \(SystemSupport.errorText(errno))")
            }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    private static func closeAll(_ descriptors: Int32...) {
        for descriptor in descriptors { close(descriptor) }
    }

    // glibc has all three (2.9, 2.29 and 2.34), but Swift does not import these GNU declarations.
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    private static let pipe2: Pipe2? = {
        guard let symbol = dlsym(nil, "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: Pipe2.self)
    }()

    static let addChdir: AddChdir? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()
}
