import AsyncHTTPClient
import Foundation
import NIOCore

// HTTP for guest code: http and https URLs only, the URL sent as given (path and query kept — 0.x doubled the
// slash and dropped the query), bounded in time and in response size.

extension NATSHostServices {
    /// The AsyncHTTPClient configuration host services expect of a client passed to `init`: gzip and deflate
    /// decoded (up to ``HostServicesConfiguration/maxHTTPResponseBytes``), connect and read timeouts of
    /// ``HostServicesConfiguration/httpTimeout``, at most 5 redirects.
    public static func makeHTTPClientConfiguration(_ configuration: HostServicesConfiguration) -> HTTPClient.Configuration {
        var http = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: HTTPClient.Configuration.Timeout(connect: TimeAmount(configuration.httpTimeout),
                                                      read: TimeAmount(configuration.httpTimeout)),
            decompression: .enabled(limit: .size(configuration.maxHTTPResponseBytes)))
        http.connectionPool.idleTimeout = .seconds(30)
        return http
    }

    /// Sends `method` to `url`. `body` goes out with POST, PUT and PATCH (empty when `nil`) and with DELETE when
    /// given, as `Content-Type: text/plain`; GET and HEAD send none. The response's header values of one name
    /// are joined with ", " under the name in Go's canonical form (`content-type` → `Content-Type`), as 0.x
    /// reported them; HEAD has no body. Any status is a response, not an error.
    ///
    /// Throws `invalidArgument` for anything but an absolute http(s) URL, `timeout` past
    /// ``HostServicesConfiguration/httpTimeout`` (connect to last byte), `failed` for a body larger than
    /// ``HostServicesConfiguration/maxHTTPResponseBytes`` and for connection errors.
    public func http(_ method: HostHTTPMethod, url: String, body: [UInt8]?) async throws(HostServiceError) -> HostHTTPResponse {
        try require(HostServicesConfiguration.http)
        let operation = "http \(method.rawValue.lowercased())"
        try Self.checkURL(url, operation: operation)
        let client = try httpClient()

        var request = HTTPClientRequest(url: url)
        switch method {
        case .get: request.method = .GET
        case .post: request.method = .POST
        case .put: request.method = .PUT
        case .patch: request.method = .PATCH
        case .delete: request.method = .DELETE
        case .head: request.method = .HEAD
        }
        request.headers.add(name: "Accept", value: "*/*")
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        request.headers.add(name: "Accept-Language", value: "en-us")
        let sendsBody: [UInt8]? = switch method {
        case .post, .put, .patch: body ?? []
        case .delete: body
        case .get, .head: nil
        }
        if let sendsBody {
            request.headers.add(name: "Content-Type", value: "text/plain")
            request.body = .bytes(sendsBody)
        }

        let timeout = configuration.httpTimeout
        let maxBytes = configuration.maxHTTPResponseBytes
        let logger = self.logger
        let prepared = request
        do {
            // AsyncHTTPClient's deadline ends when the head arrives; the race bounds the body too.
            return try await Self.race(timeout, operation: operation) {
                let response = try await client.execute(prepared, timeout: TimeAmount(timeout), logger: logger)
                var headers: [String: [String]] = [:]
                var order: [String] = []
                for (name, value) in response.headers {
                    let key = Self.canonicalHeaderName(name)
                    if headers[key] == nil { order.append(key) }
                    headers[key, default: []].append(value)
                }
                let joined = Dictionary(uniqueKeysWithValues: order.map { ($0, headers[$0]!.joined(separator: ", ")) })
                let bytes: [UInt8]?
                if method == .head {
                    bytes = nil
                } else {
                    let buffer = try await response.body.collect(upTo: maxBytes)
                    bytes = Array(buffer.readableBytesView)
                }
                return HostHTTPResponse(status: Int(response.status.code), headers: joined, body: bytes)
            }
        } catch {
            let failure = HostServiceError.from(error, operation: operation)
            logger.debug("host service call failed", metadata: ["nex.hs.operation": "\(operation)", "error": "\(failure.message)"])
            throw failure
        }
    }

    /// The client given at init, or the one made here on first use.
    private func httpClient() throws(HostServiceError) -> HTTPClient {
        let client: HTTPClient? = httpClientState.withLock { state in
            switch state {
            case .given(let client), .owned(let client):
                return client
            case .notCreated:
                let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                        configuration: Self.makeHTTPClientConfiguration(configuration))
                state = .owned(client)
                return client
            case .shutDown:
                return nil
            }
        }
        guard let client else {
            throw HostServiceError(code: .failed, message: "http: the host services were shut down")
        }
        return client
    }

    /// An absolute http or https URL with a host; anything else (file:, unix sockets, relative) is refused.
    static func checkURL(_ url: String, operation: String) throws(HostServiceError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https"
        else {
            throw HostServiceError(code: .invalidArgument, message: "\(operation): \"\(url)\" is not an http or https URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw HostServiceError(code: .invalidArgument, message: "\(operation): \"\(url)\" has no host")
        }
    }

    /// Go's `CanonicalMIMEHeaderKey`: the first letter and each letter after `-` uppercase, the rest lowercase.
    static func canonicalHeaderName(_ name: String) -> String {
        var upper = true
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            if upper, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) {
                out.append(byte - 32)
            } else if !upper, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) {
                out.append(byte + 32)
            } else {
                out.append(byte)
            }
            upper = byte == UInt8(ascii: "-")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `body`'s result, or `timeout` when it takes longer than `limit` (then `body` is cancelled).
    static func race<T: Sendable>(_ limit: Duration, operation: String,
                                  _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw HostServiceError(code: .timeout, message: "\(operation): no complete response within \(limit)")
            }
            return value
        }
    }
}
