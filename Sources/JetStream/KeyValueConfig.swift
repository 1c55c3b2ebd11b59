/// The configuration of a Key-Value bucket; becomes the configuration of the stream `KV_<bucket>`.
public struct KeyValueConfig: Sendable, Hashable {
    /// Where the bucket's stream keeps its messages.
    public enum Storage: Sendable, Hashable {
        case file
        case memory
    }

    /// The bucket name, `[a-zA-Z0-9_-]+`.
    public var bucket: String
    public var description: String?
    /// The largest value accepted, in bytes; nil for no limit beyond the server's max payload.
    public var maxValueSize: Int?
    /// How many values are kept per key, 1...64.
    public var history: Int
    /// How long a value is kept after it was written; nil keeps values forever.
    public var ttl: Duration?
    /// The most bytes the bucket may hold; nil for no limit. Writes beyond it fail (discard new).
    public var maxBytes: Int64?
    public var storage: Storage
    /// Copies in a cluster (1, 3 or 5 in practice).
    public var replicas: Int

    /// The largest `history` the server supports.
    public static let maxHistory = 64

    public init(bucket: String, description: String? = nil, maxValueSize: Int? = nil, history: Int = 1,
                ttl: Duration? = nil, maxBytes: Int64? = nil, storage: Storage = .file, replicas: Int = 1) {
        self.bucket = bucket
        self.description = description
        self.maxValueSize = maxValueSize
        self.history = history
        self.ttl = ttl
        self.maxBytes = maxBytes
        self.storage = storage
        self.replicas = replicas
    }
}

/// A snapshot of a bucket's state, from its stream info.
public struct KeyValueStatus: Sendable {
    public var bucket: String
    /// Messages in the bucket: every kept revision of every key, delete markers included.
    public var values: UInt64
    /// Revisions kept per key.
    public var history: Int
    /// How long values are kept; nil when forever.
    public var ttl: Duration?
    /// Bytes the bucket's stream uses.
    public var bytes: UInt64
    /// Always "JetStream".
    public var backingStore: String { "JetStream" }
    /// Always false: nats-server 2.9 has no stream compression.
    public var isCompressed: Bool { false }
    /// The underlying stream's info, for everything else.
    public var streamInfo: StreamInfo
}
