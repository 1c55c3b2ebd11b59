import DequeModule
import NATSProtocol
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The messages of one subscription, as an async sequence.
///
/// Messages arrive in batches (one per socket read) into a bounded buffer; when the consumer falls behind
/// beyond `subscriptionBufferLimit`, new messages are dropped and a `slowConsumer` event is reported, so
/// memory never grows without bound. The sequence ends after `unsubscribe()`, `drain()` or when the client
/// closes; it throws when the client gave up reconnecting.
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage

    let state: SubscriptionState
    let client: NATSClient

    public var subject: String { state.subject }
    public var queue: String? { state.queue }
    public var sid: UInt64 { state.sid }

    /// Messages dropped so far because the buffer was full.
    public var droppedMessages: Int { state.buffer.withLockedValue { $0.dropped } }

    /// Stops the subscription now; buffered messages are discarded.
    public func unsubscribe() async throws {
        try await client.core.unsubscribe(state, after: nil)
    }

    /// Ends the subscription automatically after `count` messages in total.
    public func unsubscribe(after count: Int) async throws {
        try await client.core.unsubscribe(state, after: count)
    }

    /// Stops receiving new messages, but delivers the ones already received before the sequence ends.
    public func drain() async throws {
        await client.core.drain([state])
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: state)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let state: SubscriptionState
        var local: Deque<NATSMessage> = []

        public mutating func next() async throws -> NATSMessage? {
            if let message = local.popFirst() { return message }
            _ = try await state.nextBatch(into: &local, deadline: nil)
            return local.popFirst()
        }

        /// Like `next()`, but gives up waiting after `timeout` — for consumers that must notice silence
        /// (missed heartbeats, lost pull requests) without a task or a timer message of their own.
        public mutating func next(timeout: Duration) async throws -> TimedNext {
            if let message = local.popFirst() { return .message(message) }
            guard try await state.nextBatch(into: &local, deadline: .now() + TimeAmount(timeout)) else { return .timedOut }
            return local.popFirst().map { .message($0) } ?? .end
        }
    }

    /// The outcome of `AsyncIterator.next(timeout:)`.
    public enum TimedNext: Sendable {
        case message(NATSMessage)
        /// No message within the timeout; the subscription goes on.
        case timedOut
        /// The subscription ended.
        case end
    }
}

/// Shared between the event loop (producer, in batches) and the consumer.
final class SubscriptionState: Sendable {
    struct Buffer {
        var messages: Deque<NATSMessage> = []
        var bytes = 0
        var dropped = 0
        /// True while over the limit, so a slow-consumer event is reported once per episode.
        var slow = false
        var waiter: CheckedContinuation<Void, Error>?
        /// Set when the sequence must end once the buffer is empty (nil = normal end).
        var finished: Result<Void, NATSError>?
    }

    enum Kind: Sendable {
        case messages
        /// The muxed inbox of `request`.
        case requests
    }

    let sid: UInt64
    let subject: String
    let queue: String?
    let kind: Kind
    let limit: NATSClient.SubscriptionBufferLimit
    /// Called on the event loop for every message instead of buffering it (``NATSClient/subscribe(to:queue:handler:)``).
    let handler: (@Sendable (NATSMessage) -> Void)?
    /// The connection's event loop, for waits with a timeout.
    let eventLoop: EventLoop
    let buffer = NIOLockedValueBox(Buffer())

    /// Event-loop-only bookkeeping: messages of the current read not yet handed to the buffer, how many
    /// were delivered in total, and the auto-unsubscribe bound.
    @exclusivity(unchecked) nonisolated(unsafe) var staged: [NATSMessage] = []
    @exclusivity(unchecked) nonisolated(unsafe) var delivered = 0
    /// Auto-unsubscribe bound (`Int.max` = none); read per message on the event loop, so an atomic, not a lock.
    let maxMessages = Atomic<Int>(.max)
    /// Mirrors `buffer.finished != nil` for the per-message check on the event loop.
    private let finishedFlag = Atomic<Bool>(false)

