import Foundation
import NIOCore

/// A Key-Value bucket: a JetStream stream `KV_<bucket>` whose subjects `$KV.<bucket>.<key>` are the keys, each
/// keeping its last `history` revisions (ADR-8, the layout every NATS client shares).
///
/// Obtain one with `JetStreamContext.createKeyValue(_:)` or `keyValue(_:)`. A value type; copies share nothing
/// but the client.
///
/// ```swift
/// let kv = try await js.createKeyValue(.init(bucket: "config"))
/// let revision = try await kv.put("service.port", "4222")
/// try await kv.update("service.port", ByteBuffer(string: "4223"), revision: revision)
/// print(try await kv.get("service.port")?.string ?? "absent")
/// ```
public struct KeyValue: Sendable {
    /// The bucket name.
    public var bucket: String
    /// The stream backing the bucket, `KV_<bucket>`.
    public var streamName: String
    /// The context the bucket was opened with.
    public var jetStream: JetStreamContext
    /// `$KV.<bucket>.`
    let keyPrefix: String

    init(jetStream: JetStreamContext, bucket: String) {
        self.bucket = bucket
        self.streamName = KeyValueNames.streamName(bucket: bucket)
        self.jetStream = jetStream
        self.keyPrefix = KeyValueNames.keyPrefix(bucket: bucket)
    }

    // MARK: - Reading

    /// The latest value of `key`; nil when the key never existed, expired, or its latest revision is a delete or
    /// purge marker.
    public func get(_ key: String) async throws -> KeyValueEntry? {
        guard let entry = try await latestEntry(key), entry.operation == .put else { return nil }
        return entry
    }

    /// The value `key` had at `revision`; nil when that revision is gone, belongs to another key, or is a
    /// delete or purge marker.
    public func get(_ key: String, revision: UInt64) async throws -> KeyValueEntry? {
        try validate(key: key)
        let message: StoredMessage
        do {
            message = try await jetStream.getMessage(stream: streamName, sequence: revision)
        } catch let error as JetStreamError where KeyValueErrorMapping.isMessageNotFound(error) {
            return nil
        }
        // A revision is a stream sequence: it may hold another key, which must not be returned as this one.
        guard message.subject == keyPrefix + key else { return nil }
        let entry = self.entry(key: key, message)
        return entry.operation == .put ? entry : nil
    }

    /// The latest revision of `key` including delete and purge markers; nil when there is none.
    func latestEntry(_ key: String) async throws -> KeyValueEntry? {
        try validate(key: key)
        do {
            let message = try await jetStream.getLastMessage(stream: streamName, subject: keyPrefix + key)
            return entry(key: key, message)
        } catch let error as JetStreamError where KeyValueErrorMapping.isMessageNotFound(error) {
            return nil
        }
    }

    private func entry(key: String, _ message: StoredMessage) -> KeyValueEntry {
        KeyValueEntry(bucket: bucket, key: key, value: message.payload, revision: message.sequence,
                      created: message.time, delta: 0, operation: .init(headers: message.headers))
    }

    // MARK: - Writing

    /// Writes `value` as the new revision of `key`; returns the revision.
    @discardableResult
    public func put(_ key: String, _ value: ByteBuffer) async throws -> UInt64 {
        try validate(key: key)
        return try await publish(value, key: key, headers: nil, options: .init())
    }

    /// Writes the bytes of `value` as the new revision of `key`; returns the revision.
    @discardableResult
    public func put(_ key: String, _ value: some Collection<UInt8>) async throws -> UInt64 {
        try await put(key, ByteBuffer(bytes: value))
    }

    /// Writes `value` as UTF-8 as the new revision of `key`; returns the revision.
    @discardableResult
    public func put(_ key: String, _ value: String) async throws -> UInt64 {
        try await put(key, ByteBuffer(string: value))
    }

