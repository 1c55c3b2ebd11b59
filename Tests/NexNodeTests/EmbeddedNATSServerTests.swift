import NexTestSupport
import Foundation
import Logging
import NATS
import Testing
@testable import NexNode

@Suite("EmbeddedNATSServer")
struct EmbeddedNATSServerTests {
    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nex-embedded-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func startsWithJetStreamIsReachableAndStops() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A nested store path proves missing parents are created.
        let store = directory + "/nested/store"
        let server = try await EmbeddedNATSServer.start(.init(storeDirectory: store), logger: quietLogger("embedded.test"))
        #expect(server.isRunning)
        #expect(server.port > 0)
        #expect(server.url == "nats://127.0.0.1:\(server.port)")
        var configuration = try NATSClient.Configuration(url: server.url)
        configuration.connectTimeout = .seconds(10)
        let jetStreamAnswered = try await withNATSClient(configuration, logger: quietLogger("embedded.test.client")) { client in
            try await client.flush()
            // JetStream is on: the account info API answers instead of "no responders".
            let reply = try await client.request([], to: "$JS.API.INFO", timeout: .seconds(10))
            return String(decoding: reply.bytes, as: UTF8.self)
        }
        #expect(jetStreamAnswered.contains("io.nats.jetstream.api.v1.account_info_response"))
        #expect(FileManager.default.fileExists(atPath: store + "/nats-server.log"))
        await server.stop()
        #expect(!server.isRunning)
        // Stopping twice is harmless.
        await server.stop()
    }

    @Test func missingExecutableIsAClearError() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = await #expect(throws: NexNodeError.self) {
            _ = try await EmbeddedNATSServer.start(.init(executable: directory + "/no-such-nats-server", storeDirectory: directory),
                                                   logger: quietLogger("embedded.test"))
        }
        #expect(error?.code == .embeddedServer)
    }

    @Test func serverThatCannotStartReportsItsLog() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // An address nats-server cannot bind makes it exit during startup.
        let error = await #expect(throws: NexNodeError.self) {
            _ = try await EmbeddedNATSServer.start(.init(host: "203.0.113.1", storeDirectory: directory),
                                                   logger: quietLogger("embedded.test"))
        }
        #expect(error?.code == .embeddedServer)
        #expect(error?.message.contains("exited during startup") == true)
    }

    @Test func findsTheClientPortInTheLog() {
        let log = """
        [1] 2026/11/29 04:50:00.000000 [INF] Starting nats-server
        [1] 2026/11/29 04:50:00.000100 [INF] Listening for client connections on 127.0.0.1:40123
        [1] 2026/11/29 04:50:00.000200 [INF] Server is ready
        """
        #expect(EmbeddedNATSServer.listeningPort(in: log) == 40123)
        #expect(EmbeddedNATSServer.listeningPort(in: "[INF] Server is ready") == nil)
    }

    @Test func findsAnExecutableInTheSearchPath() {
        // The machine has nats-server in /usr/bin or /usr/sbin; an empty search path still finds it there.
        let found = EmbeddedNATSServer.findExecutable(searchPath: [])
        #expect(found?.hasSuffix("/nats-server") == true)
    }
}
