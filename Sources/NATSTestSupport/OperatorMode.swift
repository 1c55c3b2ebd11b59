import Foundation
import NKeys

/// Everything to run nats-server in operator (decentralized JWT) mode with a MEMORY resolver:
/// an operator, a system account, one application account and a user of it.
///
/// ```swift
/// let mode = try OperatorMode.generate(jetStream: true)
/// // server config: mode.serverConfig + "listen: 127.0.0.1:-1" (+ a jetstream block)
/// // client: NATSCredentials(parsing: mode.userCredentials)
/// ```
///
/// New users can be minted at any time with ``credentials(forNewUser:allowPublish:allowSubscribe:expires:)``;
/// the server needs no reload because it trusts the account key, not individual users.
public struct OperatorMode: Sendable {
    /// The operator; self-signs its JWT and signs both account JWTs.
    public var operatorKey: KeyPair
    /// The system account (`system_account`), for server events and `$SYS` requests.
    public var systemAccountKey: KeyPair
    /// The application account the user belongs to.
    public var accountKey: KeyPair
    /// The user of ``accountKey`` whose credentials are ``userCredentials``.
    public var userKey: KeyPair

    /// The operator JWT (`operator:` in the config).
    public var operatorJWT: String
    /// The system account's JWT.
    public var systemAccountJWT: String
    /// The application account's JWT.
    public var accountJWT: String
    /// The user's JWT, signed by ``accountKey``.
    public var userJWT: String
    /// Whether the application account's JWT enables JetStream (unlimited).
    public var jetStream: Bool

    /// The server configuration lines for this trust chain:
    /// `operator`, `system_account`, `resolver: MEMORY` and `resolver_preload` with both accounts.
    ///
    /// Append your own `listen` (and, with ``jetStream``, a `jetstream { store_dir: … }` block:
    /// the account only *allows* JetStream, the server must still enable it).
    public var serverConfig: String {
        """
        operator: "\(operatorJWT)"
        system_account: "\(systemAccountKey.publicKey)"
        resolver: MEMORY
        resolver_preload: {
          "\(systemAccountKey.publicKey)": "\(systemAccountJWT)"
          "\(accountKey.publicKey)": "\(accountJWT)"
        }

        """
    }

    /// The `.creds` file text for ``userKey``.
    public var userCredentials: String {
        NATSCredentials.format(jwt: userJWT, seed: userKey.seed)
    }

    /// Creates fresh keys and JWTs. The user may publish and subscribe to everything.
    ///
    /// - Parameter jetStream: give the application account unlimited JetStream.
    public static func generate(jetStream: Bool = false) throws -> OperatorMode {
        let operatorKey = KeyPair.generate(.operator)
        let systemAccountKey = KeyPair.generate(.account)
        let accountKey = KeyPair.generate(.account)
        let userKey = KeyPair.generate(.user)

        let operatorJWT = try JWT.encode(
            claims: OperatorClaims(subject: operatorKey.publicKey, name: "test-operator",
                                   nats: OperatorPayload(systemAccount: systemAccountKey.publicKey)),
            signer: operatorKey)
        let systemAccountJWT = try JWT.encode(
            claims: AccountClaims(subject: systemAccountKey.publicKey, name: "SYS", nats: AccountPayload()),
            signer: operatorKey)
        let accountJWT = try JWT.encode(
            claims: AccountClaims(subject: accountKey.publicKey, name: "test-account",
                                  nats: AccountPayload(limits: .unlimited(jetStream: jetStream))),
            signer: operatorKey)
        let userJWT = try Self.userJWT(for: userKey, name: "test-user", account: accountKey,
                                       allowPublish: nil, allowSubscribe: nil, expires: nil)
        return OperatorMode(
            operatorKey: operatorKey, systemAccountKey: systemAccountKey, accountKey: accountKey, userKey: userKey,
            operatorJWT: operatorJWT, systemAccountJWT: systemAccountJWT, accountJWT: accountJWT, userJWT: userJWT,
            jetStream: jetStream)
    }

    /// Mints a new user of ``accountKey`` and returns its `.creds` file text.
    ///
    /// - Parameters:
    ///   - allowPublish: subjects the user may publish to; `nil` = all, `[]` = none.
    ///   - allowSubscribe: subjects the user may subscribe to; `nil` = all, `[]` = none.
    ///   - expires: when the JWT stops being accepted; `nil` = never.
    public func credentials(forNewUser name: String, allowPublish: [String]? = nil, allowSubscribe: [String]? = nil, expires: Date? = nil) throws -> String {
        let user = KeyPair.generate(.user)
        let jwt = try Self.userJWT(for: user, name: name, account: accountKey,
                                   allowPublish: allowPublish, allowSubscribe: allowSubscribe, expires: expires)
        return NATSCredentials.format(jwt: jwt, seed: user.seed)
    }

    private static func userJWT(for user: KeyPair, name: String, account: KeyPair, allowPublish: [String]?, allowSubscribe: [String]?, expires: Date?) throws -> String {
        var payload = UserPayload()
        // An empty allow list in a NATS JWT means "no restriction", so "nothing" must be a deny-all.
        if let allowPublish { payload.permissions.publish = allowPublish.isEmpty ? JWTPermission(deny: [">"]) : JWTPermission(allow: allowPublish) }
        if let allowSubscribe { payload.permissions.subscribe = allowSubscribe.isEmpty ? JWTPermission(deny: [">"]) : JWTPermission(allow: allowSubscribe) }
        let claims = UserClaims(subject: user.publicKey, name: name, nats: payload, expires: expires)
        return try JWT.encode(claims: claims, signer: account)
    }
}
