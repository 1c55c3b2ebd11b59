import NIOCore

/// One operation sent by the server.
public enum ServerOp: Sendable, Equatable {
    /// `INFO {json}`: at connect, and again asynchronously when the cluster changes or the server enters lame duck.
    case info(ServerInfo)
    /// `MSG` and `HMSG`: a message for one of our subscriptions.
    case message(InboundMessage)
    /// `PING`: must be answered with `PONG`.
    case ping
    /// `PONG`: the answer to our `PING`.
    case pong
    /// `+OK`: acknowledgement in verbose mode.
    case ok
    /// `-ERR`: a server error, already classified.
    case error(ServerError)
}

/// A message delivered by `MSG` or `HMSG`.
public struct InboundMessage: Sendable, Hashable {
    /// The subject the message was published to.
    public var subject: String
    /// The id of the subscription it is delivered to.
    public var sid: UInt64
    /// The reply subject, if the publisher set one.
    public var replyTo: String?
    /// `nil` for `MSG`; for `HMSG` the parsed header block (possibly only a status, e.g. 503 no responders).
    public var headers: NATSHeaders?
    /// The payload: a slice of the read buffer, not a copy.
    public var payload: ByteBuffer

    /// Creates a message.
    public init(subject: String, sid: UInt64, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer) {
        self.subject = subject
        self.sid = sid
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }
}
