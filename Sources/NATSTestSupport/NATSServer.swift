import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real `nats-server` process on a random loopback port, for tests and benchmarks.
///
/// Each server has a private temporary directory (configuration, log, JetStream store) that
/// `stop()` removes. A watchdog process kills the server and removes the directory if the test
/// process dies without stopping it, so no server outlives the tests that started it; a server
/// released without `stop()` is ended the same way (its process is then only reaped at exit).
///
/// ```swift
/// try await withNATSServer(.init(jetStream: true)) { server in
///     // connect to server.url
/// }
/// ```
public final class NATSServer: Sendable {
    /// The options the server was started with.
    public let options: Options
    /// The private directory of this server.
    let directory: String
    private let executable: String
    private let watchdog: Watchdog
    private let state: Mutex<State>

    private struct State {
        /// The running process; nil after `kill()`, `stop()` or a failed start.
        var process: ChildProcess?
        /// The pid of the latest process, kept after it ended.
        var lastPID: pid_t = 0
        var launch: Launch
        var port = 0
        var clusterPort: Int?
        var monitoringPort: Int?
        /// Where the current run's output starts in the log file (the log is kept across restarts).
        var runLogOffset = 0
        /// The log, kept in memory once `stop()` removed the directory.
        var finalLog: String?
        var stopped = false
    }

    private var logPath: String { directory + "/server.log" }
    private var configPath: String { directory + "/server.conf" }

    private init(options: Options, launch: Launch, executable: String, directory: String, watchdog: Watchdog) {
        self.options = options
        self.executable = executable
        self.directory = directory
        self.watchdog = watchdog
        self.state = Mutex(State(launch: launch))
    }

    /// Starts a server and waits until it accepts clients.
    ///
    /// - Throws: `NATSTestSupportError` when `nats-server` is missing or does not become ready
    ///   (the message includes the end of its log).
    public static func start(_ options: Options = .init()) async throws -> NATSServer {
        try await start(options, launch: Launch(monitoring: false))
    }

