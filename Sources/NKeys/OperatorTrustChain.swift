#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The keys and JWTs nats-server needs to run in operator (decentralized JWT) mode with a MEMORY
/// resolver: an operator, a system account, and one application account whose users are minted on demand.
///
/// The server trusts the operator and preloads both account JWTs, so any user JWT the application
/// account signs is accepted at connect time: minting a user needs no server reload. The node's internal
/// NATS uses this for per-agent credentials; test support uses it for operator-mode servers.
///
/// ```swift
/// let chain = try OperatorTrustChain.generate()
/// // nats-server config: chain.serverConfig + "listen: 127.0.0.1:-1"
/// let user = try chain.mintUser(name: "worker", permissions: JWTPermissions(allowPublish: ["jobs.>"], allowSubscribe: []))
/// ```
public struct OperatorTrustChain: Sendable {
    /// The operator; self-signs its JWT and signs both account JWTs.
    public var operatorKey: KeyPair
    /// The system account (`system_account`): server events, `$SYS` requests, claim updates.
    public var systemAccountKey: KeyPair
    /// The application account; signs user JWTs.
    public var accountKey: KeyPair

    /// The operator JWT (`operator:` in the config).
    public var operatorJWT: String
    /// The system account's JWT.
    public var systemAccountJWT: String
    /// The application account's JWT, as preloaded into the server.
    public var accountJWT: String
    /// The application account's claims, kept so the account can be re-signed (e.g. with revocations).
    public var accountClaims: AccountClaims

    /// Whether the application account may use JetStream (unlimited).
    public var jetStream: Bool { accountClaims.nats.limits.isJetStreamEnabled }

    /// Creates fresh keys and JWTs.
    ///
    /// - Parameters:
    ///   - operatorName: the operator JWT's `name`.
    ///   - accountName: the application account JWT's `name`.
    ///   - jetStream: give the application account unlimited JetStream (the server must still enable it).
    public static func generate(operatorName: String = "operator", accountName: String = "account",
                                jetStream: Bool = false) throws(NKeyError) -> OperatorTrustChain {
        let operatorKey = KeyPair.generate(.operator)
        let systemAccountKey = KeyPair.generate(.account)
        let accountKey = KeyPair.generate(.account)

        let operatorJWT = try JWT.encode(
            claims: OperatorClaims(subject: operatorKey.publicKey, name: operatorName,
                                   nats: OperatorPayload(systemAccount: systemAccountKey.publicKey)),
            signer: operatorKey)
        let systemAccountJWT = try JWT.encode(
            claims: AccountClaims(subject: systemAccountKey.publicKey, name: "SYS", nats: AccountPayload()),
            signer: operatorKey)
        let accountClaims = AccountClaims(subject: accountKey.publicKey, name: accountName,
                                          nats: AccountPayload(limits: .unlimited(jetStream: jetStream)))
        let accountJWT = try JWT.encode(claims: accountClaims, signer: operatorKey)
        return OperatorTrustChain(operatorKey: operatorKey, systemAccountKey: systemAccountKey, accountKey: accountKey,
                                  operatorJWT: operatorJWT, systemAccountJWT: systemAccountJWT, accountJWT: accountJWT,
                                  accountClaims: accountClaims)
    }

    /// The server configuration lines for this trust chain:
    /// `operator`, `system_account`, `resolver: MEMORY` and `resolver_preload` with both accounts.
    ///
    /// Append your own `listen` (and, for JetStream, a `jetstream { store_dir: … }` block).
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

    /// Signs a user JWT for `userPublicKey` with the application account's key.
    ///
    /// - Parameters:
    ///   - permissions: what the user may do; the default allows everything.
    ///   - expires: when the JWT stops being accepted; `nil` = never.
    public func userJWT(forUser userPublicKey: String, name: String, permissions: JWTPermissions = .init(),
                        expires: Date? = nil, issuedAt: Date = Date()) throws(NKeyError) -> String {
        let claims = UserClaims(subject: userPublicKey, name: name, nats: UserPayload(permissions: permissions), expires: expires)
        return try JWT.encode(claims: claims, signer: accountKey, issuedAt: issuedAt)
    }

