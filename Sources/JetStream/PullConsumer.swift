import Foundation
import NATS
import NIOConcurrencyHelpers
import NIOCore

/// Pulls messages from a pull consumer: `fetch` for one batch, `messages` for a continuous sequence.
public struct PullConsumer: Sendable {
    public let context: JetStreamContext
    public let stream: String
    public let name: String

    init(context: JetStreamContext, stream: String, name: String) {
        self.context = context
        self.stream = stream
        self.name = name
    }

    var client: NATSClient { context.client }
    var nextSubject: String { context.apiSubject("CONSUMER.MSG.NEXT.\(stream).\(name)") }

    /// The consumer's current state.
    public func info() async throws -> ConsumerInfo {
        try await context.consumerInfo(stream: stream, name: name)
    }

    /// Fetches up to `batch` messages, waiting at most `expires` for them to arrive.
    ///
    /// Returns early when the batch is complete, or when the server ends the request (status 404 no messages,
    /// 408 expired, 409); returns what arrived so far (possibly nothing) when `expires` passes.
    /// - Throws: `.pullTerminated` for a 409 before any message (e.g. the consumer was deleted);
    ///   `.consumerNotFound` when the server never answered because there is no such consumer.
    public func fetch(batch: Int, expires: Duration = .seconds(5)) async throws -> [JetStreamMessage] {
        guard batch > 0 else { throw JetStreamError(.invalidArgument, "batch must be positive") }
        try JetStreamContext.validateName(stream, what: "stream name")
        try JetStreamContext.validateName(name, what: "consumer name")
        let inbox = client.newInbox()
        let nextSubject = self.nextSubject
        let client = self.client
        let messages = try await client.withSubscription(to: inbox) { subscription in
            let request = PullRequest(batch: batch, expires: expires)
            try await client.publish(try APICoding.encode(request), to: nextSubject, reply: inbox)
            // The server ends the request itself at `expires`; the local deadline only covers a server that went away.
            let deadline = ContinuousClock.now.advanced(by: expires + .seconds(1))
            return try await withThrowingTaskGroup(of: Void.self) { group -> [JetStreamMessage]? in
                group.addTask {
                    try await Task.sleep(until: deadline)
                    try? await subscription.drain()
                }
                defer { group.cancelAll() }
                var messages: [JetStreamMessage] = []
                messages.reserveCapacity(batch)
                for try await message in subscription {
                    if let status = message.status {
                        switch status {
                        case 100: continue  // heartbeat
                        case 404, 408: return messages
                        case 503:
                            throw JetStreamError(.notEnabled, "no responders for \(nextSubject): no such consumer, or JetStream is not enabled")
                        case 409:
                            if messages.isEmpty {
                                throw JetStreamError(.pullTerminated, "pull request ended: \(message.headers?.statusDescription ?? "409")", apiCode: 409)
                            }
                            return messages
                        default: continue
                        }
                    }
                    guard let jetStreamMessage = JetStreamMessage(message, client: client) else { continue }
                    messages.append(jetStreamMessage)
                    if messages.count == batch { return messages }
                }
                return messages.isEmpty ? nil : messages
            }
        }
        if let messages { return messages }
        // Neither messages nor a status before the local deadline: a pull request to a consumer that does not
        // exist is silently dropped by the server, so say so instead of returning an empty batch.
        _ = try await info()
        return []
    }

    /// A continuous sequence of messages: keeps pull requests of up to `batchSize` outstanding, asking for more
    /// once half of them arrived, and re-pulls when a request was lost (no traffic for `expires` plus a
    /// heartbeat, e.g. after a reconnect). Call `stop()` when done.
    public func messages(batchSize: Int = 256, expires: Duration = .seconds(30)) async throws -> PullMessages {
        guard batchSize > 0 else { throw JetStreamError(.invalidArgument, "batchSize must be positive") }
        try JetStreamContext.validateName(stream, what: "stream name")
        try JetStreamContext.validateName(name, what: "consumer name")
        let inbox = client.newInbox()
        let subscription = try await client.subscribe(to: "\(inbox).*")
        let heartbeat = max(min(expires / 4, .seconds(15)), .milliseconds(250))
        let ticker = JetStreamTicker(client: client, subject: "\(inbox).tick", interval: heartbeat)
        let state = PullMessages.State(consumer: self, subscription: subscription, deliverSubject: "\(inbox).m",
                                       ticker: ticker, batchSize: batchSize, expires: expires, heartbeat: heartbeat)
        ticker.start()
        return PullMessages(state: state)
    }
}