    static func start(_ options: Options, launch: Launch) async throws -> NATSServer {
        let executable = try serverExecutable()
        let directory = try makeTemporaryDirectory(prefix: "nats-server")
        let watchdog: Watchdog
        do {
            watchdog = try Watchdog(directory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let server = NATSServer(options: options, launch: launch, executable: executable, directory: directory, watchdog: watchdog)
        do {
            try await server.run()
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    static func serverExecutable() throws -> String {
        if let path = findExecutable("nats-server") { return path }
        throw NATSTestSupportError(
            code: .toolNotFound,
            message: "nats-server not found in PATH or /usr/bin; run scripts/bootstrap.sh (installs Debian's nats-server)"
        )
    }

    // MARK: Addresses

    /// The client port.
    public var port: Int { state.withLock { $0.port } }

    /// `nats://127.0.0.1:PORT`, or `tls://…` when the server requires TLS.
    public var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// The client URL with credentials in its user-info part (percent-encoded).
    public func url(user: String, password: String) -> String {
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@"))
        let user = user.addingPercentEncoding(withAllowedCharacters: allowed) ?? user
        let password = password.addingPercentEncoding(withAllowedCharacters: allowed) ?? password
        return "\(scheme)://\(user):\(password)@127.0.0.1:\(port)"
    }

    private var scheme: String { options.tls == nil ? "nats" : "tls" }

    /// `nats-route://127.0.0.1:PORT` when the server is a cluster member.
    public var clusterURL: String? {
        state.withLock { $0.clusterPort }.map { "nats-route://127.0.0.1:\($0)" }
    }

    /// The HTTP monitoring port, when enabled (cluster members).
    var monitoringPort: Int? { state.withLock { $0.monitoringPort } }

    /// The pid of the current (or last) server process.
    public var pid: Int32 { state.withLock { $0.lastPID } }

    /// Whether the server process is running (false after `kill()`, `stop()` or a crash).
    public var isRunning: Bool {
        guard let process = state.withLock({ $0.process }) else { return false }
        return !process.hasExited
    }

    // MARK: Log

    /// Everything the server logged so far, across restarts (for debugging failures).
    public var log: String {
        if let final = state.withLock({ $0.finalLog }) { return final }
        return readTextFile(logPath)
    }

    /// The log of the current run only.
    var currentRunLog: String {
        let offset = state.withLock { $0.runLogOffset }
        let all = Array(log.utf8)
        return String(decoding: all[min(offset, all.count)...], as: UTF8.self)
    }

    /// Waits until the log (of any run so far) contains `text`.
    public func waitForLog(_ text: String, timeout: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !log.contains(text) {
            if clock.now >= deadline {
                throw NATSTestSupportError(
                    code: .timeout,
                    message: "nats-server (pid \(pid)) did not log \"\(text)\" within \(timeout). Log tail:\n\(tail(log))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Lifecycle

    /// Stops the server gracefully (SIGTERM, then SIGKILL if it hangs) and removes its directory.
    /// Idempotent.
    public func stop() async {
        let process = state.withLock { state -> ChildProcess? in
            defer { state.process = nil }
            return state.stopped ? nil : state.process
        }
        if let process { await terminate(process, signal: SIGTERM) }
        let finish = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard finish else { return }
        let finalLog = readTextFile(logPath)
        state.withLock { $0.finalLog = finalLog }
        await watchdog.finish()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Kills the server with SIGKILL, like a crash. The directory (JetStream store) stays for
    /// `restart()`.
    public func kill() async {
        let process = state.withLock { state -> ChildProcess? in
            defer { state.process = nil }
            return state.process
        }
        if let process { await terminate(process, signal: SIGKILL) }
    }

    /// Starts the server again on the same client (and cluster) port with the same store; a running
    /// server is stopped gracefully first.
    public func restart() async throws {
        let (process, stopped) = state.withLock { state in
            defer { state.process = nil }
            return (state.process, state.stopped)
        }
        guard !stopped else {
            throw NATSTestSupportError(code: .invalidState, message: "restart() after stop(): the server's directory is gone")
        }
        if let process { await terminate(process, signal: SIGTERM) }
        state.withLock { state in
            state.launch.clientPort = state.port
            state.launch.clusterPort = state.clusterPort
        }
        try await run()
    }

    /// Puts the server into lame duck mode (`nats-server --signal ldm=<pid>`): it stops accepting
    /// clients, asks connected ones to reconnect elsewhere and shuts down after the lame duck
    /// duration (`lame_duck_duration` in `extraConfig`; 2 minutes by default).
    public func enterLameDuckMode() async throws {
        let pid = state.withLock { $0.process?.pid }
        guard let pid else {
            throw NATSTestSupportError(code: .invalidState, message: "enterLameDuckMode(): the server is not running")
        }
        let outputPath = directory + "/signal.out"
        let signaller = try ChildProcess.spawn(executable: executable, arguments: ["--signal", "ldm=\(pid)"], outputPath: outputPath)
        let exited = try await signaller.waitForExit(timeout: .seconds(10))
        if !exited { signaller.send(SIGKILL) }
        signaller.reap()
        guard exited, signaller.exitCode == 0 else {
            throw NATSTestSupportError(
                code: .commandFailed,
                message: "nats-server --signal ldm=\(pid) failed: \(readTextFile(outputPath))"
            )
        }
    }

    // MARK: Internals

    /// Ends `process`: the signal, a bounded wait, SIGKILL if needed, then disarm and reap — in that
    /// order, so the watchdog never holds a pid that could already belong to someone else.
    private func terminate(_ process: ChildProcess, signal: Int32) async {
        process.send(signal)
        var exited = (try? await process.waitForExit(timeout: .seconds(15))) ?? false
        if !exited {
            process.send(SIGKILL)
            exited = (try? await process.waitForExit(timeout: .seconds(5))) ?? false
        }
        watchdog.disarm()
        process.reap()
    }

    /// Writes the configuration, spawns the server and waits for it to be ready.
    private func run() async throws {
        let launch = state.withLock { $0.launch }
        let config = Self.configuration(options: options, launch: launch, directory: directory)
        guard FileManager.default.createFile(atPath: configPath, contents: Data(config.utf8)) else {
            throw NATSTestSupportError(code: .systemCall, message: "cannot write \(configPath)")
        }
        let logOffset = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        let process = try ChildProcess.spawn(
            executable: executable,
            arguments: ["-c", configPath],
            outputPath: logPath,
            newProcessGroup: true
        )
        watchdog.arm(process.pid)
        state.withLock { state in
            state.process = process
            state.lastPID = process.pid
            state.runLogOffset = logOffset
        }
        let ready = try await waitUntilReady(process: process, launch: launch)
        state.withLock { state in
            state.port = ready.clientPort
            state.clusterPort = ready.clusterPort
            state.monitoringPort = ready.monitoringPort
        }
    }

    private struct Ready {
        var clientPort: Int
        var clusterPort: Int?
        var monitoringPort: Int?
    }

    /// Polls the log until the server reports every listener it was asked for and "Server is
    /// ready" (which nats-server logs before it opens the route listener, hence both checks).
    private func waitUntilReady(process: ChildProcess, launch: Launch, timeout: Duration = .seconds(30)) async throws -> Ready {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let log = currentRunLog
            if log.contains("Server is ready"),
               let clientPort = Self.port(in: log, after: "Listening for client connections on 127.0.0.1:")
            {
                let clusterPort = Self.port(in: log, after: "Listening for route connections on 127.0.0.1:")
                let monitoringPort = Self.port(in: log, after: "Starting http monitor on 127.0.0.1:")
                if (options.cluster == nil || clusterPort != nil) && (!launch.monitoring || monitoringPort != nil) {
                    return Ready(clientPort: clientPort, clusterPort: clusterPort, monitoringPort: monitoringPort)
                }
            }
            if process.hasExited {
                await kill()
                throw NATSTestSupportError(
                    code: .serverExited,
                    message: "nats-server exited during startup (config \(configPath)). Log tail:\n\(tail(currentRunLog))"
                )
            }
            if clock.now >= deadline {
                await kill()
                throw NATSTestSupportError(
                    code: .notReady,
                    message: "nats-server did not become ready within \(timeout). Log tail:\n\(tail(currentRunLog))"
                )
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The port number following the first occurrence of `prefix` in `log`.
    static func port(in log: String, after prefix: String) -> Int? {
        guard let range = log.range(of: prefix) else { return nil }
        let digits = log[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return Int(digits)
    }
}

/// Runs `body` with a started server and always stops the server afterwards, also when `body`
/// throws.
public func withNATSServer<T>(
    _ options: NATSServer.Options = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (NATSServer) async throws -> T
) async throws -> T {
    let server = try await NATSServer.start(options)
    let result: T
    do {
        result = try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
    return result
}
