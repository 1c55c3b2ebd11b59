import Testing

@testable import NATSProtocol

@Suite("Server errors")
struct ServerErrorTests {
    @Test(arguments: [
        ("'Authorization Violation'", ServerError.Kind.authorizationViolation, true),
        ("'Authentication Timeout'", .authenticationTimeout, true),
        ("'User Authentication Expired'", .userAuthenticationExpired, true),
        ("'User Authentication Revoked'", .userAuthenticationRevoked, true),
        ("'Account Authentication Expired'", .accountAuthenticationExpired, true),
        ("'Permissions Violation for Publish to \"foo\"'", .permissionsViolation, false),
        ("'Permissions Violation for Subscription to \"bar.>\"'", .permissionsViolation, false),
        ("'Maximum Payload Violation'", .maxPayloadViolation, true),
        ("'maximum connections exceeded'", .maxConnectionsExceeded, true),
        ("'maximum subscriptions exceeded'", .maxSubscriptionsExceeded, false),
        ("'Maximum Control Line Exceeded'", .maxControlLineExceeded, true),
        ("'Stale Connection'", .staleConnection, true),
        ("'Slow Consumer'", .slowConsumer, true),
        ("'Unknown Protocol Operation'", .unknownProtocolOperation, true),
        ("'Parser Error'", .parserError, true),
        ("'Invalid Subject'", .invalidSubject, false),
        ("'Invalid Publish Subject'", .invalidSubject, false),
        ("'Secure Connection - TLS Required'", .tlsRequired, true),
        ("'Something New'", .other, true),
        ("Stale Connection", .staleConnection, true),
        ("  'STALE CONNECTION'  ", .staleConnection, true),
    ])
    func classification(_ text: String, _ kind: ServerError.Kind, _ isFatal: Bool) {
        let error = ServerError(message: text)
        #expect(error.kind == kind)
        #expect(error.isFatal == isFatal)
        #expect(!error.message.hasPrefix("'") && !error.message.hasSuffix("'"))
    }

    @Test func quotesAreStrippedOnceAndInnerQuotesKept() {
        #expect(ServerError(message: "'Permissions Violation for Publish to \"a'b\"'").message
            == "Permissions Violation for Publish to \"a'b\"")
        #expect(ServerError(message: "'").message == "'")
        #expect(ServerError(message: "''").message == "")
        #expect(ServerError(message: "no quotes").message == "no quotes")
    }

    @Test func decodedFromTheWire() throws {
        let op = try decodeOne("-ERR 'Permissions Violation for Subscription to \"x\"'\r\n")
        guard case .error(let error) = op else {
            Issue.record("expected an error, got \(String(describing: op))")
            return
        }
        #expect(error.kind == .permissionsViolation)
        #expect(error.message == "Permissions Violation for Subscription to \"x\"")
        #expect(!error.isFatal)
        #expect(error.description.contains("permissionsViolation"))
    }
}
