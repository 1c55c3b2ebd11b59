/// An error from encoding, decoding or validating Nex wire values.
///
/// Errors carry an extensible ``Code`` (new codes are not breaking changes) and a message for humans.
public struct NexAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare against the static members; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The bytes are not JSON, or not the JSON shape of the expected type.
        public static let invalidJSON = Code("invalidJSON")
        /// A value could not be encoded (for example a non-finite number).
        public static let encodingFailed = Code("encodingFailed")
        /// An identifier (namespace, node ID, workload name, …) breaks its rules.
        public static let invalidIdentifier = Code("invalidIdentifier")
        /// A timestamp is not RFC 3339.
        public static let invalidTimestamp = Code("invalidTimestamp")
        /// An artifact location is not a usable URL.
        public static let invalidLocation = Code("invalidLocation")
        /// A node configuration has problems; the message lists all of them.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The agent's environment lacks a variable or has a malformed one.
        public static let invalidAgentEnvironment = Code("invalidAgentEnvironment")
        /// The remote side answered with an error envelope; the message is its `error` text.
        public static let remoteFailure = Code("remoteFailure")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What exactly was wrong, for humans.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NexAPIError(\(code)): \(message)" }
}
