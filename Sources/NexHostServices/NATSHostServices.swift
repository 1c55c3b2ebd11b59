import AsyncHTTPClient
import JetStream
import Logging
import NATS
import Synchronization

/// The host services of one workload, on that workload's NATS connection: Key-Value and object store buckets
/// scoped to its namespace, messaging with the control plane's and JetStream's subjects fenced off, and
/// HTTP through AsyncHTTPClient.
///
/// Every call throws ``HostServiceError``; none crashes. A service missing from
/// ``HostServicesConfiguration/enabled`` throws ``HostServiceError/Code/disabled`` with the message
/// `No such host service: <name>` (0.x's text).
///
/// ```swift
/// let services = NATSHostServices(client: workloadNATS, namespace: "default",
///                                 configuration: HostServicesConfiguration(), httpClient: nil, logger: logger)
/// _ = try await services.kvSet(bucket: "orders", key: "42", value: Array("paid".utf8))   // bucket default_orders
/// let reply = try await services.request(subject: "prices.get", payload: [], timeout: nil)
/// await services.shutdown()
/// ```
public final class NATSHostServices: HostServices {
    let client: NATSClient
    /// The workload's namespace: the scope of its buckets.
    public let namespace: String
    public let configuration: HostServicesConfiguration
    let jetStream: JetStreamContext
    let logger: Logger

    /// Buckets opened (or created) before, by real name: a call after the first costs no stream lookup.
    let keyValueBuckets = Mutex<[String: KeyValue]>([:])
    let objectStores = Mutex<[String: ObjectStore]>([:])

    /// The HTTP client given by the caller, or the one made here on first use (and shut down by `shutdown()`).
    let httpClientState: Mutex<HTTPClientState>

    enum HTTPClientState {
        case given(HTTPClient)
        case notCreated
        case owned(HTTPClient)
        case shutDown
    }

    /// - Parameters:
    ///   - client: the workload's NATS connection; messaging uses it as is, buckets live in its account.
    ///   - namespace: the workload's namespace; every bucket name is scoped to it
    ///     (``scopedBucketName(_:namespace:)``).
    ///   - httpClient: the client for `http` calls, owned by the caller; make it with
    ///     ``makeHTTPClientConfiguration(_:)`` so gzip is decoded and the response size bounded. `nil` creates one
    ///     on first use, which ``shutdown()`` shuts down.
    public init(client: NATSClient, namespace: String, configuration: HostServicesConfiguration,
                httpClient: HTTPClient?, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.configuration = configuration
        self.jetStream = JetStreamContext(client: client, domain: configuration.jetStreamDomain,
                                          timeout: configuration.operationTimeout)
        var logger = logger
        logger[metadataKey: "nex.namespace"] = "\(namespace)"
        self.logger = logger
        self.httpClientState = Mutex(httpClient.map { .given($0) } ?? .notCreated)
    }

    /// Shuts down the HTTP client made here, if any (a given one is the caller's to shut down). Calls after
    /// this fail, except those that need no HTTP client.
    public func shutdown() async {
        let owned: HTTPClient? = httpClientState.withLock { state in
            switch state {
            case .owned(let client):
                state = .shutDown
                return client
            case .notCreated:
                state = .shutDown
                return nil
            case .given, .shutDown:
                return nil
            }
        }
        if let owned {
            do {
                try await owned.shutdown()
            } catch {
                logger.debug("HTTP client shutdown failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The real Key-Value / object store bucket that `bucket` names within `namespace`.
    ///
    /// `{namespace}_{bucket}` when the namespace is only `[A-Za-z0-9-]` (`default` + `orders` →
    /// `default_orders`); otherwise `_{lowercase hex of the namespace's UTF-8}_{bucket}` (`team_a` + `orders` →
    /// `_7465616d5f61_orders`). The first byte tells the forms apart (only the second starts with `_`) and the
    /// namespace part ends at the first `_` after it, so two different (namespace, bucket) pairs never give the
    /// same name: one tenant cannot reach another's bucket by choosing a bucket name. `bucket` itself must be
    /// `[A-Za-z0-9_-]+` (the services refuse others with ``HostServiceError/Code/invalidArgument``), so the
    /// result is a valid NATS bucket name.
    public static func scopedBucketName(_ bucket: String, namespace: String) -> String {
        ScopedBucketName.make(bucket: bucket, namespace: namespace)
    }

    // MARK: - Shared checks

    /// Throws `disabled` unless `service` is enabled.
    func require(_ service: String) throws(HostServiceError) {
        guard configuration.enabled.contains(service) else {
            throw HostServiceError(code: .disabled, message: "No such host service: \(service)")
        }
    }

    /// The real bucket name for the guest's `bucket`, or `invalidArgument`.
    func realBucket(_ bucket: String) throws(HostServiceError) -> String {
        guard ScopedBucketName.isValidBucket(bucket) else {
            throw HostServiceError(code: .invalidArgument,
                                   message: "invalid bucket name \"\(bucket)\": use 1 or more of [A-Za-z0-9_-]")
        }
        let name = Self.scopedBucketName(bucket, namespace: namespace)
        guard name.utf8.count <= ScopedBucketName.maxLength else {
            throw HostServiceError(code: .invalidArgument,
                                   message: "bucket name \"\(bucket)\" is too long for namespace \"\(namespace)\"")
        }
        return name
    }

    /// Checks a timeout given by guest code; `nil` means the configured default.
    func effectiveTimeout(_ timeout: Duration?, default defaultTimeout: Duration) throws(HostServiceError) -> Duration {
        guard let timeout else { return defaultTimeout }
        guard timeout > .zero else {
            throw HostServiceError(code: .invalidArgument, message: "timeout must be positive, not \(timeout)")
        }
        return timeout
    }
}
