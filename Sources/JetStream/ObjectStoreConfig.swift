/// How to create an object store bucket. Defaults follow nats.go.
public struct ObjectStoreConfig: Sendable, Hashable {
    /// The bucket name: `[A-Za-z0-9_-]+`.
    public var bucket: String
    /// Free text stored as the stream's description.
    public var description: String?
    /// How long objects are kept (the stream's max age); `nil` keeps them until deleted.
    public var ttl: Duration?
    /// Limit on the bucket's total bytes (chunks and metas); -1 is unlimited. Puts beyond it fail (discard new).
    public var maxBytes: Int64
    /// File or memory storage.
    public var storage: StreamConfig.Storage
    /// Stream replicas (1 to 5; clusters only beyond 1).
    public var replicas: Int
    /// Where the stream should be placed in a cluster.
    public var placement: StreamConfig.Placement?

    /// A bucket with file storage, one replica, no TTL and no size limit.
    public init(bucket: String) {
        self.bucket = bucket
        self.description = nil
        self.ttl = nil
        self.maxBytes = -1
        self.storage = .file
        self.replicas = 1
        self.placement = nil
    }

    /// The backing stream's configuration, exactly as nats.go's `CreateObjectStore` builds it.
    func streamConfig(_ naming: ObjectStoreNaming) -> StreamConfig {
        var config = StreamConfig(name: naming.streamName, subjects: [naming.allChunksSubject, naming.allMetaSubject])
        config.description = description
        config.maxAge = ttl ?? .zero
        config.maxBytes = maxBytes == 0 ? -1 : maxBytes
        config.storage = storage
        config.replicas = replicas < 1 ? 1 : replicas
        config.placement = placement
        config.discard = .new
        config.allowRollup = true
        config.allowDirect = true
        return config
    }
}

extension ObjectStoreStatus {
    /// How long objects are kept; `nil` when forever.
    public var ttl: Duration? { streamInfo.config.maxAge == .zero ? nil : streamInfo.config.maxAge }
    /// File or memory storage.
    public var storage: StreamConfig.Storage { streamInfo.config.storage }
    /// Stream replicas.
    public var replicas: Int { streamInfo.config.replicas }
    /// True when the stream is sealed (no more changes).
    public var sealed: Bool { streamInfo.config.sealed }
}
