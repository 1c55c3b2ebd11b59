/// An error from ``NexClient``.
///
/// Carries an extensible ``Code`` (new codes are not breaking changes) and a message. For
/// ``Code/remote`` the message is the node's `error` text exactly as it sent it, so callers can
/// match it against `NexFailure` constants.
public struct NexClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare against the static members; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The node answered with a failure envelope; ``NexClientError/message`` is its text.
        public static let remote = Code("remote")
        /// Nobody subscribes to the subject: no node with that ID is connected.
        public static let noNode = Code("noNode")
        /// A node that should answer did not answer in time.
        public static let timeout = Code("timeout")
        /// The subject was reachable but no usable reply arrived (for example an empty reply).
        public static let noResponse = Code("noResponse")
        /// The reply was not a control-interface envelope of the expected type.
        public static let invalidResponse = Code("invalidResponse")
        /// The request could not be built or encoded (bad key, unencodable value, …).
        public static let invalidRequest = Code("invalidRequest")
        /// The NATS connection failed underneath the request.
        public static let connection = Code("connection")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong; for ``Code/remote`` exactly the node's `error` text.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// A failure envelope's reason, passed through unchanged.
    public static func remote(_ reason: String) -> NexClientError {
        NexClientError(code: .remote, message: reason)
    }

    public var description: String { "NexClientError(\(code)): \(message)" }
}
