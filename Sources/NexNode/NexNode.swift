import Foundation
import Logging
import NATS
import NKeys
import NexAPI
import ServiceLifecycle
import Synchronization

/// The Nex node daemon: answers the 0.x control interface (`$NEX.*`, spec §2) and publishes the node's
/// CloudEvents (§3), wire-compatible with Nex 0.x.
///
/// Workloads run in agents (`nex-agent` child processes) that the node starts ahead of demand (the warm
/// pool) and talks to over its own internal NATS server (a `nats-server` child on loopback; each agent's
/// credentials reach only its own subjects). See ``WorkloadManager``.
///
/// The node is a `Service`. It does not own its NATS connection: run the `NATSClient` beside it (in a
/// `ServiceGroup`, the client before the node, so the node shuts down first and can still say goodbye).
/// ``run()`` starts the internal NATS and the agent pool, subscribes the control subjects, publishes
/// `node_started`, then serves until graceful shutdown or until the lame-duck delay has passed, drains its
/// subscriptions (requests already received are still answered), stops every workload and agent, and
/// publishes `node_stopped`.
public final class NexNode: Service, Sendable {
    /// The node's configuration (tags, workload types, sandbox mode, …).
    public let configuration: NodeConfiguration
    /// Who this node is: node ID and xkey.
    public let identity: NodeIdentity
    /// Timings and self-description.
    public let options: Options
    private let client: NATSClient
    private let logger: Logger
    /// Configured tags plus the computed ones, except `nex.lameduck`, which ``state`` adds.
    private let baseTags: [String: String]
    private let state = Mutex(State())

    private struct State {
        var lameDuck = false
        var running = false
        /// Where ``enterLameDuckMode()`` sends its request while ``run()`` serves.
        var lameDuckRequests: AsyncStream<Void>.Continuation?
    }

    /// - Parameters:
    ///   - client: the control connection; the node subscribes and publishes on it but does not run it.
    public init(configuration: NodeConfiguration, client: NATSClient, identity: NodeIdentity,
                options: Options = Options(), logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.identity = identity
        self.options = options
        var logger = logger
        logger[metadataKey: "nex.node.id"] = "\(identity.nodeID)"
        self.logger = logger
        var tags = configuration.tags
        tags[NodeTag.os] = options.host.os
        tags[NodeTag.arch] = options.host.arch
        tags[NodeTag.cpuCount] = String(options.host.cpuCount)
        if configuration.noSandbox { tags[NodeTag.unsafe] = "true" }
        self.baseTags = tags
    }

    /// The node ID.
    public var nodeID: NodeID { identity.nodeID }

    /// Whether the node has entered lame duck mode (it no longer bids and refuses deploys).
    public var isLameDuck: Bool { state.withLock { $0.lameDuck } }

    /// The tags the node currently reports: configured, computed (`nex.os`, `nex.arch`, `nex.cpucount`,
    /// `nex.unsafe`) and `nex.lameduck` once in lame duck mode.
    public var tags: [String: String] {
        var tags = baseTags
        if isLameDuck { tags[NodeTag.lameDuck] = "true" }
        return tags
    }

    // MARK: - Service

    /// What a run knows that handlers need: when it started, and how to wake the lame-duck timer.
    private struct RunContext: Sendable {
        let startedAt: ContinuousClock.Instant
        let startTime: GoTime
        let lameDuckEntered: AsyncStream<Void>.Continuation
        let workloads: WorkloadManager
    }

    /// The control endpoints, one subscription each.
    private enum Endpoint: Sendable, CaseIterable {
        case ping, pingNode, auction, info, deploy, stop, lameDuck, workloadPing
    }

    private func pattern(_ endpoint: Endpoint) -> String {
        switch endpoint {
        case .ping: return NexSubscriptions.ping
        case .pingNode: return NexSubscriptions.ping(node: nodeID)
        case .auction: return NexSubscriptions.auction
        case .info: return NexSubscriptions.info(node: nodeID)
        case .deploy: return NexSubscriptions.deploy(node: nodeID)
        case .stop: return NexSubscriptions.stop(node: nodeID)
        case .lameDuck: return NexSubscriptions.lameDuck(node: nodeID)
        case .workloadPing: return NexSubscriptions.workloadPing
        }
    }

