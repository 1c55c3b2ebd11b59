import Foundation
import NATS
import NIOConcurrencyHelpers
import NIOCore

/// Options of an ordered consumer.
public struct OrderedConsumerConfig: Sendable {
    /// Subjects to replay; empty means the whole stream. nats-server 2.9 takes one filter subject per consumer,
    /// so several are only accepted when they are all the same.
    public var filterSubjects: [String]
    public var deliverPolicy: ConsumerConfig.DeliverPolicy = .all
    public var headersOnly: Bool = false
    /// The server sends a heartbeat after this much silence; three missed ones re-create the consumer.
    public var idleHeartbeat: Duration = .seconds(5)

    public init(filterSubjects: [String] = [], deliverPolicy: ConsumerConfig.DeliverPolicy = .all, headersOnly: Bool = false,
                idleHeartbeat: Duration = .seconds(5)) {
        self.filterSubjects = filterSubjects
        self.deliverPolicy = deliverPolicy
        self.headersOnly = headersOnly
        self.idleHeartbeat = idleHeartbeat
    }

    /// The single filter subject 2.9 accepts.
    func filterSubject() throws -> String? {
        let unique = Array(Set(filterSubjects))
        switch unique.count {
        case 0: return nil
        case 1: return unique[0] == ">" ? nil : unique[0]
        default:
            throw JetStreamError(.invalidArgument,
                                 "nats-server 2.9 consumers take one filter subject; got \(filterSubjects) (use a common wildcard)")
        }
    }
}

extension JetStreamContext {
    /// Replays `stream` in order, without acknowledgements: an ephemeral push consumer (ack none, flow control,
    /// idle heartbeats, memory storage, one replica) on a private inbox, re-created from the last delivered
    /// stream sequence + 1 whenever a gap shows or heartbeats stop, so the sequence has neither gaps nor
    /// duplicates. Iterate it once; call `stop()` when done.
    public func orderedConsumer(stream: String, config: OrderedConsumerConfig) async throws -> OrderedConsumer {
        try Self.validateName(stream, what: "stream name")
        let filter = try config.filterSubject()
        let inbox = client.newInbox()
        // One literal subject for deliveries and ticks: the server registers push interest only for a
        // subscription on the literal deliver subject, not for a wildcard covering it.
        let subscription = try await client.subscribe(to: inbox)
        let ticker = JetStreamTicker(client: client, subject: inbox, interval: config.idleHeartbeat)
        let state = OrderedConsumer.State(context: self, stream: stream, config: config, filterSubject: filter,
                                          inbox: inbox, subscription: subscription, ticker: ticker)
        do {
                let info = try await state.createConsumer(startAfter: nil)
            ticker.start()
            return OrderedConsumer(state: state, initialPending: info.numPending, initialInfo: info)
        } catch {
            try? await subscription.unsubscribe()
            throw error
        }
    }
}

/// An in-order replay of a stream (see `JetStreamContext.orderedConsumer`). Messages need no acknowledgement.
public struct OrderedConsumer: AsyncSequence, Sendable {
    public typealias Element = JetStreamMessage
    let state: State

    /// Messages pending in the stream after the last delivered one when the consumer was created; 0 means the
    /// consumer caught up already (a KV watch uses this to signal "initial values done" at once; afterwards,
    /// `metadata.pending == 0` on a message says the same).
    public let initialPending: UInt64
    /// The consumer as first created.
    public let initialInfo: ConsumerInfo

    init(state: State, initialPending: UInt64, initialInfo: ConsumerInfo) {
        self.state = state
        self.initialPending = initialPending
        self.initialInfo = initialInfo
    }

    /// How often the consumer was re-created after a gap or missed heartbeats.
    public var resets: Int { state.current.withLockedValue { $0.generation - 1 } }

