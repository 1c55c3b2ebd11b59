import Foundation
import NIOCore

/// One revision of a key: a value, or a delete or purge marker.
public struct KeyValueEntry: Sendable {
    /// What the revision did to the key.
    public enum Operation: Sendable, Hashable, CustomStringConvertible {
        case put
        /// A delete marker (`KV-Operation: DEL`): earlier revisions are kept.
        case delete
        /// A purge marker (`KV-Operation: PURGE`): earlier revisions were rolled up.
        case purge

        public var description: String {
            switch self {
            case .put: "put"
            case .delete: "delete"
            case .purge: "purge"
            }
        }
    }

    public var bucket: String
    public var key: String
    /// The value; empty for delete and purge markers, and in a `metaOnly` watch.
    public var value: ByteBuffer
    /// The stream sequence of this revision: unique and increasing across the whole bucket.
    public var revision: UInt64
    /// When the revision was written (server time).
    public var created: Date
    /// How many newer messages matching the read were pending when this entry was delivered (0 for `get`).
    public var delta: UInt64
    public var operation: Operation

    public init(bucket: String, key: String, value: ByteBuffer, revision: UInt64, created: Date, delta: UInt64,
                operation: Operation) {
        self.bucket = bucket
        self.key = key
        self.value = value
        self.revision = revision
        self.created = created
        self.delta = delta
        self.operation = operation
    }

    /// The value decoded as UTF-8.
    public var string: String { String(buffer: value) }
}

extension KeyValueEntry.Operation {
    static let headerName = "KV-Operation"

    /// The operation a message's `KV-Operation` header states; a message without it is a put.
    init(headers: NATSHeaders?) {
        switch headers?[Self.headerName] {
        case "DEL": self = .delete
        case "PURGE": self = .purge
        default: self = .put
        }
    }

    /// The header value written for a marker.
    var headerValue: String? {
        switch self {
        case .put: nil
        case .delete: "DEL"
        case .purge: "PURGE"
        }
    }
}
