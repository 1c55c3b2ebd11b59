import Foundation
import NIOCore

/// What an `ObjectWatcher` yields.
public enum ObjectWatchEvent: Sendable, Hashable {
    /// An object's meta as stored (a put, an update, or — unless ignored — a delete marker).
    case info(ObjectInfo)
    /// Every meta that existed when the watch started has been delivered; later events are live changes.
    case initialValuesDone
}

extension ObjectStore {
    /// Watches the bucket's metas through an ordered consumer on `$O.<bucket>.M.>`.
    ///
    /// With `includeHistory` every stored meta is replayed first (for an object store that is the latest per
    /// name, since metas roll up), otherwise only the last per subject; `.initialValuesDone` follows the replay
    /// (at once when the bucket is empty). `ignoreDeletes` drops delete markers.
    public func watch(includeHistory: Bool = true, ignoreDeletes: Bool = false) async throws -> ObjectWatcher {
        // As nats.go: when the bucket holds no meta at all, the replay is done before it starts. (The consumer's
        // initial pending count is no substitute: a push consumer may deliver before its info is computed.)
        let initiallyEmpty: Bool
        do {
            _ = try await context.getLastMessage(stream: streamName, subject: naming.allMetaSubject)
            initiallyEmpty = false
        } catch let error as JetStreamError where error.code == .messageNotFound {
            initiallyEmpty = true
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw ObjectStoreError(.bucketNotFound, "object store bucket \(bucket) not found", underlying: error)
        }
        let consumer = try await context.orderedConsumer(
            stream: streamName,
            config: OrderedConsumerConfig(
                filterSubjects: [naming.allMetaSubject],
                deliverPolicy: includeHistory ? .all : .lastPerSubject))
        return ObjectWatcher(consumer: consumer, ignoreDeletes: ignoreDeletes, initiallyEmpty: initiallyEmpty)
    }

    /// Every current object (delete markers only with `showDeleted`), in stream order. Empty when there are none.
    public func list(showDeleted: Bool = false) async throws -> [ObjectInfo] {
        let watcher = try await watch(includeHistory: false, ignoreDeletes: !showDeleted)
        var objects: [ObjectInfo] = []
        do {
            loop: for try await event in watcher {
                switch event {
                case .info(let info): objects.append(info)
                case .initialValuesDone: break loop
                }
            }
        } catch {
            await watcher.stop()
            throw error
        }
        await watcher.stop()
        return objects
    }
}

/// A live view of an object store's metas. Iterate it once; call `stop()` when done.
public struct ObjectWatcher: AsyncSequence, Sendable {
    public typealias Element = ObjectWatchEvent

    let consumer: OrderedConsumer
    let ignoreDeletes: Bool
    let initiallyEmpty: Bool

    /// Ends the watch and deletes its consumer.
    public func stop() async {
        await consumer.stop()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: consumer.makeAsyncIterator(), ignoreDeletes: ignoreDeletes, initialDone: false,
                      owesInitialDone: initiallyEmpty)
    }

    /// Decodes metas; emits the initial-values marker once.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: OrderedConsumer.AsyncIterator
        let ignoreDeletes: Bool
        var initialDone: Bool
        var owesInitialDone: Bool

        public mutating func next() async throws -> ObjectWatchEvent? {
            while true {
                if owesInitialDone {
                    owesInitialDone = false
                    initialDone = true
                    return .initialValuesDone
                }
                guard let message = try await base.next() else { return nil }
                if !initialDone && message.metadata.pending == 0 {
                    owesInitialDone = true
                }
                // Metas that are not object info (written by something else) are skipped, as nats.go does.
                guard var info = try? JSONDecoder().decode(ObjectInfo.self, from: Data(message.payload.readableBytesView)) else {
                    continue
                }
                if ignoreDeletes && info.deleted { continue }
                info.modified = message.metadata.timestamp
                return .info(info)
            }
        }
    }
}
