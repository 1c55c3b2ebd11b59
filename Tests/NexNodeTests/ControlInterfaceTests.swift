import NexTestSupport
import Foundation
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexNode
import Testing

@Suite struct ControlInterfaceTests {
    @Test func twoNodesAnswerPingAndPingByID() async throws {
        try await withNATSServer { server in
            let nodes = [NodeUnderTest(url: server.url), NodeUnderTest(url: server.url)]
            let (all, one) = try await withNodes(nodes, testURL: server.url) { nex, running in
                (try await nex.ping(), try await nex.ping(node: running[1].nodeID))
            }
            #expect(Set(all.map(\.nodeID)) == Set(nodes.map(\.identity.nodeID.rawValue)))
            #expect(all.count == 2)
            #expect(one?.nodeID == nodes[1].identity.nodeID.rawValue)
            #expect(one?.targetXKey == nodes[1].identity.xkey.publicKey)
            #expect(one?.version == NexNode.defaultVersion)
            #expect(one?.runningMachines == 0)
            #expect(one?.uptime.hasSuffix("s") == true)
            #expect(one?.tags["nex.os"] == HostFacts.current.os)
        }
    }

    @Test func twoNodesOnDifferentClusterServersBothAnswer() async throws {
        try await withNATSCluster(size: 3) { cluster in
            try await cluster.waitForRoutes()
            let nodes = [NodeUnderTest(url: cluster.urls[1]), NodeUnderTest(url: cluster.urls[2])]
            let (pings, bids) = try await withNodes(nodes, testURL: cluster.urls[0]) { nex, _ in
                (try await nex.ping(), try await nex.auction(AuctionRequest(workloadTypes: [.native])))
            }
            let ids = Set(nodes.map(\.identity.nodeID.rawValue))
            #expect(Set(pings.map(\.nodeID)) == ids)
            #expect(Set(bids.map(\.nodeID)) == ids)
        }
    }

    @Test func auctionBidsOnlyWhenMatchingAndNeverInLameDuck() async throws {
        try await withNATSServer { server in
            var matching = NodeUnderTest(url: server.url)
            matching.configuration.tags = ["zone": "eu"]
            matching.configuration.noSandbox = true
            var other = NodeUnderTest(url: server.url)
            other.configuration.tags = ["zone": "us"]
            other.configuration.workloadTypes = [.native, .wasm]
            let ids = (matching.identity.nodeID.rawValue, other.identity.nodeID.rawValue)
            let matchingXKey = matching.identity.xkey.publicKey, matchingID = matching.identity.nodeID
            try await withNodes([matching, other], testURL: server.url) { nex, _ in
                let eu = try await nex.auction(AuctionRequest(tags: ["zone": "eu"]))
                #expect(eu.map(\.nodeID) == [ids.0])
                #expect(eu.first?.targetXKey == matchingXKey)
                let wasm = try await nex.auction(AuctionRequest(workloadTypes: [.wasm]))
                #expect(wasm.map(\.nodeID) == [ids.1])
                let unsandboxed = try await nex.auction(AuctionRequest(sandboxed: false))
                #expect(unsandboxed.map(\.nodeID) == [ids.0])
                let arch = try await nex.auction(AuctionRequest(arch: HostFacts.current.arch, os: HostFacts.current.os))
                #expect(Set(arch.map(\.nodeID)) == [ids.0, ids.1])
                #expect(try await nex.auction(AuctionRequest(arch: "no-such-arch")).isEmpty)

                _ = try await nex.lameDuck(node: matchingID)
                let afterLameDuck = try await nex.auction(AuctionRequest())
                #expect(afterLameDuck.map(\.nodeID) == [ids.1])
            }
        }
    }

