import Foundation
@testable import NATS
import NATSProtocol
import Testing

@Suite("Connection state machine and server pool (pure, time as input)")
struct StateMachineTests {
    static func info(_ json: String = #"{"server_id":"S","version":"2.9.10","proto":1,"host":"127.0.0.1","port":4222,"max_payload":1048576}"#) throws -> ServerInfo {
        try JSONDecoder().decode(ServerInfo.self, from: Data(json.utf8))
    }

    @Test func handshakeThenPingsUntilStale() throws {
        var machine = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        let info = try Self.info()
        #expect(machine.pingTimerFired() == .none)
        #expect(machine.infoReceived(info) == .sendConnect(info, upgradeToTLS: false))
        #expect(machine.pingReceived() == .sendPong)
        #expect(machine.pongReceived() == .handshakeComplete(info))
        #expect(machine.isConnected)
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pongReceived() == .pongReceived)
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pingTimerFired() == .sendPing)
        guard case .close(let error) = machine.pingTimerFired() else {
            Issue.record("third unanswered ping did not close the connection")
            return
        }
        #expect(error.code == .staleConnection)
        #expect(machine.pingTimerFired() == .none)
    }

    @Test func tlsNegotiation() throws {
        let plain = try Self.info()
        let required = try Self.info(#"{"server_id":"S","version":"2.9.10","proto":1,"host":"h","port":1,"max_payload":1,"tls_required":true}"#)
        var wantsTLS = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: true)
        guard case .close(let error) = wantsTLS.infoReceived(plain) else {
            Issue.record("client requiring TLS accepted a plain server")
            return
        }
        #expect(error.code == .tls)
        var follows = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        #expect(follows.infoReceived(required) == .sendConnect(required, upgradeToTLS: true))
    }

    @Test func serverErrorsDuringHandshakeAndAfter() throws {
        var machine = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        _ = machine.infoReceived(try Self.info())
        guard case .close(let error) = machine.errorReceived(ServerError(message: "Authorization Violation")) else {
            Issue.record("auth error did not close")
            return
        }
        #expect(error.code == .authentication)

        var connected = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        _ = connected.infoReceived(try Self.info())
        _ = connected.pongReceived()
        let permission = ServerError(message: "Permissions Violation for Publish to \"x\"")
        #expect(connected.errorReceived(permission) == .reportServerError(permission))
        #expect(connected.isConnected)
        guard case .close = connected.errorReceived(ServerError(message: "Stale Connection")) else {
            Issue.record("fatal error did not close")
            return
        }
    }

    @Test func lameDuckInfoIsReportedOnce() throws {
        var machine = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        _ = machine.infoReceived(try Self.info())
        _ = machine.pongReceived()
        let ldm = try Self.info(#"{"server_id":"S","version":"2.9.10","proto":1,"host":"h","port":1,"max_payload":1,"ldm":true}"#)
        #expect(machine.infoReceived(ldm) == .infoUpdated(ldm, enteredLameDuck: true))
        #expect(machine.infoReceived(ldm) == .infoUpdated(ldm, enteredLameDuck: false))
    }

    @Test func handshakeTimeout() throws {
        var machine = ConnectionStateMachine(maxPingsOutstanding: 2, tlsWanted: false)
        guard case .close(let error) = machine.handshakeTimedOut() else {
            Issue.record("no close on handshake timeout")
            return
        }
        #expect(error.code == .timeout)
    }

    @Test func poolBackoffSchedule() throws {
        let a = try ServerURL(parsing: "nats://a:4222")
        let b = try ServerURL(parsing: "nats://b:4223")
        var reconnect = NATSClient.Reconnect(maxAttemptsPerServer: 3, wait: .seconds(2), jitter: .milliseconds(100))
        reconnect.enabled = true
        var pool = ServerPool<ContinuousClock.Instant>(servers: [a, b, a], reconnect: reconnect, shuffle: false, random: { 0.5 })
        #expect(pool.servers == [a, b])
        let t0 = ContinuousClock.now
        // First round: no waiting.
        #expect(pool.next(now: t0) == .connect(a, after: .zero))
        pool.failed(a)
        #expect(pool.next(now: t0) == .connect(b, after: .zero))
        pool.failed(b)
        // Second round on a, 500 ms later: wait the rest of 2 s plus half the jitter.
        #expect(pool.next(now: t0.advanced(by: .milliseconds(500))) == .connect(a, after: .milliseconds(1550)))
        pool.failed(a)
        // Long after: only the jitter.
        #expect(pool.next(now: t0.advanced(by: .seconds(10))) == .connect(b, after: .milliseconds(50)))
        pool.failed(b)
        pool.connected(b)
        #expect(pool.next(now: t0.advanced(by: .seconds(20))) == .connect(a, after: .milliseconds(50)))
        pool.failed(a)  // third failure: a is dropped
        #expect(pool.servers == [b])
        #expect(pool.next(now: t0.advanced(by: .seconds(30))) == .connect(b, after: .milliseconds(50)))
        pool.failed(b)
        pool.failed(b)
        pool.failed(b)
        #expect(pool.next(now: t0.advanced(by: .seconds(40))) == .exhausted)
    }

    @Test func poolLearnsClusterURLs() throws {
        let seed = try ServerURL(parsing: "tls://alice:pw@seed:4222")
        var pool = ServerPool<ContinuousClock.Instant>(servers: [seed], reconnect: .init(), shuffle: false)
        let added = pool.addDiscovered(["seed:4222", "10.0.0.2:4222", "[::1]:4333", "bad:port:x"], template: seed)
        #expect(added.map(\.endpoint) == ["10.0.0.2:4222", "::1:4333"])
        #expect(added.allSatisfy { $0.scheme == .tls && $0.user == "alice" && $0.password == "pw" })
        #expect(pool.addDiscovered(["10.0.0.2:4222"], template: seed).isEmpty)
    }

    @Test func urlParsing() throws {
        let full = try ServerURL(parsing: "nats://user:p%40ss@example.com:4333")
        #expect(full.host == "example.com" && full.port == 4333 && full.user == "user" && full.password == "p@ss")
        #expect(full.description == "nats://example.com:4333")
        let token = try ServerURL(parsing: "tls://tok@h")
        #expect(token.token == "tok" && token.scheme == .tls && token.port == 4222)
        let bare = try ServerURL(parsing: "127.0.0.1:5000")
        #expect(bare.host == "127.0.0.1" && bare.port == 5000 && bare.scheme == .nats)
        let v6 = try ServerURL(parsing: "nats://[::1]:4222")
        #expect(v6.host == "::1" && v6.port == 4222)
        #expect(try ServerURL.parseList("nats://a:1, nats://b:2,").map(\.host) == ["a", "b"])
        for bad in ["", "http://x", "nats://:4222", "nats://h:99999", "nats://h:abc", "nats://[::1"] {
            #expect(throws: NATSError.self, "\(bad)") { try ServerURL(parsing: bad) }
        }
    }
}
