import Crypto
import DequeModule
import Foundation
import JetStream
import Logging
import NATS
import NIOCore
import NKeys
import NativeRuntime
import NexAPI
import NexSandbox
import Synchronization

/// Runs workloads through agents: keeps the warm pool full, hands each deploy to an agent that completed
/// its handshake, relays the agents' logs and events to the control NATS, and notices agents that die.
///
/// One workload per agent (the protocol allows more later); an agent whose workload ended is stopped
/// and replaced by a fresh one through the pool.
final class WorkloadManager: Sendable {
    struct Settings: Sendable {
        var poolSize: Int
        var handshakeTimeout: Duration
        var pingInterval: Duration
        var pingTimeout: Duration
        /// Consecutive failed pings after which an agent counts as dead.
        var pingFailuresAllowed: Int
        /// How long a deploy waits for a ready agent.
        var agentWaitTimeout: Duration
        var agentRequestTimeout: Duration
        var restartPolicy: AgentRestartPolicy
        /// The host-services connection when the deploy request names none.
        var hostServices: NATSJWTConnectionInfo
        var enabledHostServices: [String]
        var functionLimits: AgentFunctionLimits
    }

    private let settings: Settings
    private let launcher: AgentLauncher
    /// The node's connection to the internal NATS.
    private let internalClient: NATSClient
    /// The control connection: artifacts, logs and events.
    private let control: NATSClient
    private let nodeID: NodeID
    private let logger: Logger
    private let state = Mutex(State())
    /// `function_exec_succeeded` events by workload and trigger: one per trigger is published, so they are
    /// spliced into a template (nil: this event does not fit one; the generic encoder writes it).
    private let succeededTemplates = Mutex<[String: CloudEventTemplate?]>([:])
    private let poolWake: AsyncStream<Void>.Continuation
    private let poolWakes: AsyncStream<Void>

    private struct Agent {
        enum Phase { case starting, ready, assigned(WorkloadID), stopping }
        var launched: AgentLauncher.Launched
        var phase: Phase
        var failedPings = 0
    }

    private struct State {
        var agents: [String: Agent] = [:]
        /// Agents that completed their handshake and wait for a workload, oldest first.
        var ready: Deque<String> = []
        var registry = WorkloadRegistry()
        var lameDuck = false
        var stopping = false
        /// Handshake failures in a row; slows the pool down when agents cannot start at all.
        var consecutiveFailures = 0
    }

    init(settings: Settings, launcher: AgentLauncher, internalClient: NATSClient, control: NATSClient, nodeID: NodeID, logger: Logger) {
        self.settings = settings
        self.launcher = launcher
        self.internalClient = internalClient
        self.control = control
        self.nodeID = nodeID
        self.logger = logger
        (poolWakes, poolWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: - Queries

    var registry: WorkloadRegistry { state.withLock { $0.registry } }

    /// How many workloads the node holds, starting ones included (node limits).
    var workloadCount: Int { state.withLock { $0.registry.count } }

    /// How many workloads run (ping, auction, heartbeat), counted under the lock without copying them.
    var runningCount: Int { state.withLock { $0.registry.runningCount } }

    /// Agents that completed their handshake and wait for work.
    var availableAgents: Int { state.withLock { $0.ready.count } }

    // MARK: - Running

    /// Serves the agents until cancelled: handshakes, logs, events, the pool and the pings.
    func run() async throws {
        let inbound = try await internalClient.subscribe(to: "hostint.>")
        try await internalClient.flush()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.serveAgents(inbound) }
            group.addTask { await self.pingAgents() }
            await self.fillPool(group: &group)
            try? await inbound.unsubscribe()
        }
    }

