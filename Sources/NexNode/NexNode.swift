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
/// This slice runs no workloads yet: deploy and stop get a clear failure envelope
/// (``workloadsUnavailable``), and ping, auction and info report zero machines.
///
/// The node is a `Service`. It does not own its NATS connection: run the `NATSClient` beside it (in a
/// `ServiceGroup`, the client before the node, so the node shuts down first and can still say goodbye).
/// ``run()`` subscribes the control subjects, publishes `node_started`, then serves until graceful
/// shutdown or until the lame-duck delay has passed, drains its subscriptions (requests already received
/// are still answered) and publishes `node_stopped`.
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
    }

    /// The control endpoints, one subscription each.
    private enum Endpoint: Sendable, CaseIterable {
        case ping, pingNode, auction, info, deploy, stop, lameDuck
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
        }
    }

    private enum StopReason: Sendable {
        case gracefulShutdown, lameDuckDelayElapsed
    }

    /// Serves the control interface until graceful shutdown (or the lame-duck delay); returns after
    /// `node_stopped` is published. Cancellation ends it at once, without `node_stopped`.
    public func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw NexNodeError(code: .alreadyRunning, message: "run() called while the node is running") }
        defer { state.withLock { $0.running = false } }

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
        let (stopSignals, stopContinuation) = AsyncStream.makeStream(of: StopReason.self)
        let context = RunContext(startedAt: .now, startTime: .now(), lameDuckEntered: lameDuckContinuation)
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
                                           nodeID: nodeID.rawValue, runningMachines: 0, tags: tags,
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
        case .deploy:
            reply = deploy(message.subject, message.bytes)
        case .stop:
            reply = stop(message.subject, message.bytes)
        case .lameDuck:
            // Entered even without a reply subject: the request is the command, the reply a courtesy.
            let first = enterLameDuck()
            reply = encode(NexEnvelope.success(.lameDuck, LameDuckResponse(nodeID: nodeID.rawValue, success: true)))
            if first {
                if let replyTo = message.replyTo, let reply { await send(reply, to: replyTo) }
                logger.info("Nex node entered lame duck mode")
                await publishEvent(.nodeEnteredLameDuck, NodeEnteredLameDuckEvent(version: options.version, id: nodeID.rawValue),
                                   time: .now())
                context.lameDuckEntered.yield()
                return
            }
        }
        guard let replyTo = message.replyTo, let reply else { return }
        await send(reply, to: replyTo)
    }

    private func pingResponse(_ context: RunContext) -> PingResponse {
        PingResponse(nodeID: nodeID.rawValue, version: options.version, uptime: uptime(context),
                     targetXKey: identity.xkey.publicKey, tags: tags, runningMachines: 0)
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
        guard case .info = NexSubject(parsing: subject) else {
            return encode(NexEnvelope<InfoResponse>.failure(.info, reason: "Invalid subject for node info request"))
        }
        // No workloads yet, so the namespace filter has nothing to filter: an empty list, not null.
        let response = InfoResponse(availableAgents: 0, allowDuplicateWorkloads: configuration.allowDuplicateWorkloads,
                                    machines: [], memory: MemoryStat.readProcMeminfo(), publicXKey: identity.xkey.publicKey,
                                    supportedWorkloadTypes: configuration.workloadTypes, tags: tags,
                                    uptime: uptime(context), version: options.version)
        return encode(NexEnvelope.success(.info, response))
    }

    /// The checks of spec §2.4 this slice can make, in order, then the honest refusal.
    private func deploy(_ subject: String, _ body: [UInt8]) -> [UInt8]? {
        func fail(_ reason: String) -> [UInt8]? { encode(NexEnvelope<RunResponse>.failure(.run, reason: reason)) }
        guard case .deploy = NexSubject(parsing: subject) else { return fail(NexFailure.invalidDeploySubject) }
        if isLameDuck { return fail(NexFailure.lameDuckDeployDenied) }
        do {
            _ = try NexJSON.decode(DeployRequest.self, from: body)
        } catch {
            return fail(NexFailure.undecodableDeployRequest(error.message))
        }
        return fail(Self.workloadsUnavailable)
    }

    private func stop(_ subject: String, _ body: [UInt8]) -> [UInt8]? {
        func fail(_ reason: String) -> [UInt8]? { encode(NexEnvelope<StopResponse>.failure(.stop, reason: reason)) }
        guard case .stop = NexSubject(parsing: subject) else { return fail("Invalid subject for workload stop") }
        do {
            _ = try NexJSON.decode(StopRequest.self, from: body)
        } catch {
            return fail("Unable to deserialize stop request: \(error.message)")
        }
        return fail(Self.workloadsUnavailable)
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
