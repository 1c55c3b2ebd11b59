import Crypto
import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// Object store against a real nats-server: put/get at chunk boundaries, overwrite, delete, list, watch,
/// names, corruption and links.
@Suite(.timeLimit(.minutes(2))) struct ObjectStoreTests {
    @Test func putAndGetSmall() async throws {
        try await withObjectStore { _, store in
            let content = Array("hello object store".utf8)
            let put = try await store.put("greeting", bytes: content)
            #expect(put.name == "greeting")
            #expect(put.bucket == "files")
            #expect(put.size == UInt64(content.count))
            #expect(put.chunks == 1)
            #expect(put.digest == objectStoreDigest(content))
            #expect(put.nuid.count == 22)
            #expect(put.options.maxChunkSize == 128 * 1024)

            #expect(try await store.getBytes("greeting") == content)
            let info = try await store.info("greeting")
            #expect(info.nuid == put.nuid)
            #expect(info.digest == put.digest)
            #expect(info.modified > ObjectInfo.zeroTime)  // the meta message's timestamp, not the stored zero time
            #expect(!info.deleted)
        }
    }

    @Test func putAndGetEmpty() async throws {
        try await withObjectStore { _, store in
            let put = try await store.put("empty", bytes: [UInt8]())
            #expect(put.size == 0)
            #expect(put.chunks == 0)
            #expect(put.digest == objectStoreDigest([]))
            #expect(try await store.getBytes("empty") == [])
            let reader = try await store.get("empty")
            var chunks = 0
            for try await _ in reader { chunks += 1 }
            #expect(chunks == 0)
            #expect(reader.info.size == 0)
        }
    }

    @Test(arguments: [128 * 1024, 128 * 1024 + 1])
    func putAndGetAtTheChunkBoundary(size: Int) async throws {
        try await withObjectStore { js, store in
            let content = objectStorePattern(count: size, seed: UInt8(size % 251))
            let put = try await store.put("edge", bytes: content)
            #expect(put.chunks == (size + 128 * 1024 - 1) / (128 * 1024))
            #expect(put.size == UInt64(size))
            #expect(try await store.getBytes("edge") == content)
            let chunkSubject = "$O.files.C.\(put.nuid)"
            let state = try await js.streamInfo("OBJ_files", subjectsFilter: chunkSubject).state
            #expect(state.subjects?[chunkSubject] == UInt64(put.chunks))
        }
    }

    @Test func multiChunkStreamsWithTheDigestChecked() async throws {
        try await withObjectStore { _, store in
            let content = objectStorePattern(count: 5 * 1024 * 1024 + 17, seed: 7)
            var headers = NATSHeaders()
            headers["X-Kind"] = "pattern"
            let meta = ObjectMeta(
                name: "five/mebibytes.bin", description: "test data", headers: headers, metadata: ["origin": "test"])
            let put = try await store.put(meta, data: CollectionChunksForTests(content, pieceSize: 100_000))
            #expect(put.chunks == 41)
            #expect(put.digest == objectStoreDigest(content))

            let reader = try await store.get("five/mebibytes.bin")
            #expect(reader.info.description == "test data")
            #expect(reader.info.headers?["X-Kind"] == "pattern")
            #expect(reader.info.metadata == ["origin": "test"])
            var received: [UInt8] = []
            var chunkSizes: [Int] = []
            for try await chunk in reader {
                chunkSizes.append(chunk.readableBytes)
                received.append(contentsOf: chunk.readableBytesView)
            }
            #expect(chunkSizes.count == 41)
            #expect(chunkSizes.dropLast().allSatisfy { $0 == 128 * 1024 })
            #expect(received == content)
        }
    }

    @Test func overwritePurgesThePreviousChunks() async throws {
        try await withObjectStore { js, store in
            let first = try await store.put("doc", bytes: objectStorePattern(count: 300 * 1024, seed: 1))
            #expect(first.chunks == 3)
            #expect(try await js.streamInfo("OBJ_files").state.messages == 4)
            let second = try await store.put("doc", bytes: objectStorePattern(count: 200 * 1024, seed: 2))
            #expect(second.chunks == 2)
            #expect(second.nuid != first.nuid)
            // Two new chunks plus one meta: the old chunks were purged and the old meta rolled up.
            #expect(try await js.streamInfo("OBJ_files").state.messages == 3)
            #expect(try await store.getBytes("doc") == objectStorePattern(count: 200 * 1024, seed: 2))
        }
    }

    @Test func deleteLeavesAMarkerAndPurgesChunks() async throws {
        try await withObjectStore { js, store in
            try await store.put("doomed", bytes: objectStorePattern(count: 200 * 1024, seed: 3))
            try await store.delete("doomed")
            await expectObjectStoreError(.objectNotFound) { _ = try await store.info("doomed") }
            await expectObjectStoreError(.objectNotFound) { _ = try await store.get("doomed") }
            let marker = try await store.info("doomed", showDeleted: true)
            #expect(marker.deleted)
            #expect(marker.size == 0 && marker.chunks == 0 && marker.digest == nil)
            #expect(try await js.streamInfo("OBJ_files").state.messages == 1)
            await expectObjectStoreError(.objectNotFound) { try await store.delete("never-there") }
            // A deleted name can be written again.
            try await store.put("doomed", bytes: Array("back".utf8))
            #expect(try await store.getBytes("doomed") == Array("back".utf8))
        }
    }

    @Test func listShowsCurrentObjects() async throws {
        try await withObjectStore { _, store in
            #expect(try await store.list().isEmpty)
            for name in ["a", "b", "c"] {
                try await store.put(name, bytes: Array(name.utf8))
            }
            try await store.put("a", bytes: Array("a2".utf8))
            try await store.delete("b")
            let names = try await store.list().map(\.name)
            #expect(Set(names) == ["a", "c"])
            #expect(names.count == 2)
            let all = try await store.list(showDeleted: true)
            #expect(Set(all.map(\.name)) == ["a", "b", "c"])
            #expect(all.first { $0.name == "b" }?.deleted == true)
            #expect(all.first { $0.name == "a" }?.size == 2)
        }
    }

    @Test func watchReplaysThenFollows() async throws {
        try await withObjectStore { _, store in
            // Empty bucket: the marker comes first, then live changes.
            let emptyWatcher = try await store.watch()
            try await stoppingAfterTimeout(emptyWatcher) {
                var events = emptyWatcher.makeAsyncIterator()
                #expect(try await events.next() == .initialValuesDone)
                try await store.put("first", bytes: Array("1".utf8))
                guard case .info(let first) = try await events.next() else {
                    Issue.record("expected an info event")
                    return
                }
                #expect(first.name == "first" && first.size == 1)
                #expect(first.modified > ObjectInfo.zeroTime)
            }
            await emptyWatcher.stop()

            try await store.put("second", bytes: Array("22".utf8))
            let watcher = try await store.watch()
            try await stoppingAfterTimeout(watcher) {
                var events = watcher.makeAsyncIterator()
                var replayed: [String] = []
                while case .info(let info) = try await events.next() {
                    replayed.append(info.name)
                }
                #expect(replayed == ["first", "second"])
                try await store.delete("first")
                guard case .info(let deleted) = try await events.next() else {
                    Issue.record("expected the delete marker")
                    return
                }
                #expect(deleted.name == "first" && deleted.deleted)
            }
            await watcher.stop()

            // Ignoring deletes: the marker for "first" is skipped, the done marker still comes.
            let live = try await store.watch(ignoreDeletes: true)
            try await stoppingAfterTimeout(live) {
                var events = live.makeAsyncIterator()
                guard case .info(let second) = try await events.next() else {
                    Issue.record("expected an info event")
                    return
                }
                #expect(second.name == "second")
                #expect(try await events.next() == .initialValuesDone)
            }
            await live.stop()
        }
    }

    @Test func invalidNamesAreRejected() async throws {
        try await withObjectStore { js, store in
            for bad in ["", "a.b", "with space", "star*", "gt>"] {
                await expectObjectStoreError(.invalidBucketName) { _ = try await js.createObjectStore(.init(bucket: bad)) }
                await expectObjectStoreError(.invalidBucketName) { _ = try await js.objectStore(bad) }
            }
            await expectObjectStoreError(.bucketNotFound) { _ = try await js.objectStore("missing") }
            await expectObjectStoreError(.invalidObjectName) { try await store.put("", bytes: [1, 2, 3]) }
            await expectObjectStoreError(.invalidObjectName) { _ = try await store.info("") }
            await expectObjectStoreError(.invalidObjectName) { _ = try await store.get("") }
            // Any non-empty name works: it is base64-encoded into one subject token.
            let odd = "dir/sub dir/ü.* >"
            try await store.put(odd, bytes: [9, 8, 7])
            #expect(try await store.getBytes(odd) == [9, 8, 7])
        }
    }

    @Test func wrongDigestIsAClearError() async throws {
        try await withObjectStore { js, store in
            let content = objectStorePattern(count: 300 * 1024, seed: 4)
            let put = try await store.put("tampered", bytes: content)
            var forged = put
            forged.digest = objectStoreDigest(Array("something else".utf8))
            try await publishMetaByHand(js, bucket: "files", forged)
            await expectObjectStoreError(.digestMismatch) { _ = try await store.getBytes("tampered") }

            forged.digest = "MD5=abc"
            try await publishMetaByHand(js, bucket: "files", forged)
            await expectObjectStoreError(.invalidDigestFormat) { _ = try await store.getBytes("tampered") }
        }
    }

    @Test func missingChunksAreAClearError() async throws {
        try await withObjectStore { js, store in
            let all = try await store.put("all-gone", bytes: objectStorePattern(count: 300 * 1024, seed: 5))
            _ = try await js.purgeStream("OBJ_files", subject: "$O.files.C.\(all.nuid)")
            await expectObjectStoreError(.incomplete) { _ = try await store.getBytes("all-gone") }

            let some = try await store.put("one-gone", bytes: objectStorePattern(count: 300 * 1024, seed: 6))
            let first = try await js.getLastMessage(stream: "OBJ_files", subject: "$O.files.C.\(some.nuid)")
            try await js.deleteMessage(stream: "OBJ_files", sequence: first.sequence)
            await expectObjectStoreError(.incomplete) { _ = try await store.getBytes("one-gone") }
        }
    }

    @Test func linksAreFollowed() async throws {
        try await withObjectStore { js, store in
            let content = objectStorePattern(count: 150 * 1024, seed: 8)
            try await store.put("target", bytes: content)
            // Link metas as nats.go's AddLink / AddBucketLink write them: no content, a fresh nuid, a link option.
            try await publishMetaByHand(js, bucket: "files", ObjectInfo(
                name: "alias", options: ObjectMetaOptions(link: ObjectLink(bucket: "files", name: "target")),
                bucket: "files", nuid: "LINKNUID000000000000001"))
            #expect(try await store.getBytes("alias") == content)
            #expect(try await store.info("alias").isLink)

            let other = try await js.createObjectStore(.init(bucket: "other"))
            try await publishMetaByHand(js, bucket: "other", ObjectInfo(
                name: "remote", options: ObjectMetaOptions(link: ObjectLink(bucket: "files", name: "alias")),
                bucket: "other", nuid: "LINKNUID000000000000002"))
            let reader = try await other.get("remote")
            #expect(reader.info.name == "target")
            #expect(try await other.getBytes("remote") == content)

            try await publishMetaByHand(js, bucket: "files", ObjectInfo(
                name: "whole-bucket", options: ObjectMetaOptions(link: ObjectLink(bucket: "other")),
                bucket: "files", nuid: "LINKNUID000000000000003"))
            await expectObjectStoreError(.linkToBucket) { _ = try await store.get("whole-bucket") }
        }
    }

    @Test func filesRoundTrip() async throws {
        try await withObjectStore { _, store in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("objstore-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let source = directory.appendingPathComponent("in.bin").path
            let target = directory.appendingPathComponent("out.bin").path
            let content = objectStorePattern(count: 700 * 1024 + 3, seed: 9)
            try Data(content).write(to: URL(fileURLWithPath: source))

            let put = try await store.putFile("artifact", path: source)
            #expect(put.size == UInt64(content.count))
            #expect(put.chunks == 6)
            let got = try await store.getFile("artifact", to: target)
            #expect(got.digest == put.digest)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: target))) == content)

            await expectObjectStoreError(.io) { _ = try await store.putFile("x", path: directory.appendingPathComponent("nope").path) }
            // A failed get leaves no file behind.
            await expectObjectStoreError(.objectNotFound) { _ = try await store.getFile("absent", to: target + ".2") }
            #expect(!FileManager.default.fileExists(atPath: target + ".2"))
        }
    }

    @Test func statusAndBucketLifecycle() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try objectStoreClientConfiguration(server)) { client in
                let js = JetStreamContext(client: client)
                var config = ObjectStoreConfig(bucket: "configured")
                config.description = "for status"
                config.ttl = .seconds(3600)
                config.storage = .memory
                let store = try await js.createObjectStore(config)
                try await store.put("x", bytes: objectStorePattern(count: 1000, seed: 1))
                let status = try await store.status()
                #expect(status.bucket == "configured")
                #expect(status.description == "for status")
                #expect(status.ttl == .seconds(3600))
                #expect(status.storage == .memory)
                #expect(status.replicas == 1)
                #expect(!status.sealed)
                #expect(status.size > 1000)
                #expect(status.backingStore == "JetStream")
                let stream = status.streamInfo.config
                #expect(stream.discard == .new && stream.allowRollup && stream.allowDirect)
                #expect(stream.subjects == ["$O.configured.C.>", "$O.configured.M.>"])

                let bound = try await js.objectStore("configured")
                #expect(try await bound.getBytes("x") == objectStorePattern(count: 1000, seed: 1))
                try await js.deleteObjectStore("configured")
                await expectObjectStoreError(.bucketNotFound) { _ = try await js.objectStore("configured") }
                await expectObjectStoreError(.bucketNotFound) { _ = try await store.info("x") }
                await expectObjectStoreError(.bucketNotFound) { try await js.deleteObjectStore("configured") }
            }
        }
    }
}