    init(sid: UInt64, subject: String, queue: String?, kind: Kind, limit: NATSClient.SubscriptionBufferLimit,
         eventLoop: EventLoop, handler: (@Sendable (NATSMessage) -> Void)? = nil) {
        self.eventLoop = eventLoop
        self.handler = handler
        self.sid = sid
        self.subject = subject
        self.queue = queue
        self.kind = kind
        self.limit = limit
    }

    /// Hands the staged messages to the consumer. Returns how many were dropped for the slow-consumer event
    /// (0 when none, or when this episode was already reported).
    func commitStaged() -> Int {
        let staged = self.staged
        self.staged.removeAll(keepingCapacity: true)
        if let handler {
            for message in staged where !isFinished { handler(message) }
            return 0
        }
        var newlyDropped = 0
        var report = false
        let waiter: CheckedContinuation<Void, Error>? = buffer.withLockedValue { buffer in
            guard buffer.finished == nil else { return nil }
            for message in staged {
                let size = message.payload.readableBytes
                if buffer.messages.count >= limit.messages || buffer.bytes + size > limit.bytes {
                    newlyDropped += 1
                    continue
                }
                buffer.messages.append(message)
                buffer.bytes += size
            }
            if newlyDropped > 0 {
                buffer.dropped += newlyDropped
                if !buffer.slow {
                    buffer.slow = true
                    report = true
                }
            }
            let waiter = buffer.waiter
            buffer.waiter = nil
            return waiter
        }
        waiter?.resume()
        return report ? newlyDropped : 0
    }

    /// Ends the sequence: immediately (`discardBuffered`) or after the buffered messages.
    func finish(_ result: Result<Void, NATSError> = .success(()), discardBuffered: Bool) {
        let waiter: CheckedContinuation<Void, Error>? = buffer.withLockedValue { buffer in
            if buffer.finished == nil { buffer.finished = result }
            finishedFlag.store(true, ordering: .relaxed)
            if discardBuffered {
                buffer.messages.removeAll()
                buffer.bytes = 0
            }
            let waiter = buffer.waiter
            buffer.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    var isFinished: Bool { finishedFlag.load(ordering: .relaxed) }

    /// The auto-unsubscribe bound, if one was set.
    var autoUnsubscribeLimit: Int? {
        let max = maxMessages.load(ordering: .relaxed)
        return max == .max ? nil : max
    }

    /// Moves every buffered message into `local` (which is empty), waiting when there is none — until
    /// `deadline` if given. Returns false when the deadline passed with nothing to deliver.
    func nextBatch(into local: inout Deque<NATSMessage>, deadline: NIODeadline?) async throws -> Bool {
        while true {
            enum Step { case got, end, fail(NATSError), wait }
            let step: Step = buffer.withLockedValue { buffer in
                if !buffer.messages.isEmpty {
                    swap(&local, &buffer.messages)
                    buffer.bytes = 0
                    buffer.slow = false
                    return .got
                }
                switch buffer.finished {
                case .some(.success): return .end
                case .some(.failure(let error)): return .fail(error)
                case .none: return .wait
                }
            }
            switch step {
            case .got, .end: return true
            case .fail(let error): throw error
            case .wait: break
            }
            try Task.checkCancellation()
            if let deadline, deadline <= .now() { return false }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                    let resumeNow = buffer.withLockedValue { buffer -> Bool in
                        if !buffer.messages.isEmpty || buffer.finished != nil || Task.isCancelled { return true }
                        buffer.waiter = continuation
                        return false
                    }
                    if resumeNow {
                        continuation.resume()
                    } else if let deadline {
                        // Wakes the waiter at the deadline; the loop above then finds nothing and reports it.
                        eventLoop.scheduleTask(deadline: deadline) { [buffer] in
                            let waiter = buffer.withLockedValue { buffer in
                                defer { buffer.waiter = nil }
                                return buffer.waiter
                            }
                            waiter?.resume()
                        }
                    }
                }
            } onCancel: {
                let waiter = buffer.withLockedValue { buffer in
                    let waiter = buffer.waiter
                    buffer.waiter = nil
                    return waiter
                }
                waiter?.resume(throwing: CancellationError())
            }
        }
    }
}
