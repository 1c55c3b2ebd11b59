// The `nats` objects of operator, account and user JWTs. Field names, order and omit-empty rules
// follow nats-io/jwt v2 so nats-server (and nsc) read what we write; fields not modelled here are
// ignored when decoding.

/// nats-io/jwt v2's library version, written as `nats.version`.
let jwtLibraryVersion = 2

/// `limits` sentinel meaning "no limit".
public let jwtNoLimit: Int64 = -1

/// Publish or subscribe permission: subjects allowed and denied (empty = no restriction).
public struct JWTPermission: Codable, Sendable, Hashable {
    /// Subjects (wildcards allowed) that are permitted; empty = everything not denied.
    public var allow: [String]
    /// Subjects that are refused even if allowed.
    public var deny: [String]

    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    private enum CodingKeys: String, CodingKey { case allow, deny }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? []
        deny = try c.decodeIfPresent([String].self, forKey: .deny) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !allow.isEmpty { try c.encode(allow, forKey: .allow) }
        if !deny.isEmpty { try c.encode(deny, forKey: .deny) }
    }
}

/// Permission to publish to reply subjects of received requests (`resp`).
public struct JWTResponsePermission: Codable, Sendable, Hashable {
    /// `max`: how many responses per request.
    public var maxMessages: Int
    /// `ttl`: how long the permission lasts, in nanoseconds (Go `time.Duration`).
    public var ttlNanoseconds: Int64

    public init(maxMessages: Int, ttlNanoseconds: Int64) {
        self.maxMessages = maxMessages
        self.ttlNanoseconds = ttlNanoseconds
    }

    private enum CodingKeys: String, CodingKey {
        case maxMessages = "max"
        case ttlNanoseconds = "ttl"
    }
}

/// `pub`/`sub`/`resp` permissions of users (and an account's default user permissions).
public struct JWTPermissions: Codable, Sendable, Hashable {
    /// `pub`
    public var publish: JWTPermission
    /// `sub`
    public var subscribe: JWTPermission
    /// `resp`: allow replying to requests received, even outside `pub`.
    public var response: JWTResponsePermission?

    public init(publish: JWTPermission = .init(), subscribe: JWTPermission = .init(), response: JWTResponsePermission? = nil) {
        self.publish = publish
        self.subscribe = subscribe
        self.response = response
    }

    private enum CodingKeys: String, CodingKey {
        case publish = "pub"
        case subscribe = "sub"
        case response = "resp"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        publish = try c.decodeIfPresent(JWTPermission.self, forKey: .publish) ?? .init()
        subscribe = try c.decodeIfPresent(JWTPermission.self, forKey: .subscribe) ?? .init()
        response = try c.decodeIfPresent(JWTResponsePermission.self, forKey: .response)
    }

    public func encode(to encoder: any Encoder) throws {
        // Go embeds these as non-pointer structs, so `pub` and `sub` are always present.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(publish, forKey: .publish)
        try c.encode(subscribe, forKey: .subscribe)
        try c.encodeIfPresent(response, forKey: .response)
    }
}

/// An account's `limits` (nats-io/jwt `OperatorLimits`: NATS, account and JetStream limits).
/// `-1` is unlimited; for JetStream storage, `0` means JetStream is disabled for the account.
public struct AccountLimits: Codable, Sendable, Hashable {
    /// `subs`: subscriptions across the account.
    public var subscriptions: Int64 = jwtNoLimit
    /// `data`: bytes.
    public var data: Int64 = jwtNoLimit
    /// `payload`: largest message payload.
    public var payload: Int64 = jwtNoLimit
    /// `imports`: number of imports.
    public var imports: Int64 = jwtNoLimit
    /// `exports`: number of exports.
    public var exports: Int64 = jwtNoLimit
    /// `wildcards`: whether exports may use wildcards.
    public var wildcardExports: Bool = true
    /// `disallow_bearer`: refuse bearer-token user JWTs.
    public var disallowBearer: Bool = false
    /// `conn`: client connections.
    public var connections: Int64 = jwtNoLimit
    /// `leaf`: leaf node connections.
    public var leafNodeConnections: Int64 = jwtNoLimit
    /// `mem_storage`: JetStream memory bytes (0 = JetStream off unless disk is allowed).
    public var memoryStorage: Int64 = 0
    /// `disk_storage`: JetStream file bytes.
    public var diskStorage: Int64 = 0
    /// `streams`: JetStream streams.
    public var streams: Int64 = 0
    /// `consumer`: JetStream consumers.
    public var consumers: Int64 = 0
    /// `max_ack_pending` per consumer.
    public var maxAckPending: Int64 = 0
    /// `mem_max_stream_bytes`: largest memory stream (0 = unlimited).
    public var memoryMaxStreamBytes: Int64 = 0
    /// `disk_max_stream_bytes`: largest file stream (0 = unlimited).
    public var diskMaxStreamBytes: Int64 = 0
    /// `max_bytes_required`: streams must declare max bytes.
    public var maxBytesRequired: Bool = false

