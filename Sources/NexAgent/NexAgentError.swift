/// A failure of the agent itself (not of a workload: those are answered on the wire).
///
/// A struct with an extensible ``Code``, so new kinds of failure are not breaking changes.
public struct NexAgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// No node accepted the handshake before the handshake timeout: the agent must exit.
        public static let handshakeFailed = Code("handshakeFailed")
        /// The agent could not subscribe to its subjects on the internal NATS.
        public static let connection = Code("connection")
        /// `run()` was called while the agent was already running.
        public static let alreadyRunning = Code("alreadyRunning")
        /// The agent's environment cannot be turned into a NATS configuration.
        public static let invalidEnvironment = Code("invalidEnvironment")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, for humans.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NexAgentError(\(code)): \(message)" }
}
