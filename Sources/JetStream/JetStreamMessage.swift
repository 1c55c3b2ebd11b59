import Foundation
import NATS
import NIOCore

/// A message delivered by a consumer, with what its ack subject tells about it.
public struct JetStreamMessage: Sendable {
    public var message: NATSMessage
    public var metadata: Metadata
    let client: NATSClient

    /// Stream, consumer and sequences of a delivered message, parsed from its reply subject
    /// `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<nanos>.<pending>`, or the newer
    /// `$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<nanos>.<pending>[.<token>]`.
    public struct Metadata: Sendable, Hashable {
        public var stream: String
        public var consumer: String
        /// How often this message was delivered (1 the first time).
        public var delivered: Int
        public var streamSequence: UInt64
        public var consumerSequence: UInt64
        /// When the stream stored the message.
        public var timestamp: Date
        /// Messages after this one the consumer has yet to deliver.
        public var pending: UInt64
        /// The domain, in the long form when it names one ("_" means none).
        public var domain: String?

        public init(stream: String, consumer: String, delivered: Int, streamSequence: UInt64, consumerSequence: UInt64,
                    timestamp: Date, pending: UInt64, domain: String? = nil) {
            self.stream = stream
            self.consumer = consumer
            self.delivered = delivered
            self.streamSequence = streamSequence
            self.consumerSequence = consumerSequence
            self.timestamp = timestamp
            self.pending = pending
            self.domain = domain
        }

        /// Parses an ack reply subject; nil when it is not one.
        public init?(ackSubject: String) {
            let tokens = ackSubject.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            guard tokens.count >= 9, tokens[0].elementsEqual("$JS".utf8), tokens[1].elementsEqual("ACK".utf8) else { return nil }
            let offset: Int
            var domain: String?
            switch tokens.count {
            case 9: offset = 2
            case 11, 12:
                offset = 4
                let name = String(decoding: tokens[2], as: UTF8.self)
                domain = name == "_" ? nil : name
            default: return nil
            }
            func number(_ index: Int) -> UInt64? {
                let token = tokens[offset + index]
                guard !token.isEmpty else { return nil }
                var value: UInt64 = 0
                for byte in token {
                    guard byte >= 48, byte <= 57 else { return nil }
                    let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 48))
                    guard !overflow1, !overflow2 else { return nil }
                    value = sum
                }
                return value
            }
            guard let delivered = number(2), let streamSequence = number(3), let consumerSequence = number(4),
                let nanos = number(5), let pending = number(6)
            else { return nil }
            self.init(
                stream: String(decoding: tokens[offset], as: UTF8.self),
                consumer: String(decoding: tokens[offset + 1], as: UTF8.self),
                delivered: Int(clamping: delivered), streamSequence: streamSequence, consumerSequence: consumerSequence,
                timestamp: Date(timeIntervalSince1970: Double(nanos / 1_000_000_000) + Double(nanos % 1_000_000_000) / 1e9),
                pending: pending, domain: domain)
        }
    }

    /// Wraps a delivered message; nil when its reply subject is not a JetStream ack subject.
    init?(_ message: NATSMessage, client: NATSClient) {
        guard let reply = message.replyTo, let metadata = Metadata(ackSubject: reply) else { return nil }
        self.message = message
        self.metadata = metadata
        self.client = client
    }

    public var subject: String { message.subject }
    public var headers: NATSHeaders? { message.headers }
    public var payload: ByteBuffer { message.payload }
    /// The payload decoded as UTF-8.
    public var string: String { message.string }

    /// Acknowledges the message (fire and forget).
    public func ack() async throws {
        try await send(AckKind.ack)
    }

    /// Acknowledges and waits until the server confirms it recorded the ack.
    public func ackSync(timeout: Duration = .seconds(5)) async throws {
        guard let reply = message.replyTo else { throw Self.notAckable }
        do {
            _ = try await client.request(ByteBuffer(string: AckKind.ack), to: reply, timeout: timeout)
        } catch let error as NATSError {
            throw JetStreamError(requestTo: reply, error)
        }
    }

    /// Negative acknowledgement: redeliver, after `delay` when given.
    public func nak(delay: Duration? = nil) async throws {
        if let delay {
            try await send("\(AckKind.nak) {\"delay\":\(delay.nanoseconds)}")
        } else {
            try await send(AckKind.nak)
        }
    }

    /// Never redeliver this message.
    public func term() async throws {
        try await send(AckKind.term)
    }

    /// Still working on it: resets the ack-wait timer.
    public func inProgress() async throws {
        try await send(AckKind.inProgress)
    }

    private func send(_ body: String) async throws {
        guard let reply = message.replyTo else { throw Self.notAckable }
        try await client.publish(ByteBuffer(string: body), to: reply)
    }

    private static var notAckable: JetStreamError {
        JetStreamError(.invalidArgument, "the message has no reply subject to acknowledge to")
    }
}

/// The bodies of acknowledgements.
enum AckKind {
    static let ack = "+ACK"
    static let nak = "-NAK"
    static let term = "+TERM"
    static let inProgress = "+WPI"
}
