#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The server's `INFO`: identity, limits and what the server supports.
///
/// Keys follow the protocol document (snake_case). Only the fields every nats-server sends are non-optional.
public struct ServerInfo: Codable, Sendable, Equatable {
    /// `server_id`: the server's unique (public nkey) id.
    public var serverID: String
    /// `server_name`: the configured name, or the id when none is configured.
    public var serverName: String?
    /// `version`: the nats-server version, e.g. "2.9.10".
    public var version: String
    /// `go`: the Go version the server was built with.
    public var goVersion: String?
    /// `host`: the address the server listens on.
    public var host: String
    /// `port`: the client port.
    public var port: Int
    /// `headers`: whether the server accepts HPUB and sends HMSG.
    public var headers: Bool?
    /// `max_payload`: the largest payload (headers included) the server accepts, in bytes.
    public var maxPayload: Int
    /// `proto`: the protocol version; 1 means the server may send async INFO.
    public var protocolVersion: Int
    /// `client_id`: the server's id for this connection.
    public var clientID: UInt64?
    /// `auth_required`: credentials must be sent in CONNECT.
    public var authRequired: Bool?
    /// `tls_required`: the client must upgrade to TLS before CONNECT.
    public var tlsRequired: Bool?
    /// `tls_verify`: the server verifies client certificates.
    public var tlsVerify: Bool?
    /// `tls_available`: the server accepts TLS but does not require it.
    public var tlsAvailable: Bool?
    /// `connect_urls`: other servers of the cluster a client may reconnect to.
    public var connectURLs: [String]?
    /// `ws_connect_urls`: WebSocket URLs of the cluster.
    public var webSocketConnectURLs: [String]?
    /// `ldm`: the server is in lame-duck mode and will shut down; clients should move elsewhere.
    public var lameDuckMode: Bool?
    /// `git_commit`: the commit the server was built from.
    public var gitCommit: String?
    /// `jetstream`: JetStream is enabled.
    public var jetStream: Bool?
    /// `ip`: the server's IP, when advertised.
    public var ip: String?
    /// `client_ip`: the client's address as the server sees it.
    public var clientIP: String?
    /// `nonce`: the challenge to sign with an nkey or user JWT.
    public var nonce: String?
    /// `cluster`: the cluster name.
    public var cluster: String?
    /// `domain`: the JetStream domain.
    public var domain: String?
    /// `xkey`: the server's curve (xkey) public key, for encrypted auth callouts.
    public var xkey: String?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case goVersion = "go"
        case host
        case port
        case headers
        case maxPayload = "max_payload"
        case protocolVersion = "proto"
        case clientID = "client_id"
        case authRequired = "auth_required"
        case tlsRequired = "tls_required"
        case tlsVerify = "tls_verify"
        case tlsAvailable = "tls_available"
        case connectURLs = "connect_urls"
        case webSocketConnectURLs = "ws_connect_urls"
        case lameDuckMode = "ldm"
        case gitCommit = "git_commit"
        case jetStream = "jetstream"
        case ip
        case clientIP = "client_ip"
        case nonce
        case cluster
        case domain
        case xkey
    }

    /// Creates an INFO value (used by tests and fake servers; clients receive it from the decoder).
    public init(
        serverID: String,
        serverName: String? = nil,
        version: String,
        goVersion: String? = nil,
        host: String,
        port: Int,
        headers: Bool? = nil,
        maxPayload: Int,
        protocolVersion: Int = 1,
        clientID: UInt64? = nil,
        authRequired: Bool? = nil,
        tlsRequired: Bool? = nil,
        tlsVerify: Bool? = nil,
        tlsAvailable: Bool? = nil,
        connectURLs: [String]? = nil,
        webSocketConnectURLs: [String]? = nil,
        lameDuckMode: Bool? = nil,
        gitCommit: String? = nil,
        jetStream: Bool? = nil,
        ip: String? = nil,
        clientIP: String? = nil,
        nonce: String? = nil,
        cluster: String? = nil,
        domain: String? = nil,
        xkey: String? = nil
    ) {
        self.serverID = serverID
        self.serverName = serverName
        self.version = version
        self.goVersion = goVersion
        self.host = host
        self.port = port
        self.headers = headers
        self.maxPayload = maxPayload
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.authRequired = authRequired
        self.tlsRequired = tlsRequired
        self.tlsVerify = tlsVerify
        self.tlsAvailable = tlsAvailable
        self.connectURLs = connectURLs
        self.webSocketConnectURLs = webSocketConnectURLs
        self.lameDuckMode = lameDuckMode
        self.gitCommit = gitCommit
        self.jetStream = jetStream
        self.ip = ip
        self.clientIP = clientIP
        self.nonce = nonce
        self.cluster = cluster
        self.domain = domain
        self.xkey = xkey
    }

    /// Decodes the JSON of an INFO line (without the `INFO ` prefix).
    ///
    /// - Throws: `NATSProtocolError` with code `.malformedInfo`.
    public init(json bytes: UnsafeRawBufferPointer) throws {
        do {
            self = try JSONDecoder().decode(ServerInfo.self, from: Data(bytes))
        } catch {
            throw NATSProtocolError(code: .malformedInfo, message: "cannot decode INFO JSON: \(error)")
        }
    }
}
