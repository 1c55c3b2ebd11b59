import NATS
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A TCP server on a random loopback port that plays NATS by script, for behaviour a real nats-server will not
/// show on demand (a server that stops answering pings, a server that sends garbage).
final class ScriptedServer: Sendable {
    enum Behaviour: Sendable {
        /// Handshake, then answer nothing (no PONG): the client must find the connection stale.
        case silentAfterHandshake
        /// Handshake normally and answer pings.
        case healthy
        /// Send bytes that are not NATS after the handshake.
        case garbageAfterHandshake
    }

    let channel: Channel
    let connections = NIOLockedValueBox<[Behaviour]>([])
    var port: Int { channel.localAddress!.port! }

    init(script: [Behaviour]) async throws {
        let remaining = NIOLockedValueBox(script)
        let connections = self.connections
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let behaviour = remaining.withLockedValue { $0.isEmpty ? .healthy : $0.removeFirst() }
                connections.withLockedValue { $0.append(behaviour) }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ScriptedConnection(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async { try? await channel.close() }
}

private final class ScriptedConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let behaviour: ScriptedServer.Behaviour
    var received = ""
    var handshakeDone = false

    init(behaviour: ScriptedServer.Behaviour) { self.behaviour = behaviour }

    func channelActive(context: ChannelHandlerContext) {
        let info = #"INFO {"server_id":"SCRIPTED","version":"2.9.10","proto":1,"host":"127.0.0.1","port":4222,"max_payload":1048576,"headers":true}"#
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: info + "\r\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        while let range = received.firstRange(of: "\r\n") {
            let line = String(received[..<range.lowerBound])
            received = String(received[range.upperBound...])
            handle(line, context: context)
        }
    }

    private func handle(_ line: String, context: ChannelHandlerContext) {
        guard line.hasPrefix("PING") else { return }
        if !handshakeDone {
            handshakeDone = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "PONG\r\n")), promise: nil)
            if case .garbageAfterHandshake = behaviour {
                // Later, so the test has subscribed to events by then.
                let channel = context.channel
                context.eventLoop.scheduleTask(in: .milliseconds(300)) {
                    channel.writeAndFlush(ByteBuffer(string: "HELLO THERE\r\n"), promise: nil)
                }
            }
            return
        }
        switch behaviour {
        case .silentAfterHandshake, .garbageAfterHandshake: break
        case .healthy: context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "PONG\r\n")), promise: nil)
        }
    }
}

@Suite("Against a scripted server")
struct ScriptedServerTests {
    @Test func staleConnectionIsDetectedAndReplaced() async throws {
        let server = try await ScriptedServer(script: [.silentAfterHandshake, .healthy])
        var configuration = try testConfiguration("nats://127.0.0.1:\(server.port)")
        configuration.pingInterval = .milliseconds(100)
        configuration.maxPingsOutstanding = 2
        try await withNATSClient(configuration) { nats in
            let events = nats.events()
            let disconnected = try await waitForEvent(events) {
                if case .disconnected = $0 { return true }
                return false
            }
            guard case .disconnected(_, let reason) = disconnected else { return }
            #expect(reason?.code == .staleConnection, "\(String(describing: reason))")
            _ = try await waitForEvent(events) {
                if case .reconnected = $0 { return true }
                return false
            }
            // The healthy replacement answers our flush.
            try await nats.flush(timeout: .seconds(5))
        }
        #expect(server.connections.withLockedValue { $0 } .count >= 2)
        await server.stop()
    }

    @Test func garbageFromTheServerIsAProtocolErrorAndTheClientRecovers() async throws {
        let server = try await ScriptedServer(script: [.garbageAfterHandshake, .healthy])
        try await withNATSClient(try testConfiguration("nats://127.0.0.1:\(server.port)")) { nats in
            let events = nats.events()
            let disconnected = try await waitForEvent(events) {
                if case .disconnected = $0 { return true }
                return false
            }
            guard case .disconnected(_, let reason) = disconnected else { return }
            #expect(reason?.code == .protocolViolation, "\(String(describing: reason))")
            _ = try await waitForEvent(events) {
                if case .reconnected = $0 { return true }
                return false
            }
            try await nats.flush(timeout: .seconds(5))
        }
        await server.stop()
    }
}
