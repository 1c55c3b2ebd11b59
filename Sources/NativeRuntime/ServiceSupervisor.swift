import Logging
import Synchronization

/// Supervises one essential service: runs it, restarts it after a failure (non-zero exit, death by
/// signal, or a failed start) per its `RestartPolicy`, and reports what happens through `events`.
///
/// A clean exit (code 0) ends supervision, and so do `stop()` and giving up. Restarts can be switched
/// off while the service runs (lame duck): the current run then is the last.
///
/// ```swift
/// let supervisor = ServiceSupervisor(configuration: configuration, restartPolicy: policy, logger: logger)
/// async let supervision: Void = supervisor.run { line in publish(line) }
/// for await event in supervisor.events { report(event) }
/// ```
public final class ServiceSupervisor: Sendable {
    /// Something that happened to the supervised service.
    public enum Event: Sendable, Hashable {
        /// A run began with this process id.
        case started(pid: Int32)
        /// The service could not be started; counts as a failure for the restart policy.
        case startFailed(NativeRuntimeError)
        /// The run ended. Every line of its output was handed to `run`'s handler before this.
        case exited(ExitStatus)
        /// Restart number `attempt` (counted from 1 since the last healthy run) follows after `after`.
        case restarting(attempt: Int, after: Duration)
        /// The policy's limit was reached; the service stays down.
        case gaveUp
    }

    /// The events of `run()`, in order; the sequence ends when `run()` returns.
    public let events: Events

    private let configuration: NativeProcessConfiguration
    private let restartPolicy: RestartPolicy
    private let logger: Logger
    private let eventContinuation: AsyncStream<Event>.Continuation
    private let stopRequested = Latch()
    private let finished = Latch()
    private let state = Mutex(State())

    private struct State {
        var running = false
        var hasRun = false
        var restartsEnabled = true
    }

    public init(configuration: NativeProcessConfiguration, restartPolicy: RestartPolicy, logger: Logger) {
        self.configuration = configuration
        self.restartPolicy = restartPolicy
        self.logger = logger
        // Unbounded is safe: a run yields at most four events, and runs are bounded by the policy.
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.events = Events(stream: stream)
        self.eventContinuation = continuation
    }

    /// Runs the service until it exits cleanly, the policy gives up, or `stop()` is called. Each
    /// output line of every run is passed to `output`, in order, before that run's `.exited` event.
    /// Call once; a second call returns at once.
    public func run(output: @escaping @Sendable (OutputLine) async -> Void = { _ in }) async {
        let mayRun = state.withLock { state in
            guard !state.hasRun else { return false }
            state.hasRun = true
            state.running = true
            return true
        }
        guard mayRun else { return }
        defer {
            state.withLock { $0.running = false }
            eventContinuation.finish()
            finished.fire()
        }

        var schedule = RestartSchedule(policy: restartPolicy)
        while !stopRequested.isFired, !Task.isCancelled {
            let decision: RestartSchedule.Decision
            let startedAt = ContinuousClock.now
            let process: NativeProcess
            do {
                process = try NativeProcess.start(configuration, logger: logger)
            } catch {
                logger.info("essential service failed to start", metadata: ["error": "\(error)"])
                eventContinuation.yield(.startFailed(error))
                decision = schedule.startFailed()
                guard await proceed(with: decision) else { return }
                continue
            }
            eventContinuation.yield(.started(pid: process.pid))

            let runEnded = Latch()
            let status = await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await line in process.output { await output(line) }
                }
                // Stops the process on stop() or when this task is cancelled; otherwise ends with the run.
                group.addTask {
                    await withTaskGroup(of: Void.self) { race in
                        race.addTask { await self.stopRequested.wait() }
                        race.addTask { await runEnded.wait() }
                        await race.next()
                        race.cancelAll()
                    }
                    if !runEnded.isFired { _ = await process.stop() }
                }
                let status = await process.wait()
                runEnded.fire()
                await group.waitForAll()
                return status
            }
            let restartsEnabled = state.withLock { $0.restartsEnabled }
            eventContinuation.yield(.exited(status))
            guard restartsEnabled, !stopRequested.isFired else { return }
            decision = schedule.processExited(status, after: ContinuousClock.now - startedAt)
            guard await proceed(with: decision) else { return }
        }
    }

    /// Reports `decision` and sleeps its backoff; false when supervision is over.
    private func proceed(with decision: RestartSchedule.Decision) async -> Bool {
        switch decision {
        case .finish:
            return false
        case .giveUp:
            logger.info("essential service failed too often; giving up", metadata: ["nex.restarts": "\(restartPolicy.maxRestarts)"])
            eventContinuation.yield(.gaveUp)
            return false
        case .restart(let attempt, let delay):
            logger.info("restarting essential service", metadata: ["nex.restart.attempt": "\(attempt)", "nex.restart.delay": "\(delay)"])
            eventContinuation.yield(.restarting(attempt: attempt, after: delay))
            // Sleep, unless stop() comes first.
            let stopped = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await self.stopRequested.wait()
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: delay)
                    return false
                }
                let first = await group.next() ?? true
                group.cancelAll()
                return first
            }
            return !stopped && !Task.isCancelled
        }
    }

    /// Ends supervision without a restart: stops the current run (SIGTERM to its process group,
    /// SIGKILL after the grace period) and returns once `run()` has finished.
    public func stop() async {
        stopRequested.fire()
        // run() stops its current process when the latch fires.
        if state.withLock({ $0.running }) { await finished.wait() }
    }

    /// No further restarts: the current run, if any, is the last (Nex's lame duck mode).
    public func disableRestarts() {
        state.withLock { $0.restartsEnabled = false }
    }

    /// The supervisor's events as an async sequence; iterate it once.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = Event
        public typealias Failure = Never

        let stream: AsyncStream<Event>

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncStream<Event>.AsyncIterator

            public mutating func next() async -> Event? {
                await base.next()
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async -> Event? {
                await base.next(isolation: actor)
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator())
        }
    }
}