// MARK: - Helpers (file-private names, prefixed, so they cannot collide with other suites' helpers)

/// A server with JetStream, a connected client, and a bucket "files".
func withObjectStore(_ body: (JetStreamContext, ObjectStore) async throws -> Void) async throws {
    try await withNATSServer(.init(jetStream: true)) { server in
        try await withNATSClient(try objectStoreClientConfiguration(server)) { client in
            let js = JetStreamContext(client: client)
            let store = try await js.createObjectStore(.init(bucket: "files"))
            try await body(js, store)
        }
    }
}

/// Deterministic bytes that differ per position and seed (so misplaced or repeated chunks change the digest).
func objectStorePattern(count: Int, seed: UInt8) -> [UInt8] {
    var state = UInt32(seed) &* 2_654_435_761 &+ 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

func objectStoreDigest(_ bytes: [UInt8]) -> String {
    let digest = Array(SHA256.hash(data: bytes))
    let base64 = Data(digest).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    return "SHA-256=" + base64
}

/// Publishes meta JSON directly, with the rollup header, as another client would.
func publishMetaByHand(_ js: JetStreamContext, bucket: String, _ info: ObjectInfo) async throws {
    let name = Data(info.name.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    var headers = NATSHeaders()
    headers["Nats-Rollup"] = "sub"
    _ = try await js.publish(ByteBuffer(bytes: try JSONEncoder().encode(info)), to: "$O.\(bucket).M.\(name)", headers: headers)
}

func expectObjectStoreError(
    _ code: ObjectStoreError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected ObjectStoreError(\(code)), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ObjectStoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ObjectStoreError(\(code)), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Runs `body`, stopping `watcher` if it is still running after `timeout`: a missing event then ends the
/// sequence (and fails the test) instead of hanging the suite.
func stoppingAfterTimeout(
    _ watcher: ObjectWatcher, _ timeout: Duration = .seconds(20), _ body: () async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { await watcher.stop() }
        }
        defer { group.cancelAll() }
        try await body()
    }
}

/// A collection delivered in pieces of `pieceSize` that do not line up with chunk boundaries.
struct CollectionChunksForTests: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: [UInt8]
    let pieceSize: Int

    init(_ bytes: [UInt8], pieceSize: Int) {
        self.bytes = bytes
        self.pieceSize = pieceSize
    }

    func makeAsyncIterator() -> Iterator { Iterator(bytes: bytes, pieceSize: pieceSize) }

    struct Iterator: AsyncIteratorProtocol {
        let bytes: [UInt8]
        let pieceSize: Int
        var offset = 0

        mutating func next() async throws -> ByteBuffer? {
            guard offset < bytes.count else { return nil }
            let end = Swift.min(offset + pieceSize, bytes.count)
            defer { offset = end }
            return ByteBuffer(bytes: bytes[offset..<end])
        }
    }
}

/// A client configuration for `server` that tolerates a loaded machine (suites run concurrently, each with
/// its own nats-server; the default 2 s handshake timeout was seen to expire).
func objectStoreClientConfiguration(_ server: NATSServer) throws -> NATSClient.Configuration {
    var configuration = try NATSClient.Configuration(url: server.url)
    configuration.connectTimeout = .seconds(10)
    return configuration
}
