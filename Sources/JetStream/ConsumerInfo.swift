import Foundation

/// A consumer's configuration and progress, as `$JS.API.CONSUMER.INFO` and `CONSUMER.CREATE` answer.
public struct ConsumerInfo: Decodable, Sendable {
    public var stream: String
    public var name: String
    public var config: ConsumerConfig
    public var created: Date
    /// The last message delivered (consumer and stream sequence).
    public var delivered: SequenceInfo
    /// Everything at or below this was acknowledged.
    public var ackFloor: SequenceInfo
    public var numAckPending: Int
    public var numRedelivered: Int
    public var numWaiting: Int
    /// Messages in the stream not yet delivered to this consumer.
    public var numPending: UInt64
    public var cluster: ClusterInfo?
    public var pushBound: Bool?

    public struct SequenceInfo: Decodable, Sendable, Hashable {
        public var consumerSequence: UInt64
        public var streamSequence: UInt64
        public var lastActive: Date?

        enum CodingKeys: String, CodingKey {
            case consumerSequence = "consumer_seq"
            case streamSequence = "stream_seq"
            case lastActive = "last_active"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            consumerSequence = try c.decodeIfPresent(UInt64.self, forKey: .consumerSequence) ?? 0
            streamSequence = try c.decodeIfPresent(UInt64.self, forKey: .streamSequence) ?? 0
            lastActive = try c.decodeIfPresent(Date.self, forKey: .lastActive)
        }
    }

    enum CodingKeys: String, CodingKey {
        case stream = "stream_name"
        case name, config, created, delivered
        case ackFloor = "ack_floor"
        case numAckPending = "num_ack_pending"
        case numRedelivered = "num_redelivered"
        case numWaiting = "num_waiting"
        case numPending = "num_pending"
        case cluster
        case pushBound = "push_bound"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stream = try c.decode(String.self, forKey: .stream)
        name = try c.decode(String.self, forKey: .name)
        config = try c.decode(ConsumerConfig.self, forKey: .config)
        created = try c.decode(Date.self, forKey: .created)
        delivered = try c.decode(SequenceInfo.self, forKey: .delivered)
        ackFloor = try c.decode(SequenceInfo.self, forKey: .ackFloor)
        numAckPending = try c.decodeIfPresent(Int.self, forKey: .numAckPending) ?? 0
        numRedelivered = try c.decodeIfPresent(Int.self, forKey: .numRedelivered) ?? 0
        numWaiting = try c.decodeIfPresent(Int.self, forKey: .numWaiting) ?? 0
        numPending = try c.decodeIfPresent(UInt64.self, forKey: .numPending) ?? 0
        cluster = try c.decodeIfPresent(ClusterInfo.self, forKey: .cluster)
        pushBound = try c.decodeIfPresent(Bool.self, forKey: .pushBound)
    }
}