    /// Mints a new user of the application account: a fresh user key and its JWT.
    public func mintUser(name: String, permissions: JWTPermissions = .init(), expires: Date? = nil) throws(NKeyError) -> NATSCredentials {
        let user = KeyPair.generate(.user)
        let jwt = try userJWT(forUser: user.publicKey, name: name, permissions: permissions, expires: expires)
        return NATSCredentials(jwt: jwt, seed: user.seed)
    }

    /// Mints a user of the system account, the only kind allowed to push account claim updates
    /// (`$SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE`) to a MEMORY resolver.
    public func mintSystemUser(name: String) throws(NKeyError) -> NATSCredentials {
        let user = KeyPair.generate(.user)
        let claims = UserClaims(subject: user.publicKey, name: name, nats: UserPayload())
        return NATSCredentials(jwt: try JWT.encode(claims: claims, signer: systemAccountKey), seed: user.seed)
    }

    /// The application account's JWT re-signed by the operator with `revocations`: each user public key
    /// maps to a time, and the server refuses (and disconnects) that user's JWTs issued at or before it.
    ///
    /// Push it to the server with a claims update request from a system user (see ``mintSystemUser(name:)``);
    /// the revocations must be cumulative, since each update replaces the account's claims.
    public func accountJWT(revocations: [String: Date], issuedAt: Date = Date()) throws(NKeyError) -> String {
        var claims = JWTClaims(subject: accountClaims.subject, name: accountClaims.name,
                               nats: RevocableAccountPayload(account: accountClaims.nats,
                                                             revocations: revocations.mapValues { Int64($0.timeIntervalSince1970.rounded(.up)) }),
                               expires: accountClaims.expires)
        claims.notBefore = accountClaims.notBefore
        return try JWT.encode(claims: claims, signer: operatorKey, issuedAt: issuedAt)
    }

    /// The subject on which the server accepts new claims for the application account.
    public var accountClaimsUpdateSubject: String { "$SYS.REQ.ACCOUNT.\(accountKey.publicKey).CLAIMS.UPDATE" }
}

extension JWTPermissions {
    /// Allow lists in the sense of a config file: `nil` = everything, `[]` = nothing.
    ///
    /// An empty allow list in a NATS JWT means "no restriction", so "nothing" is written as a deny-all.
    public init(allowPublish: [String]?, allowSubscribe: [String]?, response: JWTResponsePermission? = nil) {
        func permission(_ allow: [String]?) -> JWTPermission {
            guard let allow else { return JWTPermission() }
            return allow.isEmpty ? JWTPermission(deny: [">"]) : JWTPermission(allow: allow)
        }
        self.init(publish: permission(allowPublish), subscribe: permission(allowSubscribe), response: response)
    }
}

/// An account payload plus nats-io/jwt's `revocations` (user public key → Unix seconds), which
/// ``AccountPayload`` does not model; only ever encoded, to re-sign an account with revocations.
struct RevocableAccountPayload: JWTPayload {
    static var claimType: JWTClaimType { AccountPayload.claimType }
    static var issuerRoles: [NKeyPrefix] { AccountPayload.issuerRoles }
    static var subjectRole: NKeyPrefix { AccountPayload.subjectRole }

    var account: AccountPayload
    var revocations: [String: Int64]

    private enum CodingKeys: String, CodingKey { case revocations }

    init(account: AccountPayload, revocations: [String: Int64]) {
        self.account = account
        self.revocations = revocations
    }

    init(from decoder: any Decoder) throws {
        account = try AccountPayload(from: decoder)
        revocations = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([String: Int64].self, forKey: .revocations) ?? [:]
    }

    func encode(to encoder: any Encoder) throws {
        try account.encode(to: encoder)
        if !revocations.isEmpty {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(revocations, forKey: .revocations)
        }
    }
}
