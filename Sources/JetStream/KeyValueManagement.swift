extension JetStreamContext {
    /// Creates the bucket `config.bucket` (the stream `KV_<bucket>`), or binds to it when it already exists with
    /// the same configuration; returns it.
    ///
    /// The stream is configured as nats.go does, so buckets are interchangeable between clients: rollup headers
    /// allowed, deletes denied, direct get allowed, `history` messages per subject, discard new, a duplicate
    /// window of 2 minutes or the TTL when shorter.
    public func createKeyValue(_ config: KeyValueConfig) async throws -> KeyValue {
        let streamConfig = try KeyValueManagement.streamConfig(for: config)
        do {
            _ = try await createStream(streamConfig)
        } catch let error as JetStreamError where KeyValueErrorMapping.isStreamNameInUse(error) {
            // A bucket made by an older client may differ only in the discard policy or direct get, which a
            // newer client upgrades in place (as nats.go does). Any other difference is a real conflict.
            let existing = try await streamInfo(streamConfig.name).config
            guard KeyValueManagement.isUpgradable(existing, to: streamConfig) else {
                throw KeyValueError(.bucketExists,
                                    "bucket '\(config.bucket)' exists with a different configuration",
                                    jetStreamError: error)
            }
            _ = try await updateStream(streamConfig)
        }
        return KeyValue(jetStream: self, bucket: config.bucket)
    }

    /// Opens the existing bucket `bucket`. Throws `KeyValueError(.bucketNotFound)` when there is none.
    public func keyValue(_ bucket: String) async throws -> KeyValue {
        try KeyValueManagement.validate(bucket: bucket)
        let info: StreamInfo
        do {
            info = try await streamInfo(KeyValueNames.streamName(bucket: bucket))
        } catch let error as JetStreamError where KeyValueErrorMapping.isStreamNotFound(error) {
            throw KeyValueError(.bucketNotFound, "bucket '\(bucket)' does not exist", jetStreamError: error)
        }
        // A bucket keeps at least one message per subject; a stream without that limit is no bucket.
        guard info.config.maxMessagesPerSubject >= 1 else {
            throw KeyValueError(.badBucket, "stream '\(info.config.name)' is not a Key-Value bucket")
        }
        return KeyValue(jetStream: self, bucket: bucket)
    }

    /// Deletes the bucket `bucket` and all its values. Throws `KeyValueError(.bucketNotFound)` when there is none.
    public func deleteKeyValue(_ bucket: String) async throws {
        try KeyValueManagement.validate(bucket: bucket)
        do {
            try await deleteStream(KeyValueNames.streamName(bucket: bucket))
        } catch let error as JetStreamError where KeyValueErrorMapping.isStreamNotFound(error) {
            throw KeyValueError(.bucketNotFound, "bucket '\(bucket)' does not exist", jetStreamError: error)
        }
    }

    /// The names of all Key-Value buckets.
    public func keyValueBuckets() async throws -> [String] {
        try await streamNames(subject: KeyValueNames.subjectPrefix + "*.>").compactMap(KeyValueNames.bucket(ofStream:))
    }
}

/// Bucket configuration ↔ stream configuration.
enum KeyValueManagement {
    /// The default (and longest) duplicate window of a bucket.
    static let duplicateWindow: Duration = .seconds(120)

    static func validate(bucket: String) throws {
        guard KeyValueNames.isValidBucket(bucket) else {
            throw KeyValueError(.invalidBucketName, "invalid bucket name '\(bucket)': use [a-zA-Z0-9_-]+")
        }
    }

    static func streamConfig(for config: KeyValueConfig) throws -> StreamConfig {
        try validate(bucket: config.bucket)
        guard (1...KeyValueConfig.maxHistory).contains(config.history) else {
            throw KeyValueError(.invalidConfiguration, "history must be 1...\(KeyValueConfig.maxHistory), not \(config.history)")
        }
        if let ttl = config.ttl, ttl < .zero {
            throw KeyValueError(.invalidConfiguration, "ttl must not be negative")
        }
        if let maxValueSize = config.maxValueSize, maxValueSize <= 0 || maxValueSize > Int(Int32.max) {
            throw KeyValueError(.invalidConfiguration, "maxValueSize must be 1...\(Int32.max), not \(maxValueSize)")
        }
        guard config.replicas >= 1 else {
            throw KeyValueError(.invalidConfiguration, "replicas must be at least 1")
        }
        var stream = StreamConfig(name: KeyValueNames.streamName(bucket: config.bucket),
                                  subjects: [KeyValueNames.keyPrefix(bucket: config.bucket) + ">"])
        stream.description = config.description
        stream.maxMessagesPerSubject = Int64(config.history)
        stream.maxBytes = config.maxBytes ?? -1
        stream.maxMessageSize = config.maxValueSize.map { Int32($0) } ?? -1
        stream.maxMessages = -1
        stream.maxConsumers = -1
        if let ttl = config.ttl, ttl > .zero {
            stream.maxAge = ttl
        }
        // The server rejects a duplicate window longer than max age.
        stream.duplicateWindow = config.ttl.map { $0 > .zero && $0 < duplicateWindow ? $0 : duplicateWindow } ?? duplicateWindow
        stream.storage = config.storage == .memory ? .memory : .file
        stream.replicas = config.replicas
        stream.discard = .new
        stream.allowRollup = true
        stream.denyDelete = true
        stream.allowDirect = true
        return stream
    }

    /// Whether `existing` equals `wanted` apart from the settings a newer client may change in place.
    static func isUpgradable(_ existing: StreamConfig, to wanted: StreamConfig) -> Bool {
        existing.subjects == wanted.subjects
            && existing.maxMessagesPerSubject == wanted.maxMessagesPerSubject
            && existing.maxBytes == wanted.maxBytes
            && existing.maxMessageSize == wanted.maxMessageSize
            && existing.maxAge == wanted.maxAge
            && existing.storage == wanted.storage
            && existing.replicas == wanted.replicas
            && existing.allowRollup == wanted.allowRollup
            && existing.denyDelete == wanted.denyDelete
    }
}
