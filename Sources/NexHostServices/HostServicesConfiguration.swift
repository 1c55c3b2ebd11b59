/// What the host services of a workload may do, and how long each call may take.
///
/// The defaults are Nex 0.x's (spec §6.2), with the messaging timeouts it intended (750 ms and 3 s) rather
/// than the ~208 h it actually used.
public struct HostServicesConfiguration: Sendable, Hashable {
    /// The service names, as the node configuration and the 0.x RPC subjects spell them.
    public static let http = "http"
    public static let keyValue = "kv"
    public static let messaging = "messaging"
    public static let objectStore = "objectstore"
    /// Every service there is.
    public static let allServices: Set<String> = [http, keyValue, messaging, objectStore]

    /// The services offered; a call to any other throws ``HostServiceError/Code/disabled``.
    /// Names are ``http``, ``keyValue`` (`"kv"`), ``messaging`` and ``objectStore`` (`"objectstore"`).
    public var enabled: Set<String>
    /// Each JetStream API call of a Key-Value or object store operation (0.x: 1500 ms).
    public var operationTimeout: Duration
    /// `request` when the caller gives no timeout (0.x intended 750 ms).
    public var requestTimeout: Duration
    /// The window in which `requestMany` collects replies when the caller gives none (0.x intended 3 s).
    public var requestManyTimeout: Duration
    /// One HTTP call, from connect to the last body byte (0.x: 2500 ms).
    public var httpTimeout: Duration
    /// `max_bytes` of the buckets created on first use (0.x: 524288). Existing buckets keep theirs.
    public var maxBucketBytes: Int64
    /// The largest HTTP response body a function may receive (after gzip decoding); a larger one fails the call.
    public var maxHTTPResponseBytes: Int
    /// The JetStream domain of the buckets (0.x `js_domain`); `nil` for the account's own JetStream.
    public var jetStreamDomain: String?

    public init(enabled: Set<String> = HostServicesConfiguration.allServices,
                operationTimeout: Duration = .milliseconds(1500),
                requestTimeout: Duration = .milliseconds(750),
                requestManyTimeout: Duration = .seconds(3),
                httpTimeout: Duration = .milliseconds(2500),
                maxBucketBytes: Int64 = 524_288,
                maxHTTPResponseBytes: Int = 8 << 20,
                jetStreamDomain: String? = nil) {
        self.enabled = enabled
        self.operationTimeout = operationTimeout
        self.requestTimeout = requestTimeout
        self.requestManyTimeout = requestManyTimeout
        self.httpTimeout = httpTimeout
        self.maxBucketBytes = maxBucketBytes
        self.maxHTTPResponseBytes = maxHTTPResponseBytes
        self.jetStreamDomain = jetStreamDomain
    }
}
