/// An error of the Key-Value layer: invalid names, conflicts on conditional writes, missing buckets.
///
/// Errors the JetStream API reports that have no Key-Value meaning are thrown as `JetStreamError` unchanged;
/// the ones that do (a wrong last sequence, a message over the stream's size limit, a missing stream) are
/// translated here and keep the server's answer in `jetStreamError`.
public struct KeyValueError: Error, Sendable, CustomStringConvertible {
    /// What went wrong. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The bucket name is not `[a-zA-Z0-9_-]+`.
        public static let invalidBucketName = Code("invalidBucketName")
        /// The key is not `[-/_=.a-zA-Z0-9]+`, or starts or ends with `.` (or, for a watch, is not a valid pattern).
        public static let invalidKey = Code("invalidKey")
        /// `create` found a live value for the key.
        public static let keyExists = Code("keyExists")
        /// `update`, `delete` or `purge` with a revision that is not the key's latest.
        public static let wrongLastRevision = Code("wrongLastRevision")
        /// No stream `KV_<bucket>` exists.
        public static let bucketNotFound = Code("bucketNotFound")
        /// A stream `KV_<bucket>` exists but is not shaped like a Key-Value bucket.
        public static let badBucket = Code("badBucket")
        /// The value is larger than the bucket's `maxValueSize` (or the server's max payload).
        public static let valueTooLarge = Code("valueTooLarge")
        /// The configuration is out of range (for example `history` beyond 64).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A bucket of that name exists with a different configuration.
        public static let bucketExists = Code("bucketExists")
    }

    public var code: Code
    /// A human-readable explanation, naming the offending key or bucket.
    public var message: String
    /// The JetStream API error this was translated from, if any.
    public var jetStreamError: JetStreamError?

    public init(_ code: Code, _ message: String, jetStreamError: JetStreamError? = nil) {
        self.code = code
        self.message = message
        self.jetStreamError = jetStreamError
    }

    public var description: String { "KeyValueError.\(code): \(message)" }
}

/// Which JetStream API errors mean what to the Key-Value layer (server err_codes as of nats-server 2.9).
enum KeyValueErrorMapping {
    static func isMessageNotFound(_ error: JetStreamError) -> Bool {
        error.code == .messageNotFound || error.errorCode == 10037
    }

    static func isStreamNotFound(_ error: JetStreamError) -> Bool {
        error.code == .streamNotFound || error.errorCode == 10059
    }

    static func isStreamNameInUse(_ error: JetStreamError) -> Bool {
        error.code == .streamNameInUse || error.errorCode == 10058
    }

    /// `Nats-Expected-Last-Subject-Sequence` did not hold.
    static func isWrongLastSequence(_ error: JetStreamError) -> Bool {
        error.code == .wrongLastSequence || error.code == .wrongLastSubjectSequence || error.errorCode == 10071
    }

    /// The message exceeds the stream's `max_msg_size` (err_code 10054).
    static func isMessageTooLarge(_ error: JetStreamError) -> Bool {
        error.errorCode == 10054
    }
}
