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

        var subscriptions: [(pattern: String, subscription: NATSSubscription)] = []
        do {
            for pattern in request.triggerSubjects {
                subscriptions.append((pattern, try await client.subscribe(to: pattern, queue: pattern)))
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
                // Draining ends the trigger loops once the messages already received are handled.
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
        // Reports follow replies, in completion order, coalesced by one task.
        let executed = ExecutionBatcher()
        let inFlight = InFlightLimit(maximum: Self.maximumInFlight)
        await withDiscardingTaskGroup { group in
            group.addTask {
                while await executed.waitForExecutions() {
                    // Let the executions that finish meanwhile join this report: one message to the node for
                    // many triggers instead of one each.
                    if !executed.isFinished { try? await Task.sleep(for: Self.reportCoalescing) }
                    await reporter.report(executed.takeAll())
                }
            }
            await withDiscardingTaskGroup { readers in
                for (pattern, subscription) in triggerSubscriptions {
                    readers.addTask {
                        do {
                            for try await message in subscription {
                                await inFlight.acquire()
                                dispatch(message, pattern: pattern, engine: engine, client: client) { execution in
                                    executed.add(execution)
                                    inFlight.release()
                                }
                            }
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

    /// Invocations under way at once; later triggers wait in the subscription's bounded buffer (whose overflow
    /// NATS reports as a slow consumer) instead of piling up in memory.
    static let maximumInFlight = 256

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

/// Counts invocations in flight; `acquire` waits while `maximum` are.
private final class InFlightLimit: Sendable {
    private struct State {
        var count = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let maximum: Int
    private let state = Mutex(State())

    init(maximum: Int) {
        self.maximum = maximum
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.count < maximum {
                    state.count += 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    /// Ends one invocation: its place goes to a waiter, if any.
    func release() {
        let (next, idle) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), []) }
            state.count -= 1
            guard state.count == 0 else { return (nil, []) }
            defer { state.idleWaiters = [] }
            return (nil, state.idleWaiters)
        }
        next?.resume()
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

/// Reports function executions to the node, which counts them and publishes their
/// `function_exec_succeeded`/`_failed` events; failures also get an ERROR log line.
private struct ExecutionReporter: Sendable {
    let session: WorkloadSession
    let workloadID: String

    func report(_ executions: [Execution]) async {
        var reports: [AgentFunctionExecution] = []
        reports.reserveCapacity(executions.count)
        for execution in executions {
            switch execution.outcome {
            case .success(let elapsed):
                let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
                reports.append(AgentFunctionExecution(workloadID: workloadID, triggerSubject: execution.trigger,
                                                      outcome: .succeeded(elapsedNanos: nanos)))
            case .failure(let error):
                await session.log(.error, "Function execution failed: \(error.message)")
                reports.append(AgentFunctionExecution(workloadID: workloadID, triggerSubject: execution.trigger,
                                                      outcome: .failed(error.message)))
            }
        }
        await session.executions(reports)
    }
}

/// Finished invocations on their way to the reporter: the engines' threads add them, the reporter task takes
/// everything gathered so far.
private final class ExecutionBatcher: Sendable {
    private struct State {
        var pending: [Execution] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func add(_ execution: Execution) {
        let waiter = state.withLock { state in
            state.pending.append(execution)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more executions come; the reporter ends once it took the last ones.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Waits until there are executions to report (true) or there will be none (false).
    func waitForExecutions() async -> Bool {
        while true {
            let ready = state.withLock { state -> Bool? in
                if !state.pending.isEmpty { return true }
                return state.finished ? false : nil
            }
            if let ready { return ready }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    func takeAll() -> [Execution] {
        state.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
    }
}
