import Logging
import NATS
import NativeRuntime
import NexAPI
import Synchronization

/// Runs the workloads of one type (native today; JavaScript and WebAssembly plug in beside it).
///
/// The agent does everything that is the same for every type (decoding, validation, duplicate checks,
/// the workload table, undeploy, shutdown, lame duck); a runtime only starts its workload and reports
/// through the ``WorkloadSession``.
protocol WorkloadRuntime: Sendable {
    /// Checks what is specific to the type, starts the workload, and reports through `session` until
    /// the workload has ended for good (or was stopped). Must call exactly one of
    /// ``WorkloadSession/accept(processGroup:controls:)`` and ``WorkloadSession/reject(_:)`` first:
    /// the node is waiting for that answer.
    func run(_ deployment: Deployment, session: WorkloadSession) async
}

/// A validated deploy request plus what the agent knows that the runtime needs.
struct Deployment: Sendable {
    var request: AgentDeployRequest
    /// Absolute path of the artifact inside the agent's directory (the name is already checked).
    var artifactPath: String
    /// The agent's directory: the workload's working directory.
    var directory: String
    var sandboxed: Bool
    /// The node opted in to dynamically linked services in its sandbox.
    var allowsDynamicServices: Bool
    var stopGracePeriod: Duration
    /// Used when the request carries no restart policy.
    var defaultRestartPolicy: AgentRestartPolicy
}

/// What the agent can do to a running workload.
struct WorkloadControls: Sendable {
    /// Stops the workload (and, for an essential service, its supervision); returns once stopped.
    var stop: @Sendable () async -> Void
    /// No more restarts: the current run is the last (lame duck).
    var disableRestarts: @Sendable () -> Void
}

/// The agent's side of one workload: sends the deploy reply, the workload's logs, process starts and
/// status events, and makes sure `workload_undeployed` goes out at most once, and never for a stop the
/// node asked for (the node reports those itself).
final class WorkloadSession: Sendable {
    let workloadID: String
    let workloadName: String
    private let replySubject: String
    private let publisher: AgentPublisher
    /// Puts the workload's controls into the agent's table; false when the agent is shutting down.
    private let register: @Sendable (WorkloadControls) -> Bool
    /// Opened once the deploy is answered: output that arrives earlier waits, so the node never sees
    /// a log line of a workload it has not been told about.
    private let answered = Latch()
    private let state = Mutex(State())

    private struct State {
        var accepted = false
        var stopRequested = false
        var ended = false
        /// How the workload ended, for the undeploy reply.
        var outcome: String?
    }

    init(workloadID: String, workloadName: String, replySubject: String, publisher: AgentPublisher,
         register: @escaping @Sendable (WorkloadControls) -> Bool) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.replySubject = replySubject
        self.publisher = publisher
        self.register = register
    }

    /// The workload runs: registers it and answers the deploy. Returns false (after answering with a
    /// refusal) when the agent is shutting down; the runtime must then stop what it started.
    func accept(processGroup: Int32?, controls: WorkloadControls) async -> Bool {
        let registered = register(controls)
        if registered {
            state.withLock { $0.accepted = true }
            await publisher.reply(AgentDeployReply(accepted: true, message: "Workload deployed", processGroup: processGroup),
                                  to: replySubject)
        } else {
            await publisher.reply(AgentDeployReply(accepted: false, message: "the agent is shutting down"), to: replySubject)
        }
        answered.fire()
        return registered
    }

    /// The workload could not be deployed: answers the deploy with `reason`.
    func reject(_ reason: String) async {
        await publisher.reply(AgentDeployReply(accepted: false, message: reason), to: replySubject)
        answered.fire()
    }

    /// A process of the workload started (first run or restart) as leader of `processGroup`.
    func processStarted(processGroup: Int32) async {
        guard isAccepted else { return }
        await publisher.publish(AgentProcessStarted(workloadID: workloadID, processGroup: processGroup),
                                to: AgentSubjects.process(agent: publisher.agentID))
    }

    /// One line of the workload's output: stdout at INFO, stderr at ERROR.
    func output(_ line: OutputLine) async {
        await answered.wait()
        guard isAccepted else { return }
        if line.droppedBefore > 0 {
            await log(.warn, "\(line.droppedBefore) output lines were dropped because the log publisher fell behind")
        }
        await log(line.stream == .stdout ? .info : .error, line.line)
    }

    /// A log record about this workload.
    func log(_ level: NexLogLevel, _ text: String) async {
        await publisher.publish(AgentLogEntry(workloadID: workloadID, level: level, text: text),
                                to: AgentSubjects.logs(agent: publisher.agentID))
    }

    /// An essential service failed and restarts: `workload_restarting`, unless a stop was requested.
    func restarting(code: Int, message: String) async {
        let report = state.withLock { $0.accepted && !$0.stopRequested && !$0.ended }
        guard report else { return }
        await publisher.publish(WorkloadStatusEvent(code: code, message: message, workloadID: workloadID, workloadName: workloadName),
                                to: AgentSubjects.event(agent: publisher.agentID, type: .workloadRestarting))
    }

    /// Function executions of this workload, for the node to count and announce; from any thread, without
    /// suspending.
    func executions(_ executions: [AgentFunctionExecution]) {
        guard isAccepted, !executions.isEmpty else { return }
        publisher.publishNow(executions, to: AgentSubjects.executions(agent: publisher.agentID))
    }

    /// ``log(_:_:)`` from any thread, without suspending.
    func logNow(_ level: NexLogLevel, _ text: String) {
        publisher.publishNow(AgentLogEntry(workloadID: workloadID, level: level, text: text),
                             to: AgentSubjects.logs(agent: publisher.agentID))
    }

    /// The workload is over for good. The first call wins; `workload_undeployed` is published only when
    /// the workload was accepted and ended by itself.
    func ended(outcome: String, code: Int, message: String) async {
        let report = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.ended = true
            state.outcome = outcome
            return state.accepted && !state.stopRequested
        }
        guard report else { return }
        await publisher.publish(WorkloadStatusEvent(code: code, message: message, workloadID: workloadID, workloadName: workloadName),
                                to: AgentSubjects.event(agent: publisher.agentID, type: .workloadUndeployed))
    }

    /// The node (or the agent's shutdown) stops the workload: nothing it does from now on is reported
    /// as an event.
    func requestStop() {
        state.withLock { $0.stopRequested = true }
    }

    /// How the workload ended, once it has.
    var outcome: String? { state.withLock { $0.outcome } }

    private var isAccepted: Bool { state.withLock { $0.accepted } }
}

/// Publishes the agent's messages on the internal NATS. Failures are logged, never thrown: a lost log
/// line must not take a workload down, and the node notices a dead connection by its pings.
struct AgentPublisher: Sendable {
    let client: NATSClient
    let agentID: String
    let logger: Logger

    func publish(_ value: some Encodable, to subject: String) async {
        do {
            try await client.publish(try NexJSON.encode(value), to: subject)
        } catch {
            logger.info("cannot publish", metadata: ["nats.subject": "\(subject)", "error": "\(error)"])
        }
    }

    /// ``publish(_:to:)`` from any thread, without suspending (the caller bounds how much it sends).
    func publishNow(_ value: some Encodable, to subject: String) {
        do {
            try client.publishNow(try NexJSON.encode(value), to: subject)
        } catch {
            logger.info("cannot publish", metadata: ["nats.subject": "\(subject)", "error": "\(error)"])
        }
    }

    func reply(_ value: some Encodable, to subject: String) async {
        await publish(value, to: subject)
    }
}