    /// Everything unlimited; JetStream disabled.
    public init() {}

    /// Everything unlimited, with JetStream enabled and unlimited if `jetStream` is true.
    public static func unlimited(jetStream: Bool) -> AccountLimits {
        var limits = AccountLimits()
        if jetStream {
            limits.memoryStorage = jwtNoLimit
            limits.diskStorage = jwtNoLimit
            limits.streams = jwtNoLimit
            limits.consumers = jwtNoLimit
        }
        return limits
    }

    /// Whether the account may use JetStream (some storage is allowed).
    public var isJetStreamEnabled: Bool { memoryStorage != 0 || diskStorage != 0 }

    private enum CodingKeys: String, CodingKey {
        case subscriptions = "subs", data, payload
        case imports, exports, wildcardExports = "wildcards", disallowBearer = "disallow_bearer"
        case connections = "conn", leafNodeConnections = "leaf"
        case memoryStorage = "mem_storage", diskStorage = "disk_storage", streams, consumers = "consumer"
        case maxAckPending = "max_ack_pending", memoryMaxStreamBytes = "mem_max_stream_bytes"
        case diskMaxStreamBytes = "disk_max_stream_bytes", maxBytesRequired = "max_bytes_required"
    }

    public init(from decoder: any Decoder) throws {
        // Absent means Go's zero value, not our defaults.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func int(_ key: CodingKeys) throws -> Int64 { try c.decodeIfPresent(Int64.self, forKey: key) ?? 0 }
        func bool(_ key: CodingKeys) throws -> Bool { try c.decodeIfPresent(Bool.self, forKey: key) ?? false }
        subscriptions = try int(.subscriptions)
        data = try int(.data)
        payload = try int(.payload)
        imports = try int(.imports)
        exports = try int(.exports)
        wildcardExports = try bool(.wildcardExports)
        disallowBearer = try bool(.disallowBearer)
        connections = try int(.connections)
        leafNodeConnections = try int(.leafNodeConnections)
        memoryStorage = try int(.memoryStorage)
        diskStorage = try int(.diskStorage)
        streams = try int(.streams)
        consumers = try int(.consumers)
        maxAckPending = try int(.maxAckPending)
        memoryMaxStreamBytes = try int(.memoryMaxStreamBytes)
        diskMaxStreamBytes = try int(.diskMaxStreamBytes)
        maxBytesRequired = try bool(.maxBytesRequired)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func int(_ value: Int64, _ key: CodingKeys) throws { if value != 0 { try c.encode(value, forKey: key) } }
        func bool(_ value: Bool, _ key: CodingKeys) throws { if value { try c.encode(value, forKey: key) } }
        try int(subscriptions, .subscriptions)
        try int(data, .data)
        try int(payload, .payload)
        try int(imports, .imports)
        try int(exports, .exports)
        try bool(wildcardExports, .wildcardExports)
        try bool(disallowBearer, .disallowBearer)
        try int(connections, .connections)
        try int(leafNodeConnections, .leafNodeConnections)
        try int(memoryStorage, .memoryStorage)
        try int(diskStorage, .diskStorage)
        try int(streams, .streams)
        try int(consumers, .consumers)
        try int(maxAckPending, .maxAckPending)
        try int(memoryMaxStreamBytes, .memoryMaxStreamBytes)
        try int(diskMaxStreamBytes, .diskMaxStreamBytes)
        try bool(maxBytesRequired, .maxBytesRequired)
    }
}

/// The `nats` object of an operator JWT.
public struct OperatorPayload: JWTPayload, Hashable {
    public static var claimType: JWTClaimType { .operator }
    public static var issuerRoles: [NKeyPrefix] { [.operator] }
    public static var subjectRole: NKeyPrefix { .operator }

    /// Operator signing keys allowed to sign account JWTs besides the operator key itself.
    public var signingKeys: [String]
    public var accountServerURL: String
    public var operatorServiceURLs: [String]
    /// Public key of the system account.
    public var systemAccount: String
    public var assertServerVersion: String
    public var strictSigningKeyUsage: Bool
    public var tags: [String]

