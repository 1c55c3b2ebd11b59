import NATSProtocol
import NIOCore

/// A message received from NATS.
public struct NATSMessage: Sendable {
    public var subject: String
    public var replyTo: String?
    public var headers: NATSHeaders?
    /// The payload bytes (a slice of the read buffer; no copy was made).
    public var payload: ByteBuffer

    public init(subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The status of a status message (`NATS/1.0 503`), e.g. 503 for no responders.
    public var status: Int? { headers?.status }

    /// The payload decoded as UTF-8.
    public var string: String { String(buffer: payload) }

    /// The payload copied into an array.
    public var bytes: [UInt8] { Array(payload.readableBytesView) }
}
