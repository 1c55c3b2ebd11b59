import Foundation

/// A stream's configuration and state, as `$JS.API.STREAM.INFO` and `STREAM.CREATE` answer.
public struct StreamInfo: Decodable, Sendable {
    public var config: StreamConfig
    public var state: StreamState
    public var cluster: ClusterInfo?
    public var created: Date

    enum CodingKeys: String, CodingKey {
        case config, state, cluster, created
    }
}

/// What a stream holds.
public struct StreamState: Decodable, Sendable, Hashable {
    public var messages: UInt64
    public var bytes: UInt64
    public var firstSequence: UInt64
    public var firstTime: Date?
    public var lastSequence: UInt64
    public var lastTime: Date?
    public var consumerCount: Int
    public var deletedCount: Int?
    public var numSubjects: UInt64?
    /// Messages per subject, only when `streamInfo(_:subjectsFilter:)` asked for them.
    public var subjects: [String: UInt64]?

    enum CodingKeys: String, CodingKey {
        case messages, bytes
        case firstSequence = "first_seq"
        case firstTime = "first_ts"
        case lastSequence = "last_seq"
        case lastTime = "last_ts"
        case consumerCount = "consumer_count"
        case deletedCount = "num_deleted"
        case numSubjects = "num_subjects"
        case subjects
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messages = try c.decodeIfPresent(UInt64.self, forKey: .messages) ?? 0
        bytes = try c.decodeIfPresent(UInt64.self, forKey: .bytes) ?? 0
        firstSequence = try c.decodeIfPresent(UInt64.self, forKey: .firstSequence) ?? 0
        firstTime = try c.decodeIfPresent(Date.self, forKey: .firstTime)
        lastSequence = try c.decodeIfPresent(UInt64.self, forKey: .lastSequence) ?? 0
        lastTime = try c.decodeIfPresent(Date.self, forKey: .lastTime)
        consumerCount = try c.decodeIfPresent(Int.self, forKey: .consumerCount) ?? 0
        deletedCount = try c.decodeIfPresent(Int.self, forKey: .deletedCount)
        numSubjects = try c.decodeIfPresent(UInt64.self, forKey: .numSubjects)
        subjects = try c.decodeIfPresent([String: UInt64].self, forKey: .subjects)
    }
}

/// Where a clustered stream or consumer lives: the leader's server name and the other replicas.
public struct ClusterInfo: Decodable, Sendable, Hashable {
    public var name: String?
    /// The `server_name` of the leader.
    public var leader: String?
    public var replicas: [PeerInfo]?

    public struct PeerInfo: Decodable, Sendable, Hashable {
        public var name: String
        public var current: Bool
        public var offline: Bool?
        public var lag: UInt64?

        enum CodingKeys: String, CodingKey {
            case name, current, offline, lag
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            current = try c.decodeIfPresent(Bool.self, forKey: .current) ?? false
            offline = try c.decodeIfPresent(Bool.self, forKey: .offline)
            lag = try c.decodeIfPresent(UInt64.self, forKey: .lag)
        }
    }
}
