/// An error from sealing or opening data with xkeys (``CurveKeyPair/seal(_:to:)``,
/// ``CurveKeyPair/open(_:from:)``).
///
/// Messages follow nats-io/nkeys' error texts (without the `nkeys: ` prefix), so a node that
/// reports them reads like Nex 0.x does.
public struct XKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Compare against the static members; new ones may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The recipient is not a valid curve ("X…") public key.
        public static let invalidRecipient = Code("invalidRecipient")
        /// The sender is not a valid curve ("X…") public key.
        public static let invalidSender = Code("invalidSender")
        /// The sealed input is too short to hold the version tag and the nonce.
        public static let inputTooShort = Code("inputTooShort")
        /// The sealed input does not start with a known version tag (only `xkv1`).
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// The box did not authenticate: wrong keys, or the data was altered.
        public static let decryptionFailed = Code("decryptionFailed")
        /// The text form is not valid padded standard base64.
        public static let invalidEncoding = Code("invalidEncoding")

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

    public var description: String { "XKeyError(\(code)): \(message)" }
}
