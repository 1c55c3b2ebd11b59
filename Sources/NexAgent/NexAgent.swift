// The agent: see AgentProtocol.swift in NexAPI for the protocol it speaks.
import Logging
import NATS
import NativeRuntime
import JavaScriptRuntime
import NexAPI
import NexHostServices
import WasmRuntime
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Nex agent: runs workloads on behalf of its node, speaking the node ↔ agent protocol
/// (``AgentSubjects``) on the node's internal NATS.
///
/// The agent is a `Service`. It does not own its NATS connection: run the `NATSClient` beside it in a
/// `ServiceGroup`, the client first, so that the agent shuts down first and its workloads are stopped
/// while the connection is still up. ``run()`` subscribes its subjects, handshakes with the node
/// (throwing ``NexAgentError/Code/handshakeFailed`` if no node accepts it in time: the process must
/// then exit), serves deploy, undeploy, ping and lame duck until graceful shutdown, stops every
/// workload and returns.
public final class NexAgent: Service, Sendable {
    /// Timings and self-description.
    public struct Options: Sendable {
        /// How long a stopped workload gets between SIGTERM and SIGKILL (to its whole process group).
        public var stopGracePeriod: Duration
        /// Used for essential services whose deploy request carries no restart policy.
        public var defaultRestartPolicy: AgentRestartPolicy
        /// The longest a single handshake request waits for its reply; failed attempts are retried
        /// until the environment's handshake timeout has passed.
        public var handshakeAttemptTimeout: Duration
        /// The version sent in the handshake.
        public var version: String

        public init(stopGracePeriod: Duration = .seconds(5), defaultRestartPolicy: AgentRestartPolicy = AgentRestartPolicy(),
                    handshakeAttemptTimeout: Duration = .seconds(5), version: String = NexAgent.defaultVersion) {
            self.stopGracePeriod = stopGracePeriod
            self.defaultRestartPolicy = defaultRestartPolicy
            self.handshakeAttemptTimeout = handshakeAttemptTimeout
            self.version = version
        }
    }

    /// The version this library reports when the caller gives none.
    public static let defaultVersion = "0.1.0-swift"

    /// Who the agent is and where its node is.
    public let environment: AgentEnvironment
    public let options: Options
    private let client: NATSClient
    private let logger: Logger
    private let publisher: AgentPublisher
    /// One runtime per (canonical) workload type.
    private let runtimes: [WorkloadType: any WorkloadRuntime]
    private let state = Mutex(State())

    private struct State {
        var running = false
        var shuttingDown = false
        var lameDuck = false
        var workloads: [String: Entry] = [:]
    }

    /// A workload in the table: from the moment its deploy is accepted for starting until it has ended.
    private struct Entry {
        var session: WorkloadSession
        /// Opened when the workload's runtime has returned: it is stopped and every message is out.
        var finished: Latch
        /// Nil while the workload is starting.
        var controls: WorkloadControls?
    }

    /// - Parameters:
    ///   - client: the connection to the node's internal NATS, configured like
    ///     ``clientConfiguration(for:)``; the agent uses it but does not run it.
    public init(environment: AgentEnvironment, client: NATSClient, options: Options = Options(), logger: Logger) {
        self.environment = environment
        self.client = client
        self.options = options
        var logger = logger
        logger[metadataKey: "nex.agent.id"] = "\(environment.agentID)"
        self.logger = logger
        self.publisher = AgentPublisher(client: client, agentID: environment.agentID, logger: logger)
        let native = NativeWorkloadRuntime(logger: logger)
        let hostServices: FunctionWorkloadRuntime.HostServicesMaker = { [logger] client, namespace, enabled in
            let services = NATSHostServices(client: client, namespace: namespace,
                                            configuration: HostServicesConfiguration(enabled: enabled), httpClient: nil, logger: logger)
            return (services, { await services.shutdown() })
        }
        self.runtimes = [
            .native: native,
            .v8: FunctionWorkloadRuntime(factory: JavaScriptEngineFactory(), makeHostServices: hostServices, logger: logger),
            .wasm: FunctionWorkloadRuntime(factory: WasmEngineFactory(), makeHostServices: hostServices, logger: logger),
        ]
    }

