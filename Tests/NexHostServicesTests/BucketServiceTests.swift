import JetStream
import Logging
import NATS
import NATSTestSupport
import NexHostServices
import Testing

/// Key-Value and object store host services against nats-server with JetStream.
@Suite("Host services: buckets")
struct BucketServiceTests {
    @Test func keyValueRoundTripsEveryByteValue() async throws {
        try await withHostServices { services, client in
            #expect(try await services.kvGet(bucket: "data", key: "missing") == nil)

            let revision = try await services.kvSet(bucket: "data", key: "all", value: allBytes)
            #expect(revision >= 1)
            #expect(try await services.kvGet(bucket: "data", key: "all") == allBytes)

            // Each byte value alone too: no value may be re-encoded on the way.
            for byte in UInt8.min...UInt8.max {
                _ = try await services.kvSet(bucket: "data", key: "b.\(byte)", value: [byte])
            }
            for byte in UInt8.min...UInt8.max {
                #expect(try await services.kvGet(bucket: "data", key: "b.\(byte)") == [byte])
            }
            let empty = try await services.kvSet(bucket: "data", key: "empty", value: [])
            #expect(empty > revision)
            #expect(try await services.kvGet(bucket: "data", key: "empty") == [])

            let keys = try await services.kvKeys(bucket: "data")
            #expect(Set(keys) == Set(["all", "empty"] + (0...255).map { "b.\($0)" }))

            try await services.kvDelete(bucket: "data", key: "all")
            #expect(try await services.kvGet(bucket: "data", key: "all") == nil)
            #expect(!(try await services.kvKeys(bucket: "data")).contains("all"))
            // Deleting what is not there is fine.
            try await services.kvDelete(bucket: "data", key: "never-set")

            // The real bucket is the namespace's, created with the configured size limit.
            let js = JetStreamContext(client: client)
            #expect(try await js.keyValueBuckets() == ["default_data"])
            let info = try await js.streamInfo("KV_default_data")
            #expect(info.config.maxBytes == HostServicesConfiguration.testing.maxBucketBytes)
        }
    }

    @Test func keyValueRejectsBadArguments() async throws {
        try await withHostServices { services, _ in
            await expectHostServiceError(.invalidArgument) { _ = try await services.kvGet(bucket: "data", key: "") }
            await expectHostServiceError(.invalidArgument) { _ = try await services.kvSet(bucket: "data", key: "a b", value: [1]) }
            await expectHostServiceError(.invalidArgument) { _ = try await services.kvGet(bucket: "bad.bucket", key: "k") }
            await expectHostServiceError(.invalidArgument) { _ = try await services.kvKeys(bucket: "") }
            await expectHostServiceError(.invalidArgument) {
                _ = try await services.kvKeys(bucket: String(repeating: "b", count: 300))
            }
        }
    }

    @Test func bucketOverItsSizeLimitFailsCleanly() async throws {
        var configuration = HostServicesConfiguration.testing
        configuration.maxBucketBytes = 4096
        try await withHostServices(configuration: configuration) { services, _ in
            _ = try await services.kvSet(bucket: "small", key: "a", value: [UInt8](repeating: 1, count: 1000))
            let error = await expectHostServiceError(.failed) {
                _ = try await services.kvSet(bucket: "small", key: "b", value: [UInt8](repeating: 2, count: 8000))
            }
            #expect(error?.message.hasPrefix("kv set: ") == true)
            #expect(try await services.kvGet(bucket: "small", key: "a")?.count == 1000)
        }
    }

