import JetStream
import Logging
import NATS
import NATSTestSupport
import NexHostServices
import Testing

extension HostServicesConfiguration {
    /// Generous timeouts (the test machine is loaded) and buckets big enough for a 1 MiB object.
    static var testing: HostServicesConfiguration {
        HostServicesConfiguration(operationTimeout: .seconds(15), requestTimeout: .seconds(15),
                                  requestManyTimeout: .seconds(15), httpTimeout: .seconds(15),
                                  maxBucketBytes: 8 << 20)
    }
}

/// A nats-server with JetStream, a client on it and host services for `namespace` on that client.
func withHostServices(namespace: String = "default", configuration: HostServicesConfiguration = .testing,
                      _ body: (NATSHostServices, NATSClient) async throws -> Void) async throws {
    try await withNATSServer(.init(jetStream: true)) { server in
        try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
            let services = NATSHostServices(client: client, namespace: namespace, configuration: configuration,
                                            httpClient: nil, logger: Logger(label: "test.hostservices"))
            do {
                try await body(services, client)
            } catch {
                await services.shutdown()
                throw error
            }
            await services.shutdown()
        }
    }
}

/// Expects `body` to throw a ``HostServiceError`` with `code`; returns it for further checks.
@discardableResult
func expectHostServiceError(_ code: HostServiceError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () async throws -> Void) async -> HostServiceError? {
    do {
        try await body()
        Issue.record("expected a HostServiceError \(code), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as HostServiceError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a HostServiceError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// All 256 byte values, in an order that is neither sorted nor valid UTF-8.
let allBytes: [UInt8] = (0...255).map { UInt8(($0 * 167 + 13) % 256) }
