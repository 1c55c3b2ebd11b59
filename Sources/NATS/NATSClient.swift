import Logging
import NATSProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A NATS client: publish, subscribe, request/reply, with reconnect, TLS and every NATS auth mode.
///
/// The client is a `Service`: `run()` owns the connection (connect, reconnect, ping) and returns when the
/// client is closed; use the other methods concurrently. `withNATSClient` does both for scoped use:
///
/// ```swift
/// try await withNATSClient(.init(url: "nats://127.0.0.1:4222")) { nats in
///     let sub = try await nats.subscribe(to: "greet.*")
///     try await nats.publish("hello", to: "greet.joe")
///     for try await message in sub { print(message.string); break }
/// }
/// ```
public final class NATSClient: Service, Sendable {
    let core: ClientCore
    private let runState = NIOLockedValueBox<RunState>(RunState())

    private struct RunState {
        var closeRequested = false
        var wakeUp: EventLoopPromise<Void>?
        var running = false
    }

    public var configuration: NATSClient.Configuration { core.configuration }

    /// - Parameters:
    ///   - eventLoopGroup: the group the connection lives on; every connection of this client uses one loop of it.
    public init(configuration: Configuration, eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "nats")) {
        self.core = ClientCore(eventLoop: eventLoopGroup.next(), configuration: configuration, logger: logger)
    }

    // MARK: - Publishing

    /// Publishes `payload` to `subject`; returns once the bytes are queued for the socket (or the reconnect
    /// buffer). Use `flush()` to know the server has them.
    public func publish(_ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil, reply: String? = nil) async throws {
        try await core.publish(subject: subject, replyTo: reply, headers: headers, payload: payload)
    }

    public func publish(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders? = nil, reply: String? = nil) async throws {
        try await publish(ByteBuffer(bytes: payload), to: subject, headers: headers, reply: reply)
    }

    public func publish(_ payload: String, to subject: String, headers: NATSHeaders? = nil, reply: String? = nil) async throws {
        try await publish(ByteBuffer(string: payload), to: subject, headers: headers, reply: reply)
    }

    /// Publishes from any thread without suspending: the message is queued for the socket even above the
    /// high-water mark where `publish` would wait, so the caller bounds how much it sends (a function's replies,
    /// sent from the engine's thread, are bounded by its invocations in flight).
    public func publishNow(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders? = nil, reply: String? = nil) throws {
        try core.publishNow(subject: subject, replyTo: reply, headers: headers, payload: ByteBuffer(bytes: payload))
    }

    /// Sends a request and waits for the first reply (one muxed inbox for all requests).
    /// Throws `noResponders` when nobody subscribes to `subject`, `timeout` when no reply came in time.
    public func request(_ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil, timeout: Duration? = nil) async throws -> NATSMessage {
        try await core.request(subject: subject, headers: headers, payload: payload,
                               timeout: timeout ?? core.configuration.requestTimeout)
    }

    /// Sends a request without waiting for the reply: `onReply` runs on the connection's event loop with the
    /// reply or the error (`timeout`, `noResponders`, `connectionClosed`); keep it short and non-blocking.
    /// For pipelines such as JetStream async publish, where a task per request would cost more than the request.
    public func request(_ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil, timeout: Duration? = nil,
                        onReply: @escaping @Sendable (Result<NATSMessage, NATSError>) -> Void) throws(NATSError) {
        try core.startRequest(subject: subject, headers: headers, payload: payload,
                              timeout: timeout ?? core.configuration.requestTimeout, completion: .callback(onReply))
    }

    public func request(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders? = nil, timeout: Duration? = nil) async throws -> NATSMessage {
        try await request(ByteBuffer(bytes: payload), to: subject, headers: headers, timeout: timeout)
    }

    public func request(_ payload: String, to subject: String, headers: NATSHeaders? = nil, timeout: Duration? = nil) async throws -> NATSMessage {
        try await request(ByteBuffer(string: payload), to: subject, headers: headers, timeout: timeout)
    }

    // MARK: - Subscribing

    /// Subscribes to `subject` (wildcards allowed), in queue group `queue` when given.
    public func subscribe(to subject: String, queue: String? = nil) async throws -> NATSSubscription {
        NATSSubscription(state: try core.subscribe(subject: subject, queue: queue), client: self)
    }

    /// Subscribes with `handler` called for every message, in order, on the connection's event loop thread —
    /// no hop to a task, for consumers that hand messages on to threads of their own. The handler must return
    /// quickly and never block: the connection reads nothing else meanwhile. The subscription yields no
    /// messages; iterating it waits until it ends (unsubscribe, drain, close) and throws when the client gave up.
    public func subscribe(to subject: String, queue: String? = nil,
                          handler: @escaping @Sendable (NATSMessage) -> Void) async throws -> NATSSubscription {
        NATSSubscription(state: try core.subscribe(subject: subject, queue: queue, handler: handler), client: self)
    }

    /// Subscribes for the duration of `body`, unsubscribing when it returns or throws.
    public func withSubscription<T>(to subject: String, queue: String? = nil,
                                    _ body: (NATSSubscription) async throws -> T) async throws -> T {
        let subscription = try await subscribe(to: subject, queue: queue)
        do {
            let result = try await body(subscription)
            try? await subscription.unsubscribe()
            return result
        } catch {
            try? await subscription.unsubscribe()
            throw error
        }
    }

    /// A fresh, unique subject for replies.
    public func newInbox() -> String {
        let id = core.state.withLockedValue { $0.nuid.next() }
        return "\(core.configuration.inboxPrefix).\(id)"
    }

    // MARK: - Flow

    /// Waits until the server has processed everything sent before (a PING/PONG round trip).
    public func flush(timeout: Duration = .seconds(10)) async throws {
        try await core.flush(timeout: timeout)
    }

    /// Unsubscribes everything, lets subscribers consume what was already received, flushes, then closes.
    public func drain(timeout: Duration = .seconds(30)) async throws {
        let subscriptions = core.beginDraining()
        await core.drain(subscriptions)
        // Wait (bounded) for consumers to empty their buffers.
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while subscriptions.contains(where: { $0.buffer.withLockedValue { !$0.messages.isEmpty } }),
            ContinuousClock.now < deadline
        {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await core.flush(timeout: .seconds(5))
        await close()
    }

    /// Closes the connection now; outstanding requests fail, subscriptions end.
    public func close() async {
        let channel = core.currentChannel
        closeNow()
        try? await channel?.closeFuture.get()
    }

    /// Waits for the first successful connection; throws when the first connect failed.
    public func waitUntilConnected() async throws {
        try await core.waitUntilConnected()
    }

    /// Connection events for this listener (each call gives a new, independent sequence).
    public func events() -> AsyncStream<NATSEvent> {
        core.events.stream()
    }

    /// INFO of the server we are connected to.
    public var serverInfo: ServerInfo? { core.serverInfo }

    public var isConnected: Bool {
        if case .connected = core.phase { return true }
        return false
    }

    // MARK: - Service

    /// Connects and keeps the connection alive until `close()`. Graceful shutdown drains; cancellation closes.
    public func run() async throws {
        let alreadyRunning = runState.withLockedValue { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw NATSError(.invalidConfiguration, "run() called twice") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await self.connectionLoop()
                } onCancel: {
                    self.closeNow()
                }
            }
            group.addTask {
                try await gracefulShutdown()
                try await self.drain(timeout: .seconds(10))
            }
            // The connection loop ends the group (after close, drain or giving up); the watcher is cancelled.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Close without waiting: fail outstanding work, close the socket, wake the loop.
    private func closeNow() {
        let (channel, wake): (Channel?, EventLoopPromise<Void>?) = runState.withLockedValue { state in
            state.closeRequested = true
            let wake = state.wakeUp
            state.wakeUp = nil
            return (core.close(error: nil), wake)
        }
        wake?.succeed()
        channel?.close(promise: nil)
        core.events.finish()
    }

    private var isCloseRequested: Bool { runState.withLockedValue { $0.closeRequested } }

    private func connectionLoop() async throws {
        let configuration = core.configuration
        guard !configuration.servers.isEmpty else {
            let error = NATSError(.noServers, "no servers configured")
            core.firstConnectFailed(error)
            throw error
        }
        var everConnected = false
        var firstRoundFailures = 0
        var lastError: NATSError?
        while !isCloseRequested {
            let server: ServerURL
            switch core.state.withLockedValue({ $0.pool.next(now: .now) }) {
            case .exhausted:
                let error = NATSError(.noServers, "no server reachable" + (lastError.map { ": \($0.message)" } ?? ""))
                core.logger.error("giving up connecting", metadata: ["nats.error": "\(error.message)"])
                if !everConnected { core.firstConnectFailed(error) }
                _ = core.close(error: error)
                core.events.finish()
                throw error
            case .connect(let next, let delay):
                server = next
                if delay > .zero { await sleep(delay) }
            }
            if isCloseRequested { break }
            do {
                let channel = try await connect(to: server)
                core.state.withLockedValue { $0.pool.connected(server) }
                firstRoundFailures = 0
                core.logger.info(everConnected ? "reconnected" : "connected", metadata: ["nats.server": "\(server)"])
                core.events.emit(everConnected ? .reconnected(server) : .connected(server))
                everConnected = true
                try? await channel.closeFuture.get()
                let reason = core.state.withLockedValue { $0.lastDisconnectReason }
                if isCloseRequested { break }
                core.logger.info("disconnected", metadata: ["nats.server": "\(server)", "nats.reason": "\(reason?.message ?? "closed")"])
                core.events.emit(.disconnected(server, reason))
                if !configuration.reconnect.enabled {
                    let error = reason ?? NATSError(.connectionClosed, "connection closed")
                    _ = core.close(error: error)
                    core.events.finish()
                    throw error
                }
            } catch {
                let natsError = error as? NATSError ?? NATSError(.connectFailed, "\(error)")
                lastError = natsError
                let remaining = core.state.withLockedValue { state in
                    state.pool.failed(server)
                    return state.pool.servers.count
                }
                core.logger.debug("connect attempt failed", metadata: ["nats.server": "\(server)", "nats.error": "\(natsError.message)"])
                if !everConnected && !configuration.retryOnFailedConnect {
                    firstRoundFailures += 1
                    if firstRoundFailures >= remaining {
                        core.firstConnectFailed(natsError)
                        _ = core.close(error: natsError)
                        core.events.finish()
                        throw natsError
                    }
                }
            }
        }
    }

    /// Dials `server` and completes the handshake (INFO, optional TLS, CONNECT, PING/PONG).
    private func connect(to server: ServerURL) async throws -> Channel {
        let eventLoop = core.eventLoop
        let handshake = eventLoop.makePromise(of: ServerInfo.self)
        let core = self.core
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(core.configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = NATSChannelHandler(core: core, server: server, handshake: handshake)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: server.host, port: server.port)
            .get()
        do {
            _ = try await handshake.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return channel
    }

    /// Sleeps for the backoff, waking early when the client is closed.
    private func sleep(_ delay: Duration) async {
        let promise = core.eventLoop.makePromise(of: Void.self)
        let registered = runState.withLockedValue { state -> Bool in
            if state.closeRequested { return false }
            state.wakeUp = promise
            return true
        }
        guard registered else {
            promise.succeed()
            return
        }
        let timer = core.eventLoop.scheduleTask(in: TimeAmount(delay)) { promise.succeed() }
        try? await promise.futureResult.get()
        timer.cancel()
        runState.withLockedValue { if $0.wakeUp?.futureResult === promise.futureResult { $0.wakeUp = nil } }
    }
}

/// Runs a client for the duration of `body`: connects first (throwing when that fails), closes afterwards.
public func withNATSClient<T: Sendable>(
    _ configuration: NATSClient.Configuration,
    eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger = Logger(label: "nats"),
    _ body: (NATSClient) async throws -> T
) async throws -> T {
    let client = NATSClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        do {
            try await client.waitUntilConnected()
            let result = try await body(client)
            await client.close()
            try? await group.waitForAll()
            return result
        } catch {
            await client.close()
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}
