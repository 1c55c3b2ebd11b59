import Foundation
import Testing
@testable import NATSTestSupport

@Suite("NATSCluster")
struct NATSClusterTests {
    @Test("a message published on server 1 is received on server 3")
    func routing() async throws {
        try await withNATSCluster { cluster in
            #expect(cluster.servers.count == 3)
            #expect(Set(cluster.urls).count == 3)
            #expect(cluster.servers.allSatisfy { $0.clusterURL != nil })
            // Interest travels over the routes asynchronously, so publish until it arrives.
            let output = try await python("""
                import asyncio, sys, nats
                async def main():
                    receiver = await nats.connect(sys.argv[2], allow_reconnect=False)
                    sender = await nats.connect(sys.argv[1], allow_reconnect=False)
                    sub = await receiver.subscribe("across.routes")
                    await receiver.flush()
                    for _ in range(100):
                        await sender.publish("across.routes", b"routed")
                        try:
                            print((await sub.next_msg(timeout=0.1)).data.decode())
                            break
                        except nats.errors.TimeoutError:
                            pass
                    await sender.close()
                    await receiver.close()
                asyncio.run(main())
                """, [cluster.urls[0], cluster.urls[2]])
            #expect(output == "routed")
        }
    }

    @Test("a JetStream cluster elects a meta leader and takes an R3 stream")
    func jetStreamCluster() async throws {
        try await withNATSCluster(options: .init(jetStream: true)) { cluster in
            try await cluster.waitForJetStreamReady()
            let names = cluster.servers.compactMap { try? rawInfo($0)["server_name"] as? String }
            #expect(Set(names).count == 3)
            let output = try await python("""
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1], allow_reconnect=False)
                    js = nc.jetstream()
                    info = await js.add_stream(name="REPLICATED", subjects=["replicated.>"], num_replicas=3)
                    await js.publish("replicated.x", b"1")
                    print(info.config.num_replicas, (await js.stream_info("REPLICATED")).state.messages)
                    await nc.close()
                asyncio.run(main())
                """, [cluster.urls[1]])
            #expect(output == "3 1")
        }
    }

    @Test("a restarted member rejoins on its old ports")
    func memberRestart() async throws {
        try await withNATSCluster { cluster in
            let member = cluster.servers[1]
            let (port, clusterURL) = (member.port, member.clusterURL)
            await member.kill()
            try await member.restart()
            #expect(member.port == port)
            #expect(member.clusterURL == clusterURL)
            try await cluster.waitForRoutes()
        }
    }
}
