import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A running native workload process and its process group.
///
/// The process is the leader of a new process group, so signals reach everything it forks. When the
/// leader exits on its own, whatever is left in its group is killed: a workload's lifetime is its
/// main process's. Two dedicated threads per process do the blocking work (`waitid`, and `poll` on
/// the output pipes); async callers are resumed through continuations and never block.
///
/// The leader is reaped only after its group has been killed: until then it is a zombie that keeps
/// its pid, and therefore the group id, from being reused, so `kill(-pgid, …)` can never hit an
/// unrelated group.
public final class NativeProcess: Sendable {
    /// The process id, which is also its process group id.
    public let pid: Int32
    /// Everything the process (and its group) writes to stdout and stderr, line by line.
    public let output: OutputLines

    private let configuration: NativeProcessConfiguration
    private let logger: Logger
    private let state: Mutex<State>
    private let droppedLines = Atomic<Int>(0)
    /// Written (then closed) once the group is gone, to tell the output thread to drain and stop
    /// even if an escaped process still holds the pipes open. The read end is closed only after
    /// that write (by whichever side comes last): writing to a pipe without readers raises SIGPIPE.
    private let wakeWriteFD: Int32
    private let wakeReadFD: Int32

    private struct State {
        var leaderStatus: ExitStatus?
        /// The leader was collected with `waitpid`; no signal may be sent to the group after this.
        var reaped = false
        var outputFinished = false
        /// `stop()` owns the end of the group: the exit thread must not kill and reap it.
        var stopping = false
        var leaderWaiters: [CheckedContinuation<ExitStatus, Never>] = []
        var finalWaiters: [CheckedContinuation<ExitStatus, Never>] = []
    }

    private init(
        pid: Int32, output: OutputLines, configuration: NativeProcessConfiguration, logger: Logger,
        wakeReadFD: Int32, wakeWriteFD: Int32
    ) {
        self.pid = pid
        self.output = output
        self.configuration = configuration
        self.logger = logger
        self.wakeWriteFD = wakeWriteFD
        self.wakeReadFD = wakeReadFD
        self.state = Mutex(State())
    }

    /// Lines dropped so far because the output consumer fell behind.
    public var droppedOutputLines: Int { droppedLines.load(ordering: .relaxed) }

