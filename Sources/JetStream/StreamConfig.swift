import Foundation

/// The configuration of a stream, as `$JS.API.STREAM.CREATE` takes it.
///
/// Defaults are nats-server's: unlimited (`-1`) limits, file storage, one replica, discard old.
/// Optional fields left `nil` are omitted on the wire so the server applies its own default.
public struct StreamConfig: Codable, Sendable, Hashable {
    public enum Retention: String, Codable, Sendable, Hashable {
        case limits
        case interest
        case workQueue = "workqueue"
    }

    public enum Discard: String, Codable, Sendable, Hashable {
        case old
        case new
    }

    public enum Storage: String, Codable, Sendable, Hashable {
        case file
        case memory
    }

    public var name: String
    public var description: String?
    public var subjects: [String]
    public var retention: Retention = .limits
    public var maxConsumers: Int = -1
    public var maxMessages: Int64 = -1
    public var maxBytes: Int64 = -1
    /// Zero means no age limit.
    public var maxAge: Duration = .zero
    public var maxMessagesPerSubject: Int64 = -1
    public var maxMessageSize: Int32 = -1
    public var discard: Discard = .old
    public var storage: Storage = .file
    public var replicas: Int = 1
    /// The window for `Nats-Msg-Id` de-duplication; nil lets the server choose (2 minutes).
    public var duplicateWindow: Duration?
    /// Honour `Nats-Rollup` headers ("allow_rollup_hdrs").
    public var allowRollup: Bool = false
    public var denyDelete: Bool = false
    public var denyPurge: Bool = false
    /// Allow `$JS.API.DIRECT.GET` on every replica.
    public var allowDirect: Bool = false
    /// Let this mirror answer direct gets for its origin.
    public var mirrorDirect: Bool = false
    /// Do not acknowledge publishes.
    public var noAck: Bool = false
    public var sealed: Bool = false
    public var placement: Placement?
    public var mirror: StreamSource?
    public var sources: [StreamSource]?
    public var republish: Republish?

    public init(name: String, subjects: [String] = []) {
        self.name = name
        self.subjects = subjects
    }

    /// Where the stream's replicas go.
    public struct Placement: Codable, Sendable, Hashable {
        public var cluster: String?
        public var tags: [String]?
        public init(cluster: String? = nil, tags: [String]? = nil) {
            self.cluster = cluster
            self.tags = tags
        }
    }

    /// A mirror origin or one of several sources.
    public struct StreamSource: Codable, Sendable, Hashable {
        public var name: String
        public var startSequence: UInt64?
        public var startTime: Date?
        public var filterSubject: String?
        public var external: External?

        public init(name: String, startSequence: UInt64? = nil, startTime: Date? = nil, filterSubject: String? = nil,
                    external: External? = nil) {
            self.name = name
            self.startSequence = startSequence
            self.startTime = startTime
            self.filterSubject = filterSubject
            self.external = external
        }

        /// A stream in another domain or account: its API prefix and deliver prefix.
        public struct External: Codable, Sendable, Hashable {
            public var apiPrefix: String
            public var deliverPrefix: String?
            public init(apiPrefix: String, deliverPrefix: String? = nil) {
                self.apiPrefix = apiPrefix
                self.deliverPrefix = deliverPrefix
            }
            enum CodingKeys: String, CodingKey {
                case apiPrefix = "api"
                case deliverPrefix = "deliver"
            }
        }

        enum CodingKeys: String, CodingKey {
            case name
            case startSequence = "opt_start_seq"
            case startTime = "opt_start_time"
            case filterSubject = "filter_subject"
            case external
        }
    }