    /// Deletes the consumer and ends the sequence.
    public func stop() async {
        state.ticker.stop()
        let name = state.current.withLockedValue { current in
            current.stopped = true
            return current.name
        }
        try? await state.subscription.unsubscribe()
        if let name { try? await state.context.deleteConsumer(stream: state.stream, name: name) }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: state, inner: state.subscription.makeAsyncIterator())
    }

    final class State: Sendable {
        struct Current {
            var name: String?
            var generation = 0
            var stopped = false
        }

        let context: JetStreamContext
        let stream: String
        let config: OrderedConsumerConfig
        let filterSubject: String?
        let inbox: String
        let subscription: NATSSubscription
        let ticker: JetStreamTicker
        let current = NIOLockedValueBox(Current())

        init(context: JetStreamContext, stream: String, config: OrderedConsumerConfig, filterSubject: String?, inbox: String,
             subscription: NATSSubscription, ticker: JetStreamTicker) {
            self.context = context
            self.stream = stream
            self.config = config
            self.filterSubject = filterSubject
            self.inbox = inbox
            self.subscription = subscription
            self.ticker = ticker
        }

        deinit {
            ticker.stop()
        }

        /// Creates the consumer, starting after `startAfter` when given, else at the configured deliver policy.
        /// Stragglers of a previous consumer on the same deliver subject are told apart by the consumer name in
        /// their ack subject.
        func createConsumer(startAfter streamSequence: UInt64?) async throws -> ConsumerInfo {
            current.withLockedValue { $0.generation += 1 }
            var consumer = ConsumerConfig(deliverPolicy: config.deliverPolicy, ackPolicy: .none, filterSubject: filterSubject)
            if let streamSequence { consumer.deliverPolicy = .byStartSequence(streamSequence + 1) }
            consumer.deliverSubject = inbox
            consumer.flowControl = true
            consumer.idleHeartbeat = config.idleHeartbeat
            consumer.memoryStorage = true
            consumer.replicas = 1
            consumer.maxDeliver = 1
            consumer.headersOnly = config.headersOnly
            consumer.inactiveThreshold = .seconds(300)
            let info = try await context.createConsumer(stream: stream, config: consumer)
            current.withLockedValue { $0.name = info.name }
            return info
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let state: State
        var inner: NATSSubscription.AsyncIterator
        var consumerSequence: UInt64 = 0
        var streamSequence: UInt64?
        var lastActivity = ContinuousClock.now
        var needsReset = false

        public mutating func next() async throws -> JetStreamMessage? {
            let client = state.context.client
            while let message = try await inner.next() {
                let (name, stopped) = state.current.withLockedValue { ($0.name, $0.stopped) }
                if stopped { return nil }
                if let status = message.status {
                    lastActivity = .now
                    if status == 100 {
                        if let reply = message.replyTo {
                            // Flow control: the server waits for this before sending more.
                            try? await client.publish(ByteBuffer(), to: reply)
                        } else {
                            if let stalled = message.headers?[JetStreamHeader.consumerStalled] {
                                try? await client.publish(ByteBuffer(), to: stalled)
                            }
                            // A heartbeat names the last consumer sequence sent: more than we saw means a gap.
                            if let last = message.headers?["Nats-Last-Consumer"].flatMap(UInt64.init), last > consumerSequence {
                                await reset()
                            }
                        }
                    }
                    continue
                }
                guard let jetStreamMessage = JetStreamMessage(message, client: client) else {
                    // Not from JetStream: our own tick. Three heartbeat intervals of silence mean the consumer
                    // is gone (deleted, or lost with a server): re-create it.
                    if needsReset || ContinuousClock.now - lastActivity > state.config.idleHeartbeat * 3 {
                        await reset()
                    }
                    continue
                }
                guard jetStreamMessage.metadata.consumer == name else { continue }  // from a previous consumer
                lastActivity = .now
                if jetStreamMessage.metadata.consumerSequence != consumerSequence + 1 {
                    await reset()
                    continue
                }
                consumerSequence += 1
                streamSequence = jetStreamMessage.metadata.streamSequence
                return jetStreamMessage
            }
            state.ticker.stop()
            return nil
        }

        /// Replaces the consumer by one starting right after the last delivered message. When that fails (the
        /// server is away), the next tick tries again.
        private mutating func reset() async {
            let old = state.current.withLockedValue { current in
                defer { current.name = nil }
                return current.name
            }
            if let old { try? await state.context.deleteConsumer(stream: state.stream, name: old) }
            consumerSequence = 0
            lastActivity = .now
            do {
                _ = try await state.createConsumer(startAfter: streamSequence)
                needsReset = false
            } catch {
                needsReset = true
            }
        }
    }
}