    public init(signingKeys: [String] = [], systemAccount: String = "", accountServerURL: String = "", operatorServiceURLs: [String] = [], assertServerVersion: String = "", strictSigningKeyUsage: Bool = false, tags: [String] = []) {
        self.signingKeys = signingKeys
        self.accountServerURL = accountServerURL
        self.operatorServiceURLs = operatorServiceURLs
        self.systemAccount = systemAccount
        self.assertServerVersion = assertServerVersion
        self.strictSigningKeyUsage = strictSigningKeyUsage
        self.tags = tags
    }

    private enum CodingKeys: String, CodingKey {
        case signingKeys = "signing_keys", accountServerURL = "account_server_url"
        case operatorServiceURLs = "operator_service_urls", systemAccount = "system_account"
        case assertServerVersion = "assert_server_version", strictSigningKeyUsage = "strict_signing_key_usage"
        case tags
    }

    public init(from decoder: any Decoder) throws {
        try GenericFields.check(decoder, expecting: Self.claimType)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        signingKeys = try c.decodeIfPresent([String].self, forKey: .signingKeys) ?? []
        accountServerURL = try c.decodeIfPresent(String.self, forKey: .accountServerURL) ?? ""
        operatorServiceURLs = try c.decodeIfPresent([String].self, forKey: .operatorServiceURLs) ?? []
        systemAccount = try c.decodeIfPresent(String.self, forKey: .systemAccount) ?? ""
        assertServerVersion = try c.decodeIfPresent(String.self, forKey: .assertServerVersion) ?? ""
        strictSigningKeyUsage = try c.decodeIfPresent(Bool.self, forKey: .strictSigningKeyUsage) ?? false
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !signingKeys.isEmpty { try c.encode(signingKeys, forKey: .signingKeys) }
        if !accountServerURL.isEmpty { try c.encode(accountServerURL, forKey: .accountServerURL) }
        if !operatorServiceURLs.isEmpty { try c.encode(operatorServiceURLs, forKey: .operatorServiceURLs) }
        if !systemAccount.isEmpty { try c.encode(systemAccount, forKey: .systemAccount) }
        if !assertServerVersion.isEmpty { try c.encode(assertServerVersion, forKey: .assertServerVersion) }
        if strictSigningKeyUsage { try c.encode(true, forKey: .strictSigningKeyUsage) }
        if !tags.isEmpty { try c.encode(tags, forKey: .tags) }
        try GenericFields.encode(encoder, type: Self.claimType)
    }
}

/// The `nats` object of an account JWT.
public struct AccountPayload: JWTPayload, Hashable {
    public static var claimType: JWTClaimType { .account }
    public static var issuerRoles: [NKeyPrefix] { [.operator, .account] }
    public static var subjectRole: NKeyPrefix { .account }

    public var limits: AccountLimits
    /// Account signing keys allowed to sign user JWTs (users then set `issuer_account`).
    public var signingKeys: [String]
    /// Permissions for users that carry none of their own.
    public var defaultPermissions: JWTPermissions
    public var description: String
    public var infoURL: String
    public var tags: [String]

    public init(limits: AccountLimits = AccountLimits(), signingKeys: [String] = [], defaultPermissions: JWTPermissions = .init(), description: String = "", infoURL: String = "", tags: [String] = []) {
        self.limits = limits
        self.signingKeys = signingKeys
        self.defaultPermissions = defaultPermissions
        self.description = description
        self.infoURL = infoURL
        self.tags = tags
    }

    private enum CodingKeys: String, CodingKey {
        case limits, signingKeys = "signing_keys", defaultPermissions = "default_permissions"
        case description, infoURL = "info_url", tags
    }

    public init(from decoder: any Decoder) throws {
        try GenericFields.check(decoder, expecting: Self.claimType)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limits = try c.decodeIfPresent(AccountLimits.self, forKey: .limits) ?? AccountLimits()
        signingKeys = try c.decodeIfPresent([SigningKeyEntry].self, forKey: .signingKeys)?.map(\.key) ?? []
        defaultPermissions = try c.decodeIfPresent(JWTPermissions.self, forKey: .defaultPermissions) ?? .init()
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        infoURL = try c.decodeIfPresent(String.self, forKey: .infoURL) ?? ""
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(limits, forKey: .limits)
        if !signingKeys.isEmpty { try c.encode(signingKeys, forKey: .signingKeys) }
        try c.encode(defaultPermissions, forKey: .defaultPermissions)
        if !description.isEmpty { try c.encode(description, forKey: .description) }
        if !infoURL.isEmpty { try c.encode(infoURL, forKey: .infoURL) }
        if !tags.isEmpty { try c.encode(tags, forKey: .tags) }
        try GenericFields.encode(encoder, type: Self.claimType)
    }

