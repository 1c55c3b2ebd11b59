import Foundation
import Logging
import NATS
import NativeRuntime
import NexAPI
import NexHostServices
import Synchronization

/// Runs functions (`v8`, `wasm`): compiles the artifact once with the type's engine, queue-subscribes
/// every trigger subject on the workload NATS (queue group = the subject, so instances on any node share
/// the load), and per message invokes the engine, replies, and only then reports the execution.
///
/// The agent itself holds the trigger subscriptions: a trigger costs one NATS round trip plus the
/// execution, with no hop through the node (0.x relayed every trigger through the node and the internal
/// NATS).
struct FunctionWorkloadRuntime: WorkloadRuntime {
    /// Builds a workload's host services on its NATS connection, with what releases them.
    typealias HostServicesMaker = @Sendable (_ client: NATSClient, _ namespace: String, _ enabled: Set<String>)
        -> (services: any HostServices, shutdown: @Sendable () async -> Void)

    let factory: any FunctionEngineFactory
    let makeHostServices: HostServicesMaker
    let logger: Logger

    /// The host services 0.x knows; `enabled_host_services` selects among them.
    static let allHostServices: Set<String> = ["http", "kv", "messaging", "objectstore"]

    func run(_ deployment: Deployment, session: WorkloadSession) async {
        let request = deployment.request
        var workloadLogger = logger
        workloadLogger[metadataKey: "nex.workload.id"] = "\(request.workloadID)"
        let logger = workloadLogger

        let artifact: [UInt8]
        do {
            artifact = try Array(Data(contentsOf: URL(fileURLWithPath: deployment.artifactPath)))
        } catch {
            await session.reject("artifact \(request.artifact) cannot be read: \(error.localizedDescription)")
            return
        }
        let configuration: NATSClient.Configuration
        switch Self.workloadConnection(request.hostServices, workloadName: request.workloadName) {
        case .success(let value): configuration = value
        case .failure(let reason):
            await session.reject(reason.message)
            return
        }

        // Guest output (console.log, stderr) reaches the log stream in order, off the engine's threads.
        let (guestLogs, guestLog) = AsyncStream.makeStream(of: (NexLogLevel, String).self, bufferingPolicy: .bufferingNewest(4096))
        let client = NATSClient(configuration: configuration, logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                do { try await client.run() } catch { logger.info("workload NATS connection ended", metadata: ["error": "\(error)"]) }
            }
            group.addTask {
                for await (level, text) in guestLogs { await session.log(level, text) }
            }
            await serve(deployment, artifact: artifact, client: client, session: session,
                        log: { level, text in guestLog.yield((level, text)) }, logger: logger)
            guestLog.finish()
            await client.close()
        }
    }

    /// The connection triggers arrive on and host services use: the deploy's host services connection
    /// (the node fills it from the request or its own configuration).
    static func workloadConnection(_ info: NATSJWTConnectionInfo?, workloadName: String) -> Result<NATSClient.Configuration, FunctionError> {
        guard let info, !info.natsURL.isEmpty else {
            return .failure(FunctionError(code: .engine, message: "no workload NATS connection: the node gave no host services URL"))
        }
        var configuration: NATSClient.Configuration
        do {
            configuration = try NATSClient.Configuration(url: info.natsURL)
        } catch {
            return .failure(FunctionError(code: .engine, message: "host services URL \(info.natsURL) is not a NATS URL: \(error.message)"))
        }
        configuration.name = "nex-hostservices-\(workloadName)"
        if !info.natsUserJWT.isEmpty, !info.natsUserSeed.isEmpty {
            configuration.authentication = .jwt(info.natsUserJWT, seed: info.natsUserSeed)
        } else if !info.natsUserSeed.isEmpty {
            configuration.authentication = .nkey(seed: info.natsUserSeed)
        }
        configuration.connectTimeout = .seconds(5)
        return .success(configuration)
    }

    private func serve(_ deployment: Deployment, artifact: [UInt8], client: NATSClient, session: WorkloadSession,
                       log: @escaping @Sendable (NexLogLevel, String) -> Void, logger: Logger) async {
        let request = deployment.request
        do {
            try await client.waitUntilConnected()
        } catch {
            await session.reject("cannot connect to the workload NATS: \(error)")
            return
        }
        let enabled = request.enabledHostServices.map(Set.init) ?? Self.allHostServices
        let limits = request.functionLimits.map {
            FunctionLimits(executionTimeout: .milliseconds($0.executionTimeoutMilliseconds), maxArtifactBytes: $0.maxArtifactBytes,
                           maxMemoryBytes: $0.maxMemoryBytes)
        } ?? FunctionLimits()
        let hostServices = enabled.isEmpty ? nil : makeHostServices(client, request.namespace, enabled)
        await serveTriggers(deployment, artifact: artifact, client: client, session: session, log: log, limits: limits,
                    hostServices: hostServices?.services, logger: logger)
        await hostServices?.shutdown()
    }

    /// Compiles, subscribes the triggers, answers the deploy, then serves until stopped.
    private func serveTriggers(_ deployment: Deployment, artifact: [UInt8], client: NATSClient, session: WorkloadSession,
                               log: @escaping @Sendable (NexLogLevel, String) -> Void, limits: FunctionLimits,
                               hostServices: (any HostServices)?, logger: Logger) async {
        let request = deployment.request
        let context = FunctionContext(
            workloadID: request.workloadID, workloadName: request.workloadName, namespace: request.namespace,
            environment: request.environment, limits: limits, hostServices: hostServices, log: log)
        let engine: any FunctionEngine
        do {
            engine = try await factory.compile(artifact, context: context)
        } catch {
            await session.reject(error.message)
            return
        }

        // Triggers go from the connection's event loop straight to the engine (no task in between); the reply
        // goes out from the engine's thread; reports follow, coalesced by the reporter's thread.
        let executed = ExecutionBatcher()
        let inFlight = InFlightLimit(maximum: Self.maximumInFlight)
        let overflow = OverflowReporter(logger: logger)
        var subscriptions: [(pattern: String, subscription: NATSSubscription)] = []
        do {
            for pattern in request.triggerSubjects {
                let subscription = try await client.subscribe(to: pattern, queue: pattern) { message in
                    guard inFlight.tryAcquire() else {
                        overflow.dropped(pattern: pattern)
                        return
                    }
                    dispatch(message, pattern: pattern, engine: engine, client: client) { execution in
                        executed.add(execution)
                        inFlight.release()
                    }
                }
                subscriptions.append((pattern, subscription))
            }
            try await client.flush()
        } catch {
            for (_, subscription) in subscriptions { try? await subscription.unsubscribe() }
            await engine.shutdown()
            await session.reject("cannot subscribe the trigger subjects: \(error)")
            return
        }

        let stopRequested = Latch()
        let triggerSubscriptions = subscriptions
        let accepted = await session.accept(processGroup: nil, controls: WorkloadControls(
            stop: {
                stopRequested.fire()
                // Draining ends the subscriptions once the messages already received are dispatched.
                for (_, subscription) in triggerSubscriptions { try? await subscription.drain() }
            },
            disableRestarts: {}))
        guard accepted else {
            for (_, subscription) in subscriptions { try? await subscription.unsubscribe() }
            await engine.shutdown()
            return
        }
        logger.debug("function ready", metadata: ["nex.triggers": "\(request.triggerSubjects)"])

        let reporter = ExecutionReporter(session: session, workloadID: request.workloadID)
        await withDiscardingTaskGroup { group in
            group.addTask { await reporter.run(executed, coalescing: Self.reportCoalescing) }
            await withDiscardingTaskGroup { watchers in
                for (pattern, subscription) in triggerSubscriptions {
                    watchers.addTask {
                        // The handler consumes the messages: this only waits for the subscription's end.
                        do {
                            for try await _ in subscription {}
                        } catch {
                            logger.info("trigger subscription ended", metadata: ["nats.subject": "\(pattern)", "error": "\(error)"])
                        }
                    }
                }
            }
            // The subscriptions ended (stop drains them): the invocations under way finish and report first.
            await inFlight.waitUntilIdle()
            executed.finish()
        }
        await engine.shutdown()
        let outcome = stopRequested.isFired ? "stopped" : "trigger subscriptions ended"
        await session.ended(outcome: outcome, code: stopRequested.isFired ? 0 : -1,
                           message: "Function \(request.workloadName) stopped: \(outcome)")
    }

    /// Invocations queued or running at once; beyond, triggers are dropped (as a slow consumer's messages) rather
    /// than piling up in memory — with a few worker threads, a deeper queue would only answer after requesters
    /// gave up.
    static let maximumInFlight = 1024

    /// How long executions are gathered before they are reported (events are at most this late).
    static let reportCoalescing: Duration = .milliseconds(2)

    /// One trigger: the engine runs it and, on its own thread, the reply goes out at once; the execution is
    /// then handed to `finished` for the event.
    private func dispatch(_ message: NATSMessage, pattern: String, engine: any FunctionEngine, client: NATSClient,
                          finished: @escaping @Sendable (Execution) -> Void) {
        let start = ContinuousClock.now
        let logger = self.logger
        engine.invoke(subject: message.subject, payload: message.bytes) { result in
            let elapsed = ContinuousClock.now - start
            if case .success(let output) = result, let reply = message.replyTo {
                do { try client.publishNow(output, to: reply) } catch {
                    logger.info("cannot send a function's reply", metadata: ["error": "\(error)"])
                }
            }
            finished(Execution(trigger: pattern, outcome: result.map { _ in elapsed }))
        }
    }
}

