/// An error from encoding, decoding or verifying a generic NATS JWT (``GenericClaims``).
///
/// One type for every way a token can be refused, so a caller (the Nex node) can answer with a
/// precise reason: malformed, bad signature, wrong issuer, expired, not yet valid.
public struct JWTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare against the static members; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Not three base64url parts, a bad header, or claims that are not valid JSON claims.
        public static let malformed = Code("malformed")
        /// The signature does not verify against the `iss` public key.
        public static let invalidSignature = Code("invalidSignature")
        /// `iss` is missing or is not a well-formed public nkey.
        public static let invalidIssuer = Code("invalidIssuer")
        /// `iss` (or the signer) has a role that may not issue this token, e.g. a user key.
        public static let issuerNotAllowed = Code("issuerNotAllowed")
        /// `exp` is in the past.
        public static let expired = Code("expired")
        /// `nbf` is in the future.
        public static let notYetValid = Code("notYetValid")
        /// Claims that cannot be signed as given (e.g. no subject).
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

    public var description: String { "JWTError(\(code)): \(message)" }
}