    /// The NATS configuration for an agent: the internal NATS from the environment, the agent's user JWT
    /// and seed, and the inbox prefix its permissions allow.
    public static func clientConfiguration(for environment: AgentEnvironment) throws(NexAgentError) -> NATSClient.Configuration {
        var configuration: NATSClient.Configuration
        do {
            configuration = try NATSClient.Configuration(url: environment.natsURL)
        } catch {
            throw NexAgentError(code: .invalidEnvironment, message: "NEX_NODE_NATS_URL is not a NATS URL: \(error.message)")
        }
        configuration.name = "nex-agent \(environment.agentID)"
        configuration.authentication = .jwt(environment.userJWT, seed: environment.userSeed)
        configuration.inboxPrefix = AgentSubjects.inboxPrefix(agent: environment.agentID)
        return configuration
    }

    // MARK: - Service

    private enum Endpoint: Sendable, CaseIterable {
        case deploy, undeploy, ping, lameDuck
    }

    private func subject(_ endpoint: Endpoint) -> String {
        let id = environment.agentID
        switch endpoint {
        case .deploy: return AgentSubjects.deploy(agent: id)
        case .undeploy: return AgentSubjects.undeploy(agent: id)
        case .ping: return AgentSubjects.ping(agent: id)
        case .lameDuck: return AgentSubjects.lameDuck(agent: id)
        }
    }

