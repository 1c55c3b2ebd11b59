import Foundation
import NATS
import NATSProtocol
import NATSTestSupport
import NIOCore
import Testing

/// nats-py, a client nobody here wrote, on the other side.
@Suite("Interop with nats-py")
struct InteropTests {
    @Test func pythonReceivesOurHeadersAndWeReceiveTheirs() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let fromPython = try await nats.subscribe(to: "interop.to-swift")
                try await nats.flush()
                let script = """
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1])
                    sub = await nc.subscribe("interop.to-python")
                    await nc.flush()
                    print("ready", flush=True)
                    msg = await sub.next_msg(timeout=20)
                    hdr = msg.headers or {}
                    await nc.publish("interop.to-swift", msg.data + b"|py", headers={"Got": hdr.get("X-Swift", "missing"), "Lang": "python"})
                    await nc.flush()
                    await nc.close()
                asyncio.run(main())
                """
                async let python = Python.run(script, arguments: [server.url])
                // Wait until python subscribed, by retrying a request-less publish until an answer comes.
                var headers = NATSHeaders()
                headers["X-Swift"] = "yes"
                var reply: NATSMessage?
                for _ in 0..<100 where reply == nil {
                    try await nats.publish("hello", to: "interop.to-python", headers: headers)
                    reply = try? await collect(fromPython, count: 1, timeout: .milliseconds(200)).first
                }
                let result = try await python
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(reply?.string == "hello|py")
                #expect(reply?.headers?["Got"] == "yes")
                #expect(reply?.headers?["Lang"] == "python")
            }
        }
    }

    @Test func requestReplyBothWays() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                // Python serves, we request.
                let script = """
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1])
                    async def handler(msg):
                        await msg.respond(b"py:" + msg.data)
                    await nc.subscribe("interop.py-service", cb=handler)
                    await nc.flush()
                    # Then we request from the Swift service.
                    for i in range(20):
                        try:
                            r = await nc.request("interop.swift-service", str(i).encode(), timeout=2)
                            assert r.data == b"swift:" + str(i).encode(), r.data
                        except nats.errors.NoRespondersError:
                            await asyncio.sleep(0.1)
                            continue
                        except Exception:
                            raise
                    await asyncio.sleep(3)
                    await nc.close()
                asyncio.run(main())
                """
                let service = try await nats.subscribe(to: "interop.swift-service")
                try await nats.flush()
                async let responder: Void = {
                    for try await message in service {
                        try await nats.publish("swift:" + message.string, to: message.replyTo!)
                    }
                }()
                async let python = Python.run(script, arguments: [server.url])
                var answered = 0
                for i in 0..<100 where answered < 10 {
                    if let reply = try? await nats.request("\(i)", to: "interop.py-service", timeout: .milliseconds(500)) {
                        #expect(reply.string == "py:\(i)")
                        answered += 1
                    } else {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                #expect(answered == 10)
                let result = try await python
                #expect(result.exitCode == 0, "\(result.stderr)")
                try await service.unsubscribe()
                try await responder
            }
        }
    }

    @Test func queueGroupSharedWithPython() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let script = """
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1])
                    count = 0
                    done = asyncio.Event()
                    async def handler(msg):
                        nonlocal count
                        if msg.data == b"stop":
                            done.set()
                            return
                        count += 1
                    await nc.subscribe("interop.jobs", queue="workers", cb=handler)
                    await nc.subscribe("interop.stop", cb=handler)
                    await nc.flush()
                    await nc.publish("interop.ready", b"")
                    await asyncio.wait_for(done.wait(), 30)
                    print(count)
                    await nc.close()
                asyncio.run(main())
                """
                let ready = try await nats.subscribe(to: "interop.ready")
                let jobs = try await nats.subscribe(to: "interop.jobs", queue: "workers")
                try await nats.flush()
                async let python = Python.run(script, arguments: [server.url])
                _ = try await collect(ready, count: 1, timeout: .seconds(20))
                for i in 0..<400 { try await nats.publish("\(i)", to: "interop.jobs") }
                try await nats.flush()
                try await jobs.drain()
                var ours = 0
                for try await _ in jobs { ours += 1 }
                try await nats.publish("stop", to: "interop.stop")
                let result = try await python
                #expect(result.exitCode == 0, "\(result.stderr)")
                let theirs = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                #expect(ours + theirs == 400)
                #expect(ours > 0 && theirs > 0)
            }
        }
    }
}