    /// Starts `configuration.executable` in a new process group with exactly the configured argv and
    /// environment, stdin from `/dev/null` and stdout/stderr into `output`.
    public static func start(_ configuration: NativeProcessConfiguration, logger: Logger) throws(NativeRuntimeError) -> NativeProcess {
        let spawned = try Spawner.spawn(configuration)
        var logger = logger
        logger[metadataKey: "nex.process.pid"] = "\(spawned.pid)"
        let (stream, continuation) = AsyncStream.makeStream(
            of: OutputLine.self, bufferingPolicy: .bufferingOldest(configuration.output.bufferedLines)
        )
        let process = NativeProcess(
            pid: spawned.pid, output: OutputLines(stream: stream), configuration: configuration, logger: logger,
            wakeReadFD: spawned.wakeRead, wakeWriteFD: spawned.wakeWrite
        )
        logger.debug("native process started", metadata: ["nex.process.executable": "\(configuration.executable)"])
        // The output thread first: if the exit thread cannot start, the output thread is what
        // releases the pipes once we have ended the process ourselves.
        do {
            try SystemSupport.startThread {
                process.readOutput(stdout: spawned.stdoutRead, stderr: spawned.stderrRead, into: continuation)
            }
        } catch {
            kill(-spawned.pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(spawned.pid, &raw, 0) == -1 && errno == EINTR {}
            for descriptor in [spawned.stdoutRead, spawned.stderrRead, spawned.wakeRead, spawned.wakeWrite] {
                close(descriptor)
            }
            throw error
        }
        do {
            try SystemSupport.startThread { process.awaitLeaderExit() }
        } catch {
            // Without the exit thread nobody would reap the process: end it here.
            kill(-spawned.pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(spawned.pid, &raw, 0) == -1 && errno == EINTR {}
            process.state.withLock { state in
                state.leaderStatus = .signaled(SIGKILL)
                state.reaped = true
                process.wakeOutputReader(state)
            }
            throw error
        }
        return process
    }

    /// Starts a process, runs `body` with it, and stops it (group included) when `body` returns or
    /// throws, so no process outlives the scope. Returns `body`'s result.
    public static func withProcess<Result: Sendable>(
        _ configuration: NativeProcessConfiguration,
        logger: Logger,
        _ body: (NativeProcess) async throws -> Result
    ) async throws -> Result {
        let process = try start(configuration, logger: logger)
        let result: Result
        do {
            result = try await body(process)
        } catch {
            _ = await process.stop()
            throw error
        }
        _ = await process.stop()
        return result
    }

    /// Waits until the process has ended, the rest of its group is gone and its output has been
    /// read to the end (so `output` holds every remaining line), then returns how the leader ended.
    public func wait() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let ready: ExitStatus? = state.withLock { state in
                if state.reaped && state.outputFinished, let status = state.leaderStatus { return status }
                state.finalWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Stops the process group: SIGTERM to every member, up to `stopGracePeriod` for them to exit,
    /// then SIGKILL to whatever is left. Returns how the leader ended (which may be a clean exit if
    /// it handles SIGTERM). Safe to call more than once and after the process ended on its own.
    /// If the calling task is cancelled, escalation to SIGKILL happens immediately.
    public func stop() async -> ExitStatus {
        let signalled = state.withLock { state -> Bool in
            state.stopping = true
            guard !state.reaped else { return false }
            kill(-pid, SIGTERM)
            return true
        }
        if signalled {
            logger.debug("stopping native process group", metadata: ["nex.process.grace": "\(configuration.stopGracePeriod)"])
            let deadline = ContinuousClock.now.advanced(by: configuration.stopGracePeriod)
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = await self.leaderExit()
                    return true
                }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return false
                }
                if await group.next() == true {
                    // The leader is done; its children got the same SIGTERM and the same deadline.
                    while !Task.isCancelled, ContinuousClock.now < deadline,
                        SystemSupport.processGroupHasLiveMembers(pid)
                    {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                state.withLock { state in
                    if !state.reaped { kill(-pid, SIGKILL) }
                }
                group.cancelAll()
            }
            _ = await leaderExit()
            let (waiters, status) = state.withLock { state in
                finalizeGroup(&state)
                return takeFinalWaiters(&state)
            }
            if let status { waiters.forEach { $0.resume(returning: status) } }
        }
        return await wait()
    }

    /// Resumes as soon as the leader has exited, before its group is cleaned up.
    private func leaderExit() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let ready: ExitStatus? = state.withLock { state in
                if let status = state.leaderStatus { return status }
                state.leaderWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    // MARK: - Exit thread

    /// Blocks (on its own thread) until the leader exits, without reaping it.
    private func awaitLeaderExit() {
        var info = siginfo_t()
        var status: ExitStatus
        var lost = false
        while true {
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0 {
                status = ExitStatus(info)
                break
            }
            if errno == EINTR { continue }
            // ECHILD: someone else reaped our child (SIGCHLD set to SIG_IGN, or a stray wait(-1)).
            // The status is lost and the pid may already be reused, so the group is not signalled.
            status = .exited(-1)
            lost = true
            break
        }
        if lost {
            logger.info("native process was reaped by someone else; exit status unknown")
        } else {
            logger.debug("native process exited", metadata: ["nex.process.status": "\(status)"])
        }
        let (leaderWaiters, finalWaiters, finalStatus) = state.withLock { state in
            state.leaderStatus = status
            let leaderWaiters = state.leaderWaiters
            state.leaderWaiters = []
            if lost {
                state.reaped = true
                wakeOutputReader(state)
            } else if !state.stopping {
                finalizeGroup(&state)
            }
            let (finalWaiters, finalStatus) = takeFinalWaiters(&state)
            return (leaderWaiters, finalWaiters, finalStatus)
        }
        leaderWaiters.forEach { $0.resume(returning: status) }
        if let finalStatus { finalWaiters.forEach { $0.resume(returning: finalStatus) } }
    }

    /// Kills what is left of the group, reaps the leader and lets the output thread finish.
    /// Called with the lock held, only after the leader has exited (so `waitpid` returns at once).
    private func finalizeGroup(_ state: inout State) {
        guard !state.reaped else { return }
        kill(-pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        state.reaped = true
        wakeOutputReader(state)
    }

    /// Called with the lock held, once.
    private func wakeOutputReader(_ state: State) {
        var byte: UInt8 = 1
        _ = write(wakeWriteFD, &byte, 1)
        close(wakeWriteFD)
        if state.outputFinished { close(wakeReadFD) }
    }

    private func takeFinalWaiters(_ state: inout State) -> ([CheckedContinuation<ExitStatus, Never>], ExitStatus?) {
        guard state.reaped, state.outputFinished, let status = state.leaderStatus else { return ([], nil) }
        let waiters = state.finalWaiters
        state.finalWaiters = []
        return (waiters, status)
    }

    // MARK: - Output thread

    /// Reads both pipes (on its own thread) until both reach EOF, or until the group is gone and
    /// what is already in the pipes has been read.
    private func readOutput(
        stdout: Int32, stderr: Int32, into continuation: AsyncStream<OutputLine>.Continuation
    ) {
        let maxLineLength = configuration.output.maxLineLength
        var splitters = [LineSplitter(maxLineLength: maxLineLength), LineSplitter(maxLineLength: maxLineLength)]
        let streams: [StandardStream] = [.stdout, .stderr]
        var descriptors = [
            pollfd(fd: stdout, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0),
        ]
        var isOpen = [true, true]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var sink = OutputSink(continuation: continuation)
        var draining = false
        // An escaped process (one that left our group) could keep writing forever; after the group
        // is gone we read only what a bounded number of reads returns.
        var drainReadsLeft = 256

        func deliver(_ line: String, from stream: StandardStream) {
            if !sink.deliver(OutputLine(stream: stream, line: line)) {
                droppedLines.add(1, ordering: .relaxed)
            }
        }

        func close(_ index: Int) {
            isOpen[index] = false
            descriptors[index].fd = -1  // poll ignores negative descriptors
            if let last = splitters[index].finish() { deliver(last, from: streams[index]) }
        }

        reading: while isOpen[0] || isOpen[1] {
            let ready = poll(&descriptors, nfds_t(descriptors.count), draining ? 0 : -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.info("poll on native process output failed", metadata: ["error": "\(SystemSupport.errorText(errno))"])
                break
            }
            if ready == 0 {
                if draining { break }
                continue
            }
            for index in 0..<2 where isOpen[index] && descriptors[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    for line in splitters[index].append(buffer[..<count]) { deliver(line, from: streams[index]) }
                    if draining {
                        drainReadsLeft -= 1
                        if drainReadsLeft == 0 { break reading }
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(index)
                }
            }
            if descriptors[2].revents != 0 {
                draining = true
                descriptors[2].fd = -1
            }
        }
        for index in 0..<2 where isOpen[index] { close(index) }
        Glibc.close(stdout)
        Glibc.close(stderr)
        sink.finish()

        let (waiters, status) = state.withLock { state in
            state.outputFinished = true
            if state.reaped { Glibc.close(wakeReadFD) }
            return takeFinalWaiters(&state)
        }
        if let status { waiters.forEach { $0.resume(returning: status) } }
    }
}

extension ExitStatus {
    /// Decodes the `siginfo_t` that `waitid` fills in for an exited child.
    init(_ info: siginfo_t) {
        let value = info._sifields._sigchld.si_status
        switch info.si_code {
        case Int32(CLD_EXITED): self = .exited(value)
        default: self = .signaled(value)  // CLD_KILLED or CLD_DUMPED
        }
    }
}

/// The producer side of `OutputLines`: enqueues lines, drops (and counts) them when the consumer
/// is a full buffer behind, and attaches the count of a gap to the next line that gets through.
struct OutputSink {
    let continuation: AsyncStream<OutputLine>.Continuation
    /// Lines dropped since the last one that was enqueued.
    private(set) var pendingDrops = 0

    init(continuation: AsyncStream<OutputLine>.Continuation) {
        self.continuation = continuation
    }

    /// Offers `line`; false if it was dropped because the buffer was full.
    mutating func deliver(_ line: OutputLine) -> Bool {
        var line = line
        line.droppedBefore = pendingDrops
        switch continuation.yield(line) {
        case .enqueued:
            pendingDrops = 0
            return true
        case .dropped:
            pendingDrops += 1
            return false
        case .terminated:
            // Nobody listens any more; the reader keeps draining so the process never blocks.
            return true
        @unknown default:
            return true
        }
    }

    func finish() {
        continuation.finish()
    }
}
