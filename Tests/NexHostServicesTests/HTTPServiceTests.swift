import AsyncHTTPClient
import JetStream
import Logging
import NATS
import NATSTestSupport
import NexHostServices
import Testing

/// The http host service against a local python HTTP server.
@Suite("Host services: http")
struct HTTPServiceTests {
    @Test func everyMethod() async throws {
        try await withHostServices { services, _ in
            try await withTestHTTPServer { server in
                let get = try await services.http(.get, url: server.url + "/path/x", body: nil)
                #expect(get.status == 200)
                // The path arrives as written: no doubled slash (0.x sent "//path/x").
                #expect(get.body == Array("GET /path/x".utf8))
                #expect(get.headers["X-Test"] == "yes")
                #expect(get.headers["Content-Length"] == "11")

                let post = try await services.http(.post, url: server.url + "/items", body: allBytes)
                #expect(post.status == 201)
                #expect(post.body == allBytes)
                #expect(post.headers["X-Content-Type"] == "text/plain")

                for method in [HostHTTPMethod.put, .patch] {
                    let response = try await services.http(method, url: server.url + "/items/1", body: Array("data".utf8))
                    #expect(response.status == 204)
                    #expect(response.headers["X-Method"] == method.rawValue)
                    #expect(response.headers["X-Body"] == "data")
                    #expect(response.body == [])
                }
                // PUT without a body sends an empty one.
                #expect(try await services.http(.put, url: server.url + "/e", body: nil).headers["X-Body"] == "")

                // DELETE sends its body when given (0.x dropped it).
                let delete = try await services.http(.delete, url: server.url + "/items/1", body: Array("why".utf8))
                #expect(delete.status == 204)
                #expect(delete.headers["X-Method"] == "DELETE")
                #expect(delete.headers["X-Body"] == "why")
                let bareDelete = try await services.http(.delete, url: server.url + "/items/2", body: nil)
                #expect(bareDelete.headers["X-Body"] == "")

                let head = try await services.http(.head, url: server.url + "/anything", body: nil)
                #expect(head.status == 200)
                #expect(head.body == nil)
                #expect(head.headers["X-Test"] == "head")
                #expect(head.headers["Content-Length"] == "11")
            }
        }
    }

    @Test func queryStringsGzipAndRepeatedHeaders() async throws {
        try await withHostServices { services, _ in
            try await withTestHTTPServer { server in
                let query = try await services.http(.get, url: server.url + "/query?a=1&b=two%20words&a=3", body: nil)
                #expect(query.body == Array("a=1&b=two%20words&a=3".utf8))

                let gzip = try await services.http(.get, url: server.url + "/gzip", body: nil)
                #expect(gzip.status == 200)
                #expect(gzip.headers["Content-Encoding"] == "gzip")
                #expect(gzip.body == Array(TestHTTPServer.gzipText.utf8))

                let multi = try await services.http(.get, url: server.url + "/multi", body: nil)
                #expect(multi.headers["X-Multi"] == "one, two")
            }
        }
    }

    @Test func responsesAreBounded() async throws {
        var configuration = HostServicesConfiguration.testing
        configuration.maxHTTPResponseBytes = 1000
        try await withHostServices(configuration: configuration) { services, _ in
            try await withTestHTTPServer { server in
                let fits = try await services.http(.get, url: server.url + "/big?n=1000", body: nil)
                #expect(fits.body?.count == 1000)
                await expectHostServiceError(.failed) {
                    _ = try await services.http(.get, url: server.url + "/big?n=100000", body: nil)
                }
                // Decoded size counts: 2200 bytes of text arrive as a small gzip body.
                await expectHostServiceError(.failed) {
                    _ = try await services.http(.get, url: server.url + "/gzip", body: nil)
                }
            }
        }
    }

    @Test func serverThatNeverAnswersTimesOut() async throws {
        var configuration = HostServicesConfiguration.testing
        configuration.httpTimeout = .milliseconds(500)
        try await withHostServices(configuration: configuration) { services, _ in
            try await withTestHTTPServer { server in
                let error = await expectHostServiceError(.timeout) {
                    _ = try await services.http(.get, url: server.url + "/slow", body: nil)
                }
                #expect(error?.message.hasPrefix("http get") == true)
            }
        }
    }

