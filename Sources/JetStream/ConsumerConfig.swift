import Foundation

/// The configuration of a consumer, as `$JS.API.CONSUMER.CREATE` takes it.
///
/// A pull consumer has no `deliverSubject`; a push consumer delivers to it. Optional fields left `nil` are
/// omitted on the wire so the server applies its own default.
public struct ConsumerConfig: Codable, Sendable, Hashable {
    /// Where in the stream delivery starts.
    public enum DeliverPolicy: Sendable, Hashable {
        case all
        case last
        case new
        case byStartSequence(UInt64)
        case byStartTime(Date)
        case lastPerSubject
    }

    public enum AckPolicy: String, Codable, Sendable, Hashable {
        case none
        case all
        case explicit
    }

    public enum ReplayPolicy: String, Codable, Sendable, Hashable {
        case instant
        case original
    }

    /// The consumer's name (2.9+); for ephemeral consumers the server picks one when nil.
    public var name: String?
    /// Makes the consumer durable under this name.
    public var durableName: String?
    public var description: String?
    public var deliverPolicy: DeliverPolicy = .all
    public var ackPolicy: AckPolicy = .explicit
    /// How long the server waits for an ack before redelivering; nil lets the server choose (30 s).
    public var ackWait: Duration?
    /// -1 means unlimited.
    public var maxDeliver: Int = -1
    /// Redelivery delays (overrides `ackWait` per attempt).
    public var backoff: [Duration]?
    public var filterSubject: String?
    public var replayPolicy: ReplayPolicy = .instant
    public var maxAckPending: Int?
    /// Pull consumers: how many pull requests may wait at once.
    public var maxWaiting: Int?
    public var headersOnly: Bool = false
    /// Pull consumers: the largest batch one request may ask for.
    public var maxBatch: Int?
    /// Pull consumers: the longest `expires` one request may ask for.
    public var maxExpires: Duration?
    /// Removes the consumer after it has been inactive this long.
    public var inactiveThreshold: Duration?
    /// Push consumers: the subject messages are delivered to.
    public var deliverSubject: String?
    /// Push consumers: the queue group bound to `deliverSubject`.
    public var deliverGroup: String?
    /// Push consumers: the server pauses for a flow-control reply every so often.
    public var flowControl: Bool = false
    /// Push consumers: a status-100 heartbeat after this much idle time.
    public var idleHeartbeat: Duration?
    public var rateLimit: UInt64?
    public var sampleFrequency: String?
    /// Keep the consumer state in memory even on a file stream ("mem_storage").
    public var memoryStorage: Bool = false
    /// 0 = as many as the stream ("num_replicas").
    public var replicas: Int = 0

    public init(name: String? = nil, durableName: String? = nil, deliverPolicy: DeliverPolicy = .all,
                ackPolicy: AckPolicy = .explicit, filterSubject: String? = nil) {
        self.name = name
        self.durableName = durableName
        self.deliverPolicy = deliverPolicy
        self.ackPolicy = ackPolicy
        self.filterSubject = filterSubject
    }

