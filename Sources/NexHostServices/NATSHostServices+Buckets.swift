import JetStream
import NATS

// Key-Value and object store: buckets named by guest code, scoped to the namespace, created on first use.

extension NATSHostServices {
    public func kvGet(bucket: String, key: String) async throws(HostServiceError) -> [UInt8]? {
        try require(HostServicesConfiguration.keyValue)
        let key = try requireKey(key)
        return try await withKeyValue(bucket, operation: "kv get") { kv in
            try await kv.get(key).map { Array($0.value.readableBytesView) }
        }
    }

    public func kvSet(bucket: String, key: String, value: [UInt8]) async throws(HostServiceError) -> UInt64 {
        try require(HostServicesConfiguration.keyValue)
        let key = try requireKey(key)
        return try await withKeyValue(bucket, operation: "kv set") { kv in
            try await kv.put(key, value)
        }
    }

    /// Deleting a key that has no value is not an error (it leaves a delete marker, as NATS does).
    public func kvDelete(bucket: String, key: String) async throws(HostServiceError) {
        try require(HostServicesConfiguration.keyValue)
        let key = try requireKey(key)
        try await withKeyValue(bucket, operation: "kv delete") { kv in
            try await kv.delete(key)
        }
    }

    public func kvKeys(bucket: String) async throws(HostServiceError) -> [String] {
        try require(HostServicesConfiguration.keyValue)
        return try await withKeyValue(bucket, operation: "kv keys") { kv in
            try await kv.keys()
        }
    }

    public func objectGet(bucket: String, name: String) async throws(HostServiceError) -> [UInt8]? {
        try require(HostServicesConfiguration.objectStore)
        let name = try requireObjectName(name)
        return try await withObjectStore(bucket, operation: "objectstore get") { store in
            do {
                return try await store.getBytes(name)
            } catch let error as ObjectStoreError where error.code == .objectNotFound {
                return nil
            }
        }
    }

    public func objectPut(bucket: String, name: String, value: [UInt8]) async throws(HostServiceError) -> ObjectInfo {
        try require(HostServicesConfiguration.objectStore)
        let name = try requireObjectName(name)
        return try await withObjectStore(bucket, operation: "objectstore put") { store in
            try await store.put(name, bytes: value)
        }
    }

    /// Deleting an object that does not exist is not an error, like deleting a Key-Value key.
    public func objectDelete(bucket: String, name: String) async throws(HostServiceError) {
        try require(HostServicesConfiguration.objectStore)
        let name = try requireObjectName(name)
        try await withObjectStore(bucket, operation: "objectstore delete") { store in
            do {
                try await store.delete(name)
            } catch let error as ObjectStoreError where error.code == .objectNotFound {
                return
            }
        }
    }

    /// The objects present (deleted ones left out).
    public func objectList(bucket: String) async throws(HostServiceError) -> [ObjectInfo] {
        try require(HostServicesConfiguration.objectStore)
        return try await withObjectStore(bucket, operation: "objectstore list") { store in
            try await store.list()
        }
    }

    // MARK: - Buckets

    private func requireKey(_ key: String) throws(HostServiceError) -> String {
        guard !key.isEmpty else { throw HostServiceError(code: .invalidArgument, message: "key is required") }
        return key
    }

    private func requireObjectName(_ name: String) throws(HostServiceError) -> String {
        guard !name.isEmpty else { throw HostServiceError(code: .invalidArgument, message: "object name is required") }
        return name
    }

    /// Runs `body` on the namespace's bucket `bucket`, creating it on first use. A failure forgets the opened
    /// bucket, so a bucket deleted behind our back is created again by the next call.
    private func withKeyValue<T: Sendable>(_ bucket: String, operation: String,
                                           _ body: (KeyValue) async throws -> T) async throws(HostServiceError) -> T {
        try await withBucket(bucket, operation: operation, open: openKeyValue,
                             forget: { name in _ = keyValueBuckets.withLock { $0.removeValue(forKey: name) } }, body)
    }

    /// ``withKeyValue(_:operation:_:)`` for the object store buckets.
    private func withObjectStore<T: Sendable>(_ bucket: String, operation: String,
                                              _ body: (ObjectStore) async throws -> T) async throws(HostServiceError) -> T {
        try await withBucket(bucket, operation: operation, open: openObjectStore,
                             forget: { name in _ = objectStores.withLock { $0.removeValue(forKey: name) } }, body)
    }

    private func withBucket<Bucket, T: Sendable>(_ bucket: String, operation: String, open: (String) async throws -> Bucket,
                                                 forget: (String) -> Void,
                                                 _ body: (Bucket) async throws -> T) async throws(HostServiceError) -> T {
        let name = try realBucket(bucket)
        do {
            let opened = try await open(name)
            do {
                return try await body(opened)
            } catch {
                forget(name)
                throw error
            }
        } catch {
            let failure = HostServiceError.from(error, operation: operation)
            logger.debug("host service call failed", metadata: ["nex.hs.operation": "\(operation)", "nex.hs.bucket": "\(name)",
                                                                "error": "\(failure.message)"])
            throw failure
        }
    }

    private func openKeyValue(_ name: String) async throws -> KeyValue {
        if let kv = keyValueBuckets.withLock({ $0[name] }) { return kv }
        let kv: KeyValue
        do {
            kv = try await jetStream.keyValue(name)
        } catch let error as KeyValueError where error.code == .bucketNotFound {
            kv = try await jetStream.createKeyValue(KeyValueConfig(bucket: name, maxBytes: configuration.maxBucketBytes))
            logger.info("created Key-Value bucket", metadata: ["nex.hs.bucket": "\(name)"])
        }
        keyValueBuckets.withLock { $0[name] = kv }
        return kv
    }

    private func openObjectStore(_ name: String) async throws -> ObjectStore {
        if let store = objectStores.withLock({ $0[name] }) { return store }
        let store: ObjectStore
        do {
            store = try await jetStream.objectStore(name)
        } catch let error as ObjectStoreError where error.code == .bucketNotFound {
            var config = ObjectStoreConfig(bucket: name)
            config.maxBytes = configuration.maxBucketBytes
            do {
                store = try await jetStream.createObjectStore(config)
                logger.info("created object store bucket", metadata: ["nex.hs.bucket": "\(name)"])
            } catch let error as JetStreamError where error.code == .streamNameInUse {
                // Another instance created it between our lookup and our create.
                store = try await jetStream.objectStore(name)
            }
        }
        objectStores.withLock { $0[name] = store }
        return store
    }
}