    /// Writes `value` only if `key` has no live value (never written, or its latest revision is a delete or
    /// purge marker); returns the revision. Throws `KeyValueError(.keyExists)` otherwise.
    @discardableResult
    public func create(_ key: String, _ value: ByteBuffer) async throws -> UInt64 {
        do {
            return try await update(key, value, revision: 0)
        } catch let error as KeyValueError where error.code == .wrongLastRevision {
            // The key has a revision. If that is a marker the key counts as absent: write conditionally on the
            // marker being still the latest, so a concurrent create still loses cleanly.
            if let latest = try await latestEntry(key), latest.operation != .put {
                do {
                    return try await update(key, value, revision: latest.revision)
                } catch let retry as KeyValueError where retry.code == .wrongLastRevision {
                    throw KeyValueError(.keyExists, "key '\(key)' was created concurrently", jetStreamError: retry.jetStreamError)
                }
            }
            throw KeyValueError(.keyExists, "key '\(key)' exists", jetStreamError: error.jetStreamError)
        }
    }

    /// Writes `value` as UTF-8 only if `key` has no live value; see `create(_:_:)`.
    @discardableResult
    public func create(_ key: String, _ value: String) async throws -> UInt64 {
        try await create(key, ByteBuffer(string: value))
    }

    /// Writes `value` only if the latest revision of `key` is `revision` (0: only if the key has no revision at
    /// all); returns the new revision. Throws `KeyValueError(.wrongLastRevision)` otherwise.
    @discardableResult
    public func update(_ key: String, _ value: ByteBuffer, revision: UInt64) async throws -> UInt64 {
        try validate(key: key)
        return try await publish(value, key: key, headers: nil, options: .init(expectedLastSubjectSequence: revision))
    }

    /// Writes `value` as UTF-8 only if the latest revision of `key` is `revision`; see `update(_:_:revision:)`.
    @discardableResult
    public func update(_ key: String, _ value: String, revision: UInt64) async throws -> UInt64 {
        try await update(key, ByteBuffer(string: value), revision: revision)
    }

    /// Marks `key` deleted (a `KV-Operation: DEL` marker); earlier revisions stay in the history.
    /// With `revision`, only if that is the key's latest revision.
    public func delete(_ key: String, revision: UInt64? = nil) async throws {
        try await writeMarker(.delete, key: key, revision: revision)
    }

    /// Marks `key` purged and removes all its earlier revisions (a `KV-Operation: PURGE` marker rolled up with
    /// `Nats-Rollup: sub`). With `revision`, only if that is the key's latest revision.
    public func purge(_ key: String, revision: UInt64? = nil) async throws {
        try await writeMarker(.purge, key: key, revision: revision)
    }

    private func writeMarker(_ operation: KeyValueEntry.Operation, key: String, revision: UInt64?) async throws {
        try validate(key: key)
        var headers = NATSHeaders()
        headers[KeyValueEntry.Operation.headerName] = operation.headerValue
        if operation == .purge {
            headers["Nats-Rollup"] = "sub"
        }
        var options = PublishOptions()
        // nats.go treats revision 0 as "no condition" for markers; so do we, to stay interchangeable.
        if let revision, revision != 0 {
            options.expectedLastSubjectSequence = revision
        }
        _ = try await publish(ByteBuffer(), key: key, headers: headers, options: options)
    }

    private func publish(_ value: ByteBuffer, key: String, headers: NATSHeaders?, options: PublishOptions) async throws -> UInt64 {
        do {
            return try await jetStream.publish(value, to: keyPrefix + key, headers: headers, options: options).sequence
        } catch let error as JetStreamError {
            if KeyValueErrorMapping.isWrongLastSequence(error) {
                throw KeyValueError(.wrongLastRevision, "key '\(key)': \(error.message)", jetStreamError: error)
            }
            if KeyValueErrorMapping.isMessageTooLarge(error) {
                throw KeyValueError(.valueTooLarge,
                                    "value of \(value.readableBytes) bytes for key '\(key)' exceeds the bucket's maximum value size",
                                    jetStreamError: error)
            }
            throw error
        } catch let error as NATSError where error.code == .maxPayloadExceeded {
            throw KeyValueError(.valueTooLarge,
                                "value of \(value.readableBytes) bytes for key '\(key)' exceeds the server's max payload: \(error.message)")
        }
    }

    // MARK: - Listing