    /// Handshakes, serves until graceful shutdown (or cancellation), stops every workload, returns.
    public func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw NexAgentError(code: .alreadyRunning, message: "run() called while the agent is running") }
        defer { state.withLock { $0.running = false } }

        // Subscribed before the handshake, so a node that has seen the handshake can deploy at once.
        var subscriptions: [(Endpoint, NATSSubscription)] = []
        do {
            try await waitForConnection()
            for endpoint in Endpoint.allCases {
                subscriptions.append((endpoint, try await client.subscribe(to: subject(endpoint))))
            }
            try await client.flush()
            try await handshake()
        } catch {
            for (_, subscription) in subscriptions { try? await subscription.unsubscribe() }
            throw error
        }
        logger.info("Nex agent ready", metadata: ["nex.agent.pid": "\(getpid())"])
        await serve(subscriptions)
        logger.info("Nex agent stopped")
    }

    /// Waits for the first connection, within the handshake timeout.
    private func waitForConnection() async throws {
        let deadline = ContinuousClock.now + .milliseconds(environment.handshakeTimeoutMilliseconds)
        while !client.isConnected {
            guard ContinuousClock.now < deadline else {
                throw NexAgentError(code: .handshakeFailed, message: "Failed to obtain handshake from host: cannot connect to \(environment.natsURL)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Asks the node to accept this agent, again and again (no responders yet, timeouts, a lost
    /// connection) until the handshake timeout has passed.
    private func handshake() async throws {
        let timeout = Duration.milliseconds(environment.handshakeTimeoutMilliseconds)
        let deadline = ContinuousClock.now + timeout
        let message = environment.sandboxed ? "Host-supplied metadata" : "Metadata obtained from no-sandbox environment"
        let body = try NexJSON.encode(AgentHandshake(id: environment.agentID, startTime: .now(), message: message,
                                                     pid: getpid(), version: options.version))
        let subject = AgentSubjects.handshake(agent: environment.agentID)
        var lastProblem = "no attempt was made"
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw NexAgentError(code: .handshakeFailed,
                                    message: "Failed to obtain handshake from host within \(environment.handshakeTimeoutMilliseconds) ms: \(lastProblem)")
            }
            do {
                let reply = try await client.request(body, to: subject, timeout: min(options.handshakeAttemptTimeout, remaining))
                let decoded = try NexJSON.decode(AgentHandshakeReply.self, from: reply.bytes)
                guard decoded.accepted else {
                    throw NexAgentError(code: .handshakeFailed, message: "the node refused the handshake")
                }
                logger.debug("handshake accepted")
                return
            } catch let error as NexAgentError {
                throw error
            } catch {
                try Task.checkCancellation()
                lastProblem = "\(error)"
                logger.debug("handshake attempt failed", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: min(.milliseconds(100), max(.zero, deadline - ContinuousClock.now)))
        }
    }

    /// Each request runs in its own child task, so a long one (a deploy lives as long as its workload)
    /// never holds up the others.
    private func serve(_ subscriptions: [(Endpoint, NATSSubscription)]) async {
        let (jobs, jobQueue) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        let shutdownRequested = Latch()
        let servingEnded = Latch()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { serving in
                    for (endpoint, subscription) in subscriptions {
                        serving.addTask {
                            do {
                                for try await message in subscription {
                                    jobQueue.yield { await self.handle(endpoint, message) }
                                }
                            } catch {
                                self.logger.debug("subscription ended", metadata: ["nats.subject": "\(subscription.subject)", "error": "\(error)"])
                            }
                        }
                    }
                }
                servingEnded.fire()
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await shutdownRequested.wait()
                } onGracefulShutdown: {
                    shutdownRequested.fire()
                }
                self.logger.info("Nex agent shutting down")
                // Requests already received are still handled (deploys are refused from now on).
                for (_, subscription) in subscriptions { try? await subscription.drain() }
                await servingEnded.wait()
                await self.stopAllWorkloads()
                jobQueue.finish()
            }
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }

    private func handle(_ endpoint: Endpoint, _ message: NATSMessage) async {
        switch endpoint {
        case .ping:
            if let reply = message.replyTo {
                do { try await client.publish(AgentSubjects.pingReply, to: reply) } catch {
                    logger.info("cannot answer a ping", metadata: ["error": "\(error)"])
                }
            }
        case .lameDuck:
            enterLameDuck()
            // A publish per the protocol; a request is answered too, so a node can know it took effect.
            if let reply = message.replyTo { try? await client.publish(AgentSubjects.pingReply, to: reply) }
        case .undeploy:
            await undeploy(message)
        case .deploy:
            await deploy(message)
        }
    }

    // MARK: - Deploy

    private func deploy(_ message: NATSMessage) async {
        guard let replySubject = message.replyTo else {
            logger.info("deploy request without a reply subject ignored")
            return
        }
        func refuse(_ reason: String) async {
            logger.info("deploy refused", metadata: ["nex.reason": "\(reason)"])
            await publisher.reply(AgentDeployReply(accepted: false, message: reason), to: replySubject)
        }
        let request: AgentDeployRequest
        do {
            request = try NexJSON.decode(AgentDeployRequest.self, from: message.bytes)
        } catch {
            await refuse("invalid deploy request: \(error.message)")
            return
        }
        let runtime = runtimes[request.workloadType.canonical]
        var problems = DeployValidation.problems(in: request)
        if runtime == nil && !request.workloadType.rawValue.isEmpty {
            problems.append("unsupported workload type on this agent: \(request.workloadType)")
        }
        guard problems.isEmpty, let runtime else {
            await refuse(problems.joined(separator: "; "))
            return
        }

        let workloadID = request.workloadID
        let session = WorkloadSession(workloadID: workloadID, workloadName: request.workloadName, replySubject: replySubject,
                                      publisher: publisher) { [weak self] controls in
            self?.register(controls, for: workloadID) ?? false
        }
        let finished = Latch()
        enum Reservation { case reserved, duplicate, shuttingDown }
        let reservation = state.withLock { state -> Reservation in
            if state.shuttingDown { return .shuttingDown }
            if state.workloads[workloadID] != nil { return .duplicate }
            state.workloads[workloadID] = Entry(session: session, finished: finished, controls: nil)
            return .reserved
        }
        switch reservation {
        case .shuttingDown:
            await refuse("the agent is shutting down")
            return
        case .duplicate:
            await refuse("workload \(workloadID) is already deployed on this agent")
            return
        case .reserved:
            break
        }

        logger.info("deploying workload", metadata: ["nex.workload.id": "\(workloadID)", "nex.workload.name": "\(request.workloadName)"])
        let deployment = Deployment(request: request, artifactPath: environment.directory + "/" + request.artifact,
                                    directory: environment.directory, sandboxed: environment.sandboxed,
                                    allowsDynamicServices: environment.allowsDynamicServices,
                                    stopGracePeriod: options.stopGracePeriod, defaultRestartPolicy: options.defaultRestartPolicy)
        await runtime.run(deployment, session: session)
        state.withLock { _ = $0.workloads.removeValue(forKey: workloadID) }
        finished.fire()
        logger.info("workload ended", metadata: ["nex.workload.id": "\(workloadID)", "nex.outcome": "\(session.outcome ?? "unknown")"])
    }

    /// Called by a session when its workload runs; false when the agent is shutting down.
    private func register(_ controls: WorkloadControls, for workloadID: String) -> Bool {
        let (registered, lameDuck) = state.withLock { state -> (Bool, Bool) in
            guard !state.shuttingDown, state.workloads[workloadID] != nil else { return (false, false) }
            state.workloads[workloadID]?.controls = controls
            return (true, state.lameDuck)
        }
        if registered && lameDuck { controls.disableRestarts() }
        return registered
    }

    // MARK: - Undeploy, lame duck, shutdown

    private func undeploy(_ message: NATSMessage) async {
        let reply: AgentUndeployReply
        do {
            let request = try NexJSON.decode(AgentUndeployRequest.self, from: message.bytes)
            reply = await stop(workloadID: request.workloadID)
        } catch {
            reply = AgentUndeployReply(stopped: false, message: "invalid undeploy request: \(error.message)")
        }
        if let replySubject = message.replyTo {
            await publisher.reply(reply, to: replySubject)
        }
    }

    private func stop(workloadID: String) async -> AgentUndeployReply {
        guard let entry = state.withLock({ $0.workloads[workloadID] }) else {
            return AgentUndeployReply(stopped: false, message: "no such workload: \(workloadID)")
        }
        guard let controls = entry.controls else {
            return AgentUndeployReply(stopped: false, message: "workload \(workloadID) is still starting")
        }
        logger.info("stopping workload", metadata: ["nex.workload.id": "\(workloadID)"])
        entry.session.requestStop()
        await controls.stop()
        await entry.finished.wait()
        return AgentUndeployReply(stopped: true, message: entry.session.outcome ?? "stopped")
    }

    private func enterLameDuck() {
        let controls = state.withLock { state -> [WorkloadControls] in
            state.lameDuck = true
            return state.workloads.values.compactMap(\.controls)
        }
        logger.info("lame duck mode: essential workloads will not restart")
        controls.forEach { $0.disableRestarts() }
    }

    /// Refuses further deploys and stops every workload (SIGTERM, SIGKILL after the grace period, whole
    /// process groups), including those still starting; returns when all have ended.
    private func stopAllWorkloads() async {
        let entries = state.withLock { state -> [Entry] in
            state.shuttingDown = true
            return Array(state.workloads.values)
        }
        await withDiscardingTaskGroup { group in
            for entry in entries {
                group.addTask {
                    entry.session.requestStop()
                    // A workload still starting finds the agent shutting down and stops itself.
                    if let controls = self.state.withLock({ $0.workloads[entry.session.workloadID]?.controls }) {
                        await controls.stop()
                    }
                    await entry.finished.wait()
                }
            }
        }
    }
}
