import Foundation
import NATS
import NIOConcurrencyHelpers
import NIOCore

/// The entry point to JetStream over a `NATSClient`: streams, consumers, publishing with acknowledgements,
/// message gets, pull and ordered consumers.
///
/// A context is a cheap value; copies share the async-publish window and the per-stream direct-get cache.
///
/// ```swift
/// let js = JetStreamContext(client: nats)
/// _ = try await js.createStream(StreamConfig(name: "ORDERS", subjects: ["orders.>"]))
/// let ack = try await js.publish(ByteBuffer(string: "1"), to: "orders.new")
/// ```
public struct JetStreamContext: Sendable {
    public let client: NATSClient
    /// The API subject prefix, e.g. `$JS.API` or `$JS.hub.API` (no trailing dot).
    public let apiPrefix: String
    /// The JetStream domain this context talks to, when given.
    public let domain: String?
    /// Timeout of API requests and synchronous publishes.
    public var timeout: Duration
    let shared: JetStreamShared

    /// - Parameters:
    ///   - apiPrefix: used when `domain` is nil; e.g. an import prefix for another account's JetStream.
    ///   - domain: the JetStream domain `d`, giving the prefix `$JS.d.API`.
    ///   - maxPendingAsyncPublishes: how many `publishAsync` acknowledgements may be outstanding before
    ///     further publishers wait.
    public init(client: NATSClient, apiPrefix: String = "$JS.API", domain: String? = nil, timeout: Duration = .seconds(5),
                maxPendingAsyncPublishes: Int = 4000) {
        self.client = client
        self.domain = domain
        self.apiPrefix = Self.prefix(apiPrefix: apiPrefix, domain: domain)
        self.timeout = timeout
        self.shared = JetStreamShared(maxPendingAsyncPublishes: max(1, maxPendingAsyncPublishes))
    }

    /// The API prefix for a custom prefix or a domain (the domain wins).
    static func prefix(apiPrefix: String, domain: String?) -> String {
        if let domain, !domain.isEmpty { return "$JS.\(domain).API" }
        var prefix = apiPrefix
        while prefix.hasSuffix(".") { prefix.removeLast() }
        return prefix
    }

    /// The full subject of API call `subject`, e.g. `STREAM.INFO.ORDERS` → `$JS.API.STREAM.INFO.ORDERS`.
    public func apiSubject(_ subject: String) -> String {
        "\(apiPrefix).\(subject)"
    }

    // MARK: - Raw API

    /// Calls the JetStream API: sends `body` as JSON (nil → empty payload) to `"\(apiPrefix).\(subject)"` and
    /// decodes the reply as `Response`.
    ///
    /// - Throws: `JetStreamError` with the server's `err_code` when the reply has an `error` object;
    ///   `.notEnabled` when nobody answers the API (JetStream off, or wrong domain/prefix); `.timeout`.
    public func request<Response: Decodable>(_ subject: String, body: (some Encodable)?, as: Response.Type) async throws -> Response {
        let payload = try body.map { try APICoding.encode($0) } ?? ByteBuffer()
        return try await request(subject, payload: payload, as: Response.self)
    }

    /// Calls the JetStream API without a request body.
    public func request<Response: Decodable>(_ subject: String, as: Response.Type) async throws -> Response {
        try await request(subject, payload: ByteBuffer(), as: Response.self)
    }

    func request<Response: Decodable>(_ subject: String, payload: ByteBuffer, as: Response.Type) async throws -> Response {
        let reply = try await rawRequest(apiSubject(subject), payload: payload)
        return try APICoding.decodeResponse(reply.payload, as: Response.self, subject: subject)
    }

    /// A request with NATS failures mapped to `JetStreamError`.
    func rawRequest(_ fullSubject: String, payload: ByteBuffer, headers: NATSHeaders? = nil, timeout: Duration? = nil) async throws -> NATSMessage {
        do {
            return try await client.request(payload, to: fullSubject, headers: headers, timeout: timeout ?? self.timeout)
        } catch let error as NATSError {
            throw JetStreamError(requestTo: fullSubject, error)
        }
    }

    /// Information about the account's JetStream usage and limits; a cheap way to check JetStream is enabled.
    public func accountInfo() async throws -> AccountInfo {
        try await request("INFO", as: AccountInfo.self)
    }
}

/// The account's JetStream usage (`$JS.API.INFO`).
public struct AccountInfo: Decodable, Sendable {
    public var memory: UInt64
    public var storage: UInt64
    public var streams: Int
    public var consumers: Int
    public var domain: String?

    enum CodingKeys: String, CodingKey {
        case memory, storage, streams, consumers, domain
    }
}

/// State shared by all copies of one context.
final class JetStreamShared: Sendable {
    /// Whether direct get works per stream (from `allow_direct`, and turned off when it had no responders).
    let directGet = NIOLockedValueBox<[String: Bool]>([:])
    let publishWindow: PublishWindow

    init(maxPendingAsyncPublishes: Int) {
        publishWindow = PublishWindow(limit: maxPendingAsyncPublishes)
    }
}

/// Generic `{"success": true}` style replies.
struct APISuccess: Decodable {
    var success: Bool?
}

/// An encodable nothing, for calls without options.
struct APIEmpty: Codable {}
