import Foundation
import NKeys

/// Everything to run nats-server in operator (decentralized JWT) mode with a MEMORY resolver:
/// an operator, a system account, one application account (an ``OperatorTrustChain``) and a user of it.
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
    /// The operator, the accounts and their JWTs (shared with the node's internal NATS).
    public var trustChain: OperatorTrustChain
    /// The user of ``accountKey`` whose credentials are ``userCredentials``.
    public var userKey: KeyPair
    /// The user's JWT, signed by ``accountKey``.
    public var userJWT: String

    /// The operator; self-signs its JWT and signs both account JWTs.
    public var operatorKey: KeyPair { trustChain.operatorKey }
    /// The system account (`system_account`), for server events and `$SYS` requests.
    public var systemAccountKey: KeyPair { trustChain.systemAccountKey }
    /// The application account the user belongs to.
    public var accountKey: KeyPair { trustChain.accountKey }
    /// The operator JWT (`operator:` in the config).
    public var operatorJWT: String { trustChain.operatorJWT }
    /// The system account's JWT.
    public var systemAccountJWT: String { trustChain.systemAccountJWT }
    /// The application account's JWT.
    public var accountJWT: String { trustChain.accountJWT }
    /// Whether the application account's JWT enables JetStream (unlimited).
    public var jetStream: Bool { trustChain.jetStream }

    /// The server configuration lines for this trust chain:
    /// `operator`, `system_account`, `resolver: MEMORY` and `resolver_preload` with both accounts.
    ///
    /// Append your own `listen` (and, with ``jetStream``, a `jetstream { store_dir: … }` block:
    /// the account only *allows* JetStream, the server must still enable it).
    public var serverConfig: String { trustChain.serverConfig }

    /// The `.creds` file text for ``userKey``.
    public var userCredentials: String {
        NATSCredentials.format(jwt: userJWT, seed: userKey.seed)
    }

    /// Creates fresh keys and JWTs. The user may publish and subscribe to everything.
    ///
    /// - Parameter jetStream: give the application account unlimited JetStream.
    public static func generate(jetStream: Bool = false) throws -> OperatorMode {
        let trustChain = try OperatorTrustChain.generate(operatorName: "test-operator", accountName: "test-account", jetStream: jetStream)
        let user = try trustChain.mintUser(name: "test-user")
        return OperatorMode(trustChain: trustChain, userKey: try user.keyPair(), userJWT: user.jwt)
    }

    /// Mints a new user of ``accountKey`` and returns its `.creds` file text.
    ///
    /// - Parameters:
    ///   - allowPublish: subjects the user may publish to; `nil` = all, `[]` = none.
    ///   - allowSubscribe: subjects the user may subscribe to; `nil` = all, `[]` = none.
    ///   - expires: when the JWT stops being accepted; `nil` = never.
    public func credentials(forNewUser name: String, allowPublish: [String]? = nil, allowSubscribe: [String]? = nil, expires: Date? = nil) throws -> String {
        try trustChain.mintUser(name: name, permissions: JWTPermissions(allowPublish: allowPublish, allowSubscribe: allowSubscribe),
                                expires: expires).formatted
    }
}