    /// Starts agents whenever the pool is short, and watches each one until it exits.
    private func fillPool(group: inout DiscardingTaskGroup) async {
        poolWake.yield()
        for await _ in poolWakes {
            while let agentID = nextAgentToLaunch() {
                let delay = state.withLock { state in
                    state.consecutiveFailures == 0 ? Duration.zero : .milliseconds(min(30_000, 250 << min(state.consecutiveFailures, 7)))
                }
                if delay > .zero, (try? await Task.sleep(for: delay)) == nil { return }
                do {
                    let launched = try launcher.launch(agentID: agentID, logger: logger)
                    let admitted = state.withLock { state in
                        guard !state.stopping else { return false }
                        state.agents[agentID] = Agent(launched: launched, phase: .starting)
                        return true
                    }
                    guard admitted else {
                        _ = await launched.process.stop()
                        launcher.release(launched)
                        removeDirectory(launched.directory)
                        return
                    }
                    logger.debug("Agent started", metadata: ["nex.agent.id": "\(agentID)", "nex.agent.pid": "\(launched.process.pid)"])
                    group.addTask { await self.watch(launched) }
                    group.addTask { await self.enforceHandshakeTimeout(launched) }
                } catch {
                    logger.error("Cannot start an agent", metadata: ["nex.error": "\(error)"])
                    state.withLock { $0.consecutiveFailures += 1 }
                }
            }
            if state.withLock({ $0.stopping }) { return }
        }
    }

    /// A fresh agent ID when the pool (starting + ready) is short of its size.
    private func nextAgentToLaunch() -> String? {
        state.withLock { state in
            guard !state.stopping else { return nil }
            let pooled = state.agents.values.filter {
                if case .starting = $0.phase { return true }
                if case .ready = $0.phase { return true }
                return false
            }.count
            return pooled < settings.poolSize ? UUID().uuidString.lowercased() : nil
        }
    }

    private func enforceHandshakeTimeout(_ launched: AgentLauncher.Launched) async {
        guard (try? await Task.sleep(for: settings.handshakeTimeout)) != nil else { return }
        let late = state.withLock { state -> Bool in
            guard let agent = state.agents[launched.id], case .starting = agent.phase else { return false }
            state.agents[launched.id]?.phase = .stopping
            state.consecutiveFailures += 1
            return true
        }
        guard late else { return }
        logger.warning("Agent did not complete its handshake in time; replacing it", metadata: ["nex.agent.id": "\(launched.id)"])
        _ = await launched.process.stop()
    }

    /// Relays the agent's own output to the node's log and handles its exit.
    private func watch(_ launched: AgentLauncher.Launched) async {
        var agentLogger = logger
        agentLogger[metadataKey: "nex.agent.id"] = "\(launched.id)"
        for await line in launched.process.output {
            agentLogger.debug("\(line.line)", metadata: ["nex.agent.stream": "\(line.stream)"])
        }
        let status = await launched.process.wait()
        await agentExited(launched, status: status)
    }

    private func agentExited(_ launched: AgentLauncher.Launched, status: ExitStatus) async {
        let lost: WorkloadRecord? = state.withLock { state in
            let agent = state.agents.removeValue(forKey: launched.id)
            state.ready.removeAll { $0 == launched.id }
            guard let agent, case .assigned(let workloadID) = agent.phase else { return nil }
            return state.registry.remove(workloadID)
        }
        let limitEvents = launcher.release(launched)
        removeDirectory(launched.directory)
        poolWake.yield()
        // A gone agent's credentials must not outlive it (0.x kept them: spec §1.8 item 10).
        if !state.withLock({ $0.stopping }) { await launcher.revoke(launched.id) }
        guard let lost else {
            logger.debug("Agent exited", metadata: ["nex.agent.id": "\(launched.id)", "nex.agent.status": "\(status)"])
            return
        }
        // The agent cannot stop its workload any more: make sure nothing of it survives. (A sandbox's
        // pids are its namespace's; its teardown above killed everything in it.)
        if launched.sandbox == nil { for group in lost.processGroups { kill(-group, SIGKILL) } }
        logger.error("Agent died; its workload is lost", metadata: [
            "nex.agent.id": "\(launched.id)", "nex.agent.status": "\(status)", "nex.workload.id": "\(lost.id)",
        ])
        guard lost.running else { return }
        let cause = limitEvents.first.map { "; \($0.message)" } ?? ""
        let event = WorkloadStatusEvent(code: -1, message: "Agent for workload \(lost.name) exited (\(status))\(cause); workload lost",
                                        workloadID: lost.id.rawValue, workloadName: lost.name.rawValue)
        await publishWorkloadEvent(.workloadUndeployed, event, of: lost)
    }