    private enum StopReason: Sendable {
        case gracefulShutdown, lameDuckDelayElapsed
    }

    /// Serves the control interface until graceful shutdown (or the lame-duck delay); returns after
    /// `node_stopped` is published. Cancellation ends it at once, without `node_stopped`.
    ///
    /// - Throws: ``NexNodeError`` when the agent executable is missing, or the internal NATS or the
    ///   control subscriptions cannot be set up.
    public func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw NexNodeError(code: .alreadyRunning, message: "run() called while the node is running") }
        defer { state.withLock { $0.running = false } }

        guard let agentExecutable = options.agentExecutable ?? AgentLauncher.findExecutable() else {
            throw NexNodeError(code: .agent, message: "cannot find the nex-agent executable beside this program or on PATH")
        }
        let workDirectory = options.workDirectory
            ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("nex-node-\(UUID().uuidString.lowercased())")
        do {
            try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw NexNodeError(code: .agent, message: "cannot create the work directory \(workDirectory): \(error)")
        }
        defer { if options.workDirectory == nil { try? FileManager.default.removeItem(atPath: workDirectory) } }

        let internalServer = try await InternalNATS.start(
            .init(storeDirectory: (workDirectory as NSString).appendingPathComponent("internal-nats")), logger: logger)
        var internalConfiguration: NATSClient.Configuration
        do {
            internalConfiguration = try NATSClient.Configuration(url: internalServer.url)
        } catch {
            await internalServer.stop()
            throw NexNodeError(code: .connection, message: "the internal NATS URL \(internalServer.url) is not valid: \(error)")
        }
        internalConfiguration.authentication = internalServer.nodeAuthentication
        internalConfiguration.name = "nex-node-internal"
        let internalClient = NATSClient(configuration: internalConfiguration, logger: logger)

        var launcher = AgentLauncher(
            executable: agentExecutable, natsURL: internalServer.url,
            directory: (workDirectory as NSString).appendingPathComponent("agents"),
            handshakeTimeout: .milliseconds(configuration.agentHandshakeTimeoutMilliseconds),
            stopGracePeriod: options.stopGracePeriod + .seconds(5), logLevel: options.agentLogLevel,
            credentials: { agentID in
                let credentials = try internalServer.credentials(forAgent: agentID)
                return (credentials.jwt, credentials.seed)
            },
            revoke: { [logger] agentID in
                do {
                    try await internalServer.revoke(agentID: agentID)
                } catch {
                    logger.warning("Cannot revoke a gone agent's credentials", metadata: [
                        "nex.agent.id": "\(agentID)", "nex.error": "\(error)",
                    ])
                }
            })
        if !configuration.noSandbox {
            do {
                (launcher.sandbox, launcher.sandboxLimits, launcher.allowedDestinations) = try AgentLauncher.makeSandbox(
                    configuration: configuration, options: options.sandbox, agentExecutable: agentExecutable, workDirectory: workDirectory,
                    internalURL: internalServer.url, controlServers: client.configuration.servers)
                launcher.allowDynamicServices = options.sandbox.allowDynamicServices
            } catch {
                await internalServer.stop()
                throw error
            }
        }
        // Functions (and native services, through NEX_HOSTSERVICES_*) reach the workload NATS with the
        // configured host-services connection; with no URL configured, the control connection's server.
        var hostServices = configuration.hostServices.nats
        if hostServices.natsURL.isEmpty, let server = client.configuration.servers.first {
            hostServices.natsURL = server.description
        }
        let enabledHostServices = configuration.hostServices.services.filter(\.value.enabled).keys.sorted()
        let settings = WorkloadManager.Settings(
            poolSize: max(1, configuration.machinePoolSize),
            handshakeTimeout: .milliseconds(configuration.agentHandshakeTimeoutMilliseconds),
            pingInterval: options.agentPingInterval, pingTimeout: .milliseconds(max(1, configuration.agentPingTimeoutMilliseconds)),
            pingFailuresAllowed: 3, agentWaitTimeout: .seconds(10), agentRequestTimeout: .seconds(10),
            restartPolicy: options.restartPolicy, hostServices: hostServices, enabledHostServices: enabledHostServices,
            functionLimits: options.functionLimits)

        do {
            try await withThrowingTaskGroup(of: Void.self) { infrastructure in
                infrastructure.addTask { try await internalClient.run() }
                try await internalClient.waitUntilConnected()
                let workloads = WorkloadManager(settings: settings, launcher: launcher, internalClient: internalClient, control: client,
                                                nodeID: nodeID, logger: logger)
                infrastructure.addTask { try await workloads.run() }
                try await serve(workloads)
                await workloads.shutdown()
                await internalClient.close()
                infrastructure.cancelAll()
            }
        } catch {
            await internalClient.close()
            await internalServer.stop()
            throw error
        }
        await internalServer.stop()
    }

    /// The control interface proper, with `node_started` and `node_stopped`.
    private func serve(_ workloads: WorkloadManager) async throws {
        var subscriptions: [(Endpoint, NATSSubscription)] = []
        do {
            for endpoint in Endpoint.allCases {
                subscriptions.append((endpoint, try await client.subscribe(to: pattern(endpoint))))
            }
            // Once the server has every subscription, nobody who saw `node_started` can miss the node.
            try await client.flush()
        } catch {
            for (_, subscription) in subscriptions { try? await subscription.unsubscribe() }
            throw NexNodeError(code: .connection, message: "cannot subscribe to the control subjects: \(error)")
        }

        let (lameDuckSignals, lameDuckContinuation) = AsyncStream.makeStream(of: Void.self)
        let (lameDuckRequests, lameDuckRequestContinuation) = AsyncStream.makeStream(of: Void.self)
        state.withLock { $0.lameDuckRequests = lameDuckRequestContinuation }
        defer {
            state.withLock { $0.lameDuckRequests = nil }
            lameDuckRequestContinuation.finish()
        }
        let (stopSignals, stopContinuation) = AsyncStream.makeStream(of: StopReason.self)
        let context = RunContext(startedAt: .now, startTime: .now(), lameDuckEntered: lameDuckContinuation, workloads: workloads)
        logger.info("Nex node started", metadata: [
            "nex.node.xkey": "\(identity.xkey.publicKey)", "nex.version": "\(options.version)",
        ])
        await publishEvent(.nodeStarted, NodeStartedEvent(version: options.version, id: nodeID.rawValue, tags: tags,
                                                          publicXKey: identity.xkey.publicKey),
                           time: context.startTime)

        let reason: StopReason? = await withDiscardingTaskGroup { serving in
            for (endpoint, subscription) in subscriptions {
                serving.addTask { await self.serve(endpoint, subscription, context) }
            }
            let reason = await withTaskGroup(of: Void.self, returning: StopReason?.self) { background in
                background.addTask { await self.sendHeartbeats(context) }
                background.addTask {
                    for await _ in lameDuckRequests where self.enterLameDuck() {
                        await self.announceLameDuck(context)
                    }
                }
                background.addTask {
                    // The first lame-duck request starts the countdown; later ones change nothing.
                    for await _ in lameDuckSignals {
                        guard (try? await Task.sleep(for: self.options.lameDuckShutdownDelay)) != nil else { return }
                        stopContinuation.yield(.lameDuckDelayElapsed)
                        return
                    }
                }
                let reason = await withGracefulShutdownHandler {
                    var signals = stopSignals.makeAsyncIterator()
                    return await signals.next()
                } onGracefulShutdown: {
                    stopContinuation.yield(.gracefulShutdown)
                }
                background.cancelAll()
                return reason
            }
            // Draining lets requests already received be answered; the serve loops then end.
            for (_, subscription) in subscriptions { try? await subscription.drain() }
            return reason
        }
        lameDuckContinuation.finish()
        stopContinuation.finish()

        guard let reason else {
            logger.info("Nex node cancelled")
            return
        }
        logger.info("Nex node stopping", metadata: ["nex.stop.reason": "\(reason)"])
        await workloads.shutdown()
        await publishEvent(.nodeStopped, NodeStoppedEvent(id: nodeID.rawValue, graceful: true), time: .now())
    }

    /// Handles each request of one subscription in its own child task, so one slow request never holds
    /// up the others; returns when the subscription ends and its requests are answered.
    private func serve(_ endpoint: Endpoint, _ subscription: NATSSubscription, _ context: RunContext) async {
        await withDiscardingTaskGroup { handlers in
            do {
                for try await message in subscription {
                    handlers.addTask { await self.handle(endpoint, message, context) }
                }
            } catch {
                logger.debug("Control subscription ended", metadata: [
                    "nats.subject": "\(subscription.subject)", "nex.error": "\(error)",
                ])
            }
        }
    }

    private func sendHeartbeats(_ context: RunContext) async {
        while (try? await Task.sleep(for: options.heartbeatInterval)) != nil {
            let heartbeat = HeartbeatEvent(allowDuplicateWorkloads: configuration.allowDuplicateWorkloads,
                                           nodeID: nodeID.rawValue, runningMachines: context.workloads.runningCount, tags: tags,
                                           uptime: uptime(context), publicXKey: identity.xkey.publicKey,
                                           version: options.version)
            await publishEvent(.heartbeat, heartbeat, time: .now())
        }
    }

    // MARK: - Requests

    private func handle(_ endpoint: Endpoint, _ message: NATSMessage, _ context: RunContext) async {
        let reply: [UInt8]?
        switch endpoint {
        case .ping, .pingNode:
            reply = encode(NexEnvelope.success(.ping, pingResponse(context)))
        case .auction:
            reply = auction(message.bytes, context)
        case .info:
            reply = info(message.subject, context)
        case .workloadPing:
            reply = workloadPing(message.subject, context)
        case .deploy:
            reply = await deploy(message.subject, message.bytes, context)
        case .stop:
            reply = await stop(message.subject, message.bytes, context)
        case .lameDuck:
            // Entered even without a reply subject: the request is the command, the reply a courtesy.
            let first = enterLameDuck()
            reply = encode(NexEnvelope.success(.lameDuck, LameDuckResponse(nodeID: nodeID.rawValue, success: true)))
            if first {
                if let replyTo = message.replyTo, let reply { await send(reply, to: replyTo) }
                await announceLameDuck(context)
                return
            }
        }
        guard let replyTo = message.replyTo, let reply else { return }
        await send(reply, to: replyTo)
    }

    private func pingResponse(_ context: RunContext) -> PingResponse {
        PingResponse(nodeID: nodeID.rawValue, version: options.version, uptime: uptime(context),
                     targetXKey: identity.xkey.publicKey, tags: tags,
                     runningMachines: context.workloads.runningCount)
    }

    /// A bid, or `nil` (silence) when the node does not match, is in lame duck mode, or cannot read the
    /// request: bidding on a request it does not understand could win a placement it cannot honour.
    private func auction(_ body: [UInt8], _ context: RunContext) -> [UInt8]? {
        let request: AuctionRequest
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            request = AuctionRequest()  // An empty auction asks for nothing in particular (0.x: no filtering).
        } else {
            do {
                request = try NexJSON.decode(AuctionRequest.self, from: body)
            } catch {
                logger.debug("Ignoring unreadable auction request", metadata: ["nex.error": "\(error.message)"])
                return nil
            }
        }
        let terms = AuctionTerms(tags: tags, noSandbox: configuration.noSandbox, workloadTypes: configuration.workloadTypes,
                                 lameDuck: isLameDuck)
        guard terms.bids(on: request) else { return nil }
        return encode(NexEnvelope.success(.auction, pingResponse(context)))
    }

    private func info(_ subject: String, _ context: RunContext) -> [UInt8]? {
        guard case .info(let namespace, _) = NexSubject(parsing: subject) else {
            return encode(NexEnvelope<InfoResponse>.failure(.info, reason: "Invalid subject for node info request"))
        }
        let machines = context.workloads.registry.running(in: namespace).map { record in
            let uptime = NexUptime.format(ContinuousClock.now - record.startedAt)
            return MachineSummary(
                id: record.id.rawValue, healthy: true, uptime: uptime, namespace: record.namespace.rawValue,
                workload: WorkloadSummary(id: record.id.rawValue, name: record.name.rawValue, description: record.description ?? "",
                                          essential: record.essential, hash: record.hash, runtime: record.runtimeText, uptime: uptime,
                                          workloadType: record.type))
        }
        let response = InfoResponse(availableAgents: context.workloads.availableAgents,
                                    allowDuplicateWorkloads: configuration.allowDuplicateWorkloads,
                                    machines: machines, memory: MemoryStat.readProcMeminfo(), publicXKey: identity.xkey.publicKey,
                                    supportedWorkloadTypes: configuration.workloadTypes, tags: tags,
                                    uptime: uptime(context), version: options.version)
        return encode(NexEnvelope.success(.info, response))
    }

    /// Answers only when at least one workload of the namespace matches (by ID or name, or any when
    /// the subject names none), as 0.x.
    private func workloadPing(_ subject: String, _ context: RunContext) -> [UInt8]? {
        guard case .workloadPing(let namespace, let reference) = NexSubject(parsing: subject) else { return nil }
        let matches = context.workloads.registry.running(in: namespace).filter { record in
            reference.map { $0.matches(id: record.id, name: record.name) } ?? true
        }
        guard !matches.isEmpty else { return nil }
        let response = WorkloadPingResponse(
            nodeID: nodeID.rawValue, targetXKey: identity.xkey.publicKey, version: options.version, tags: tags,
            uptime: uptime(context),
            runningMachines: matches.map {
                WorkloadPingMachineSummary(id: $0.id.rawValue, namespace: $0.namespace.rawValue, name: $0.name.rawValue,
                                           workloadType: $0.type)
            })
        return encode(NexEnvelope.success(.ping, response))
    }

    /// Spec §2.4: admission (pure checks, in 0.x's order), then the agent pool, the artifact and the agent.
    private func deploy(_ subject: String, _ body: [UInt8], _ context: RunContext) async -> [UInt8]? {
        func fail(_ reason: String) -> [UInt8]? { encode(NexEnvelope<RunResponse>.failure(.run, reason: reason)) }
        let admission = DeployAdmission(configuration: configuration, nodeID: nodeID, xkey: identity.xkey, lameDuck: isLameDuck,
                                        liveWorkloads: context.workloads.workloadCount, now: Date())
        let admitted: DeployAdmission.Admitted
        switch admission.admit(subject: subject, body: body) {
        case .success(let value): admitted = value
        case .failure(let refusal):
            logger.info("Deploy refused", metadata: ["nex.reason": "\(refusal.reason)"])
            return fail(refusal.reason)
        }
        let allowDuplicates = configuration.allowDuplicateWorkloads ?? !configuration.noSandbox
        switch await context.workloads.deploy(admitted, allowDuplicates: allowDuplicates, limits: configuration.nodeLimits) {
        case .success(let workloadID):
            logger.info("Workload deployed", metadata: [
                "nex.workload.id": "\(workloadID)", "nex.workload.name": "\(admitted.name)", "nex.namespace": "\(admitted.namespace)",
            ])
            return encode(NexEnvelope.success(.run, RunResponse(id: workloadID.rawValue, issuer: admitted.claims.issuer,
                                                                name: admitted.name.rawValue, started: true)))
        case .failure(let refusal):
            logger.info("Deploy failed", metadata: ["nex.workload.name": "\(admitted.name)", "nex.reason": "\(refusal.reason)"])
            return fail(refusal.reason)
        }
    }

    /// Spec §2.5, bound to the workload and its issuer. Unknown workloads and workloads of another
    /// namespace answer alike.
    private func stop(_ subject: String, _ body: [UInt8], _ context: RunContext) async -> [UInt8]? {
        func fail(_ reason: String) -> [UInt8]? { encode(NexEnvelope<StopResponse>.failure(.stop, reason: reason)) }
        guard case .stop(let namespace, _) = NexSubject(parsing: subject) else { return fail("Invalid subject for workload stop") }
        let request: StopRequest
        do {
            request = try NexJSON.decode(StopRequest.self, from: body)
        } catch {
            return fail("Unable to deserialize stop request: \(error.message)")
        }
        guard let workloadID = WorkloadID(validating: request.workloadID),
              let record = context.workloads.workload(workloadID, in: namespace) else {
            return fail(NexFailure.noSuchWorkload)
        }
        let claims: GenericClaims
        switch StopAuthorization(now: Date()).authorize(request, deployClaims: record.deployClaims, workloadID: workloadID) {
        case .success(let value): claims = value
        case .failure(let refusal):
            logger.warning("Stop refused", metadata: ["nex.workload.id": "\(workloadID)", "nex.reason": "\(refusal.reason)"])
            return fail(refusal.reason)
        }
        guard await context.workloads.stop(workloadID) else { return fail(NexFailure.noSuchWorkload) }
        logger.info("Workload stopped", metadata: ["nex.workload.id": "\(workloadID)", "nex.workload.name": "\(record.name)"])
        return encode(NexEnvelope.success(.stop, StopResponse(id: workloadID.rawValue, issuer: claims.issuer, stopped: true)))
    }

    /// What follows entering lame duck mode: essential services stop restarting, the event goes out,
    /// and the countdown to shutdown starts.
    private func announceLameDuck(_ context: RunContext) async {
        await context.workloads.enterLameDuck()
        logger.info("Nex node entered lame duck mode")
        await publishEvent(.nodeEnteredLameDuck, NodeEnteredLameDuckEvent(version: options.version, id: nodeID.rawValue),
                           time: .now())
        context.lameDuckEntered.yield()
    }

    /// Enters lame duck mode as a `$NEX.LAMEDUCK` request would (for a signal handler, e.g. SIGUSR2):
    /// no more deploys or bids, the event, then shutdown after ``Options/lameDuckShutdownDelay``.
    /// Does nothing unless ``run()`` is serving.
    public func enterLameDuckMode() {
        let requests = state.withLock { $0.lameDuckRequests }
        requests?.yield()
    }

    /// Sets lame duck mode; `true` only for the call that changed it.
    private func enterLameDuck() -> Bool {
        state.withLock { state in
            defer { state.lameDuck = true }
            return !state.lameDuck
        }
    }

    // MARK: - Plumbing

    private func uptime(_ context: RunContext) -> String {
        NexUptime.format(ContinuousClock.now - context.startedAt)
    }

    private func encode(_ value: some Encodable) -> [UInt8]? {
        do {
            return try NexJSON.encode(value)
        } catch {
            logger.error("Cannot encode reply", metadata: ["nex.error": "\(error.message)"])
            return nil
        }
    }

    private func send(_ reply: [UInt8], to subject: String) async {
        do {
            try await client.publish(reply, to: subject)
        } catch {
            logger.debug("Cannot send reply", metadata: ["nats.subject": "\(subject)", "nex.error": "\(error)"])
        }
    }

    /// Publishes a CloudEvent on `$NEX.events.system.{type}` and flushes, as 0.x does, so a watcher sees it
    /// before whatever the node does next.
    private func publishEvent<Data: Codable & Sendable>(_ type: NexEventType, _ data: Data, time: GoTime) async {
        let event = NexCloudEvent(id: UUID().uuidString.lowercased(), source: nodeID.rawValue, type: type, time: time, data: data)
        guard let bytes = encode(event) else { return }
        do {
            try await client.publish(bytes, to: NexSubject.event(.system, type).description)
            try await client.flush()
        } catch {
            logger.warning("Cannot publish event", metadata: ["nex.event.type": "\(type)", "nex.error": "\(error)"])
        }
    }
}
