import Foundation
import NKeys

/// Rules shared by every identifier that becomes a subject token.
enum SubjectToken {
    /// A single NATS subject token: non-empty, no `.`, no wildcards (`*`, `>`), no whitespace or
    /// control characters (the server splits and matches on these).
    static func isValid(_ text: some StringProtocol) -> Bool {
        guard !text.isEmpty else { return false }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: ">"), UInt8(ascii: " "), 0x7F, 0x00..<0x20:
                return false
            default:
                continue
            }
        }
        return true
    }
}

/// A string identifier validated when constructed: Codable as its string (decoding validates too),
/// ordered and printed by its raw value.
public protocol NexIdentifier: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    var rawValue: String { get }
    init(_ rawValue: String) throws(NexAPIError)
}

extension NexIdentifier {
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A workload namespace: a logical scope carried as one subject token (DEPLOY, STOP, INFO, WPING,
/// events, logs).
public struct Namespace: NexIdentifier {
    /// The token.
    public let rawValue: String

    /// Validates `rawValue`: a single NATS subject token (non-empty; no `.`, `*`, `>` or whitespace).
    public init(_ rawValue: String) throws(NexAPIError) {
        guard SubjectToken.isValid(rawValue) else {
            throw NexAPIError(code: .invalidIdentifier, message: "namespace \"\(rawValue)\" must be a single, non-empty NATS subject token (no '.', '*', '>' or whitespace)")
        }
        self.rawValue = rawValue
    }

    /// A valid namespace, or `nil`.
    public init?(validating rawValue: some StringProtocol) {
        guard let namespace = try? Namespace(String(rawValue)) else { return nil }
        self = namespace
    }

    private init(unchecked: String) { rawValue = unchecked }

    /// `default`: what the CLI uses when no namespace is given.
    public static let `default` = Namespace(unchecked: "default")
    /// `system`: reserved for node events (`node_started`, `heartbeat`, …) and node process logs.
    public static let system = Namespace(unchecked: "system")

    /// Whether this is the reserved `system` namespace, which workloads must not use.
    public var isReserved: Bool { self == .system }

}

/// A node's identity: the public key of a server nkey ("N…", 56 characters).
public struct NodeID: NexIdentifier {
    /// The encoded public key.
    public let rawValue: String

    /// Validates `rawValue` as a server public nkey (prefix, base32 and checksum).
    public init(_ rawValue: String) throws(NexAPIError) {
        guard KeyPair.isValidPublicKey(rawValue, prefix: .server) else {
            throw NexAPIError(code: .invalidIdentifier, message: "node ID \"\(rawValue)\" is not a server public nkey (N…)")
        }
        self.rawValue = rawValue
    }

    /// A valid node ID, or `nil`.
    public init?(validating rawValue: some StringProtocol) {
        guard let id = try? NodeID(String(rawValue)) else { return nil }
        self = id
    }

    /// The node ID of a server key pair.
    public init(keyPair: KeyPair) throws(NexAPIError) {
        try self.init(keyPair.publicKey)
    }

}

/// A workload's identity (0.x: the agent/VM ID, a lower-case UUIDv4). Any single subject token is
/// accepted, because 0.2.x used 20-character xids and tests use names like `vm1234`.
public struct WorkloadID: NexIdentifier {
    /// The token.
    public let rawValue: String

    /// Validates `rawValue` as a single NATS subject token.
    public init(_ rawValue: String) throws(NexAPIError) {
        guard SubjectToken.isValid(rawValue) else {
            throw NexAPIError(code: .invalidIdentifier, message: "workload ID \"\(rawValue)\" must be a single, non-empty NATS subject token")
        }
        self.rawValue = rawValue
    }

    /// A valid workload ID, or `nil`.
    public init?(validating rawValue: some StringProtocol) {
        guard let id = try? WorkloadID(String(rawValue)) else { return nil }
        self = id
    }

    /// A fresh random ID in 0.x's format (lower-case UUIDv4, as Go's `uuid.NewString()`).
    public static func random() -> WorkloadID {
        WorkloadID(unchecked: UUID().uuidString.lowercased())
    }

    private init(unchecked: String) { rawValue = unchecked }

}

/// A workload's name, as signed in the workload JWT's `nats.name` claim.
///
/// 0.x rule (`DeployRequest.Validate`, since PR #275): `^[a-zA-Z0-9_-]+$`; the error text is
/// `invalid workload name`. Such a name is always a valid subject token (it appears in log subjects).
public struct WorkloadName: NexIdentifier {
    /// The name.
    public let rawValue: String

    /// The 0.x error text for a name that breaks the rule.
    public static let invalidNameMessage = "invalid workload name"

    /// Validates `rawValue` against `^[a-zA-Z0-9_-]+$`.
    public init(_ rawValue: String) throws(NexAPIError) {
        guard Self.isValid(rawValue) else {
            throw NexAPIError(code: .invalidIdentifier, message: "\(Self.invalidNameMessage): \"\(rawValue)\" (allowed: letters, digits, '_' and '-')")
        }
        self.rawValue = rawValue
    }

    /// A valid workload name, or `nil`.
    public init?(validating rawValue: some StringProtocol) {
        guard let name = try? WorkloadName(String(rawValue)) else { return nil }
        self = name
    }

    /// Whether `text` matches `^[a-zA-Z0-9_-]+$`.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

}

/// The `{workloadIdOrName}` token of `$NEX.WPING.{ns}.{workloadIdOrName}`: the subject does not say
/// which of the two it is, so the node matches it against both.
public struct WorkloadReference: Hashable, Sendable, CustomStringConvertible {
    /// The token.
    public let rawValue: String

    /// Validates `rawValue` as a single NATS subject token.
    public init(_ rawValue: String) throws(NexAPIError) {
        guard SubjectToken.isValid(rawValue) else {
            throw NexAPIError(code: .invalidIdentifier, message: "workload ID or name \"\(rawValue)\" must be a single, non-empty NATS subject token")
        }
        self.rawValue = rawValue
    }

    public init(_ id: WorkloadID) { rawValue = id.rawValue }
    public init(_ name: WorkloadName) { rawValue = name.rawValue }

    /// Whether this reference names the workload with `id` or `name`.
    public func matches(id: WorkloadID, name: WorkloadName) -> Bool {
        rawValue == id.rawValue || rawValue == name.rawValue
    }

    public var description: String { rawValue }
}

/// A workload type (Go `NexWorkload`): `native`, `v8`, `wasm`, `oci` or a plugin's name.
///
/// Kept open (a string wrapper, not an enum) because plugins add types and unknown types must reach
/// the node's `Unsupported workload type on this node: <type>` check intact.
public struct WorkloadType: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The wire string.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// Native executables run as services.
    public static let native = WorkloadType("native")
    /// The pre-0.2.5 name of ``native``.
    public static let elf = WorkloadType("elf")
    /// JavaScript functions.
    public static let v8 = WorkloadType("v8")
    /// WebAssembly functions.
    public static let wasm = WorkloadType("wasm")
    /// OCI images (0.x never implemented them).
    public static let oci = WorkloadType("oci")

    /// Whether this type runs functions triggered by subjects (only these may have trigger subjects).
    public var isFunction: Bool { self == .v8 || self == .wasm }

    /// ``elf`` mapped to ``native``; every other type unchanged.
    public var canonical: WorkloadType { self == .elf ? .native : self }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
