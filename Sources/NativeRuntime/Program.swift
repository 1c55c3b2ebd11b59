import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a short-lived tool (a compiler, `ldd`) to completion and returns what it printed.
///
/// Foundation's `Process` detects a child's exit through a socket the child inherits; any process
/// spawned concurrently elsewhere in the program inherits that socket too and keeps it open, so
/// `waitUntilExit()` can hang for as long as that other process lives (swift-corelibs-foundation
/// #4795). This spawns with every descriptor but 0–2 closed and waits for exactly its own pid.
/// It blocks the calling thread until the tool exits.
public enum Program {
    /// What a finished tool did.
    public struct Completed: Sendable, Hashable {
        public var status: ExitStatus
        public var standardOutput: String
        public var standardError: String

        /// Whether it exited with code 0.
        public var succeeded: Bool { status.isSuccess }
    }

    /// Runs `executable` (a path, or a name looked up on `PATH`) with `arguments`.
    ///
    /// - Parameters:
    ///   - environment: the tool's environment; `nil` passes this process's own.
    ///   - workingDirectory: where it runs; `nil` = here.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           workingDirectory: String? = nil) throws(NativeRuntimeError) -> Completed {
        let output = try temporaryFile(), errors = try temporaryFile()
        defer {
            close(output)
            close(errors)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
        if let closeFrom = Spawner.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let workingDirectory {
            guard let addChdir = Spawner.addChdir else {
                throw NativeRuntimeError(code: .systemCall, message: "this C library cannot set a working directory for posix_spawn")
            }
            _ = addChdir(&actions, workingDirectory)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        Spawner.resetSignals(&attributes)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let variables = environment ?? ProcessInfo.processInfo.environment
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawnp searches the PATH of *this* process for a bare name.
        let result = Spawner.retryingWhileTextBusy {
            argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    posix_spawnp(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
                }
            }
        }
        guard result == 0 else {
            throw NativeRuntimeError(code: .spawnFailed, message: "cannot start \(executable): \(SystemSupport.errorText(result))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw NativeRuntimeError(code: .systemCall, message: "waiting for \(executable): \(SystemSupport.errorText(errno))")
            }
        }
        let exit: ExitStatus = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        return Completed(status: exit, standardOutput: contents(of: output), standardError: contents(of: errors))
    }

    /// An unlinked temporary file, close-on-exec (the child gets it through dup2 only).
    private static func temporaryFile() throws(NativeRuntimeError) -> Int32 {
        let path = NSTemporaryDirectory() + "/nex-program-\(UUID().uuidString)"
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw NativeRuntimeError(code: .systemCall, message: "cannot create a temporary file: \(SystemSupport.errorText(errno))")
        }
        unlink(path)
        return descriptor
    }

    private static func contents(of descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
