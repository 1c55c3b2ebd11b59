import Logging
import NATS
import NexAPI
import Synchronization

/// Counts messages a stream skipped; shared by the stream and its iterators.
final class SkipCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// One event from ``NexClient/events(types:namespace:)``, with what its subject says.
public struct NexEventMessage: Sendable {
    /// The namespace token of the subject (`system` for node events).
    public var namespace: Namespace
    /// The event type token of the subject.
    public var type: NexEventType
    /// The CloudEvent, its `data` decoded by type.
    public var event: AnyNexEvent
}

/// Events as an async sequence. The NATS subscription's bounded buffer sets the slow-consumer policy:
/// beyond it new events are dropped (counted by the subscription), never buffered without bound.
public struct NexEventStream: AsyncSequence, Sendable {
    public typealias Element = NexEventMessage

    private let subscription: NATSSubscription
    private let types: Set<NexEventType>?
    private let skipped = SkipCounter()
    private let logger: Logger

    init(subscription: NATSSubscription, types: Set<NexEventType>?, logger: Logger) {
        self.subscription = subscription
        self.types = types
        self.logger = logger
    }

    /// Events skipped because their subject or body could not be read. Events of types not asked for
    /// are filtered, not counted.
    public var skippedCount: Int { skipped.value }

    /// Ends the stream: iteration finishes once buffered events are discarded.
    public func close() async throws {
        try await subscription.unsubscribe()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(messages: subscription.makeAsyncIterator(), types: types, skipped: skipped, logger: logger)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var messages: NATSSubscription.AsyncIterator
        let types: Set<NexEventType>?
        let skipped: SkipCounter
        let logger: Logger

        public mutating func next() async throws -> NexEventMessage? {
            while let message = try await messages.next() {
                guard case .event(let namespace, let type)? = NexSubject(parsing: message.subject) else {
                    skipped.increment()
                    continue
                }
                if let types, !types.contains(type) { continue }
                do {
                    let event = try AnyNexEvent.decode(from: message.bytes)
                    return NexEventMessage(namespace: namespace, type: type, event: event)
                } catch {
                    skipped.increment()
                    logger.debug("Skipping undecodable event", metadata: ["nats.subject": "\(message.subject)", "nex.error": "\(error.message)"])
                }
            }
            return nil
        }
    }
}

/// One workload log record from ``NexClient/logs(node:workloadName:workloadID:namespace:)``, with the
/// parts of its subject `$NEX.logs.{ns}.{node}.{workloadName}.{workloadId}`.
public struct NexLogMessage: Sendable, Hashable {
    public var namespace: Namespace
    public var nodeID: NodeID
    public var workloadName: WorkloadName
    public var workloadID: WorkloadID
    /// The record as the node sent it.
    public var record: LogRecord

    public init(namespace: Namespace, nodeID: NodeID, workloadName: WorkloadName, workloadID: WorkloadID, record: LogRecord) {
        self.namespace = namespace
        self.nodeID = nodeID
        self.workloadName = workloadName
        self.workloadID = workloadID
        self.record = record
    }
}

/// Workload log records as an async sequence, bounded like ``NexEventStream``.
public struct NexLogStream: AsyncSequence, Sendable {
    public typealias Element = NexLogMessage

    private let subscription: NATSSubscription
    private let skipped = SkipCounter()
    private let logger: Logger

    init(subscription: NATSSubscription, logger: Logger) {
        self.subscription = subscription
        self.logger = logger
    }

    /// Records skipped because their subject is not a workload log subject or their body is unreadable.
    public var skippedCount: Int { skipped.value }

    /// Ends the stream.
    public func close() async throws {
        try await subscription.unsubscribe()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(messages: subscription.makeAsyncIterator(), skipped: skipped, logger: logger)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var messages: NATSSubscription.AsyncIterator
        let skipped: SkipCounter
        let logger: Logger

        public mutating func next() async throws -> NexLogMessage? {
            while let message = try await messages.next() {
                // The 0.x client drops every subject that is not exactly the 6-token workload form.
                guard case .workloadLog(let namespace, let node, let name, let id)? = NexSubject(parsing: message.subject) else {
                    skipped.increment()
                    continue
                }
                do {
                    let record = try NexJSON.decode(LogRecord.self, from: message.bytes)
                    return NexLogMessage(namespace: namespace, nodeID: node, workloadName: name, workloadID: id, record: record)
                } catch {
                    skipped.increment()
                    logger.debug("Skipping undecodable log record", metadata: ["nats.subject": "\(message.subject)", "nex.error": "\(error.message)"])
                }
            }
            return nil
        }
    }
}
