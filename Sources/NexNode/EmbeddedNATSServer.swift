#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A `nats-server` child process with JetStream, for `nex node up` on a machine with no NATS yet; also the
/// process under the node's internal NATS (``InternalNATS``: JetStream off, operator mode from ``Configuration/configurationText``).
///
/// The server listens on loopback only, keeps its JetStream store and its log in ``Configuration/storeDirectory``
/// (so streams, KV buckets and object stores survive restarts), and runs in its own process group: a
/// Ctrl-C in the terminal reaches `nex` only, which then shuts the node down while the server is still
/// there to carry `node_stopped`, and stops the server last with ``stop()``.
public final class EmbeddedNATSServer: Sendable {
    /// How to start the server.
    public struct Configuration: Sendable {
        /// The `nats-server` binary; `nil` searches ``searchPath`` (then `/usr/sbin`, `/usr/local/bin`, `/usr/bin`).
        public var executable: String?
        /// Directories searched for `nats-server` when ``executable`` is `nil` (usually `$PATH`).
        public var searchPath: [String]
        /// The address to listen on. Loopback by default: an embedded server has no authentication.
        public var host: String
        /// The client port; `nil` lets the server pick a free one (`-p -1`).
        public var port: Int?
        /// JetStream store (`-sd`), the server log (`nats-server.log`) and the configuration file
        /// (`nats-server.conf`, when there is ``configurationText``); created when missing.
        public var storeDirectory: String
        /// How long to wait for "Server is ready" before giving up.
        public var readyTimeout: Duration
        /// Whether to enable JetStream (`-js`).
        public var jetStream: Bool
        /// Configuration file text (e.g. an operator-mode trust chain, `max_payload`), written to the store
        /// directory with mode 0600 and passed with `-c`. Host, port, JetStream and logging flags given on
        /// the command line win over the file.
        public var configurationText: String?
        /// Debug (`-D`) and protocol trace (`-V`) logging, to the log file.
        public var debug: Bool
        public var trace: Bool

        public init(executable: String? = nil, searchPath: [String] = EmbeddedNATSServer.environmentPath(),
                    host: String = "127.0.0.1", port: Int? = nil, storeDirectory: String,
                    readyTimeout: Duration = .seconds(30), jetStream: Bool = true, configurationText: String? = nil,
                    debug: Bool = false, trace: Bool = false) {
            self.executable = executable
            self.searchPath = searchPath
            self.host = host
            self.port = port
            self.storeDirectory = storeDirectory
            self.readyTimeout = readyTimeout
            self.jetStream = jetStream
            self.configurationText = configurationText
            self.debug = debug
            self.trace = trace
        }
    }

    /// The client URL, e.g. `nats://127.0.0.1:4222`.
    public let url: String
    /// The port the server listens on (the one it chose when started with no port).
    public let port: Int
    /// The server's process ID.
    public let pid: pid_t
    /// Where the server writes its log.
    public let logPath: String
    private let logger: Logger
    /// Whether the child has been reaped; a reaped pid may belong to another process, so no signal goes to it then.
    private let reaped = Mutex(false)

    private init(url: String, port: Int, pid: pid_t, logPath: String, logger: Logger) {
        self.url = url
        self.port = port
        self.pid = pid
        self.logPath = logPath
        self.logger = logger
    }

    /// `~/.nex/embedded`, the default ``Configuration/storeDirectory``.
    public static func defaultStoreDirectory(home: String) -> String {
        home + "/.nex/embedded"
    }

    /// The entries of `$PATH`.
    public static func environmentPath() -> [String] {
        guard let value = getenv("PATH") else { return [] }
        return String(cString: value).split(separator: ":").map(String.init)
    }

