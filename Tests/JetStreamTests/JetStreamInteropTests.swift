import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream interop with nats-py")
struct JetStreamInteropTests {
    @Test func pythonPublishesWeFetchAndViceVersa() async throws {
        try await withCoreJetStream { js, server in
            _ = try await js.createStream(StreamConfig(name: "INTEROP", subjects: ["interop.>"]))
            var headers = NATSHeaders()
            headers["X-From"] = "swift"
            let ours = try await js.publish(ByteBuffer(string: "from swift"), to: "interop.swift", headers: headers,
                                            options: .init(messageID: "swift-1"))
            let script = """
            import asyncio, sys, nats
            async def main():
                nc = await nats.connect(sys.argv[1])
                js = nc.jetstream()
                ack = await js.publish("interop.python", b"from python", headers={"X-From": "python"})
                print("ack", ack.stream, ack.seq, flush=True)
                sub = await js.pull_subscribe("interop.swift", durable="py")
                msgs = await sub.fetch(1, timeout=10)
                for m in msgs:
                    print("got", m.data.decode(), m.headers.get("X-From"), m.headers.get("Nats-Msg-Id"), m.metadata.sequence.stream, flush=True)
                    await m.ack()
                await nc.close()
            asyncio.run(main())
            """
            let result = try await Python.run(script, arguments: [server.url])
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.contains("ack INTEROP 2"), "\(result.stdout)")
            #expect(result.stdout.contains("got from swift swift swift-1 \(ours.sequence)"), "\(result.stdout)")

            _ = try await js.createConsumer(stream: "INTEROP", config: ConsumerConfig(durableName: "swift", filterSubject: "interop.python"))
            let fetched = try await js.pullConsumer(stream: "INTEROP", name: "swift").fetch(batch: 1)
            #expect(fetched.first?.string == "from python")
            #expect(fetched.first?.headers?["X-From"] == "python")
            #expect(fetched.first?.metadata.streamSequence == 2)
            try await fetched.first?.ackSync()
        }
    }
}
