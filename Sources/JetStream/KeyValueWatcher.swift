import Foundation
import DequeModule
import NIOCore

/// The updates of a `KeyValue.watch`: the initial values, `.initialValuesDone` once, then live updates.
///
/// Backed by an ordered consumer, so entries arrive in revision order without gaps, also across consumer
/// re-creation. Iterate it once; `stop()` deletes the consumer and ends the sequence.
public struct KeyValueWatcher: AsyncSequence, Sendable {
    /// One thing a watcher delivers.
    public enum Event: Sendable {
        /// A value, or a delete/purge marker, of a matching key.
        case entry(KeyValueEntry)
        /// Every value that existed when the watch started has been delivered (sent once, also when there
        /// were none; with `updatesOnly` at once).
        case initialValuesDone
    }

    let consumer: OrderedConsumer
    let bucket: String
    let keyPrefix: String
    let ignoreDeletes: Bool
    /// True when nothing was pending at creation: `.initialValuesDone` is the first event.
    let noInitialValues: Bool

    /// Ends the watch: deletes the consumer and finishes the sequence.
    public func stop() async {
        await consumer.stop()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: consumer.makeAsyncIterator(),
                      tracker: .init(bucket: bucket, keyPrefix: keyPrefix, ignoreDeletes: ignoreDeletes,
                                     noInitialValues: noInitialValues))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: OrderedConsumer.AsyncIterator
        var tracker: KeyValueWatchTracker

        public mutating func next() async throws -> Event? {
            while true {
                if let event = tracker.nextQueued() { return event }
                guard let message = try await base.next() else { return nil }
                tracker.received(subject: message.subject, headers: message.headers, payload: message.payload,
                                 revision: message.metadata.streamSequence, created: message.metadata.timestamp,
                                 pending: message.metadata.pending)
            }
        }
    }

    /// Delivers the initial values (entries only), then stops the watcher.
    func collectInitialValues() async throws -> [KeyValueEntry] {
        var entries: [KeyValueEntry] = []
        do {
            loop: for try await event in self {
                switch event {
                case .entry(let entry): entries.append(entry)
                case .initialValuesDone: break loop
                }
            }
        } catch {
            await stop()
            throw error
        }
        await stop()
        return entries
    }
}

/// Turns delivered messages into watch events and decides when the initial values are complete.
///
/// Pure, so the end-of-initial-values rule is tested without a server. The rule is nats.go's: the first
/// message's pending count says how many more initial messages follow; the initial values are done once that
/// many more arrived, or as soon as a message reports nothing pending.
struct KeyValueWatchTracker: Sendable {
    let bucket: String
    let keyPrefix: String
    let ignoreDeletes: Bool
    private(set) var initialValuesDone = false
    private var received: UInt64 = 0
    private var expected: UInt64?
    private var queue: Deque<KeyValueWatcher.Event> = []

    init(bucket: String, keyPrefix: String, ignoreDeletes: Bool, noInitialValues: Bool) {
        self.bucket = bucket
        self.keyPrefix = keyPrefix
        self.ignoreDeletes = ignoreDeletes
        if noInitialValues {
            initialValuesDone = true
            queue.append(.initialValuesDone)
        }
    }

    mutating func nextQueued() -> KeyValueWatcher.Event? {
        queue.popFirst()
    }

    mutating func received(subject: String, headers: NATSHeaders?, payload: ByteBuffer, revision: UInt64,
                           created: Date, pending: UInt64) {
        // Subjects outside the bucket cannot match the filter; skip rather than invent a key.
        guard subject.hasPrefix(keyPrefix), subject.utf8.count > keyPrefix.utf8.count else { return }
        let key = String(subject.dropFirst(keyPrefix.count))
        let operation = KeyValueEntry.Operation(headers: headers)
        if !(ignoreDeletes && operation != .put) {
            queue.append(.entry(KeyValueEntry(bucket: bucket, key: key, value: payload, revision: revision,
                                              created: created, delta: pending, operation: operation)))
        }
        guard !initialValuesDone else { return }
        received += 1
        let expected = self.expected ?? pending + 1
        self.expected = expected
        if received >= expected || pending == 0 {
            initialValuesDone = true
            queue.append(.initialValuesDone)
        }
    }
}