/// The body of `CONSUMER.MSG.NEXT`.
struct PullRequest: Encodable {
    var batch: Int
    var expires: Duration?
    var noWait: Bool = false
    var heartbeat: Duration?

    enum CodingKeys: String, CodingKey {
        case batch, expires
        case noWait = "no_wait"
        case heartbeat = "idle_heartbeat"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encodeNanoseconds(expires, forKey: .expires)
        if noWait { try c.encode(true, forKey: .noWait) }
        try c.encodeNanoseconds(heartbeat, forKey: .heartbeat)
    }
}

/// The messages of `PullConsumer.messages`, as an async sequence (iterate it once).
public struct PullMessages: AsyncSequence, Sendable {
    public typealias Element = JetStreamMessage
    let state: State

    /// Stops pulling and ends the sequence (messages already delivered but not acknowledged get redelivered).
    public func stop() async {
        state.ticker.stop()
        try? await state.subscription.unsubscribe()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: state, inner: state.subscription.makeAsyncIterator())
    }

    final class State: Sendable {
        let consumer: PullConsumer
        let subscription: NATSSubscription
        let deliverSubject: String
        let ticker: JetStreamTicker
        let batchSize: Int
        let expires: Duration
        let heartbeat: Duration

        init(consumer: PullConsumer, subscription: NATSSubscription, deliverSubject: String, ticker: JetStreamTicker,
             batchSize: Int, expires: Duration, heartbeat: Duration) {
            self.consumer = consumer
            self.subscription = subscription
            self.deliverSubject = deliverSubject
            self.ticker = ticker
            self.batchSize = batchSize
            self.expires = expires
            self.heartbeat = heartbeat
        }

        deinit {
            ticker.stop()
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let state: State
        var inner: NATSSubscription.AsyncIterator
        /// Messages asked for and neither delivered nor released by a 404/408/409.
        var pending = 0
        var lastActivity = ContinuousClock.now

        public mutating func next() async throws -> JetStreamMessage? {
            if pending <= state.batchSize / 2 { try await pull() }
            while let message = try await inner.next() {
                if message.subject == state.ticker.subject {
                    // Nothing at all (no message, heartbeat or expiry) for longer than a request lives: it was
                    // lost with a server or connection; ask again.
                    if ContinuousClock.now - lastActivity > state.expires + state.heartbeat {
                        pending = 0
                        lastActivity = .now
                        try await pull()
                    }
                    continue
                }
                lastActivity = .now
                if let status = message.status {
                    switch status {
                    case 100:
                        continue
                    case 404, 408, 409:
                        if status == 409, let text = message.headers?.statusDescription,
                            text.contains("Consumer Deleted") || text.contains("Consumer is push based")
                        {
                            state.ticker.stop()
                            throw JetStreamError(.pullTerminated, "pull consumer \(state.consumer.name): \(text)", apiCode: 409)
                        }
                        let released = message.headers?[JetStreamHeader.pendingMessages].flatMap(Int.init) ?? pending
                        pending = Swift.max(0, pending - released)
                        if pending <= state.batchSize / 2 { try await pull() }
                        continue
                    case 503:
                        state.ticker.stop()
                        throw JetStreamError(.notEnabled, "no responders for \(state.consumer.nextSubject): no such consumer, or JetStream is not enabled")
                    case 400...:
                        // e.g. 400 Bad Request: the server rejected the pull itself; pulling again would fail the same way.
                        state.ticker.stop()
                        let text = message.headers?.statusDescription ?? "status \(status)"
                        throw JetStreamError(.pullTerminated, "pull consumer \(state.consumer.name): \(text)", apiCode: status)
                    default:
                        continue
                    }
                }
                guard let jetStreamMessage = JetStreamMessage(message, client: state.consumer.client) else { continue }
                pending = Swift.max(0, pending - 1)
                if pending <= state.batchSize / 2 { try await pull() }
                return jetStreamMessage
            }
            state.ticker.stop()
            return nil
        }

        private mutating func pull() async throws {
            let batch = state.batchSize - pending
            guard batch > 0 else { return }
            let request = PullRequest(batch: batch, expires: state.expires, heartbeat: state.heartbeat)
            try await state.consumer.client.publish(try APICoding.encode(request), to: state.consumer.nextSubject,
                                                    reply: state.deliverSubject)
            pending += batch
        }
    }
}