    /// Pings every agent that has completed its handshake; one that misses several pings in a row is
    /// stopped, and its exit is handled like any other.
    private func pingAgents() async {
        while (try? await Task.sleep(for: settings.pingInterval)) != nil {
            let agents = state.withLock { state in
                state.agents.values.filter {
                    if case .ready = $0.phase { return true }
                    if case .assigned = $0.phase { return true }
                    return false
                }.map(\.launched)
            }
            await withDiscardingTaskGroup { group in
                for agent in agents {
                    group.addTask { await self.ping(agent) }
                }
            }
        }
    }

    private func ping(_ agent: AgentLauncher.Launched) async {
        let answered = (try? await internalClient.request([], to: AgentSubjects.ping(agent: agent.id), timeout: settings.pingTimeout)) != nil
        let dead = state.withLock { state -> Bool in
            guard var entry = state.agents[agent.id] else { return false }
            entry.failedPings = answered ? 0 : entry.failedPings + 1
            state.agents[agent.id] = entry
            return entry.failedPings >= settings.pingFailuresAllowed
        }
        guard dead else { return }
        logger.error("Agent stopped answering pings; stopping it", metadata: ["nex.agent.id": "\(agent.id)"])
        _ = await agent.process.stop()
    }

    // MARK: - Agent messages

    private func serveAgents(_ inbound: NATSSubscription) async {
        do {
            for try await message in inbound {
                await handleAgentMessage(message)
            }
        } catch {
            logger.debug("Agent subscription ended", metadata: ["nex.error": "\(error)"])
        }
    }

    private func handleAgentMessage(_ message: NATSMessage) async {
        // hostint.{agent}.{kind}[.{type}] — the server only lets an agent publish under its own ID.
        let tokens = message.subject.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard tokens.count >= 3 else { return }
        let agentID = String(tokens[1])
        switch tokens[2] {
        case "handshake":
            await handshake(agentID, message)
        case "logs":
            guard let entry = try? NexJSON.decode(AgentLogEntry.self, from: message.payload.readableBytesView) else { return }
            await relayLog(agentID, entry)
        case "process":
            guard let started = try? NexJSON.decode(AgentProcessStarted.self, from: message.payload.readableBytesView),
                  let id = WorkloadID(validating: started.workloadID) else { return }
            state.withLock { state in
                guard state.registry.workload(id)?.agentID == agentID else { return }
                state.registry.update(id) { $0.processGroups.append(started.processGroup) }
            }
        case "executions":
            guard let executions = try? NexJSON.decode([AgentFunctionExecution].self, from: message.payload.readableBytesView)
            else { return }
            await relayExecutions(agentID, executions)
        case "events" where tokens.count == 4:
            guard let type = try? NexEventType(String(tokens[3])) else { return }
            await relayEvent(agentID, type, message.payload.readableBytesView)
        default:
            logger.debug("Ignoring agent message", metadata: ["nats.subject": "\(message.subject)"])
        }
    }

    private func handshake(_ agentID: String, _ message: NATSMessage) async {
        let accepted = state.withLock { state -> Bool in
            guard let agent = state.agents[agentID], case .starting = agent.phase, !state.stopping else { return false }
            state.agents[agentID]?.phase = .ready
            state.ready.append(agentID)
            state.consecutiveFailures = 0
            return true
        }
        if accepted {
            logger.debug("Agent completed its handshake", metadata: ["nex.agent.id": "\(agentID)"])
        } else {
            logger.warning("Refusing a handshake from an agent that is not starting", metadata: ["nex.agent.id": "\(agentID)"])
        }
        guard let replyTo = message.replyTo, let reply = try? NexJSON.encode(AgentHandshakeReply(accepted: accepted)) else { return }
        try? await internalClient.publish(reply, to: replyTo)
    }

    private func relayLog(_ agentID: String, _ entry: AgentLogEntry) async {
        guard let workloadID = entry.workloadID.flatMap(WorkloadID.init(validating:)),
              let record = state.withLock({ $0.registry.workload(workloadID) }), record.agentID == agentID
        else {
            logger.info("\(entry.text)", metadata: ["nex.agent.id": "\(agentID)", "nex.level": "\(entry.level)"])
            return
        }
        let subject = NexSubject.workloadLog(record.namespace, nodeID, record.name, record.id).description
        guard let bytes = try? NexJSON.encode(LogRecord(text: entry.text, level: entry.level, id: record.id.rawValue)) else { return }
        try? await control.publish(bytes, to: subject)
    }

