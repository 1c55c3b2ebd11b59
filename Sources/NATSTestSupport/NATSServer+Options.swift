extension NATSServer {
    /// How to configure a test server. Every field has a default, so `Options()` is a plain server.
    public struct Options: Sendable {
        /// Enables JetStream with a private store directory (removed on `stop()`).
        public var jetStream: Bool
        /// Client authentication.
        public var auth: Auth
        /// Serves TLS with the given certificates.
        public var tls: TLS?
        /// `max_payload` in bytes.
        public var maxPayload: Int?
        /// `server_name`; needed to tell cluster members apart in JetStream.
        public var serverName: String?
        /// Joins a cluster with this name and these routes.
        public var cluster: Cluster?
        /// Appended verbatim to the generated configuration.
        public var extraConfig: String
        /// How often the server pings clients.
        public var pingInterval: Duration?

        public init(
            jetStream: Bool = false,
            auth: Auth = .none,
            tls: TLS? = nil,
            maxPayload: Int? = nil,
            serverName: String? = nil,
            cluster: Cluster? = nil,
            extraConfig: String = "",
            pingInterval: Duration? = nil
        ) {
            self.jetStream = jetStream
            self.auth = auth
            self.tls = tls
            self.maxPayload = maxPayload
            self.serverName = serverName
            self.cluster = cluster
            self.extraConfig = extraConfig
            self.pingInterval = pingInterval
        }
    }

    /// Client authentication of a test server.
    public enum Auth: Sendable {
        /// Anyone may connect.
        case none
        /// `authorization { token }`.
        case token(String)
        /// `authorization { user, password }`.
        case userPassword(user: String, password: String)
        /// `authorization { users: [{ nkey }] }` with these public user nkeys (`U…`).
        case nkeys([String])
        /// A raw configuration block placed at the top level, such as operator mode's
        /// `operator`/`resolver`/`resolver_preload` (see `OperatorMode.serverConfig`).
        case config(String)
    }

    /// TLS settings of a test server.
    public struct TLS: Sendable {
        /// The server certificate, its key and the CA that signed it (and the client certificate).
        public var certificates: TestCertificates
        /// Requires clients to present a certificate signed by the CA (`verify: true`).
        public var verifyClients: Bool

        public init(certificates: TestCertificates, verifyClients: Bool = false) {
            self.certificates = certificates
            self.verifyClients = verifyClients
        }
    }

    /// Cluster membership of a test server.
    public struct Cluster: Sendable {
        /// The cluster name; all members must agree.
        public var name: String
        /// Route URLs of other members (`nats-route://127.0.0.1:PORT`).
        public var routes: [String]

        public init(name: String = "nats-test-cluster", routes: [String] = []) {
            self.name = name
            self.routes = routes
        }
    }
}
