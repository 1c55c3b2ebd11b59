import NATS

/// An error from JetStream: either the API answered with an error object (then `apiCode`, `errorCode` and
/// `description` carry the server's `code`, `err_code` and `description`), or the client could not talk to it.
///
/// New codes may be added in any release; switch on `code` with a fallback, or compare `errorCode` with the
/// server's numeric JetStream error codes (e.g. 10071 wrong last sequence).
public struct JetStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// JetStream is not enabled for this account or server (the API has no responders).
        public static let notEnabled = Code("notEnabled")
        /// The API answered with an error not classified more precisely; see `errorCode`.
        public static let apiError = Code("apiError")
        /// The stream does not exist (err_code 10059).
        public static let streamNotFound = Code("streamNotFound")
        /// The consumer does not exist (err_code 10014).
        public static let consumerNotFound = Code("consumerNotFound")
        /// No message with that sequence or subject (err_code 10037, or status 404 on direct get).
        public static let messageNotFound = Code("messageNotFound")
        /// A stream with that name exists with a different configuration (err_code 10058).
        public static let streamNameInUse = Code("streamNameInUse")
        /// `Nats-Expected-Last-Sequence` did not match (err_code 10071).
        public static let wrongLastSequence = Code("wrongLastSequence")
        /// `Nats-Expected-Last-Subject-Sequence` did not match (err_code 10071 too; told apart by the header sent).
        public static let wrongLastSubjectSequence = Code("wrongLastSubjectSequence")
        /// `Nats-Expected-Stream` named another stream (err_code 10060).
        public static let wrongStream = Code("wrongStream")
        /// `Nats-Expected-Last-Msg-Id` did not match (err_code 10070).
        public static let wrongLastMessageID = Code("wrongLastMessageID")
        /// A publish reached no stream: no stream listens on the subject.
        public static let noStreamResponse = Code("noStreamResponse")
        /// The API or a publish acknowledgement did not answer in time.
        public static let timeout = Code("timeout")
        /// A reply could not be decoded.
        public static let invalidResponse = Code("invalidResponse")
        /// Arguments rejected before anything was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// A pull request was ended by the server with status 409 (consumer deleted, limits exceeded, …).
        public static let pullTerminated = Code("pullTerminated")
        /// The NATS client failed underneath (closed, disconnected, …); `underlying` has the details.
        public static let client = Code("client")

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The HTTP-like `code` of the API error object (e.g. 404), when the API answered with one.
    public var apiCode: Int?
    /// The JetStream `err_code` of the API error object (e.g. 10059), when the API answered with one.
    public var errorCode: Int?
    /// The NATS client error underneath, for `.client`, `.timeout`, `.notEnabled`.
    public var underlying: NATSError?

    public init(_ code: Code, _ message: String, apiCode: Int? = nil, errorCode: Int? = nil, underlying: NATSError? = nil) {
        self.code = code
        self.message = message
        self.apiCode = apiCode
        self.errorCode = errorCode
        self.underlying = underlying
    }

    /// The server's `description`, or the client's message.
    public var description: String {
        var text = "JetStream \(code): \(message)"
        if let errorCode { text += " (err_code \(errorCode))" }
        return text
    }

    /// Classifies an API error object once, so callers switch on codes instead of parsing descriptions.
    init(api: APIError) {
        let code: Code
        switch api.errorCode {
        case 10059: code = .streamNotFound
        case 10014: code = .consumerNotFound
        case 10037: code = .messageNotFound
        case 10058: code = .streamNameInUse
        case 10071: code = .wrongLastSequence
        case 10060: code = .wrongStream
        case 10070: code = .wrongLastMessageID
        case 10076: code = .notEnabled  // JetStream not enabled for account
        case 10039: code = .notEnabled  // JetStream not enabled
        default: code = .apiError
        }
        self.init(code, api.description ?? "JetStream API error", apiCode: api.code, errorCode: api.errorCode)
    }

    /// Maps a NATS client failure of an API request.
    init(requestTo subject: String, _ error: NATSError) {
        switch error.code {
        case .noResponders:
            self.init(.notEnabled, "no responders for \(subject): JetStream is not enabled (or the domain/prefix is wrong)", underlying: error)
        case .timeout:
            self.init(.timeout, "JetStream API \(subject) did not answer in time", underlying: error)
        default:
            self.init(.client, "\(subject): \(error.message)", underlying: error)
        }
    }
}