    /// The keys that currently have a live value (delete and purge markers excluded), in stream order.
    public func keys() async throws -> [String] {
        let watcher = try await watch(ignoreDeletes: true, metaOnly: true)
        return try await watcher.collectInitialValues().map(\.key)
    }

    /// Every kept revision of `key`, oldest first, markers included; empty when the key has none.
    public func history(_ key: String) async throws -> [KeyValueEntry] {
        try validate(key: key)
        let watcher = try await watch(key, includeHistory: true)
        return try await watcher.collectInitialValues()
    }

    /// Watches the keys matching `keys` (a key, or a pattern with `*` and a final `>`).
    ///
    /// The watcher first delivers the current value of every matching key (every kept revision with
    /// `includeHistory`, nothing with `updatesOnly`), then `.initialValuesDone` exactly once, then every update
    /// as it happens. Deletes and purges arrive as entries with operation `.delete`/`.purge` unless
    /// `ignoreDeletes`. `metaOnly` leaves values empty. Call `stop()` when done.
    public func watch(_ keys: String = ">", includeHistory: Bool = false, ignoreDeletes: Bool = false,
                      metaOnly: Bool = false, updatesOnly: Bool = false) async throws -> KeyValueWatcher {
        guard KeyValueNames.isValidKeyPattern(keys) else {
            throw KeyValueError(.invalidKey,
                                "invalid key pattern '\(keys)': tokens of [-/_=a-zA-Z0-9], '*', or a final '>', separated by '.'")
        }
        if includeHistory && updatesOnly {
            throw KeyValueError(.invalidConfiguration, "includeHistory and updatesOnly cannot be combined")
        }
        let deliverPolicy: ConsumerConfig.DeliverPolicy = includeHistory ? .all : (updatesOnly ? .new : .lastPerSubject)
        let config = OrderedConsumerConfig(filterSubjects: [keyPrefix + keys], deliverPolicy: deliverPolicy,
                                           headersOnly: metaOnly)
        let consumer = try await jetStream.orderedConsumer(stream: streamName, config: config)
        return KeyValueWatcher(consumer: consumer, bucket: bucket, keyPrefix: keyPrefix, ignoreDeletes: ignoreDeletes,
                               noInitialValues: updatesOnly || consumer.initialPending == 0)
    }

    // MARK: - Maintenance

    /// The bucket's current state.
    public func status() async throws -> KeyValueStatus {
        let info: StreamInfo
        do {
            info = try await jetStream.streamInfo(streamName)
        } catch let error as JetStreamError where KeyValueErrorMapping.isStreamNotFound(error) {
            throw KeyValueError(.bucketNotFound, "bucket '\(bucket)' does not exist", jetStreamError: error)
        }
        return KeyValueStatus(info, bucket: bucket)
    }

    /// Removes the data of deleted and purged keys. Markers older than `olderThan` are removed too; younger
    /// ones are kept (alone) so that watchers and `create` still see the delete. A negative `olderThan` removes
    /// every marker.
    public func purgeDeletes(olderThan: Duration = .seconds(30 * 60)) async throws {
        let watcher = try await watch()
        let markers = try await watcher.collectInitialValues().filter { $0.operation != .put }
        let limit = olderThan < .zero ? nil : Date(timeIntervalSinceNow: -olderThan.timeInterval)
        for marker in markers {
            let keepMarker = limit.map { marker.created > $0 } ?? false
            _ = try await jetStream.purgeStream(streamName, subject: keyPrefix + marker.key, keep: keepMarker ? 1 : nil)
        }
    }

    func validate(key: String) throws {
        guard KeyValueNames.isValidKey(key) else {
            throw KeyValueError(.invalidKey,
                                "invalid key '\(key)': use [-/_=.a-zA-Z0-9], not starting or ending with '.' nor with empty tokens")
        }
    }
}

extension KeyValueStatus {
    init(_ info: StreamInfo, bucket: String) {
        self.init(bucket: bucket, values: info.state.messages, history: Int(info.config.maxMessagesPerSubject),
                  ttl: info.config.maxAge > .zero ? info.config.maxAge : nil, bytes: info.state.bytes, streamInfo: info)
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`, for `Date` arithmetic.
    fileprivate var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
