#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The client's `CONNECT`: options and credentials. Encoded as snake_case JSON; `nil` fields are omitted.
public struct ConnectInfo: Codable, Sendable, Equatable {
    /// `verbose`: ask the server to acknowledge every operation with `+OK`.
    public var verbose: Bool
    /// `pedantic`: ask the server for strict checking (e.g. of subjects).
    public var pedantic: Bool
    /// `tls_required`: the client requires TLS.
    public var tlsRequired: Bool
    /// `auth_token`: token authentication.
    public var authToken: String?
    /// `user`: user/password authentication.
    public var user: String?
    /// `pass`: user/password authentication.
    public var password: String?
    /// `name`: the connection name shown in server monitoring.
    public var name: String?
    /// `lang`: the client's language.
    public var lang: String
    /// `version`: the client's version.
    public var version: String
    /// `protocol`: 1 lets the server send async INFO (cluster topology changes, lame duck).
    public var protocolVersion: Int
    /// `echo`: deliver this connection's own publishes to its matching subscriptions.
    public var echo: Bool
    /// `sig`: the server nonce signed with the nkey or user JWT's seed, base64url.
    public var signature: String?
    /// `jwt`: the user JWT.
    public var jwt: String?
    /// `nkey`: the public nkey, for nkey authentication.
    public var nkey: String?
    /// `headers`: the client can receive HMSG.
    public var headers: Bool
    /// `no_responders`: ask for a 503 status message when a request has no responders.
    public var noResponders: Bool

    enum CodingKeys: String, CodingKey {
        case verbose
        case pedantic
        case tlsRequired = "tls_required"
        case authToken = "auth_token"
        case user
        case password = "pass"
        case name
        case lang
        case version
        case protocolVersion = "protocol"
        case echo
        case signature = "sig"
        case jwt
        case nkey
        case headers
        case noResponders = "no_responders"
    }

    /// The version this library reports in CONNECT unless told otherwise.
    public static let defaultVersion = "0.1.0"

    /// Creates CONNECT options; defaults suit a modern client (headers and no-responders on, no `+OK` noise).
    public init(
        verbose: Bool = false,
        pedantic: Bool = false,
        tlsRequired: Bool = false,
        authToken: String? = nil,
        user: String? = nil,
        password: String? = nil,
        name: String? = nil,
        lang: String = "swift",
        version: String = ConnectInfo.defaultVersion,
        protocolVersion: Int = 1,
        echo: Bool = true,
        signature: String? = nil,
        jwt: String? = nil,
        nkey: String? = nil,
        headers: Bool = true,
        noResponders: Bool = true
    ) {
        self.verbose = verbose
        self.pedantic = pedantic
        self.tlsRequired = tlsRequired
        self.authToken = authToken
        self.user = user
        self.password = password
        self.name = name
        self.lang = lang
        self.version = version
        self.protocolVersion = protocolVersion
        self.echo = echo
        self.signature = signature
        self.jwt = jwt
        self.nkey = nkey
        self.headers = headers
        self.noResponders = noResponders
    }

    /// The JSON body of the CONNECT line, with sorted keys so the bytes are deterministic.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
