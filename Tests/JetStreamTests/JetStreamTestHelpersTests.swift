import JetStream
import NATSTestSupport
import NIOCore

/// A client configuration with fast reconnects, as these tests want.
func coreTestConfiguration(_ urls: [String]) throws -> NATSClient.Configuration {
    var configuration = try NATSClient.Configuration(url: urls.joined(separator: ","))
    configuration.reconnect.wait = .milliseconds(50)
    configuration.reconnect.jitter = .milliseconds(10)
    configuration.reconnect.maxAttemptsPerServer = nil
    configuration.connectTimeout = .seconds(2)
    return configuration
}

/// A JetStream server and a connected context for `body`.
func withCoreJetStream<T: Sendable>(_ body: (JetStreamContext, NATSServer) async throws -> T) async throws -> T {
    try await withNATSServer(.init(jetStream: true)) { server in
        try await withNATSClient(try coreTestConfiguration([server.url])) { nats in
            try await body(JetStreamContext(client: nats), server)
        }
    }
}

struct CoreTestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, failing with `CoreTestTimeout` when it takes longer than `timeout` (a hang guard, not a
/// performance assertion).
func withCoreTimeout<T: Sendable>(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let value = first else { throw CoreTestTimeout(what: what) }
        return value
    }
}

extension ByteBuffer {
    init(coreText: String) { self.init(string: coreText) }
}
