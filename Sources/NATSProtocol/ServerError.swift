/// A `-ERR` sent by the server, classified once here so that the client never matches on text.
public struct ServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of a server error. New kinds may be added; `other` covers text we do not recognise.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case authorizationViolation
            case authenticationTimeout
            case userAuthenticationExpired
            case userAuthenticationRevoked
            case accountAuthenticationExpired
            case permissionsViolation
            case maxPayloadViolation
            case maxConnectionsExceeded
            case maxSubscriptionsExceeded
            case maxControlLineExceeded
            case staleConnection
            case slowConsumer
            case unknownProtocolOperation
            case parserError
            case invalidSubject
            case tlsRequired
            case other
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// `Authorization Violation`: bad credentials or none where required.
        public static let authorizationViolation = Kind(.authorizationViolation)
        /// `Authentication Timeout`: CONNECT did not arrive in time.
        public static let authenticationTimeout = Kind(.authenticationTimeout)
        /// `User Authentication Expired`: the user JWT expired.
        public static let userAuthenticationExpired = Kind(.userAuthenticationExpired)
        /// `User Authentication Revoked`: the user JWT was revoked.
        public static let userAuthenticationRevoked = Kind(.userAuthenticationRevoked)
        /// `Account Authentication Expired`: the account JWT expired.
        public static let accountAuthenticationExpired = Kind(.accountAuthenticationExpired)
        /// `Permissions Violation for Publish/Subscription to ...`: one operation refused, connection kept.
        public static let permissionsViolation = Kind(.permissionsViolation)
        /// `Maximum Payload Violation`.
        public static let maxPayloadViolation = Kind(.maxPayloadViolation)
        /// `maximum connections exceeded` (server or account limit).
        public static let maxConnectionsExceeded = Kind(.maxConnectionsExceeded)
        /// `maximum subscriptions exceeded`: the SUB was refused, connection kept.
        public static let maxSubscriptionsExceeded = Kind(.maxSubscriptionsExceeded)
        /// `Maximum Control Line Exceeded`: the client sent a control line longer than the server allows.
        public static let maxControlLineExceeded = Kind(.maxControlLineExceeded)
        /// `Stale Connection`: the server's pings went unanswered.
        public static let staleConnection = Kind(.staleConnection)
        /// `Slow Consumer`.
        public static let slowConsumer = Kind(.slowConsumer)
        /// `Unknown Protocol Operation`: the server could not parse what the client sent.
        public static let unknownProtocolOperation = Kind(.unknownProtocolOperation)
        /// `Parser Error`.
        public static let parserError = Kind(.parserError)
        /// `Invalid Subject` / `Invalid Publish Subject`: one operation refused, connection kept.
        public static let invalidSubject = Kind(.invalidSubject)
        /// `Secure Connection - TLS Required`.
        public static let tlsRequired = Kind(.tlsRequired)
        /// Any text not recognised above.
        public static let other = Kind(.other)

        public var description: String {
            self.base.rawValue
        }
    }

    /// The class of the error.
    public var kind: Kind
    /// The server's text, without the surrounding single quotes.
    public var message: String
    /// Whether the server closes the connection after sending this error.
    ///
    /// Only permissions violations, invalid subjects and the subscription limit leave the connection open
    /// (nats-server reports them with `sendErr` and carries on); every other `-ERR`, including unrecognised ones,
    /// is followed by a close, so treating unknown text as fatal matches what the server does.
    public var isFatal: Bool

    /// Classifies the text of a `-ERR` line. Surrounding whitespace and single quotes are stripped.
    public init(message: String) {
        let text = Self.stripQuotes(message)
        self.message = text
        self.kind = Self.classify(text)
        self.isFatal = !(self.kind == .permissionsViolation || self.kind == .invalidSubject
            || self.kind == .maxSubscriptionsExceeded)
    }

    public var description: String {
        "ServerError(\(self.kind)): \(self.message)"
    }

    private static func stripQuotes(_ raw: String) -> String {
        var text = Substring(raw)
        while let first = text.first, first == " " || first == "\t" {
            text = text.dropFirst()
        }
        while let last = text.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            text = text.dropLast()
        }
        if text.count >= 2, text.first == "'", text.last == "'" {
            text = text.dropFirst().dropLast()
        }
        return String(text)
    }

    // The server's wording varies in case between errors ("maximum connections exceeded" vs
    // "Maximum Payload Violation") and some carry a suffix (the subject), so match lowercase prefixes.
    private static let table: [(prefix: String, kind: Kind)] = [
        ("authorization violation", .authorizationViolation),
        ("authentication timeout", .authenticationTimeout),
        ("user authentication expired", .userAuthenticationExpired),
        ("user authentication revoked", .userAuthenticationRevoked),
        ("account authentication expired", .accountAuthenticationExpired),
        ("permissions violation", .permissionsViolation),
        ("maximum payload violation", .maxPayloadViolation),
        ("maximum payload exceeded", .maxPayloadViolation),
        ("maximum connections exceeded", .maxConnectionsExceeded),
        ("maximum account active connections exceeded", .maxConnectionsExceeded),
        ("maximum subscriptions exceeded", .maxSubscriptionsExceeded),
        ("maximum control line exceeded", .maxControlLineExceeded),
        ("stale connection", .staleConnection),
        ("slow consumer", .slowConsumer),
        ("unknown protocol operation", .unknownProtocolOperation),
        ("parser error", .parserError),
        ("invalid subject", .invalidSubject),
        ("invalid publish subject", .invalidSubject),
        ("secure connection - tls required", .tlsRequired),
    ]

    private static func classify(_ text: String) -> Kind {
        let lowered = text.lowercased()
        for entry in Self.table where lowered.hasPrefix(entry.prefix) {
            return entry.kind
        }
        return .other
    }
}