    /// The first executable `nats-server` in `searchPath`, then in the usual system directories.
    public static func findExecutable(searchPath: [String]) -> String? {
        for directory in searchPath + ["/usr/sbin", "/usr/local/bin", "/usr/bin"] where !directory.isEmpty {
            let candidate = directory + "/nats-server"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts the server and returns once it accepts clients.
    ///
    /// - Throws: ``NexNodeError`` with code ``NexNodeError/Code/embeddedServer`` when the binary is missing,
    ///   the store cannot be created, or the server exits or is not ready within ``Configuration/readyTimeout``
    ///   (the message quotes the end of its log).
    public static func start(_ configuration: Configuration, logger: Logger) async throws(NexNodeError) -> EmbeddedNATSServer {
        guard let executable = configuration.executable ?? findExecutable(searchPath: configuration.searchPath) else {
            throw NexNodeError(code: .embeddedServer, message: "nats-server was not found on PATH or in /usr/sbin; install it or pass --server")
        }
        try makeDirectories(configuration.storeDirectory)
        let logPath = configuration.storeDirectory + "/nats-server.log"
        // Each start gets a fresh log, so the port and readiness lines read below are this run's.
        unlink(logPath)
        var arguments = [executable, "-a", configuration.host, "-p", String(configuration.port ?? -1)]
        if configuration.jetStream { arguments += ["-js", "-sd", configuration.storeDirectory] }
        if configuration.debug { arguments.append("-D") }
        if configuration.trace { arguments.append("-V") }
        if let text = configuration.configurationText {
            let configPath = configuration.storeDirectory + "/nats-server.conf"
            try writePrivateFile(configPath, contents: text)
            arguments += ["-c", configPath]
        }
        let pid = try spawn(executable, arguments: arguments, outputPath: logPath)
        logger.debug("Started embedded nats-server", metadata: ["pid": "\(pid)", "log": "\(logPath)"])

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.readyTimeout
        while true {
            let log = readLog(logPath)
            if log.contains("Server is ready") {
                guard let port = listeningPort(in: log) else {
                    terminate(pid)
                    throw NexNodeError(code: .embeddedServer, message: "nats-server is ready but its log names no client port:\n\(tail(log))")
                }
                let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
                return EmbeddedNATSServer(url: "nats://\(host):\(port)", port: port, pid: pid, logPath: logPath, logger: logger)
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw NexNodeError(code: .embeddedServer, message: "nats-server exited during startup:\n\(tail(readLog(logPath)))")
            }
            if clock.now >= deadline {
                terminate(pid)
                throw NexNodeError(code: .embeddedServer, message: "nats-server did not become ready:\n\(tail(readLog(logPath)))")
            }
            do {
                try await Task.sleep(for: .milliseconds(25))
            } catch {
                terminate(pid)
                throw NexNodeError(code: .embeddedServer, message: "cancelled while nats-server was starting")
            }
        }
    }

    /// Whether the server process is still running.
    public var isRunning: Bool {
        reaped.withLock { reaped in
            if reaped { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { reaped = true }
            return !reaped
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL when it has not exited within `timeout`. Returns once it is reaped.
    public func stop(timeout: Duration = .seconds(10)) async {
        guard isRunning else { return }
        signal(SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while isRunning {
            if clock.now >= deadline {
                logger.warning("Embedded nats-server ignored SIGTERM; killing it", metadata: ["pid": "\(pid)"])
                signal(SIGKILL)
                while isRunning { try? await Task.sleep(for: .milliseconds(10)) }
                return
            }
            // Not cancellable on purpose: a stop that gives up early would leave the server running.
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.debug("Embedded nats-server stopped", metadata: ["pid": "\(pid)"])
    }

    deinit {
        // A server nobody stopped must not outlive us.
        if isRunning {
            signal(SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    private func signal(_ signal: Int32) {
        reaped.withLock { reaped in
            if !reaped { kill(pid, signal) }
        }
    }

    // MARK: - Helpers

    /// The port from `Listening for client connections on 127.0.0.1:4222`.
    static func listeningPort(in log: String) -> Int? {
        let marker = "Listening for client connections on "
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: marker) else { continue }
            let address = line[range.upperBound...].trimmingSuffix(while: { $0 == " " || $0 == "\r" })
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { continue }
            return port
        }
        return nil
    }

    private static func tail(_ log: String) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(10).joined(separator: "\n")
    }

    private static func readLog(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            // Startup lines are at the top; a huge log (trace mode) need not be read whole.
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func terminate(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// `mkdir -p` with mode 0700: the store holds everything published to JetStream.
    private static func makeDirectories(_ path: String) throws(NexNodeError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw NexNodeError(code: .embeddedServer, message: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Replaces `path` with `contents`, readable by the owner only.
    private static func writePrivateFile(_ path: String, contents: String) throws(NexNodeError) {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw NexNodeError(code: .embeddedServer, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes = Array(contents.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                throw NexNodeError(code: .embeddedServer, message: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(written)
        }
    }

    private static func spawn(_ executable: String, arguments: [String], outputPath: String) throws(NexNodeError) -> pid_t {
        #if canImport(Glibc) || canImport(Musl)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours: a descriptor another part of the program opened without close-on-exec
        // (Foundation.Process's exit-detection socket, say) must not live on in a long-running server.
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        }
        // Our own process group keeps terminal signals away from the server (see the type's doc), and
        // default dispositions with an empty mask undo whatever the parent blocked or ignored.
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let result = cArguments.withUnsafeMutableBufferPointer { buffer in
            posix_spawn(&pid, executable, &actions, &attributes, buffer.baseAddress!, environ)
        }
        guard result == 0 else {
            throw NexNodeError(code: .embeddedServer, message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}

extension NexNodeError.Code {
    /// The embedded `nats-server` could not be found, started or made ready.
    public static let embeddedServer = NexNodeError.Code("embeddedServer")
}
