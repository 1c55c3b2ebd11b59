import NexTestSupport
import Foundation
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexNode
import Testing

@Suite struct LifecycleTests {
    @Test func nodeStartedAndHeartbeatEvents() async throws {
        try await withNATSServer { server in
            var spec = NodeUnderTest(url: server.url)
            spec.configuration.tags = ["zone": "eu"]
            spec.options.heartbeatInterval = .milliseconds(200)
            let id = spec.identity.nodeID, xkey = spec.identity.xkey.publicKey
            try await withNATSClient(clientConfiguration(server.url), logger: quietLogger("watcher")) { watcher in
                let events = try await NexClient(client: watcher).events(namespace: .system)
                try await watcher.flush()
                try await withNodes([spec], testURL: server.url) { _, _ in
                    let started = try await firstMatch(in: events) { $0.type == .nodeStarted }
                    guard case .nodeStarted(let data) = started.event.event.data else {
                        Issue.record("node_started carried \(started.event.event.data)")
                        return
                    }
                    #expect(data.id == id.rawValue)
                    #expect(started.event.event.source == id.rawValue)
                    #expect(started.event.event.dataContentType == "application/json")
                    #expect(data.publicXKey == xkey)
                    #expect(data.tags["zone"] == "eu")
                    #expect(data.version == NexNode.defaultVersion)

                    let beat = try await firstMatch(in: events) { $0.type == .heartbeat }
                    guard case .heartbeat(let heartbeat) = beat.event.event.data else {
                        Issue.record("heartbeat carried \(beat.event.event.data)")
                        return
                    }
                    #expect(heartbeat.nodeID == id.rawValue)
                    #expect(heartbeat.publicXKey == xkey)
                    #expect(heartbeat.runningMachines == 0)
                    #expect(heartbeat.tags["nex.os"] == HostFacts.current.os)
                }
                // The graceful shutdown after the body says goodbye.
                let stopped = try await firstMatch(in: events) { $0.type == .nodeStopped }
                guard case .nodeStopped(let data) = stopped.event.event.data else {
                    Issue.record("node_stopped carried \(stopped.event.event.data)")
                    return
                }
                #expect(data == NodeStoppedEvent(id: id.rawValue, graceful: true))
                try await events.close()
            }
        }
    }

    @Test func lameDuckRepliesTagsRefusesDeploysAndEmitsEvent() async throws {
        try await withNATSServer { server in
            let spec = NodeUnderTest(url: server.url)
            let id = spec.identity.nodeID
            try await withNodes([spec], testURL: server.url) { nex, running in
                let events = try await nex.events(types: [.nodeEnteredLameDuck], namespace: .system)
                try await nex.client.flush()
                let reply = try await nex.lameDuck(node: id)
                #expect(reply == LameDuckResponse(nodeID: id.rawValue, success: true))
                let event = try await firstMatch(in: events) { _ in true }
                guard case .nodeEnteredLameDuck(let data) = event.event.event.data else {
                    Issue.record("node_entered_lameduck carried \(event.event.event.data)")
                    return
                }
                #expect(data.id == id.rawValue)
                try await events.close()

                #expect(running[0].isLameDuck)
                #expect(try await nex.ping(node: id)?.tags["nex.lameduck"] == "true")
                #expect(try await nex.info(node: id).tags["nex.lameduck"] == "true")
                await #expect(throws: NexClientError.remote(NexFailure.lameDuckDeployDenied)) {
                    try await nex.deploy(DeployRequest(workloadType: .native), to: id)
                }
                // A second request still succeeds.
                #expect(try await nex.lameDuck(node: id).success)
            }
        }
    }

    @Test func lameDuckEndsTheNodeAfterTheDelay() async throws {
        try await withNATSServer { server in
            var spec = NodeUnderTest(url: server.url)
            spec.options.lameDuckShutdownDelay = .milliseconds(100)
            let id = spec.identity.nodeID
            try await withNodes([spec], testURL: server.url) { nex, _ in
                let events = try await nex.events(types: [.nodeStopped], namespace: .system)
                try await nex.client.flush()
                _ = try await nex.lameDuck(node: id)
                // No shutdown was requested: the node ends itself once the delay has passed.
                let stopped = try await firstMatch(in: events) { _ in true }
                guard case .nodeStopped(let data) = stopped.event.event.data else {
                    Issue.record("node_stopped carried \(stopped.event.event.data)")
                    return
                }
                #expect(data == NodeStoppedEvent(id: id.rawValue, graceful: true))
                try await events.close()
                // Drained: nobody answers for it any more.
                #expect(try await nex.ping(node: id) == nil)
            }
        }
    }

    @Test func persistentIdentityAcrossRestartsWithFreshXKey() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nexnode-\(UUID().uuidString).nk").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withNATSServer { server in
            var pings: [PingResponse] = []
            for _ in 0..<2 {
                let spec = NodeUnderTest(url: server.url, identity: try NodeIdentity.load(seedFile: path))
                let ping = try await withNodes([spec], testURL: server.url) { nex, running in
                    try await nex.ping(node: running[0].nodeID)
                }
                pings.append(try #require(ping))
            }
            #expect(pings[0].nodeID == pings[1].nodeID)
            #expect(pings[0].targetXKey != pings[1].targetXKey)
        }
    }
}
