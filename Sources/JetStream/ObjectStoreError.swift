/// An error from the object store layer (as opposed to `JetStreamError`, which carries what the JetStream API
/// answered). Codes are extensible: new ones are not breaking changes.
public struct ObjectStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, independent of the message text.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidBucketName
            case invalidObjectName
            case objectNotFound
            case bucketNotFound
            case digestMismatch
            case invalidDigestFormat
            case incomplete
            case linkToBucket
            case linkNotAllowed
            case badObjectMeta
            case publishFailed
            case io
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A bucket name outside `[A-Za-z0-9_-]+`.
        public static let invalidBucketName = Code(.invalidBucketName)
        /// An empty object name.
        public static let invalidObjectName = Code(.invalidObjectName)
        /// No meta for that name, or the meta marks the object deleted.
        public static let objectNotFound = Code(.objectNotFound)
        /// No stream `OBJ_<bucket>`.
        public static let bucketNotFound = Code(.bucketNotFound)
        /// The chunks read back do not hash to the digest recorded in the meta.
        public static let digestMismatch = Code(.digestMismatch)
        /// The meta's digest is not `SHA-256=<base64url>`.
        public static let invalidDigestFormat = Code(.invalidDigestFormat)
        /// Fewer chunks or bytes are in the stream than the meta records.
        public static let incomplete = Code(.incomplete)
        /// The name is a link to a whole bucket, which has no content to read.
        public static let linkToBucket = Code(.linkToBucket)
        /// `put` was given meta that carries a link.
        public static let linkNotAllowed = Code(.linkNotAllowed)
        /// The stored meta is not valid object-info JSON (or lacks a nuid).
        public static let badObjectMeta = Code(.badObjectMeta)
        /// A chunk or the meta was not acknowledged by the stream.
        public static let publishFailed = Code(.publishFailed)
        /// Reading or writing a local file failed.
        public static let io = Code(.io)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// Human-readable detail (bucket, object, counts).
    public var message: String
    /// The error that caused this one, when there was one (e.g. a `JetStreamError` from a purge).
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying {
            return "ObjectStoreError(\(code)): \(message) (\(underlying))"
        }
        return "ObjectStoreError(\(code)): \(message)"
    }

    public static func == (lhs: ObjectStoreError, rhs: ObjectStoreError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}