    /// Re-publishes stored messages to another subject.
    public struct Republish: Codable, Sendable, Hashable {
        public var source: String
        public var destination: String
        public var headersOnly: Bool?
        public init(source: String, destination: String, headersOnly: Bool? = nil) {
            self.source = source
            self.destination = destination
            self.headersOnly = headersOnly
        }
        enum CodingKeys: String, CodingKey {
            case source = "src"
            case destination = "dest"
            case headersOnly = "headers_only"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, description, subjects, retention
        case maxConsumers = "max_consumers"
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxAge = "max_age"
        case maxMessagesPerSubject = "max_msgs_per_subject"
        case maxMessageSize = "max_msg_size"
        case discard, storage
        case replicas = "num_replicas"
        case duplicateWindow = "duplicate_window"
        case allowRollup = "allow_rollup_hdrs"
        case denyDelete = "deny_delete"
        case denyPurge = "deny_purge"
        case allowDirect = "allow_direct"
        case mirrorDirect = "mirror_direct"
        case noAck = "no_ack"
        case sealed, placement, mirror, sources, republish
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        subjects = try c.decodeIfPresent([String].self, forKey: .subjects) ?? []
        retention = try c.decodeIfPresent(Retention.self, forKey: .retention) ?? .limits
        maxConsumers = try c.decodeIfPresent(Int.self, forKey: .maxConsumers) ?? -1
        maxMessages = try c.decodeIfPresent(Int64.self, forKey: .maxMessages) ?? -1
        maxBytes = try c.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxAge = try c.decodeNanoseconds(forKey: .maxAge) ?? .zero
        maxMessagesPerSubject = try c.decodeIfPresent(Int64.self, forKey: .maxMessagesPerSubject) ?? -1
        maxMessageSize = try c.decodeIfPresent(Int32.self, forKey: .maxMessageSize) ?? -1
        discard = try c.decodeIfPresent(Discard.self, forKey: .discard) ?? .old
        storage = try c.decodeIfPresent(Storage.self, forKey: .storage) ?? .file
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        duplicateWindow = try c.decodeNanoseconds(forKey: .duplicateWindow)
        allowRollup = try c.decodeIfPresent(Bool.self, forKey: .allowRollup) ?? false
        denyDelete = try c.decodeIfPresent(Bool.self, forKey: .denyDelete) ?? false
        denyPurge = try c.decodeIfPresent(Bool.self, forKey: .denyPurge) ?? false
        allowDirect = try c.decodeIfPresent(Bool.self, forKey: .allowDirect) ?? false
        mirrorDirect = try c.decodeIfPresent(Bool.self, forKey: .mirrorDirect) ?? false
        noAck = try c.decodeIfPresent(Bool.self, forKey: .noAck) ?? false
        sealed = try c.decodeIfPresent(Bool.self, forKey: .sealed) ?? false
        placement = try c.decodeIfPresent(Placement.self, forKey: .placement)
        mirror = try c.decodeIfPresent(StreamSource.self, forKey: .mirror)
        sources = try c.decodeIfPresent([StreamSource].self, forKey: .sources)
        republish = try c.decodeIfPresent(Republish.self, forKey: .republish)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(description, forKey: .description)
        if !subjects.isEmpty { try c.encode(subjects, forKey: .subjects) }
        try c.encode(retention, forKey: .retention)
        try c.encode(maxConsumers, forKey: .maxConsumers)
        try c.encode(maxMessages, forKey: .maxMessages)
        try c.encode(maxBytes, forKey: .maxBytes)
        try c.encode(maxAge.nanoseconds, forKey: .maxAge)
        try c.encode(maxMessagesPerSubject, forKey: .maxMessagesPerSubject)
        try c.encode(maxMessageSize, forKey: .maxMessageSize)
        try c.encode(discard, forKey: .discard)
        try c.encode(storage, forKey: .storage)
        try c.encode(replicas, forKey: .replicas)
        try c.encodeNanoseconds(duplicateWindow, forKey: .duplicateWindow)
        if allowRollup { try c.encode(true, forKey: .allowRollup) }
        if denyDelete { try c.encode(true, forKey: .denyDelete) }
        if denyPurge { try c.encode(true, forKey: .denyPurge) }
        if allowDirect { try c.encode(true, forKey: .allowDirect) }
        if mirrorDirect { try c.encode(true, forKey: .mirrorDirect) }
        if noAck { try c.encode(true, forKey: .noAck) }
        if sealed { try c.encode(true, forKey: .sealed) }
        try c.encodeIfPresent(placement, forKey: .placement)
        try c.encodeIfPresent(mirror, forKey: .mirror)
        try c.encodeIfPresent(sources, forKey: .sources)
        try c.encodeIfPresent(republish, forKey: .republish)
    }
}