    @Test func objectStorePutGetListDelete() async throws {
        try await withHostServices { services, client in
            #expect(try await services.objectGet(bucket: "files", name: "missing") == nil)
            #expect(try await services.objectList(bucket: "files").isEmpty)

            let small = try await services.objectPut(bucket: "files", name: "bytes.bin", value: allBytes)
            #expect(small.size == 256)
            #expect(small.name == "bytes.bin")
            #expect(try await services.objectGet(bucket: "files", name: "bytes.bin") == allBytes)

            // 1 MiB spans several chunks.
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let bigInfo = try await services.objectPut(bucket: "files", name: "dir/big object", value: big)
            #expect(bigInfo.size == UInt64(big.count))
            #expect(bigInfo.chunks > 1)
            #expect(try await services.objectGet(bucket: "files", name: "dir/big object") == big)

            _ = try await services.objectPut(bucket: "files", name: "empty", value: [])
            #expect(try await services.objectGet(bucket: "files", name: "empty") == [])

            let listed = try await services.objectList(bucket: "files")
            #expect(Set(listed.map(\.name)) == ["bytes.bin", "dir/big object", "empty"])
            #expect(listed.first { $0.name == "dir/big object" }?.size == UInt64(big.count))

            try await services.objectDelete(bucket: "files", name: "dir/big object")
            #expect(try await services.objectGet(bucket: "files", name: "dir/big object") == nil)
            #expect(Set(try await services.objectList(bucket: "files").map(\.name)) == ["bytes.bin", "empty"])
            try await services.objectDelete(bucket: "files", name: "never-there")

            await expectHostServiceError(.invalidArgument) { _ = try await services.objectGet(bucket: "files", name: "") }
            await expectHostServiceError(.invalidArgument) { _ = try await services.objectList(bucket: "a.b") }

            let js = JetStreamContext(client: client)
            let info = try await js.streamInfo("OBJ_default_files")
            #expect(info.config.maxBytes == HostServicesConfiguration.testing.maxBucketBytes)
        }
    }

    /// Two namespaces using the same bucket names (and names built to collide under a naive join) never see
    /// each other's values or objects.
    @Test func namespacesDoNotShareBuckets() async throws {
        try await withHostServices(namespace: "tenant-a") { a, client in
            let b = NATSHostServices(client: client, namespace: "tenant-b", configuration: .testing, httpClient: nil,
                                     logger: Logger(label: "test.b"))
            _ = try await a.kvSet(bucket: "shared", key: "k", value: Array("from a".utf8))
            #expect(try await b.kvGet(bucket: "shared", key: "k") == nil)
            #expect(try await b.kvKeys(bucket: "shared").isEmpty)
            _ = try await b.kvSet(bucket: "shared", key: "k", value: Array("from b".utf8))
            #expect(try await a.kvGet(bucket: "shared", key: "k") == Array("from a".utf8))
            #expect(try await b.kvGet(bucket: "shared", key: "k") == Array("from b".utf8))

            _ = try await a.objectPut(bucket: "shared", name: "o", value: [1, 2, 3])
            #expect(try await b.objectGet(bucket: "shared", name: "o") == nil)
            #expect(try await b.objectList(bucket: "shared").isEmpty)
            try await b.objectDelete(bucket: "shared", name: "o")
            #expect(try await a.objectGet(bucket: "shared", name: "o") == [1, 2, 3])

            // "team" + "a_x" and "team_a" + "x" would both be "team_a_x" under a plain join.
            let team = NATSHostServices(client: client, namespace: "team", configuration: .testing, httpClient: nil,
                                        logger: Logger(label: "test.team"))
            let teamA = NATSHostServices(client: client, namespace: "team_a", configuration: .testing, httpClient: nil,
                                         logger: Logger(label: "test.team_a"))
            _ = try await team.kvSet(bucket: "a_x", key: "k", value: [7])
            #expect(try await teamA.kvGet(bucket: "x", key: "k") == nil)
            _ = try await teamA.kvSet(bucket: "x", key: "k", value: [8])
            #expect(try await team.kvGet(bucket: "a_x", key: "k") == [7])

            // And guest code cannot name another namespace's real bucket either: it is scoped again.
            #expect(try await b.kvGet(bucket: "tenant-a_shared", key: "k") == nil)

            let js = JetStreamContext(client: client)
            #expect(Set(try await js.keyValueBuckets())
                == ["tenant-a_shared", "tenant-b_shared", "team_a_x", "_7465616d5f61_x", "tenant-b_tenant-a_shared"])
        }
    }

    @Test func bucketCreatedConcurrentlyByManyCallers() async throws {
        try await withHostServices { services, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        _ = try await services.kvSet(bucket: "race", key: "k\(index)", value: [UInt8(index)])
                        _ = try await services.objectPut(bucket: "race", name: "o\(index)", value: [UInt8(index)])
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await services.kvKeys(bucket: "race").count == 8)
            #expect(try await services.objectList(bucket: "race").count == 8)
        }
    }
}
