import DequeModule
import Logging
import NATSProtocol
import NIOConcurrencyHelpers
import NIOCore

/// The state shared by the public API (any thread) and the connection (its event loop): outbound bytes,
/// subscriptions, pending requests and flushes. Publishing appends to one outbound buffer under a lock and
/// schedules one flush per event-loop tick, so writes coalesce.
final class ClientCore: Sendable {
    enum Phase: Sendable {
        case connecting, connected, disconnected, draining, closed
    }

    struct Connection {
        var channel: Channel
        var info: ServerInfo
        var server: ServerURL
    }

    struct PongWaiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, Error>?
        /// The PING left the outbound buffer for the current channel.
        var sent = false
    }

    struct RequestWaiter {
        enum Completion {
            case continuation(CheckedContinuation<NATSMessage, Error>)
            /// Runs on the event loop; must be quick.
            case callback(@Sendable (Result<NATSMessage, NATSError>) -> Void)
        }
        var completion: Completion
        var deadline: NIODeadline
        var subject: String

        func complete(_ result: Result<NATSMessage, NATSError>) {
            switch completion {
            case .continuation(let continuation): continuation.resume(with: result)
            case .callback(let callback): callback(result)
            }
        }
    }

    struct State {
        var phase: Phase = .connecting
        var connection: Connection?
        var pending: ByteBuffer
        var flushScheduled = false
        var pongWaiters: Deque<PongWaiter> = []
        var nextWaiterID: UInt64 = 0
        var publishWaiters: [CheckedContinuation<Void, Never>] = []
        var subscriptions: [UInt64: SubscriptionState] = [:]
        var nextSID: UInt64 = 1
        var maxPayload = 1024 * 1024
        var nuid = NUID()
        var requestInbox: (prefix: String, state: SubscriptionState)?
        var requests: [Substring: RequestWaiter] = [:]
        var nextRequestToken: UInt64 = 0
        /// The request-timeout sweep runs on the event loop while requests are recent (see `sweepRequests`).
        var sweepScheduled = false
        var lastRequestStart = NIODeadline.now()
        /// Resolved when the first connect succeeds or fails.
        var firstConnectWaiters: [CheckedContinuation<Void, Error>] = []
        var firstConnectResult: Result<Void, NATSError>?
        /// Why the last connection ended.
        var lastDisconnectReason: NATSError?
        /// Seed servers plus those the cluster announced; walked by the connection loop.
        var pool: ServerPool<ContinuousClock.Instant>
    }

    let eventLoop: EventLoop
    let configuration: NATSClient.Configuration
    let logger: Logger
    let events = EventBroadcaster()
    let state: NIOLockedValueBox<State>
    /// Above this many pending outbound bytes while connected, publishers wait for the socket.
    let highWater = 4 * 1024 * 1024

    init(eventLoop: EventLoop, configuration: NATSClient.Configuration, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        let pool = ServerPool<ContinuousClock.Instant>(servers: configuration.servers, reconnect: configuration.reconnect,
                                                       shuffle: configuration.randomizeServers)
        self.state = NIOLockedValueBox(State(pending: ByteBufferAllocator().buffer(capacity: 64 * 1024), pool: pool))
    }

    /// Event loop: INFO while connected — learn cluster members, report lame duck mode.
    func serverInfoUpdated(_ info: ServerInfo, enteredLameDuck: Bool, server: ServerURL) {
        let added: [ServerURL] = state.withLockedValue { state in
            state.connection?.info = info
            return state.pool.addDiscovered(info.connectURLs ?? [], template: server)
        }
        if !added.isEmpty { events.emit(.discoveredServers(added)) }
        if enteredLameDuck {
            logger.info("server entered lame duck mode", metadata: ["nats.server": "\(server)"])
            events.emit(.lameDuckMode(server))
        }
    }

    // MARK: - Publishing

    func publish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer) async throws {
        while try !enqueuePublish(subject: subject, replyTo: replyTo, headers: headers, payload: payload, waitForRoom: true) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    guard case .connected = state.phase, state.pending.readableBytes > highWater else { return true }
                    state.publishWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Publishes without waiting: above the high-water mark too (the caller bounds what it sends).
    func publishNow(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer) throws {
        _ = try enqueuePublish(subject: subject, replyTo: replyTo, headers: headers, payload: payload, waitForRoom: false)
    }

    /// Queues the message for the socket; false (nothing queued) when `waitForRoom` and the pending bytes are
    /// above the high-water mark while connected.
    private func enqueuePublish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer,
                                waitForRoom: Bool) throws -> Bool {
        guard SubjectValidation.isValidSubject(subject) else {
            throw NATSError(.invalidSubject, "invalid subject '\(subject)'")
        }
        if let replyTo, !SubjectValidation.isValidSubject(replyTo) {
            throw NATSError(.invalidSubject, "invalid reply subject '\(replyTo)'")
        }
        enum Outcome { case done, flush, wait, fail(NATSError) }
        let outcome: Outcome = state.withLockedValue { state in
            let size = payload.readableBytes + (headers?.encodedByteCount ?? 0)
            if size > state.maxPayload {
                return .fail(NATSError(.maxPayloadExceeded, "message of \(size) bytes exceeds the server's max_payload of \(state.maxPayload) bytes"))
            }
            switch state.phase {
            case .closed:
                return .fail(NATSError(.connectionClosed, "the client is closed"))
            case .connected, .draining:
                if waitForRoom, state.pending.readableBytes > highWater { return .wait }
            case .connecting, .disconnected:
                if state.pending.readableBytes + size + subject.utf8.count + 64 > configuration.reconnectBufferSize {
                    return .fail(NATSError(.reconnectBufferExceeded, "disconnected and the reconnect buffer of \(configuration.reconnectBufferSize) bytes is full"))
                }
            }
            state.pending.writePublish(subject: subject, replyTo: replyTo, headers: headers, payload: payload)
            return Self.claimFlush(&state) ? .flush : .done
        }
        switch outcome {
        case .done: return true
        case .flush:
            scheduleFlush()
            return true
        case .fail(let error): throw error
        case .wait: return false
        }
    }

    /// Marks a flush as scheduled; true when the caller must schedule it.
    private static func claimFlush(_ state: inout State) -> Bool {
        guard state.connection != nil, !state.flushScheduled else { return false }
        state.flushScheduled = true
        return true
    }

    private func scheduleFlush() {
        eventLoop.execute { self.flushPending() }
    }

    /// On the event loop: hands the pending bytes to the channel.
    func flushPending() {
        eventLoop.preconditionInEventLoop()
        let work: (Channel, ByteBuffer, [CheckedContinuation<Void, Never>])? = state.withLockedValue { state in
            state.flushScheduled = false
            guard let connection = state.connection, connection.channel.isWritable, state.pending.readableBytes > 0 else {
                return nil
            }
            let out = state.pending
            state.pending = connection.channel.allocator.buffer(capacity: max(64 * 1024, min(out.readableBytes, 1024 * 1024)))
            for index in state.pongWaiters.indices { state.pongWaiters[index].sent = true }
            let waiters = state.publishWaiters
            state.publishWaiters = []
            return (connection.channel, out, waiters)
        }
        guard let (channel, buffer, waiters) = work else { return }
        channel.writeAndFlush(buffer, promise: nil)
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Flush (PING/PONG)

    func flush(timeout: Duration) async throws {
        let id: UInt64 = state.withLockedValue { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let outcome: Result<Bool, NATSError> = state.withLockedValue { state in
                switch state.phase {
                case .closed: return .failure(NATSError(.connectionClosed, "the client is closed"))
                case .connecting, .connected, .disconnected, .draining: break
                }
                state.pending.writePing()
                state.pongWaiters.append(PongWaiter(id: id, continuation: continuation))
                return .success(Self.claimFlush(&state))
            }
            switch outcome {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(let schedule):
                if schedule { scheduleFlush() }
                eventLoop.scheduleTask(in: .init(timeout)) { self.failPongWaiter(id: id) }
            }
        }
    }

    private func failPongWaiter(id: UInt64) {
        let continuation: CheckedContinuation<Void, Error>? = state.withLockedValue { state in
            guard let index = state.pongWaiters.firstIndex(where: { $0.id == id }) else { return nil }
            let continuation = state.pongWaiters[index].continuation
            state.pongWaiters[index].continuation = nil
            return continuation
        }
        continuation?.resume(throwing: NATSError(.timeout, "flush timed out waiting for PONG"))
    }

    /// Keep-alive ping from the connection: same FIFO as flushes, so PONGs match in order.
    func enqueueKeepAlivePing() {
        let schedule = state.withLockedValue { state -> Bool in
            state.nextWaiterID += 1
            state.pending.writePing()
            state.pongWaiters.append(PongWaiter(id: state.nextWaiterID, continuation: nil))
            return Self.claimFlush(&state)
        }
        if schedule { scheduleFlush() }
    }

    func pongReceived() {
        let continuation: CheckedContinuation<Void, Error>? = state.withLockedValue { state in
            guard let first = state.pongWaiters.first, first.sent else { return nil }
            state.pongWaiters.removeFirst()
            return first.continuation
        }
        continuation?.resume()
    }

    // MARK: - Subscriptions

    func subscribe(subject: String, queue: String?, handler: (@Sendable (NATSMessage) -> Void)? = nil) throws -> SubscriptionState {
        guard SubjectValidation.isValidPattern(subject) else {
            throw NATSError(.invalidSubject, "invalid subject '\(subject)'")
        }
        if let queue, !SubjectValidation.isValidQueueGroup(queue) {
            throw NATSError(.invalidQueueGroup, "invalid queue group '\(queue)'")
        }
        let (subscription, schedule): (SubscriptionState, Bool) = try state.withLockedValue { state in
            switch state.phase {
            case .closed: throw NATSError(.connectionClosed, "the client is closed")
            case .draining: throw NATSError(.draining, "the client is draining")
            case .connecting, .connected, .disconnected: break
            }
            let sid = state.nextSID
            state.nextSID += 1
            let subscription = SubscriptionState(sid: sid, subject: subject, queue: queue, kind: .messages,
                                                 limit: configuration.subscriptionBufferLimit, eventLoop: eventLoop,
                                                 handler: handler)
            state.subscriptions[sid] = subscription
            state.pending.writeSubscribe(sid: sid, subject: subject, queue: queue)
            return (subscription, Self.claimFlush(&state))
        }
        if schedule { scheduleFlush() }
        return subscription
    }

    func unsubscribe(_ subscription: SubscriptionState, after count: Int?) async throws {
        let schedule: Bool = try state.withLockedValue { state in
            guard state.subscriptions[subscription.sid] != nil else { return false }
            if case .closed = state.phase { throw NATSError(.connectionClosed, "the client is closed") }
            if let count {
                subscription.maxMessages.store(count, ordering: .relaxed)
                state.pending.writeUnsubscribe(sid: subscription.sid, max: count)
            } else {
                state.subscriptions[subscription.sid] = nil
                state.pending.writeUnsubscribe(sid: subscription.sid, max: nil)
            }
            return Self.claimFlush(&state)
        }
        if count == nil { subscription.finish(discardBuffered: true) }
        if schedule { scheduleFlush() }
        if let count {
            // Already delivered enough? The event loop ends it on the next message; check now too.
            eventLoop.execute {
                if subscription.delivered >= count { self.removeSubscription(subscription) }
            }
        }
    }

    /// Unsubscribes `subscriptions` on the server, then ends each sequence after the messages already received.
    func drain(_ subscriptions: [SubscriptionState]) async {
        let schedule: Bool = state.withLockedValue { state in
            for subscription in subscriptions where state.subscriptions[subscription.sid] != nil {
                state.pending.writeUnsubscribe(sid: subscription.sid, max: nil)
            }
            return Self.claimFlush(&state)
        }
        if schedule { scheduleFlush() }
        // Once the server answered a PING sent after the UNSUBs, no more messages come for these sids.
        try? await flush(timeout: .seconds(10))
        eventLoop.execute {
            self.state.withLockedValue { state in
                for subscription in subscriptions { state.subscriptions.removeValue(forKey: subscription.sid) }
            }
            for subscription in subscriptions { subscription.finish(discardBuffered: false) }
        }
    }

    /// Event loop: the target of a message's sid.
    func subscription(for sid: UInt64) -> SubscriptionState? {
        state.withLockedValue { $0.subscriptions[sid] }
    }

    /// Event loop: a subscription reached its auto-unsubscribe bound.
    func removeSubscription(_ subscription: SubscriptionState) {
        state.withLockedValue { _ = $0.subscriptions.removeValue(forKey: subscription.sid) }
        subscription.finish(discardBuffered: false)
    }

    // MARK: - Requests

    func request(subject: String, headers: NATSHeaders?, payload: ByteBuffer, timeout: Duration) async throws -> NATSMessage {
        let tokenBox = NIOLockedValueBox<Substring?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<NATSMessage, Error>) in
                do {
                    let token = try startRequest(subject: subject, headers: headers, payload: payload, timeout: timeout,
                                                 completion: .continuation(continuation))
                    tokenBox.withLockedValue { $0 = token }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if let token = tokenBox.withLockedValue({ $0 }) {
                failRequest(token, NATSError(.cancelled, "request cancelled"))
            }
        }
    }

    /// Registers the reply waiter, queues the PUB with a reply on the shared inbox, arms the timeout.
    @discardableResult
    func startRequest(subject: String, headers: NATSHeaders?, payload: ByteBuffer, timeout: Duration,
                      completion: RequestWaiter.Completion) throws(NATSError) -> Substring {
        guard SubjectValidation.isValidSubject(subject) else {
            throw NATSError(.invalidSubject, "invalid subject '\(subject)'")
        }
        let outcome: Result<(Substring, Bool, Bool), NATSError> = state.withLockedValue { state in
            let size = payload.readableBytes + (headers?.encodedByteCount ?? 0)
            if size > state.maxPayload {
                return .failure(NATSError(.maxPayloadExceeded, "message of \(size) bytes exceeds the server's max_payload of \(state.maxPayload) bytes"))
            }
            switch state.phase {
            case .closed: return .failure(NATSError(.connectionClosed, "the client is closed"))
            case .draining: return .failure(NATSError(.draining, "the client is draining"))
            case .connecting, .disconnected:
                if state.pending.readableBytes + size > configuration.reconnectBufferSize {
                    return .failure(NATSError(.reconnectBufferExceeded, "disconnected and the reconnect buffer is full"))
                }
            case .connected: break
            }
            let prefix = self.ensureRequestInbox(&state)
            state.nextRequestToken += 1
            let token = Substring(String(state.nextRequestToken, radix: 36))
            let reply = prefix + token
            let now = NIODeadline.now()
            state.requests[token] = RequestWaiter(completion: completion, deadline: now + TimeAmount(timeout), subject: subject)
            state.lastRequestStart = now
            state.pending.writePublish(subject: subject, replyTo: reply, headers: headers, payload: payload)
            let startSweep = !state.sweepScheduled
            state.sweepScheduled = true
            return .success((token, Self.claimFlush(&state), startSweep))
        }
        let (token, schedule, startSweep) = try outcome.get()
        if startSweep {
            eventLoop.execute { self.scheduleSweep() }
        }
        if schedule { scheduleFlush() }
        return token
    }

    /// Request timeouts: one timer on the event loop sweeps expired requests every `sweepInterval` while
    /// requests were started within the last second, instead of a timer per request (arming and cancelling a
    /// timer from another thread costs a wake-up each; pipelined requests would pay it thousands of times).
    static let sweepInterval = TimeAmount.milliseconds(10)

    private func scheduleSweep() {
        eventLoop.scheduleTask(in: Self.sweepInterval) { self.sweepRequests() }
    }

    private func sweepRequests() {
        let now = NIODeadline.now()
        let (expired, keepGoing): ([RequestWaiter], Bool) = state.withLockedValue { state in
            var expired: [RequestWaiter] = []
            if !state.requests.isEmpty {
                for (token, waiter) in state.requests where waiter.deadline <= now {
                    expired.append(waiter)
                    state.requests[token] = nil
                }
            }
            let keepGoing = !state.requests.isEmpty || now - state.lastRequestStart < .seconds(1)
            if !keepGoing { state.sweepScheduled = false }
            if case .closed = state.phase { state.sweepScheduled = false; return (expired, false) }
            return (expired, keepGoing)
        }
        for waiter in expired {
            waiter.complete(.failure(NATSError(.timeout, "request to '\(waiter.subject)' timed out")))
        }
        if keepGoing { scheduleSweep() }
    }

    private func ensureRequestInbox(_ state: inout State) -> String {
        if let inbox = state.requestInbox { return inbox.prefix }
        let prefix = "\(configuration.inboxPrefix).\(state.nuid.next())."
        let sid = state.nextSID
        state.nextSID += 1
        let inbox = SubscriptionState(sid: sid, subject: prefix + "*", queue: nil, kind: .requests,
                                      limit: configuration.subscriptionBufferLimit, eventLoop: eventLoop)
        state.subscriptions[sid] = inbox
        state.requestInbox = (prefix, inbox)
        state.pending.writeSubscribe(sid: sid, subject: inbox.subject, queue: nil)
        return prefix
    }

    private func failRequest(_ token: Substring, _ error: NATSError) {
        let waiter = state.withLockedValue { $0.requests.removeValue(forKey: token) }
        waiter?.complete(.failure(error))
    }

    /// Event loop: a reply arrived on the request inbox.
    func resolveRequest(_ message: NATSMessage, inboxPrefixLength: Int) {
        let subject = message.subject
        guard subject.utf8.count > inboxPrefixLength else { return }
        let token = subject[subject.utf8.index(subject.startIndex, offsetBy: inboxPrefixLength)...]
        guard let waiter = state.withLockedValue({ $0.requests.removeValue(forKey: token) }) else { return }
        if message.status == 503 {
            waiter.complete(.failure(NATSError(.noResponders, "no responders on the request subject")))
        } else {
            waiter.complete(.success(message))
        }
    }

    var requestInboxPrefixLength: Int? {
        state.withLockedValue { $0.requestInbox?.prefix.utf8.count }
    }

    // MARK: - Connection lifecycle (event loop)

    /// The handshake on `channel` completed: re-subscribe everything, then send what was buffered.
    func connectionEstablished(channel: Channel, info: ServerInfo, server: ServerURL) {
        let waiters: [CheckedContinuation<Void, Error>] = state.withLockedValue { state in
            if case .closed = state.phase { return [] }
            state.connection = Connection(channel: channel, info: info, server: server)
            if case .draining = state.phase {} else { state.phase = .connected }
            state.maxPayload = info.maxPayload
            var prefix = channel.allocator.buffer(capacity: state.pending.readableBytes + 64 * state.subscriptions.count)
            for (sid, subscription) in state.subscriptions.sorted(by: { $0.key < $1.key }) {
                prefix.writeSubscribe(sid: sid, subject: subscription.subject, queue: subscription.queue)
                if let max = subscription.autoUnsubscribeLimit {
                    prefix.writeUnsubscribe(sid: sid, max: max)
                }
            }
            prefix.writeImmutableBuffer(state.pending)
            state.pending = prefix
            state.flushScheduled = false
            if state.firstConnectResult == nil { state.firstConnectResult = .success(()) }
            let waiters = state.firstConnectWaiters
            state.firstConnectWaiters = []
            return waiters
        }
        flushPending()
        for waiter in waiters { waiter.resume() }
    }

    /// The channel closed: PINGs already sent on it will never be answered.
    func connectionLost(channel: Channel, reason: NATSError) {
        let failed: [CheckedContinuation<Void, Error>] = state.withLockedValue { state in
            guard let connection = state.connection, connection.channel === channel else { return [] }
            state.lastDisconnectReason = reason
            state.connection = nil
            state.flushScheduled = false
            if case .connected = state.phase { state.phase = .disconnected }
            var failed: [CheckedContinuation<Void, Error>] = []
            state.pongWaiters.removeAll { waiter in
                guard waiter.sent else { return false }
                if let continuation = waiter.continuation { failed.append(continuation) }
                return true
            }
            // Publishers waiting for the socket now go to the reconnect buffer.
            let publishers = state.publishWaiters
            state.publishWaiters = []
            for publisher in publishers { publisher.resume() }
            return failed
        }
        for continuation in failed {
            continuation.resume(throwing: NATSError(.connectionClosed, "connection lost before PONG"))
        }
    }

    func firstConnectFailed(_ error: NATSError) {
        let waiters = state.withLockedValue { state in
            if state.firstConnectResult == nil { state.firstConnectResult = .failure(error) }
            let waiters = state.firstConnectWaiters
            state.firstConnectWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    func waitUntilConnected() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let result: Result<Void, NATSError>? = state.withLockedValue { state in
                if let result = state.firstConnectResult { return result }
                if case .closed = state.phase { return .failure(NATSError(.connectionClosed, "the client is closed")) }
                state.firstConnectWaiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    var currentChannel: Channel? { state.withLockedValue { $0.connection?.channel } }
    var phase: Phase { state.withLockedValue { $0.phase } }
    var serverInfo: ServerInfo? { state.withLockedValue { $0.connection?.info } }

    func beginDraining() -> [SubscriptionState] {
        state.withLockedValue { state in
            if case .closed = state.phase { return [] }
            state.phase = .draining
            return state.subscriptions.values.filter { $0.kind == .messages }
        }
    }

    /// Final: fails everything outstanding, ends every subscription. Returns the channel to close.
    func close(error: NATSError?) -> Channel? {
        let (channel, pongs, requests, subscriptions, publishers, connectWaiters) = state.withLockedValue { state in
            state.phase = .closed
            let channel = state.connection?.channel
            state.connection = nil
            let pongs = state.pongWaiters.compactMap(\.continuation)
            state.pongWaiters = []
            let requests = Array(state.requests.values)
            state.requests = [:]
            let subscriptions = Array(state.subscriptions.values)
            state.subscriptions = [:]
            let publishers = state.publishWaiters
            state.publishWaiters = []
            let connectWaiters = state.firstConnectWaiters
            state.firstConnectWaiters = []
            if state.firstConnectResult == nil {
                state.firstConnectResult = .failure(error ?? NATSError(.connectionClosed, "the client is closed"))
            }
            return (channel, pongs, requests, subscriptions, publishers, connectWaiters)
        }
        let closed = error ?? NATSError(.connectionClosed, "the client is closed")
        for pong in pongs { pong.resume(throwing: closed) }
        for request in requests { request.complete(.failure(closed)) }
        for subscription in subscriptions {
            subscription.finish(error.map { .failure($0) } ?? .success(()), discardBuffered: false)
        }
        for publisher in publishers { publisher.resume() }
        for waiter in connectWaiters { waiter.resume(throwing: closed) }
        return channel
    }
}