    @Test func onlyHTTPURLs() async throws {
        var configuration = HostServicesConfiguration.testing
        // The connection-refused case below retries until the deadline.
        configuration.httpTimeout = .seconds(3)
        try await withHostServices(configuration: configuration) { services, _ in
            for url in ["ftp://example.com/x", "file:///etc/passwd", "not a url", "/relative", "http://", "http+unix://%2Ftmp%2Fs/x", ""] {
                await expectHostServiceError(.invalidArgument) {
                    _ = try await services.http(.get, url: url, body: nil)
                }
            }
            // Nothing listens on port 1: a clear failure, not a crash. AsyncHTTPClient retries a refused
            // connection until the deadline, so which of the two ends it depends on the machine's load.
            do {
                _ = try await services.http(.get, url: "http://127.0.0.1:1/", body: nil)
                Issue.record("a request to a closed port succeeded")
            } catch {
                let code = (error as? HostServiceError)?.code
                #expect(code == .failed || code == .timeout, "\(error)")
            }
        }
    }

    @Test func givenClientIsUsedAndLeftRunning() async throws {
        let configuration = HostServicesConfiguration.testing
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton,
                                    configuration: NATSHostServices.makeHTTPClientConfiguration(configuration))
        do {
            try await withNATSServer { server in
                try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
                    let services = NATSHostServices(client: client, namespace: "default", configuration: configuration,
                                                    httpClient: httpClient, logger: Logger(label: "test"))
                    try await withTestHTTPServer { server in
                        #expect(try await services.http(.get, url: server.url + "/gzip", body: nil).body
                            == Array(TestHTTPServer.gzipText.utf8))
                        await services.shutdown()
                        // The caller's client still works after the services shut down.
                        let response = try await httpClient.execute(HTTPClientRequest(url: server.url + "/x"), timeout: .seconds(15))
                        #expect(response.status.code == 200)
                    }
                }
            }
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    @Test func ownClientIsShutDown() async throws {
        try await withHostServices { services, _ in
            try await withTestHTTPServer { server in
                let before = try await services.http(.get, url: server.url + "/x", body: nil)
                #expect(before.status == 200)
                await services.shutdown()
                await expectHostServiceError(.failed) {
                    _ = try await services.http(.get, url: server.url + "/x", body: nil)
                }
            }
        }
    }
}

/// Services switched off by the configuration.
@Suite("Host services: disabled")
struct DisabledServiceTests {
    @Test func disabledServicesSayNoSuchHostService() async throws {
        try await withHostServices(configuration: HostServicesConfiguration(enabled: [])) { services, _ in
            let calls: [(String, () async throws -> Void)] = [
                ("kv", { _ = try await services.kvGet(bucket: "b", key: "k") }),
                ("kv", { _ = try await services.kvSet(bucket: "b", key: "k", value: []) }),
                ("kv", { try await services.kvDelete(bucket: "b", key: "k") }),
                ("kv", { _ = try await services.kvKeys(bucket: "b") }),
                ("objectstore", { _ = try await services.objectGet(bucket: "b", name: "o") }),
                ("objectstore", { _ = try await services.objectPut(bucket: "b", name: "o", value: []) }),
                ("objectstore", { try await services.objectDelete(bucket: "b", name: "o") }),
                ("objectstore", { _ = try await services.objectList(bucket: "b") }),
                ("messaging", { try await services.publish(subject: "s", payload: []) }),
                ("messaging", { _ = try await services.request(subject: "s", payload: [], timeout: nil) }),
                ("messaging", { _ = try await services.requestMany(subject: "s", payload: [], timeout: nil, maxReplies: nil) }),
                ("http", { _ = try await services.http(.get, url: "http://127.0.0.1:1/", body: nil) }),
            ]
            for (name, call) in calls {
                let error = await expectHostServiceError(.disabled, call)
                #expect(error?.message == "No such host service: \(name)")
            }
        }
    }

    @Test func onlyEnabledServicesWork() async throws {
        var configuration = HostServicesConfiguration.testing
        configuration.enabled = [HostServicesConfiguration.keyValue]
        try await withHostServices(configuration: configuration) { services, client in
            _ = try await services.kvSet(bucket: "b", key: "k", value: [1])
            #expect(try await services.kvGet(bucket: "b", key: "k") == [1])
            await expectHostServiceError(.disabled) { _ = try await services.objectList(bucket: "b") }
            await expectHostServiceError(.disabled) { try await services.publish(subject: "s", payload: []) }
            // A disabled object store creates no bucket.
            #expect(try await JetStreamContext(client: client).streamNames() == ["KV_default_b"])
        }
    }
}
