/// A failure of the native runtime, with a code callers can switch on and a message for humans.
///
/// A struct rather than an enum so that new codes can be added without breaking callers.
public struct NativeRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The configuration cannot be turned into a process (a NUL byte in an argument, `=` in an
        /// environment key, an empty executable path).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// `posix_spawn` refused to start the executable (missing file, not executable, bad format).
        public static let spawnFailed = Code("spawnFailed")
        /// The artifact is not an ELF executable we can run (truncated, wrong magic, or rejected as
        /// dynamically linked where only static binaries are allowed).
        public static let invalidExecutable = Code("invalidExecutable")
        /// The artifact could not be written to disk.
        public static let writeFailed = Code("writeFailed")
        /// A system call needed to set the process up failed (pipes, descriptors, threads).
        public static let systemCall = Code("systemCall")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, including the system's error text where there is one.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
