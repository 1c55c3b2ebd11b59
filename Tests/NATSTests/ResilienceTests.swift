import NATS
import NATSTestSupport
import NIOCore
import Testing

@Suite("Reconnect, failover, lame duck")
struct ResilienceTests {
    @Test func serverRestartResubscribesAndDeliversBufferedPublishes() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let events = nats.events()
                let subscription = try await nats.subscribe(to: "restart.>")
                let queued = try await nats.subscribe(to: "restart.q", queue: "g")
                try await nats.flush()
                try await nats.publish("before", to: "restart.a")
                #expect(try await collect(subscription, count: 1)[0].string == "before")

                await server.kill()
                _ = try await waitForEvent(events) {
                    if case .disconnected = $0 { return true }
                    return false
                }
                // Published while the server is down: kept in the reconnect buffer.
                for i in 0..<100 { try await nats.publish("during \(i)", to: "restart.a") }
                try await nats.publish("queued", to: "restart.q")
                try await server.restart()
                _ = try await waitForEvent(events) {
                    if case .reconnected = $0 { return true }
                    return false
                }
                let during = try await collect(subscription, count: 101)
                #expect(during.filter { $0.subject == "restart.a" }.map(\.string) == (0..<100).map { "during \($0)" })
                #expect(try await collect(queued, count: 1)[0].string == "queued")

                try await nats.publish("after", to: "restart.b")
                #expect(try await collect(subscription, count: 1)[0].string == "after")
            }
        }
    }

    @Test func reconnectBufferIsBounded() async throws {
        try await withNATSServer { server in
            var configuration = try testConfiguration(server.url)
            configuration.reconnectBufferSize = 64 * 1024
            try await withNATSClient(configuration) { nats in
                let events = nats.events()
                await server.kill()
                _ = try await waitForEvent(events) {
                    if case .disconnected = $0 { return true }
                    return false
                }
                var accepted = 0
                var rejected: NATSError?
                for _ in 0..<10_000 {
                    do {
                        try await nats.publish([UInt8](repeating: 7, count: 1000), to: "bounded")
                        accepted += 1
                    } catch let error as NATSError {
                        rejected = error
                        break
                    }
                }
                #expect(rejected?.code == .reconnectBufferExceeded)
                #expect(accepted > 10 && accepted < 66)
                try await server.restart()
                try await nats.flush(timeout: .seconds(15))
            }
        }
    }

    @Test func clusterFailoverKeepsSubscriptions() async throws {
        try await withNATSCluster(size: 3) { cluster in
            // Only the first server is configured; the others are discovered from INFO connect_urls.
            try await withNATSClient(try testConfiguration(cluster.urls[0])) { nats in
                let events = nats.events()
                try await withNATSClient(try testConfiguration(cluster.urls[2])) { publisher in
                    let subscription = try await nats.subscribe(to: "failover")
                    try await nats.flush()
                    // Route propagation of the subscription to the other servers takes a moment.
                    try await eventually {
                        try await publisher.publish("ping", to: "failover")
                        return try await collect(subscription, count: 1, timeout: .milliseconds(500)).first?.string == "ping"
                    }
                    await cluster.servers[0].kill()
                    _ = try await waitForEvent(events) {
                        if case .reconnected = $0 { return true }
                        return false
                    }
                    try await eventually {
                        try await publisher.publish("after failover", to: "failover")
                        let got = try await collect(subscription, count: 1, timeout: .milliseconds(500))
                        return got.first?.string == "after failover"
                    }
                }
            }
        }
    }

    @Test func lameDuckModeIsReported() async throws {
        let options = NATSServer.Options(extraConfig: "lame_duck_grace_period: \"1s\"\nlame_duck_duration: \"30s\"\n")
        try await withNATSServer(options) { server in
            try await withClient(server) { nats in
                let events = nats.events()
                try await server.enterLameDuckMode()
                let event = try await waitForEvent(events, timeout: .seconds(20)) {
                    if case .lameDuckMode = $0 { return true }
                    return false
                }
                guard case .lameDuckMode(let url) = event else { return }
                #expect(url.port == server.port)
            }
        }
    }

    @Test func firstConnectFailureIsAClearError() async throws {
        // A port nobody listens on: take one from a server that we then stop.
        let port = try await withNATSServer { $0.port }
        var configuration = try testConfiguration("nats://127.0.0.1:\(port)")
        configuration.connectTimeout = .milliseconds(500)
        do {
            try await withNATSClient(configuration) { _ in }
            Issue.record("connected to nothing")
        } catch let error as NATSError {
            #expect(error.code == .connectFailed || error.code == .noServers, "\(error)")
        }
    }

    @Test func closedClientRejectsWork() async throws {
        try await withNATSServer { server in
            let nats = NATSClient(configuration: try testConfiguration(server.url))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await nats.run() }
                try await nats.waitUntilConnected()
                let subscription = try await nats.subscribe(to: "closing")
                await nats.close()
                var ended = true
                for try await _ in subscription { ended = false }
                #expect(ended)
                do {
                    try await nats.publish("late", to: "closing")
                    Issue.record("publish after close succeeded")
                } catch let error as NATSError {
                    #expect(error.code == .connectionClosed)
                }
                try await group.waitForAll()
            }
        }
    }
}

/// Retries `condition` until it holds (for propagation delays of real clusters), bounded.
func eventually(attempts: Int = 40, _ condition: () async throws -> Bool) async throws {
    for _ in 0..<attempts {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestTimeout(what: "a condition that never held")
}