    /// nats-io/jwt writes a signing key either as a plain string or, when scoped, as an object
    /// with a `key` field; decoding accepts both and keeps the key.
    private struct SigningKeyEntry: Decodable {
        var key: String
        private enum CodingKeys: String, CodingKey { case key }
        init(from decoder: any Decoder) throws {
            if let plain = try? decoder.singleValueContainer().decode(String.self) {
                key = plain
            } else {
                key = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .key)
            }
        }
    }
}

/// The `nats` object of a user JWT.
public struct UserPayload: JWTPayload, Hashable {
    public static var claimType: JWTClaimType { .user }
    public static var issuerRoles: [NKeyPrefix] { [.account] }
    public static var subjectRole: NKeyPrefix { .user }

    public var permissions: JWTPermissions
    /// `subs`: maximum subscriptions (-1 unlimited).
    public var subscriptions: Int64
    /// `data`: maximum bytes (-1 unlimited).
    public var data: Int64
    /// `payload`: maximum message payload (-1 unlimited).
    public var payload: Int64
    /// Whether the JWT alone (without proving the seed) authenticates.
    public var bearerToken: Bool
    /// e.g. "STANDARD", "WEBSOCKET", "LEAFNODE"; empty = any.
    public var allowedConnectionTypes: [String]
    /// The account's public key when the JWT is signed by one of its signing keys.
    public var issuerAccount: String
    public var tags: [String]

    public init(permissions: JWTPermissions = .init(), subscriptions: Int64 = jwtNoLimit, data: Int64 = jwtNoLimit, payload: Int64 = jwtNoLimit, bearerToken: Bool = false, allowedConnectionTypes: [String] = [], issuerAccount: String = "", tags: [String] = []) {
        self.permissions = permissions
        self.subscriptions = subscriptions
        self.data = data
        self.payload = payload
        self.bearerToken = bearerToken
        self.allowedConnectionTypes = allowedConnectionTypes
        self.issuerAccount = issuerAccount
        self.tags = tags
    }

    private enum CodingKeys: String, CodingKey {
        case subscriptions = "subs", data, payload, bearerToken = "bearer_token"
        case allowedConnectionTypes = "allowed_connection_types", issuerAccount = "issuer_account", tags
    }

    public init(from decoder: any Decoder) throws {
        try GenericFields.check(decoder, expecting: Self.claimType)
        permissions = try JWTPermissions(from: decoder)  // embedded: pub/sub/resp sit in `nats` itself
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subscriptions = try c.decodeIfPresent(Int64.self, forKey: .subscriptions) ?? 0
        data = try c.decodeIfPresent(Int64.self, forKey: .data) ?? 0
        payload = try c.decodeIfPresent(Int64.self, forKey: .payload) ?? 0
        bearerToken = try c.decodeIfPresent(Bool.self, forKey: .bearerToken) ?? false
        allowedConnectionTypes = try c.decodeIfPresent([String].self, forKey: .allowedConnectionTypes) ?? []
        issuerAccount = try c.decodeIfPresent(String.self, forKey: .issuerAccount) ?? ""
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        try permissions.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        if subscriptions != 0 { try c.encode(subscriptions, forKey: .subscriptions) }
        if data != 0 { try c.encode(data, forKey: .data) }
        if payload != 0 { try c.encode(payload, forKey: .payload) }
        if bearerToken { try c.encode(true, forKey: .bearerToken) }
        if !allowedConnectionTypes.isEmpty { try c.encode(allowedConnectionTypes, forKey: .allowedConnectionTypes) }
        if !issuerAccount.isEmpty { try c.encode(issuerAccount, forKey: .issuerAccount) }
        if !tags.isEmpty { try c.encode(tags, forKey: .tags) }
        try GenericFields.encode(encoder, type: Self.claimType)
    }
}

/// `type` and `version`, which nats-io/jwt appends to every `nats` object.
enum GenericFields {
    private enum CodingKeys: String, CodingKey { case type, version }

    static func encode(_ encoder: any Encoder, type: JWTClaimType) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(jwtLibraryVersion, forKey: .version)
    }

    /// Rejects a `nats` object of another type, so a user JWT never decodes as account claims.
    static func check(_ decoder: any Decoder, expecting expected: JWTClaimType) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decodeIfPresent(JWTClaimType.self, forKey: .type)
        guard type == expected else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "expected a \(expected) JWT, got \(type?.rawValue ?? "no type")")
        }
        let version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 1
        guard version >= 2 else {
            throw DecodingError.dataCorruptedError(forKey: .version, in: c, debugDescription: "JWT version \(version) is not supported (v2 only)")
        }
    }
}