    enum CodingKeys: String, CodingKey {
        case name
        case durableName = "durable_name"
        case description
        case deliverPolicy = "deliver_policy"
        case startSequence = "opt_start_seq"
        case startTime = "opt_start_time"
        case ackPolicy = "ack_policy"
        case ackWait = "ack_wait"
        case maxDeliver = "max_deliver"
        case backoff
        case filterSubject = "filter_subject"
        case replayPolicy = "replay_policy"
        case maxAckPending = "max_ack_pending"
        case maxWaiting = "max_waiting"
        case headersOnly = "headers_only"
        case maxBatch = "max_batch"
        case maxExpires = "max_expires"
        case inactiveThreshold = "inactive_threshold"
        case deliverSubject = "deliver_subject"
        case deliverGroup = "deliver_group"
        case flowControl = "flow_control"
        case idleHeartbeat = "idle_heartbeat"
        case rateLimit = "rate_limit_bps"
        case sampleFrequency = "sample_freq"
        case memoryStorage = "mem_storage"
        case replicas = "num_replicas"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        durableName = try c.decodeIfPresent(String.self, forKey: .durableName)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        let policy = try c.decodeIfPresent(String.self, forKey: .deliverPolicy) ?? "all"
        switch policy {
        case "all": deliverPolicy = .all
        case "last": deliverPolicy = .last
        case "new": deliverPolicy = .new
        case "last_per_subject": deliverPolicy = .lastPerSubject
        case "by_start_sequence":
            deliverPolicy = .byStartSequence(try c.decodeIfPresent(UInt64.self, forKey: .startSequence) ?? 0)
        case "by_start_time":
            deliverPolicy = .byStartTime(try c.decodeIfPresent(Date.self, forKey: .startTime) ?? Date(timeIntervalSince1970: 0))
        default:
            throw DecodingError.dataCorruptedError(forKey: .deliverPolicy, in: c, debugDescription: "unknown deliver policy \(policy)")
        }
        ackPolicy = try c.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .explicit
        ackWait = try c.decodeNanoseconds(forKey: .ackWait)
        maxDeliver = try c.decodeIfPresent(Int.self, forKey: .maxDeliver) ?? -1
        backoff = try c.decodeIfPresent([Int64].self, forKey: .backoff)?.map { Duration.nanoseconds(Int($0)) }
        filterSubject = try c.decodeIfPresent(String.self, forKey: .filterSubject)
        replayPolicy = try c.decodeIfPresent(ReplayPolicy.self, forKey: .replayPolicy) ?? .instant
        maxAckPending = try c.decodeIfPresent(Int.self, forKey: .maxAckPending)
        maxWaiting = try c.decodeIfPresent(Int.self, forKey: .maxWaiting)
        headersOnly = try c.decodeIfPresent(Bool.self, forKey: .headersOnly) ?? false
        maxBatch = try c.decodeIfPresent(Int.self, forKey: .maxBatch)
        maxExpires = try c.decodeNanoseconds(forKey: .maxExpires)
        inactiveThreshold = try c.decodeNanoseconds(forKey: .inactiveThreshold)
        deliverSubject = try c.decodeIfPresent(String.self, forKey: .deliverSubject)
        deliverGroup = try c.decodeIfPresent(String.self, forKey: .deliverGroup)
        flowControl = try c.decodeIfPresent(Bool.self, forKey: .flowControl) ?? false
        idleHeartbeat = try c.decodeNanoseconds(forKey: .idleHeartbeat)
        rateLimit = try c.decodeIfPresent(UInt64.self, forKey: .rateLimit)
        sampleFrequency = try c.decodeIfPresent(String.self, forKey: .sampleFrequency)
        memoryStorage = try c.decodeIfPresent(Bool.self, forKey: .memoryStorage) ?? false
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(durableName, forKey: .durableName)
        try c.encodeIfPresent(description, forKey: .description)
        switch deliverPolicy {
        case .all: try c.encode("all", forKey: .deliverPolicy)
        case .last: try c.encode("last", forKey: .deliverPolicy)
        case .new: try c.encode("new", forKey: .deliverPolicy)
        case .lastPerSubject: try c.encode("last_per_subject", forKey: .deliverPolicy)
        case .byStartSequence(let sequence):
            try c.encode("by_start_sequence", forKey: .deliverPolicy)
            try c.encode(sequence, forKey: .startSequence)
        case .byStartTime(let time):
            try c.encode("by_start_time", forKey: .deliverPolicy)
            try c.encode(time, forKey: .startTime)
        }
        try c.encode(ackPolicy, forKey: .ackPolicy)
        try c.encodeNanoseconds(ackWait, forKey: .ackWait)
        try c.encode(maxDeliver, forKey: .maxDeliver)
        try c.encodeIfPresent(backoff?.map(\.nanoseconds), forKey: .backoff)
        try c.encodeIfPresent(filterSubject, forKey: .filterSubject)
        try c.encode(replayPolicy, forKey: .replayPolicy)
        try c.encodeIfPresent(maxAckPending, forKey: .maxAckPending)
        try c.encodeIfPresent(maxWaiting, forKey: .maxWaiting)
        if headersOnly { try c.encode(true, forKey: .headersOnly) }
        try c.encodeIfPresent(maxBatch, forKey: .maxBatch)
        try c.encodeNanoseconds(maxExpires, forKey: .maxExpires)
        try c.encodeNanoseconds(inactiveThreshold, forKey: .inactiveThreshold)
        try c.encodeIfPresent(deliverSubject, forKey: .deliverSubject)
        try c.encodeIfPresent(deliverGroup, forKey: .deliverGroup)
        if flowControl { try c.encode(true, forKey: .flowControl) }
        try c.encodeNanoseconds(idleHeartbeat, forKey: .idleHeartbeat)
        try c.encodeIfPresent(rateLimit, forKey: .rateLimit)
        try c.encodeIfPresent(sampleFrequency, forKey: .sampleFrequency)
        if memoryStorage { try c.encode(true, forKey: .memoryStorage) }
        if replicas != 0 { try c.encode(replicas, forKey: .replicas) }
    }
}
