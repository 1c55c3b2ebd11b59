/// An error of the node daemon. The code is a struct so new codes are not breaking changes.
public struct NexNodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, coarsely; the message says the rest.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }

        /// The identity seed file could not be read, created or written.
        public static let identityFile = Code("identityFile")
        /// The identity seed is not a server nkey seed.
        public static let invalidIdentity = Code("invalidIdentity")
        /// Subscribing to the control subjects or publishing an event failed.
        public static let connection = Code("connection")
        /// An agent could not be started, or the agent executable is missing.
        public static let agent = Code("agent")
        /// `run()` was called while the node was already running.
        public static let alreadyRunning = Code("alreadyRunning")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NexNodeError(\(code)): \(message)" }
}
