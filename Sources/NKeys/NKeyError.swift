/// An error from decoding, validating or signing with nkeys, credentials files or NATS JWTs.
///
/// Errors carry an extensible ``Code`` (new codes are not breaking changes) and a human-readable
/// message that says what was wrong with the input, never the secret itself.
public struct NKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare against the static members; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The text is not valid base32 / base64url, or has an impossible length.
        public static let invalidEncoding = Code("invalidEncoding")
        /// The CRC16 trailer does not match the key bytes (a typo or a truncated copy).
        public static let invalidChecksum = Code("invalidChecksum")
        /// The key's role prefix is unknown or not the one that was expected.
        public static let invalidPrefix = Code("invalidPrefix")
        /// The text is not a valid nkey seed.
        public static let invalidSeed = Code("invalidSeed")
        /// The text is not a valid nkey public key.
        public static let invalidPublicKey = Code("invalidPublicKey")
        /// A signature has the wrong size or does not verify.
        public static let invalidSignature = Code("invalidSignature")
        /// A `.creds` file is missing a block or is malformed.
        public static let invalidCredentials = Code("invalidCredentials")
        /// A JWT is malformed: wrong number of parts, bad header, undecodable claims.
        public static let invalidJWT = Code("invalidJWT")
        /// JWT claims are inconsistent (wrong claim type, subject or issuer role).
        public static let invalidClaims = Code("invalidClaims")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What exactly was wrong, for humans.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "NKeyError(\(code)): \(message)" }
}