    private func relayEvent(_ agentID: String, _ type: NexEventType, _ payload: ByteBufferView) async {
        switch type {
        case .workloadUndeployed, .workloadRestarting:
            guard let event = try? NexJSON.decode(WorkloadStatusEvent.self, from: payload) else { return }
            await relayStatus(agentID, type, event)
        default:
            logger.debug("Ignoring an agent event of unknown type", metadata: ["nex.agent.id": "\(agentID)", "nex.event.type": "\(type)"])
        }
    }

    /// Adds the executions' time to their workloads (of `agentID`) and publishes one event per execution.
    private func relayExecutions(_ agentID: String, _ executions: [AgentFunctionExecution]) async {
        let records: [WorkloadRecord?] = state.withLock { state in
            executions.map { execution in
                guard let id = WorkloadID(validating: execution.workloadID), let record = state.registry.workload(id),
                      record.agentID == agentID else { return nil }
                if case .succeeded(let nanos) = execution.outcome {
                    state.registry.update(id) { $0.runtime += .nanoseconds(nanos) }
                }
                return record
            }
        }
        for (execution, record) in zip(executions, records) {
            guard let record else { continue }
            switch execution.outcome {
            case .succeeded(let nanos):
                let event = { (id: String, time: GoTime, nanos: Int64) in
                    self.workloadEvent(.functionExecSucceeded, FunctionExecSucceededEvent(
                        workloadID: record.id.rawValue, workloadName: record.name.rawValue, namespace: record.namespace.rawValue,
                        triggerSubject: execution.triggerSubject, elapsedNanos: nanos), of: record, id: id, time: time)
                }
                let template = succeededTemplates.withLock { templates -> CloudEventTemplate? in
                    let key = "\(record.id) \(execution.triggerSubject)"
                    if let cached = templates[key] { return cached }
                    if templates.count >= 1024 { templates.removeAll() }
                    let template = CloudEventTemplate(event)
                    templates[key] = .some(template)
                    return template
                }
                let bytes = template?.encode(id: CloudEventID.random(), time: .now(), number: nanos)
                    ?? (try? NexJSON.encode(event(CloudEventID.random(), .now(), nanos)))
                await publishEvent(bytes, .functionExecSucceeded, of: record)
            case .failed(let error):
                await publishWorkloadEvent(.functionExecFailed, FunctionExecFailedEvent(
                    workloadID: record.id.rawValue, workloadName: record.name.rawValue, namespace: record.namespace.rawValue,
                    triggerSubject: execution.triggerSubject, error: error), of: record)
            }
        }
    }

    private func relayStatus(_ agentID: String, _ type: NexEventType, _ event: WorkloadStatusEvent) async {
        var event = event
        guard let workloadID = WorkloadID(validating: event.workloadID) else { return }
        // A workload that ended by itself leaves the registry here, so a stop racing with it finds nothing.
        let ended = type == .workloadUndeployed
        let record: WorkloadRecord? = state.withLock { state in
            guard let record = state.registry.workload(workloadID), record.agentID == agentID else { return nil }
            if ended {
                state.registry.remove(workloadID)
                state.agents[agentID]?.phase = .stopping
            }
            return record
        }
        guard let record else { return }
        // The sandbox knows what the agent cannot: that its limits killed the workload.
        if ended, let agent = state.withLock({ $0.agents[agentID]?.launched }), let limit = launcher.limitEvents(agent).first {
            event.message = "Workload \(record.name) was \(limit.message)" + (event.message.isEmpty ? "" : " (\(event.message))")
        }
        await publishWorkloadEvent(type, event, of: record)
        if ended, let agent = state.withLock({ $0.agents[agentID]?.launched }) {
            // The agent's workload is over; the agent goes with it and the pool replaces it.
            _ = await agent.process.stop()
        }
    }

    // MARK: - Deploy

