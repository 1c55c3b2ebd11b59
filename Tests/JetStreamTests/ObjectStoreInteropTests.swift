import Crypto
import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// nats-py reads what we store and we read what it stores: names, chunking, digests and meta must agree.
@Suite(.timeLimit(.minutes(2))) struct ObjectStoreInteropTests {
    /// Both sides generate the same bytes: SHA-256 of each 4-byte big-endian counter, concatenated.
    static let pythonPrelude = """
        import asyncio, hashlib, sys, nats

        def content(n):
            return b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n // 32 + 1))[:n]
        """

    static func content(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 32)
        var counter: UInt32 = 0
        while bytes.count < count {
            withUnsafeBytes(of: counter.bigEndian) { bytes.append(contentsOf: SHA256.hash(data: $0)) }
            counter += 1
        }
        return Array(bytes.prefix(count))
    }

    @Test func weReadWhatNatsPyWrote() async throws {
        let size = 5 * 1024 * 1024 + 12_345
        try await withNATSServer(.init(jetStream: true)) { server in
            let script = Self.pythonPrelude + """

                async def main():
                    nc = await nats.connect(sys.argv[1], connect_timeout=10)
                    js = nc.jetstream()
                    obs = await js.create_object_store("pyfiles")
                    info = await obs.put("dir/py object.bin", content(int(sys.argv[2])))
                    print(info.digest)
                    print(info.chunks)
                    await nc.close()
                asyncio.run(main())
                """
            let result = try await Python.run(script, arguments: [server.url, String(size)])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 2, "\(result.stdout)")

            try await withNATSClient(try objectStoreClientConfiguration(server)) { client in
                let store = try await JetStreamContext(client: client).objectStore("pyfiles")
                let info = try await store.info("dir/py object.bin")
                #expect(info.digest == lines[0])
                #expect(info.chunks == Int(lines[1]))
                #expect(info.chunks > 1)
                #expect(info.size == UInt64(size))
                let expected = Self.content(count: size)
                #expect(info.digest == objectStoreDigest(expected))
                let bytes = try await store.getBytes("dir/py object.bin")
                #expect(bytes.count == size)
                #expect(bytes == expected)
            }
        }
    }

    @Test func natsPyReadsWhatWeWrote() async throws {
        let size = 5 * 1024 * 1024 + 54_321
        try await withNATSServer(.init(jetStream: true)) { server in
            let expected = Self.content(count: size)
            let put = try await withNATSClient(try objectStoreClientConfiguration(server)) { client in
                let store = try await JetStreamContext(client: client).createObjectStore(.init(bucket: "swiftfiles"))
                var headers = NATSHeaders()
                headers["X-Origin"] = "swift"
                return try await store.put(
                    ObjectMeta(name: "dir/swift object.bin", description: "from swift", headers: headers),
                    data: CollectionChunksForTests(expected, pieceSize: 1_000_000))
            }
            #expect(put.chunks == 41)

            let script = Self.pythonPrelude + """

                async def main():
                    nc = await nats.connect(sys.argv[1], connect_timeout=10)
                    js = nc.jetstream()
                    obs = await js.object_store("swiftfiles")
                    result = await obs.get("dir/swift object.bin")
                    data = result.data
                    print(result.info.digest)
                    print(len(data))
                    print("same" if data == content(int(sys.argv[2])) else "different")
                    print(result.info.description)
                    print(result.info.chunks)
                    print((result.info.options.max_chunk_size))
                    print(result.info.headers)
                    await nc.close()
                asyncio.run(main())
                """
            let result = try await Python.run(script, arguments: [server.url, String(size)])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 7, "\(result.stdout)\n\(result.stderr)")
            #expect(lines[0] == put.digest)
            #expect(lines[1] == String(size))
            #expect(lines[2] == "same")
            #expect(lines[3] == "from swift")
            #expect(lines[4] == "41")
            #expect(lines[5] == "131072")
            #expect(lines[6] == "{'X-Origin': ['swift']}")
        }
    }
}
