import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// nats-py, a Key-Value implementation nobody here wrote, on the other side of the same buckets.
@Suite("Key-Value interop with nats-py")
struct KeyValueInteropTests {
    @Test func weReadABucketNatsPyCreatedAndWrote() async throws {
        try await withKeyValueServer { js, server in
            // nats-py creates buckets without allow_direct by default: our reads must fall back to STREAM.MSG.GET.
            let script = """
            import asyncio, sys, nats
            async def main():
                nc = await nats.connect(sys.argv[1])
                js = nc.jetstream()
                kv = await js.create_key_value(bucket="pybucket", history=5)
                await kv.put("greeting", b"hello from python")
                await kv.put("greeting", b"hello again")
                await kv.put("doomed", b"x")
                await kv.delete("doomed")
                await kv.put("path.to/key=1", b"deep")
                await nc.close()
            asyncio.run(main())
            """
            let result = try await Python.run(script, arguments: [server.url])
            try #require(result.exitCode == 0, "\(result.stderr)")

            let kv = try await js.keyValue("pybucket")
            #expect(try await kv.get("greeting")?.string == "hello again")
            #expect(try await kv.get("doomed") == nil)
            #expect(try await kv.get("path.to/key=1")?.string == "deep")
            #expect(try await kv.history("greeting").map(\.string) == ["hello from python", "hello again"])
            #expect(Set(try await kv.keys()) == ["greeting", "path.to/key=1"])
            // Our conditional write works on their bucket too.
            let latest = try #require(try await kv.get("greeting"))
            try await kv.update("greeting", ByteBuffer(string: "swift was here"), revision: latest.revision)
            try await kv.create("doomed", "revived")
            #expect(try await kv.get("doomed")?.string == "revived")
        }
    }

    @Test func natsPyReadsWhatWeWrote() async throws {
        try await withKeyValueServer { js, server in
            let kv = try await js.createKeyValue(.init(bucket: "swiftbucket", history: 3))
            try await kv.put("name", "swift")
            try await kv.put("name", "swift-nex")
            try await kv.put("deleted", "x")
            try await kv.delete("deleted")
            try await kv.put("purged", "x")
            try await kv.purge("purged")
            let script = """
            import asyncio, sys, nats
            from nats.js.errors import KeyNotFoundError, KeyDeletedError
            async def main():
                nc = await nats.connect(sys.argv[1])
                js = nc.jetstream()
                kv = await js.key_value("swiftbucket")
                entry = await kv.get("name")
                print("name=" + entry.value.decode())
                for key in ["deleted", "purged"]:
                    try:
                        await kv.get(key)
                        print(key + "=present")
                    except (KeyNotFoundError, KeyDeletedError):
                        print(key + "=absent")
                status = await kv.status()
                print("history=%d" % status.history)
                await nc.close()
            asyncio.run(main())
            """
            let result = try await Python.run(script, arguments: [server.url])
            try #require(result.exitCode == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines == ["name=swift-nex", "deleted=absent", "purged=absent", "history=3"])
        }
    }

    @Test func ourWatchSeesNatsPyPutsAndDeletes() async throws {
        try await withKeyValueServer { js, server in
            let kv = try await js.createKeyValue(.init(bucket: "shared"))
            try await kv.put("before", "1")
            try await withKeyValueEvents(try await kv.watch()) { events async throws in
                #expect(try await events.wait(count: 2).map(\.summary) == ["before=1", "done"])
                let script = """
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1])
                    js = nc.jetstream()
                    kv = await js.key_value("shared")
                    await kv.put("py.one", b"1")
                    await kv.put("py.two", b"2")
                    await kv.delete("py.one")
                    await kv.purge("before")
                    await nc.close()
                asyncio.run(main())
                """
                let result = try await Python.run(script, arguments: [server.url])
                try #require(result.exitCode == 0, "\(result.stderr)")
                let all = try await events.wait(count: 6)
                #expect(all.dropFirst(2).map(\.summary) == ["py.one=1", "py.two=2", "py.one:delete", "before:purge"])
            }
        }
    }
}