/// One finished invocation, for its event.
private struct Execution: Sendable {
    var trigger: String
    /// How long it ran, or why it failed.
    var outcome: Result<Duration, FunctionError>
}

/// Counts invocations in flight (queued in the engine or running), up to `maximum`.
final class InFlightLimit: Sendable {
    private struct State {
        var count = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let maximum: Int
    private let state = Mutex(State())

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes a place; false when all `maximum` are taken.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.count < maximum else { return false }
            state.count += 1
            return true
        }
    }

    func release() {
        let idle = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in idle { waiter.resume() }
    }

    /// Returns once no invocation is in flight.
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.count == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}

/// Triggers dropped because ``FunctionWorkloadRuntime/maximumInFlight`` invocations were already queued or
/// running (as NATS drops a slow consumer's messages): counted, and logged once per burst.
private final class OverflowReporter: Sendable {
    private let logger: Logger
    private let state = Mutex((dropped: 0, lastLog: ContinuousClock.Instant?.none))

    init(logger: Logger) {
        self.logger = logger
    }

    func dropped(pattern: String) {
        let report = state.withLock { state -> Int? in
            state.dropped += 1
            let now = ContinuousClock.now
            if let last = state.lastLog, now - last < .seconds(1) { return nil }
            state.lastLog = now
            defer { state.dropped = 0 }
            return state.dropped
        }
        if let report {
            logger.warning("function is overloaded: dropping triggers", metadata: [
                "nats.subject": "\(pattern)", "nex.dropped": "\(report)", "nex.in_flight.max": "\(FunctionWorkloadRuntime.maximumInFlight)",
            ])
        }
    }
}

