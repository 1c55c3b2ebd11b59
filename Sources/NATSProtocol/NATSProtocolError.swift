/// Malformed input from the server: the byte stream cannot be framed or parsed as NATS protocol.
///
/// The decoder throws this instead of trapping, so a misbehaving peer costs one connection, never the process.
/// Codes are static members of an opaque struct so that new ones can be added without breaking callers.
public struct NATSProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of malformation was found.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unknownOperation
            case malformedControlLine
            case invalidSize
            case headerSizeExceedsTotalSize
            case payloadTooLarge
            case missingPayloadTerminator
            case controlLineTooLong
            case malformedHeaders
            case malformedInfo
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The control line starts with an operation name this decoder does not know.
        public static let unknownOperation = Code(.unknownOperation)
        /// The control line has the wrong number of arguments, or an argument that is not valid (e.g. the sid).
        public static let malformedControlLine = Code(.malformedControlLine)
        /// A byte count is negative, not a decimal number, or overflows.
        public static let invalidSize = Code(.invalidSize)
        /// An `HMSG` announces more header bytes than total bytes.
        public static let headerSizeExceedsTotalSize = Code(.headerSizeExceedsTotalSize)
        /// A message announces more bytes than the decoder's `maxPayloadLength`.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The bytes after a payload are not `\r\n`: the announced size does not match the data.
        public static let missingPayloadTerminator = Code(.missingPayloadTerminator)
        /// No line end within the decoder's `maxControlLineLength`.
        public static let controlLineTooLong = Code(.controlLineTooLong)
        /// A header block that does not start with `NATS/1.0`, has a bad status code, or a line without `:`.
        public static let malformedHeaders = Code(.malformedHeaders)
        /// The JSON of an `INFO` line cannot be decoded.
        public static let malformedInfo = Code(.malformedInfo)

        public var description: String {
            self.base.rawValue
        }
    }

    /// What kind of malformation was found.
    public var code: Code
    /// A human-readable explanation, for logs.
    public var message: String

    /// Creates an error with a code and an explanation.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "NATSProtocolError(\(self.code)): \(self.message)"
    }
}
