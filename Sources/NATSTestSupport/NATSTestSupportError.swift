/// An error from the test support library: a server that would not start, a command that failed,
/// a wait that timed out. The message is meant to be read in a failed test's output, so it carries
/// the context needed to act on it (the tail of the server log, the command's stderr).
public struct NATSTestSupportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes (new codes are not breaking changes).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The `nats-server` (or another required tool) is not installed.
        public static let toolNotFound = Code("toolNotFound")
        /// The server did not log that it was ready in time.
        public static let notReady = Code("notReady")
        /// The server process exited while we waited for it to become ready.
        public static let serverExited = Code("serverExited")
        /// A wait (for a log line, a cluster state, a script) ran out of time.
        public static let timeout = Code("timeout")
        /// A helper command (`openssl`, `nats-server --signal`) failed.
        public static let commandFailed = Code("commandFailed")
        /// The call does not fit the server's state (for example `restart()` after `stop()`).
        public static let invalidState = Code("invalidState")
        /// A system call failed.
        public static let systemCall = Code("systemCall")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NATSTestSupportError.\(code): \(message)" }
}

extension NATSTestSupportError {
    static func systemCall(_ name: String, errno value: Int32) -> Self {
        .init(code: .systemCall, message: "\(name) failed: \(String(cString: strerror(value))) (errno \(value))")
    }
}

/// The last lines of a log, for error messages.
func tail(_ text: String, lines: Int = 25) -> String {
    let all = text.split(separator: "\n", omittingEmptySubsequences: false)
    return all.suffix(lines).joined(separator: "\n")
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