    /// Deploys an admitted request; returns the workload ID, or the failure text of §2.4 steps 11–14.
    func deploy(_ admitted: DeployAdmission.Admitted, allowDuplicates: Bool, limits: NodeConfiguration.NodeLimits,
                waitingRounds: Int = 3) async -> Result<WorkloadID, DeployRefusal> {
        let workloadID = WorkloadID.random()
        enum Reservation { case reserved(AgentLauncher.Launched), noAgentYet, refused(DeployRefusal) }
        // Reserve the place first, so two concurrent deploys cannot both pass the limits.
        let reservation: Reservation = state.withLock { state in
            if state.lameDuck { return .refused(.init(NexFailure.lameDuckDeployDenied)) }
            if state.registry.isReplayed(admitted.claims) {
                return .refused(.init(NexFailure.invalidDeployRequest("this workload JWT was already used for a deploy")))
            }
            if limits.maxWorkloads > 0, state.registry.count >= limits.maxWorkloads {
                return .refused(.init(NexFailure.maximumWorkloadsReached))
            }
            if !allowDuplicates, state.registry.hasDuplicate(hash: admitted.hashClaim, namespace: admitted.namespace) {
                return .refused(.init(NexFailure.deployFailed(NexFailure.duplicateWorkload)))
            }
            guard let agentID = state.ready.popFirst(), let agent = state.agents[agentID] else { return .noAgentYet }
            state.agents[agentID]?.phase = .assigned(workloadID)
            state.registry.reserve(WorkloadRecord(
                id: workloadID, name: admitted.name, namespace: admitted.namespace, type: admitted.type,
                description: admitted.request.description, essential: admitted.request.essential ?? false,
                hash: admitted.hashClaim, totalBytes: 0, deployClaims: admitted.claims, agentID: agentID, startedAt: .now))
            return .reserved(agent.launched)
        }
        let agent: AgentLauncher.Launched
        switch reservation {
        case .reserved(let launched):
            agent = launched
            poolWake.yield()
        case .noAgentYet:
            // Wait for the pool (a deploy racing for the same agent may win it: then wait again).
            guard waitingRounds > 0, await waitForReadyAgent() else {
                return .failure(.init(NexFailure.noPoolAgent("no available agent client in pool")))
            }
            return await deploy(admitted, allowDuplicates: allowDuplicates, limits: limits, waitingRounds: waitingRounds - 1)
        case .refused(let refusal):
            return .failure(refusal)
        }

        let result = await startWorkload(workloadID, admitted, on: agent, limits: limits)
        switch result {
        case .success(let totalBytes):
            let record: WorkloadRecord? = state.withLock { state in
                state.registry.update(workloadID) {
                    $0.running = true
                    $0.totalBytes = totalBytes
                }
                return state.registry.workload(workloadID)
            }
            if let record {
                let event = WorkloadStatusEvent(code: 0, workloadID: workloadID.rawValue, workloadName: record.name.rawValue,
                                                essential: record.essential, totalBytes: totalBytes)
                await publishWorkloadEvent(.workloadDeployed, event, of: record)
            }
            return .success(workloadID)
        case .failure(let refusal):
            // The agent saw (part of) a workload that failed: it is not reused.
            state.withLock { state in
                state.registry.remove(workloadID)
                state.agents[agent.id]?.phase = .stopping
            }
            _ = await agent.process.stop()
            return .failure(refusal)
        }
    }

