import Foundation
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import Testing
@testable import NexClient

/// A node that answers pings, and nothing else.
private func pinger() -> ScriptedNode {
    ScriptedNode { node, subject, _ in
        switch subject {
        case .ping, .pingNode: return try success(.ping, node.pingResponse)
        default: return nil
        }
    }
}

@Suite struct ControlRequestTests {
    @Test func pingGathersEveryNodeAndSkipsGarbage() async throws {
        let garbage = ScriptedNode { _, subject, _ in subject == .ping ? Array("{not json".utf8) : nil }
        let nodes = [pinger(), pinger(), garbage]
        let ids = try await withScriptedNodes(nodes) { client in
            try await NexClient(client: client, timeout: .seconds(3)).ping().map(\.nodeID)
        }
        #expect(Set(ids) == Set([nodes[0].id.rawValue, nodes[1].id.rawValue]))
        #expect(ids.count == 2)
    }

    @Test func pingOneNode() async throws {
        let node = pinger()
        let absent = try NodeID(keyPair: KeyPair.generate(.server))
        let (reply, missing) = try await withScriptedNodes([node]) { client in
            let nex = NexClient(client: client, timeout: .seconds(10))
            return (try await nex.ping(node: node.id), try await nex.ping(node: absent))
        }
        #expect(reply == node.pingResponse)
        #expect(missing == nil)
    }

    @Test func auctionReturnsOnlyMatchingBidders() async throws {
        // A node bids only when it supports every requested type and has every requested tag, as §2.9.
        func bidder(types: [WorkloadType], tags: [String: String]) -> ScriptedNode {
            ScriptedNode { node, subject, body in
                guard subject == .auction else { return nil }
                let request = try NexJSON.decode(AuctionRequest.self, from: body)
                guard request.workloadTypes.allSatisfy(types.contains),
                      request.tags.allSatisfy({ tags[$0.key] == $0.value }) else { return nil }
                return try success(.auction, node.pingResponse)
            }
        }
        let native = bidder(types: [.native], tags: ["zone": "a"])
        let wasm = bidder(types: [.wasm], tags: ["zone": "a"])
        let otherZone = bidder(types: [.native], tags: ["zone": "b"])
        let bids = try await withScriptedNodes([native, wasm, otherZone]) { client in
            try await NexClient(client: client, timeout: .seconds(3))
                .auction(AuctionRequest(tags: ["zone": "a"], workloadTypes: [.native]))
        }
        #expect(bids.map(\.nodeID) == [native.id.rawValue])
        #expect(bids.first?.targetXKey == native.xkey.publicKey)
    }

    @Test func infoUsesTheClientNamespace() async throws {
        let team = try Namespace("team")
        let node = ScriptedNode { node, subject, _ in
            guard case .info(let namespace, _) = subject else { return nil }
            let machine = MachineSummary(id: "vm1", healthy: true, uptime: "5s", namespace: namespace.rawValue,
                                         workload: WorkloadSummary(id: "vm1", name: "echo", essential: false, hash: "ab",
                                                                   runtime: "5s", uptime: "5s", workloadType: .native))
            return try success(.info, InfoResponse(availableAgents: 1, machines: [machine], publicXKey: node.xkey.publicKey,
                                                   supportedWorkloadTypes: [.native], uptime: "1m", version: "0.2.8"))
        }
        let info = try await withScriptedNodes([node]) { client in
            try await NexClient(client: client, namespace: team, timeout: .seconds(10)).info(node: node.id)
        }
        #expect(info.publicXKey == node.xkey.publicKey)
        #expect(info.machines?.map(\.namespace) == ["team"])
        #expect(info.supportedWorkloadTypes == [.native])
    }

    @Test func noNodeNamesTheNode() async throws {
        let absent = try NodeID(keyPair: KeyPair.generate(.server))
        let error = try await withScriptedNodes([pinger()]) { client in
            await #expect(throws: NexClientError.self) { try await NexClient(client: client, timeout: .seconds(10)).info(node: absent) }
        }
        #expect(error?.code == .noNode)
        #expect(error?.message.contains(absent.rawValue) == true)
    }

    @Test(arguments: ["{not json", #"{"type":"io.nats.nex.v1.info_response","data":[1,2]}"#, #"{"data":{}}"#, "[]",
                      #"{"type":"io.nats.nex.v1.run_response","data":{"id":"x","issuer":"y","name":"z","started":true}}"#])
    func malformedReplyIsInvalidResponse(reply: String) async throws {
        let node = ScriptedNode { _, subject, _ in
            guard case .info = subject else { return nil }
            return Array(reply.utf8)
        }
        let error = try await withScriptedNodes([node]) { client in
            await #expect(throws: NexClientError.self) { try await NexClient(client: client, timeout: .seconds(10)).info(node: node.id) }
        }
        #expect(error?.code == .invalidResponse)
    }

    @Test func emptyReplyIsNoResponse() async throws {
        let node = ScriptedNode { node, subject, _ in subject == .lameDuck(node.id) ? [] : nil }
        let error = try await withScriptedNodes([node]) { client in
            await #expect(throws: NexClientError.self) { try await NexClient(client: client, timeout: .seconds(10)).lameDuck(node: node.id) }
        }
        #expect(error?.code == .noResponse)
    }

    @Test func silentNodeIsATimeout() async throws {
        let node = ScriptedNode { _, _, _ in nil }
        let error = try await withScriptedNodes([node]) { client in
            await #expect(throws: NexClientError.self) {
                try await NexClient(client: client, timeout: .milliseconds(200)).info(node: node.id)
            }
        }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains(node.id.rawValue) == true)
    }

    @Test func lameDuck() async throws {
        let node = ScriptedNode { node, subject, _ in
            guard subject == .lameDuck(node.id) else { return nil }
            return try success(.lameDuck, LameDuckResponse(nodeID: node.id.rawValue, success: true))
        }
        let reply = try await withScriptedNodes([node]) { client in
            try await NexClient(client: client, timeout: .seconds(10)).lameDuck(node: node.id)
        }
        #expect(reply == LameDuckResponse(nodeID: node.id.rawValue, success: true))
    }

    @Test func workloadPingAnswersOnlyForMatches() async throws {
        let workloadID = WorkloadID.random()
        let name = try WorkloadName("echo")
        let node = ScriptedNode { node, subject, _ in
            guard case .workloadPing(let namespace, let reference) = subject, namespace == .default else { return nil }
            if let reference, !reference.matches(id: workloadID, name: name) { return nil }
            let machine = WorkloadPingMachineSummary(id: workloadID.rawValue, namespace: "default", name: name.rawValue, workloadType: .native)
            return try success(.ping, WorkloadPingResponse(nodeID: node.id.rawValue, targetXKey: node.xkey.publicKey, version: "0.2.8",
                                                           uptime: "1m", runningMachines: [machine]))
        }
        let (all, byName, byID, other) = try await withScriptedNodes([node, pinger()]) { client in
            let nex = NexClient(client: client, timeout: .seconds(2))
            return (try await nex.workloadPing(), try await nex.workloadPing(WorkloadReference(name)),
                    try await nex.workloadPing(WorkloadReference(workloadID)), try await nex.workloadPing(WorkloadReference("nope")))
        }
        #expect(all.map(\.nodeID) == [node.id.rawValue])
        #expect(byName.first?.runningMachines?.map(\.id) == [workloadID.rawValue])
        #expect(byID.map(\.nodeID) == [node.id.rawValue])
        #expect(other.isEmpty)
    }
}
