/// The role of an nkey, encoded in its first base32 character ("U…" user, "A…" account, …).
///
/// The raw value is the prefix byte nats-io/nkeys puts in front of the key bytes; it is chosen so
/// that its top five bits base32-encode to the role's letter.
public struct NKeyPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The prefix byte as it appears in the encoded key.
    public let byte: UInt8

    private init(unchecked byte: UInt8) { self.byte = byte }

    /// Operator keys ("O…"): sign account JWTs.
    public static let `operator` = NKeyPrefix(unchecked: 14 << 3)
    /// Account keys ("A…"): sign user JWTs.
    public static let account = NKeyPrefix(unchecked: 0)
    /// User keys ("U…"): authenticate client connections.
    public static let user = NKeyPrefix(unchecked: 20 << 3)
    /// Server keys ("N…").
    public static let server = NKeyPrefix(unchecked: 13 << 3)
    /// Cluster keys ("C…").
    public static let cluster = NKeyPrefix(unchecked: 2 << 3)
    /// Curve (x25519, "xkey") keys ("X…"): encryption, not signing.
    public static let curve = NKeyPrefix(unchecked: 23 << 3)

    /// Every role a public key or seed may carry.
    public static let allRoles: [NKeyPrefix] = [.operator, .account, .user, .server, .cluster, .curve]

    /// The role for a prefix byte, or `nil` if the byte is not a public role
    /// (the seed and private-key prefixes are framing, not roles).
    public init?(byte: UInt8) {
        guard let match = Self.allRoles.first(where: { $0.byte == byte }) else { return nil }
        self = match
    }

    /// The first character of a public key with this role ("U" for users).
    public var letter: Character {
        Character(Unicode.Scalar(Base32.alphabet.symbols[Int(byte >> 3)]))
    }

    public var description: String {
        switch byte {
        case Self.operator.byte: "operator"
        case Self.account.byte: "account"
        case Self.user.byte: "user"
        case Self.server.byte: "server"
        case Self.cluster.byte: "cluster"
        case Self.curve.byte: "curve"
        default: "prefix(\(byte))"
        }
    }

    /// Framing prefix of encoded seeds ("S…"); the role follows in the next 5 bits.
    static let seedByte: UInt8 = 18 << 3
    /// Framing prefix of encoded 64-byte ed25519 private keys ("P…").
    static let privateByte: UInt8 = 15 << 3
}