    private func waitForReadyAgent() async -> Bool {
        let deadline = ContinuousClock.now + settings.agentWaitTimeout
        while ContinuousClock.now < deadline {
            if state.withLock({ !$0.ready.isEmpty || $0.stopping }) { return state.withLock { !$0.stopping } }
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return false
    }

    /// Fetches the artifact into the agent's directory, verifies it, and asks the agent to start it.
    private func startWorkload(_ workloadID: WorkloadID, _ admitted: DeployAdmission.Admitted, on agent: AgentLauncher.Launched,
                               limits: NodeConfiguration.NodeLimits) async -> Result<Int64, DeployRefusal> {
        let artifact = "workload-\(workloadID)"
        let path = (agent.directory as NSString).appendingPathComponent(artifact)
        let totalBytes: Int64
        switch await fetchArtifact(admitted, to: path, limits: limits) {
        case .success(let size): totalBytes = size
        case .failure(let refusal): return .failure(refusal)
        }
        do {
            try launcher.handOver(path, to: agent)
        } catch {
            return .failure(.init(NexFailure.cachingFailed("\(error)")))
        }
        // The request's own host-services connection wins (0.x precedence), else the node's.
        let hostServices = admitted.request.hostServicesConfig.flatMap { $0.natsURL.isEmpty ? nil : $0 } ?? settings.hostServices
        let request = AgentDeployRequest(
            workloadID: workloadID.rawValue, workloadName: admitted.name.rawValue, namespace: admitted.namespace.rawValue,
            workloadType: admitted.type, artifact: artifact, hash: admitted.hashClaim, totalBytes: totalBytes,
            argv: admitted.request.argv, environment: admitted.environment, essential: admitted.request.essential ?? false,
            description: admitted.request.description, triggerSubjects: admitted.request.triggerSubjects,
            hostServices: hostServices, restartPolicy: settings.restartPolicy,
            enabledHostServices: admitted.type.isFunction ? settings.enabledHostServices : nil,
            functionLimits: admitted.type.isFunction ? settings.functionLimits : nil)
        let reply: AgentDeployReply
        do {
            let message = try await internalClient.request(try NexJSON.encode(request), to: AgentSubjects.deploy(agent: agent.id),
                                                     timeout: settings.agentRequestTimeout)
            reply = try NexJSON.decode(AgentDeployReply.self, from: message.payload.readableBytesView)
        } catch {
            return .failure(.init(NexFailure.deployFailed("timed out waiting for acknowledgement of workload deployment (\(error))")))
        }
        guard reply.accepted else { return .failure(.init(NexFailure.deployFailed(NexFailure.rejectedByAgent(reply.message)))) }
        if let group = reply.processGroup {
            state.withLock { $0.registry.update(workloadID) { record in
                if !record.processGroups.contains(group) { record.processGroups.append(group) }
            } }
        }
        return .success(totalBytes)
    }

    /// Streams the object into `path`, hashing as it goes; checks the size limits before downloading
    /// and the sha256 against the JWT's claim after.
    private func fetchArtifact(_ admitted: DeployAdmission.Admitted, to path: String,
                               limits: NodeConfiguration.NodeLimits) async -> Result<Int64, DeployRefusal> {
        func cachingFailed(_ reason: String) -> Result<Int64, DeployRefusal> {
            try? FileManager.default.removeItem(atPath: path)
            return .failure(.init(NexFailure.cachingFailed(reason)))
        }
        let jetStream = JetStreamContext(client: control, domain: admitted.request.jsDomain.flatMap { $0.isEmpty ? nil : $0 })
        let reader: ObjectReader
        do {
            let store = try await jetStream.objectStore(admitted.bucket)
            reader = try await store.get(admitted.key)
        } catch {
            return cachingFailed("\(error)")
        }
        let size = Int64(reader.info.size)
        if limits.maxWorkloadBytes > 0, size > limits.maxWorkloadBytes {
            await reader.cancel()
            return .failure(.init(NexFailure.workloadTooLarge))
        }
        if limits.maxTotalBytes > 0, state.withLock({ $0.registry.totalBytes }) + size > limits.maxTotalBytes {
            await reader.cancel()
            return .failure(.init(NexFailure.totalBytesExceeded))
        }
        // O_CLOEXEC: an agent spawned meanwhile must not inherit a write descriptor to an executable
        // (its exec would fail with ETXTBSY for as long as that agent lives).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            await reader.cancel()
            return cachingFailed("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var hasher = SHA256()
        do {
            defer { close(descriptor) }
            for try await chunk in reader {
                try chunk.withUnsafeReadableBytes { bytes in
                    hasher.update(bufferPointer: bytes)
                    var offset = 0
                    while offset < bytes.count {
                        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                        if written < 0, errno == EINTR { continue }
                        guard written > 0 else { throw ArtifactWriteError(reason: String(cString: strerror(errno))) }
                        offset += written
                    }
                }
            }
        } catch {
            await reader.cancel()
            return cachingFailed("\(error)")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == admitted.hashClaim else {
            try? FileManager.default.removeItem(atPath: path)
            return .failure(.init(NexFailure.invalidDeployRequest("\(NexFailure.hashClaimMismatch): the artifact's sha256 is \(digest)")))
        }
        return .success(size)
    }

    // MARK: - Stop

    /// The workload `id` in `namespace`, if there is one (any other namespace hides it).
    func workload(_ id: WorkloadID, in namespace: Namespace) -> WorkloadRecord? {
        state.withLock { state in
            guard let record = state.registry.workload(id), record.running, record.namespace == namespace else { return nil }
            return record
        }
    }

    /// Stops a workload at the user's request: the agent stops it (grace period, then kill), the agent
    /// goes, `workload_undeployed` follows. `false` when it was already gone.
    @discardableResult
    func stop(_ id: WorkloadID, reason: String = WorkloadUndeployedEvent.undeployRequestedReason) async -> Bool {
        let taken: (WorkloadRecord, AgentLauncher.Launched)? = state.withLock { state in
            guard let record = state.registry.remove(id) else { return nil }
            guard let agent = state.agents[record.agentID] else { return nil }
            state.agents[record.agentID]?.phase = .stopping
            return (record, agent.launched)
        }
        guard let (record, agent) = taken else { return false }
        if let body = try? NexJSON.encode(AgentUndeployRequest(workloadID: id.rawValue)) {
            do {
                _ = try await internalClient.request(body, to: AgentSubjects.undeploy(agent: agent.id),
                                               timeout: launcher.stopGracePeriod + settings.agentRequestTimeout)
            } catch {
                logger.warning("Agent did not confirm the undeploy; stopping it", metadata: [
                    "nex.agent.id": "\(agent.id)", "nex.error": "\(error)",
                ])
            }
        }
        _ = await agent.process.stop()
        if agent.sandbox == nil { for group in record.processGroups { kill(-group, SIGKILL) } }
        if record.running {
            await publishWorkloadEvent(.workloadUndeployed,
                                       WorkloadUndeployedEvent(workloadID: id.rawValue, workloadName: record.name.rawValue, reason: reason),
                                       of: record)
            await relayLog(agent.id, AgentLogEntry(workloadID: nil, level: .debug, text: "Workload undeployed"))
        }
        return true
    }

    /// Lame duck: no more deploys, essential services stop restarting.
    func enterLameDuck() async {
        let agents = state.withLock { state in
            state.lameDuck = true
            return state.agents.values.compactMap { agent -> String? in
                if case .assigned = agent.phase { return agent.launched.id }
                return nil
            }
        }
        for agent in agents { try? await internalClient.publish([], to: AgentSubjects.lameDuck(agent: agent)) }
        try? await internalClient.flush()
    }

    /// Stops every workload and every agent; the pool starts no more. Call before cancelling `run()`.
    func shutdown() async {
        let workloads = state.withLock { state in
            state.stopping = true
            return Array(state.registry.workloads.keys)
        }
        poolWake.yield()
        await withDiscardingTaskGroup { group in
            for id in workloads { group.addTask { await self.stop(id, reason: "Node shutting down") } }
        }
        let idle = state.withLock { state in
            state.ready.removeAll()
            return state.agents.values.map(\.launched)
        }
        await withDiscardingTaskGroup { group in
            for agent in idle { group.addTask { _ = await agent.process.stop() } }
        }
    }

    // MARK: - Plumbing

    private func publishWorkloadEvent<Data: Codable & Sendable>(_ type: NexEventType, _ data: Data, of record: WorkloadRecord) async {
        let event = workloadEvent(type, data, of: record, id: CloudEventID.random(), time: .now())
        await publishEvent(try? NexJSON.encode(event), type, of: record)
    }

    /// A CloudEvent about `record`: `source` `{node}-{workload}` and the workload's namespace extension, as 0.x.
    private func workloadEvent<Data: Codable & Sendable>(_ type: NexEventType, _ data: Data, of record: WorkloadRecord,
                                                         id: String, time: GoTime) -> NexCloudEvent<Data> {
        NexCloudEvent(id: id, source: "\(nodeID)-\(record.id)", type: type, time: time, data: data,
                      extensions: [NexCloudEvent<Data>.namespaceExtension: record.namespace.rawValue])
    }

    /// Publishes an encoded event on `$NEX.events.{namespace}.{type}` (nothing when it could not be encoded).
    private func publishEvent(_ bytes: [UInt8]?, _ type: NexEventType, of record: WorkloadRecord) async {
        guard let bytes else { return }
        do {
            try await control.publish(bytes, to: NexSubject.event(record.namespace, type).description)
        } catch {
            logger.warning("Cannot publish event", metadata: ["nex.event.type": "\(type)", "nex.error": "\(error)"])
        }
    }

    private func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Writing the artifact into the agent's directory failed.
private struct ArtifactWriteError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot write the artifact: \(reason)" }
}
