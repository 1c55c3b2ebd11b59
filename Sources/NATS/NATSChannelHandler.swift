import Logging
import NATSProtocol
import NIOCore
import NIOSSL

/// Interprets one connection: decodes server operations, drives the `ConnectionStateMachine`, and hands
/// messages to subscriptions in batches — one commit per socket read, not one async hop per message.
final class NATSChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: ClientCore
    private let server: ServerURL
    private let handshake: EventLoopPromise<ServerInfo>
    private var machine: ConnectionStateMachine
    private var processor: NIOSingleStepByteToMessageProcessor<NATSProtocolDecoder>
    private var context: ChannelHandlerContext?
    private var pingTask: Scheduled<Void>?
    private var handshakeTimeout: Scheduled<Void>?
    /// Why the connection ended, for the `disconnected` event.
    private var closeReason: NATSError?
    @exclusivity(unchecked) private var established = false

    /// sid → target, so the core's lock is taken once per new sid, not per message.
    @exclusivity(unchecked) private var targets: [UInt64: SubscriptionState] = [:]
    @exclusivity(unchecked) private var touched: [SubscriptionState] = []
    /// The target of the previous message: consecutive messages mostly share a subscription.
    @exclusivity(unchecked) private var lastTarget: SubscriptionState?
    private var inboxPrefixLength: Int?

    init(core: ClientCore, server: ServerURL, handshake: EventLoopPromise<ServerInfo>) {
        self.core = core
        self.server = server
        self.handshake = handshake
        self.machine = ConnectionStateMachine(
            maxPingsOutstanding: core.configuration.maxPingsOutstanding,
            tlsWanted: server.scheme == .tls || core.configuration.tls != nil
        )
        self.processor = NIOSingleStepByteToMessageProcessor(NATSProtocolDecoder(maxControlLineLength: 64 * 1024), maximumBufferSize: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let timeout = TimeAmount(core.configuration.connectTimeout)
        handshakeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            run(machine.handshakeTimedOut())
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try processor.process(buffer: buffer) { op in
                self.handle(op)
            }
        } catch {
            let reason = NATSError(.protocolViolation, "unreadable data from the server: \(error)")
            run(.close(reason))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverTouched()
        context.fireChannelReadComplete()
    }

    private func handle(_ op: ServerOp) {
        switch op {
        case .message(let inbound):
            route(inbound)
        case .info(let info):
            run(machine.infoReceived(info))
        case .ping:
            run(machine.pingReceived())
        case .pong:
            // Messages read before this PONG reach their subscriptions before a flush waiting on it returns.
            deliverTouched()
            run(machine.pongReceived())
        case .ok:
            break
        case .error(let error):
            run(machine.errorReceived(error))
        }
    }

    private func route(_ inbound: InboundMessage) {
        guard established else { return }
        let target: SubscriptionState
        if let last = lastTarget, last.sid == inbound.sid {
            target = last
        } else if let known = targets[inbound.sid] {
            target = known
            lastTarget = known
        } else {
            guard let found = core.subscription(for: inbound.sid) else { return }
            targets[inbound.sid] = found
            target = found
            lastTarget = found
        }
        let message = NATSMessage(subject: inbound.subject, replyTo: inbound.replyTo, headers: inbound.headers,
                                  payload: inbound.payload)
        switch target.kind {
        case .requests:
            if inboxPrefixLength == nil { inboxPrefixLength = core.requestInboxPrefixLength }
            core.resolveRequest(message, inboxPrefixLength: inboxPrefixLength ?? 0)
        case .messages:
            if target.isFinished {
                targets[inbound.sid] = nil
                lastTarget = nil
                return
            }
            if target.delivered >= target.maxMessages.load(ordering: .relaxed) { return }
            if target.staged.isEmpty { touched.append(target) }
            target.staged.append(message)
            target.delivered += 1
        }
    }

    private func deliverTouched() {
        guard !touched.isEmpty else { return }
        for subscription in touched {
            let dropped = subscription.commitStaged()
            if dropped > 0 {
                core.logger.warning("slow consumer: dropping messages", metadata: [
                    "nats.subject": "\(subscription.subject)", "nats.sid": "\(subscription.sid)",
                ])
                core.events.emit(.slowConsumer(subject: subscription.subject, sid: subscription.sid, dropped: dropped))
            }
            if subscription.delivered >= subscription.maxMessages.load(ordering: .relaxed) {
                targets[subscription.sid] = nil
                lastTarget = nil
                core.removeSubscription(subscription)
            }
        }
        touched.removeAll(keepingCapacity: true)
    }

    private func run(_ action: ConnectionStateMachine.Action) {
        guard let context else { return }
        switch action {
        case .none:
            break
        case .sendConnect(let info, let upgradeToTLS):
            do {
                if upgradeToTLS {
                    let tls = core.configuration.tls ?? NATSClient.TLS()
                    let sslContext = try tls.makeContext()
                    let hostname = tls.serverHostname ?? (server.host.isIPAddress ? nil : server.host)
                    let sslHandler = try NIOSSLClientHandler(context: sslContext, serverHostname: hostname)
                    try context.pipeline.syncOperations.addHandler(sslHandler, position: .first)
                }
                let connect = try core.makeConnectInfo(info: info, server: server)
                var buffer = context.channel.allocator.buffer(capacity: 512)
                try buffer.writeConnect(connect)
                buffer.writePing()
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            } catch let error as NATSError {
                run(.close(error))
            } catch {
                run(.close(NATSError(.connectFailed, "cannot prepare CONNECT: \(error)")))
            }
        case .handshakeComplete(let info):
            handshakeTimeout?.cancel()
            established = true
            core.connectionEstablished(channel: context.channel, info: info, server: server)
            core.serverInfoUpdated(info, enteredLameDuck: false, server: server)
            schedulePing(on: context.eventLoop)
            handshake.succeed(info)
        case .infoUpdated(let info, let enteredLameDuck):
            core.serverInfoUpdated(info, enteredLameDuck: enteredLameDuck, server: server)
        case .sendPong:
            var buffer = context.channel.allocator.buffer(capacity: 8)
            buffer.writePong()
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .sendPing:
            core.enqueueKeepAlivePing()
        case .pongReceived:
            core.pongReceived()
        case .reportServerError(let error):
            core.logger.warning("server error", metadata: ["nats.error": "\(error.message)"])
            core.events.emit(.serverError(error))
        case .close(let reason):
            if closeReason == nil { closeReason = reason }
            handshake.fail(reason)
            context.close(promise: nil)
        }
    }

    private func schedulePing(on eventLoop: EventLoop) {
        let interval = TimeAmount(core.configuration.pingInterval)
        pingTask = eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            run(machine.pingTimerFired())
            if machine.isConnected { schedulePing(on: eventLoop) }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { core.flushPending() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let reason: NATSError
        if let error = error as? NATSError {
            reason = error
        } else if error is NIOSSLError || error is BoringSSLError {
            reason = NATSError(.tls, "TLS failed: \(error)")
        } else {
            reason = NATSError(.connectionClosed, "connection error: \(error)")
        }
        run(.close(reason))
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverTouched()
        pingTask?.cancel()
        handshakeTimeout?.cancel()
        let reason = closeReason ?? NATSError(.connectionClosed, "the server closed the connection")
        if closeReason == nil { closeReason = reason }
        handshake.fail(reason)
        if established { core.connectionLost(channel: context.channel, reason: reason) }
        context.fireChannelInactive()
    }
}

extension String {
    var isIPAddress: Bool {
        if contains(":") { return true }
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