/// Reports function executions to the node, which counts them and publishes their
/// `function_exec_succeeded`/`_failed` events; failures also get an ERROR log line.
///
/// It runs on a thread of its own at a lower priority (nice +10) than the threads that serve triggers, and
/// wakes at most once per coalescing window: encoding and sending reports gives way to the next trigger.
private struct ExecutionReporter: Sendable {
    let session: WorkloadSession
    let workloadID: String

    /// Reports until `executions` is finished and empty.
    func run(_ executions: ExecutionBatcher, coalescing: Duration) async {
        let (seconds, attoseconds) = coalescing.components
        let pause = useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                // On Linux the nice value is per thread and `who` 0 is the calling thread; raising one's own
                // needs no privilege.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
                while executions.waitForExecutions() {
                    // Let the executions that finish meanwhile join this report: one message to the node for
                    // many triggers instead of one each.
                    if !executions.isFinished { usleep(pause) }
                    report(executions.takeAll())
                }
                done.resume()
            }
            thread.name = "nex-reports"
            thread.start()
        }
    }

    private func report(_ executions: [Execution]) {
        var reports: [AgentFunctionExecution] = []
        reports.reserveCapacity(executions.count)
        for execution in executions {
            switch execution.outcome {
            case .success(let elapsed):
                let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
                reports.append(AgentFunctionExecution(workloadID: workloadID, triggerSubject: execution.trigger,
                                                      outcome: .succeeded(elapsedNanos: nanos)))
            case .failure(let error):
                session.logNow(.error, "Function execution failed: \(error.message)")
                reports.append(AgentFunctionExecution(workloadID: workloadID, triggerSubject: execution.trigger,
                                                      outcome: .failed(error.message)))
            }
        }
        session.executions(reports)
    }
}

/// Finished invocations on their way to the reporter: the engines' threads add them, the reporter's thread
/// takes everything gathered so far.
private final class ExecutionBatcher: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Execution] = []
    private var finished = false

    func add(_ execution: Execution) {
        condition.lock()
        pending.append(execution)
        if pending.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// No more executions come; the reporter ends once it took the last ones.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    var isFinished: Bool { condition.withLock { finished } }

    /// Blocks until there are executions to report (true) or there will be none (false).
    func waitForExecutions() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !finished { condition.wait() }
        return !pending.isEmpty
    }

    func takeAll() -> [Execution] {
        condition.withLock {
            defer { pending = [] }
            return pending
        }
    }
}
