import NATSProtocol

/// An error from the NATS client.
///
/// New codes may be added in any release; switch on `code` with a fallback.
public struct NATSError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionClosed, notConnected, timeout, noResponders, maxPayloadExceeded, invalidSubject
            case invalidQueueGroup, invalidConfiguration, invalidURL, noServers, server, protocolViolation
            case reconnectBufferExceeded, slowConsumer, draining, tls, authentication, staleConnection
            case connectFailed, cancelled
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The client was closed, or the connection ended before the operation completed.
        public static let connectionClosed = Code(.connectionClosed)
        /// An operation that needs a live connection ran while there was none.
        public static let notConnected = Code(.notConnected)
        /// A request or flush did not complete in time.
        public static let timeout = Code(.timeout)
        /// The server answered a request with status 503: nobody subscribes to the subject.
        public static let noResponders = Code(.noResponders)
        /// The message is larger than the server's `max_payload`.
        public static let maxPayloadExceeded = Code(.maxPayloadExceeded)
        public static let invalidSubject = Code(.invalidSubject)
        public static let invalidQueueGroup = Code(.invalidQueueGroup)
        public static let invalidConfiguration = Code(.invalidConfiguration)
        public static let invalidURL = Code(.invalidURL)
        /// No server could be reached (all attempts of the initial connect, or reconnects exhausted).
        public static let noServers = Code(.noServers)
        /// The server sent `-ERR`; `serverError` holds the classified error.
        public static let server = Code(.server)
        /// The server sent bytes that are not the NATS protocol.
        public static let protocolViolation = Code(.protocolViolation)
        /// Publishes buffered while reconnecting exceeded `reconnectBufferSize`.
        public static let reconnectBufferExceeded = Code(.reconnectBufferExceeded)
        /// A subscription's buffer was full and messages were dropped.
        public static let slowConsumer = Code(.slowConsumer)
        /// The client is draining or closing and accepts no new work.
        public static let draining = Code(.draining)
        public static let tls = Code(.tls)
        public static let authentication = Code(.authentication)
        /// The server stopped answering pings.
        public static let staleConnection = Code(.staleConnection)
        public static let connectFailed = Code(.connectFailed)
        public static let cancelled = Code(.cancelled)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The server's classified `-ERR`, for `.server` and `.authentication` errors.
    public var serverError: ServerError?

    public init(_ code: Code, _ message: String, serverError: ServerError? = nil) {
        self.code = code
        self.message = message
        self.serverError = serverError
    }

    public var description: String { "NATS \(code): \(message)" }

    static func fromServer(_ error: ServerError) -> NATSError {
        switch error.kind {
        case .authorizationViolation, .authenticationTimeout, .userAuthenticationExpired,
            .userAuthenticationRevoked, .accountAuthenticationExpired:
            return NATSError(.authentication, error.message, serverError: error)
        case .staleConnection:
            return NATSError(.staleConnection, error.message, serverError: error)
        case .maxPayloadViolation:
            return NATSError(.maxPayloadExceeded, error.message, serverError: error)
        default:
            return NATSError(.server, error.message, serverError: error)
        }
    }
}