    @Test func infoDescribesTheNode() async throws {
        try await withNATSServer { server in
            var spec = NodeUnderTest(url: server.url)
            spec.configuration.tags = ["node_name": "tester"]
            spec.configuration.noSandbox = true
            spec.configuration.workloadTypes = [.native, .v8]
            spec.configuration.allowDuplicateWorkloads = false
            let info = try await withNodes([spec], testURL: server.url) { nex, running in
                try await nex.info(node: running[0].nodeID)
            }
            let host = HostFacts.current
            #expect(info.publicXKey == spec.identity.xkey.publicKey)
            #expect(info.tags == ["node_name": "tester", "nex.os": host.os, "nex.arch": host.arch,
                                  "nex.cpucount": String(host.cpuCount), "nex.unsafe": "true"])
            #expect(info.supportedWorkloadTypes == [.native, .v8])
            #expect(info.machines == [])
            // The warm pool fills in the background: at most `machine_pool_size` agents wait.
            #expect((0...spec.configuration.machinePoolSize).contains(info.availableAgents))
            #expect(info.allowDuplicateWorkloads == false)
            #expect(info.version == NexNode.defaultVersion)
            let memory = try #require(info.memory)
            #expect(memory.total > 0)
            #expect(memory.available > 0)
        }
    }

    @Test func sandboxedNodeHasNoUnsafeTag() async throws {
        try await withNATSServer { server in
            let tags = try await withNodes([NodeUnderTest(url: server.url)], testURL: server.url) { nex, running in
                try await nex.info(node: running[0].nodeID).tags
            }
            #expect(tags["nex.unsafe"] == nil)
            #expect(tags["nex.lameduck"] == nil)
        }
    }

    @Test func incompleteDeploysAndUnknownStopsGetTheSpecErrors() async throws {
        try await withNATSServer { server in
            try await withNodes([NodeUnderTest(url: server.url)], testURL: server.url) { nex, running in
                let node = running[0].nodeID
                let deploy = DeployRequest(workloadName: "echo", workloadType: .native)
                await #expect(throws: NexClientError.remote(NexFailure.environmentDecryptionFailed("no environment in the request"))) {
                    try await nex.deploy(deploy, to: node)
                }
                let stop = StopRequest(nodeID: node.rawValue, workloadID: "abc", workloadJWT: "x.y.z")
                await #expect(throws: NexClientError.remote(NexFailure.noSuchWorkload)) {
                    try await nex.stop(stop, on: node)
                }
            }
        }
    }

    @Test func malformedBodiesGetFailuresAndTheNodeKeepsAnswering() async throws {
        try await withNATSServer { server in
            try await withNodes([NodeUnderTest(url: server.url)], testURL: server.url) { nex, running in
                let node = running[0].nodeID
                let garbage = Array("{\"type\": 12, not json".utf8)
                let deploy = try await rawRequest(nex.client, garbage, to: .deploy(.default, node), as: RunResponse.self)
                #expect(deploy.type == .run)
                #expect(deploy.failureReason?.hasPrefix("Unable to deserialize deploy request: ") == true)
                let stop = try await rawRequest(nex.client, garbage, to: .stop(.default, node), as: StopResponse.self)
                #expect(stop.type == .stop)
                #expect(stop.failureReason?.hasPrefix("Unable to deserialize stop request: ") == true)

                // An unreadable auction gets no bid; an empty one is a bid on anything.
                let bids = try await gather(nex.client, garbage, to: .auction)
                #expect(bids.isEmpty)
                let emptyBids = try await gather(nex.client, [], to: .auction)
                #expect(emptyBids.count == 1)

                // Garbage on subjects whose body is ignored changes nothing.
                let ping = try await rawRequest(nex.client, garbage, to: .pingNode(node), as: PingResponse.self)
                #expect(try ping.get().nodeID == node.rawValue)
                #expect(try await nex.ping().map(\.nodeID) == [node.rawValue])
            }
        }
    }

    @Test func concurrentRequestsOnEverySubjectAreAllAnswered() async throws {
        // Requests are handled in child tasks per message; a burst across subjects loses none.
        try await withNATSServer { server in
            try await withNodes([NodeUnderTest(url: server.url)], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<40 {
                        group.addTask {
                            switch index % 3 {
                            case 0: return try await nex.ping(node: node) != nil
                            case 1: return try await nex.info(node: node).publicXKey.hasPrefix("X")
                            default:
                                let reply = try await rawRequest(nex.client, Array("nope".utf8), to: .deploy(.default, node), as: RunResponse.self)
                                return reply.failureReason != nil
                            }
                        }
                    }
                    for try await answered in group { #expect(answered) }
                }
            }
        }
    }
}

/// Scatter-gathers raw `body` on `subject` for two seconds of silence and returns the reply bodies.
func gather(_ client: NATSClient, _ body: [UInt8], to subject: NexSubject) async throws -> [[UInt8]] {
    let inbox = client.newInbox()
    let subscription = try await client.subscribe(to: inbox)
    try await client.publish(body, to: subject.description, reply: inbox)
    var replies: [[UInt8]] = []
    var iterator = subscription.makeAsyncIterator()
    while case .message(let message) = try await iterator.next(timeout: .seconds(2)) {
        replies.append(message.bytes)
    }
    try await subscription.unsubscribe()
    return replies
}
