import NIOSSL

extension NATSClient {
    /// How the client connects, authenticates and recovers. Plain values with defaults like nats.go's.
    public struct Configuration: Sendable {
        /// Servers to try, in order (shuffled unless `randomizeServers` is false). Servers the cluster
        /// announces in INFO `connect_urls` are added at run time.
        public var servers: [ServerURL]
        /// Client name shown by the server's monitoring.
        public var name: String?
        public var authentication: Authentication
        /// TLS settings; TLS is used when a URL is `tls://`, when this is set, or when the server requires it.
        public var tls: TLS?
        /// Receive our own publishes on our subscriptions.
        public var echo: Bool
        public var connectTimeout: Duration
        public var pingInterval: Duration
        /// Unanswered pings after which the connection is stale and is closed to reconnect.
        public var maxPingsOutstanding: Int
        public var reconnect: Reconnect
        /// Bytes of publishes kept while disconnected; a publish beyond it fails with `reconnectBufferExceeded`.
        public var reconnectBufferSize: Int
        /// Per-subscription buffer bound; beyond it new messages are dropped and a slow-consumer event reported.
        public var subscriptionBufferLimit: SubscriptionBufferLimit
        /// Default timeout of `request`.
        public var requestTimeout: Duration
        /// Prefix of the reply subjects used by `request` (`_INBOX` by default).
        public var inboxPrefix: String
        /// Keep retrying when the first connect fails instead of failing `run()`.
        public var retryOnFailedConnect: Bool
        public var randomizeServers: Bool

        public init(
            servers: [ServerURL] = [ServerURL(host: "127.0.0.1")],
            name: String? = nil,
            authentication: Authentication = .none,
            tls: TLS? = nil
        ) {
            self.servers = servers
            self.name = name
            self.authentication = authentication
            self.tls = tls
            self.echo = true
            self.connectTimeout = .seconds(5)
            self.pingInterval = .seconds(120)
            self.maxPingsOutstanding = 2
            self.reconnect = Reconnect()
            self.reconnectBufferSize = 8 * 1024 * 1024
            self.subscriptionBufferLimit = SubscriptionBufferLimit()
            self.requestTimeout = .seconds(5)
            self.inboxPrefix = "_INBOX"
            self.retryOnFailedConnect = false
            self.randomizeServers = true
        }

        /// Servers from a comma-separated URL list such as `NATS_URL`.
        public init(url: String) throws(NATSError) {
            self.init(servers: try ServerURL.parseList(url))
        }
    }

    public enum Authentication: Sendable {
        case none
        case token(String)
        case userPassword(user: String, password: String)
        /// An nkey seed (`SU…`); the client signs the server's nonce with it.
        case nkey(seed: String)
        /// A user JWT and its seed, as in a `.creds` file.
        case jwt(String, seed: String)
        /// A `.creds` file, read at every connect so a rotated file is picked up.
        case credentialsFile(String)
    }

    public struct TLS: Sendable {
        /// Verify the server's certificate against these roots (PEM file); system roots when nil.
        public var trustRootsFile: String?
        /// Client certificate and key (PEM files) for servers that verify clients.
        public var certificateFile: String?
        public var privateKeyFile: String?
        /// Verify the server certificate (disable only for tests).
        public var verifyServer: Bool
        public var serverHostname: String?

        public init(trustRootsFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil,
                    verifyServer: Bool = true, serverHostname: String? = nil) {
            self.trustRootsFile = trustRootsFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.verifyServer = verifyServer
            self.serverHostname = serverHostname
        }

        func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let trustRootsFile {
                configuration.trustRoots = .file(trustRootsFile)
            }
            if let certificateFile, let privateKeyFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            }
            configuration.certificateVerification = verifyServer ? .fullVerification : .none
            return try NIOSSLContext(configuration: configuration)
        }
    }

    public struct Reconnect: Sendable {
        /// Attempts per server before giving up; nil retries forever.
        public var maxAttemptsPerServer: Int?
        /// Wait between attempts on the same server.
        public var wait: Duration
        /// Random extra wait added to each backoff (0…jitter).
        public var jitter: Duration
        /// Whether to reconnect at all after the connection is lost.
        public var enabled: Bool

        public init(maxAttemptsPerServer: Int? = 60, wait: Duration = .seconds(2), jitter: Duration = .milliseconds(100),
                    enabled: Bool = true) {
            self.maxAttemptsPerServer = maxAttemptsPerServer
            self.wait = wait
            self.jitter = jitter
            self.enabled = enabled
        }
    }

    public struct SubscriptionBufferLimit: Sendable {
        public var messages: Int
        public var bytes: Int
        public init(messages: Int = 512 * 1024, bytes: Int = 64 * 1024 * 1024) {
            self.messages = messages
            self.bytes = bytes
        }
    }
}
