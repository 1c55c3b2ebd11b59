import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// Key-Value against a real nats-server with JetStream.
@Suite("Key-Value")
struct KeyValueTests {
    @Test func putGetAndRevisions() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "basics"))
            #expect(kv.bucket == "basics")
            #expect(try await kv.get("missing") == nil)

            let first = try await kv.put("color", "blue")
            let second = try await kv.put("color", ByteBuffer(string: "red"))
            let third = try await kv.put("other.key", Array("x".utf8))
            #expect(first < second && second < third)

            let entry = try #require(try await kv.get("color"))
            #expect(entry.string == "red")
            #expect(entry.revision == second)
            #expect(entry.key == "color")
            #expect(entry.bucket == "basics")
            #expect(entry.operation == .put)
            #expect(try await kv.get("other.key")?.string == "x")

            // History 1: the first revision is gone; a revision of another key is not this key's.
            #expect(try await kv.get("color", revision: first) == nil)
            #expect(try await kv.get("color", revision: second)?.string == "red")
            #expect(try await kv.get("color", revision: third) == nil)
        }
    }

    @Test func historyIsBoundedAndOldRevisionsReadable() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "hist", history: 3))
            var revisions: [UInt64] = []
            for value in 1...5 {
                revisions.append(try await kv.put("counter", "\(value)"))
            }
            let history = try await kv.history("counter")
            #expect(history.map(\.string) == ["3", "4", "5"])
            #expect(history.map(\.revision) == Array(revisions.suffix(3)))
            #expect(try await kv.get("counter", revision: revisions[2])?.string == "3")
            #expect(try await kv.get("counter", revision: revisions[0]) == nil)
            #expect(try await kv.history("never-written").isEmpty)
        }
    }

    @Test func createAndUpdateConflicts() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "cas", history: 5))
            let created = try await kv.create("lock", ByteBuffer(string: "owner-1"))
            let exists = await #expect(throws: KeyValueError.self) { try await kv.create("lock", "owner-2") }
            #expect(exists?.code == .keyExists)

            let updated = try await kv.update("lock", ByteBuffer(string: "owner-1b"), revision: created)
            let stale = await #expect(throws: KeyValueError.self) {
                try await kv.update("lock", ByteBuffer(string: "owner-3"), revision: created)
            }
            #expect(stale?.code == .wrongLastRevision)
            #expect(stale?.jetStreamError?.errorCode == 10071)
            #expect(try await kv.get("lock")?.string == "owner-1b")

            // Conditional delete: wrong revision refused, right one accepted.
            let wrongDelete = await #expect(throws: KeyValueError.self) { try await kv.delete("lock", revision: created) }
            #expect(wrongDelete?.code == .wrongLastRevision)
            try await kv.delete("lock", revision: updated)
            #expect(try await kv.get("lock") == nil)

            // Update with revision 0 means "must not exist": fails on a key with a delete marker, create works.
            let recreated = try await kv.create("lock", "owner-4")
            #expect(try await kv.get("lock")?.revision == recreated)
        }
    }

    @Test func deleteAndPurge() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "del", history: 10))
            try await kv.put("a", "1")
            try await kv.put("a", "2")
            try await kv.put("b", "1")
            try await kv.put("c", "1")

            try await kv.delete("a")
            #expect(try await kv.get("a") == nil)
            let history = try await kv.history("a")
            #expect(history.map(\.operation) == [.put, .put, .delete])
            #expect(history.last?.value.readableBytes == 0)

            try await kv.purge("b")
            #expect(try await kv.get("b") == nil)
            // The purge rolled up the key: only the marker is left.
            #expect(try await kv.history("b").map(\.operation) == [.purge])

            #expect(Set(try await kv.keys()) == ["c"])
            try await kv.create("a", "again")
            #expect(Set(try await kv.keys()) == ["a", "c"])
            #expect(try await kv.get("a")?.string == "again")
        }
    }

    @Test func purgeDeletesRemovesOldMarkersAndKeepsYoungOnes() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "pd", history: 5))
            try await kv.put("gone", "1")
            try await kv.put("gone", "2")
            try await kv.delete("gone")
            try await kv.put("kept", "1")
            #expect(try await kv.status().values == 4)

            // Default threshold (30 minutes): the young marker stays alone, the data before it goes.
            try await kv.purgeDeletes()
            #expect(try await kv.history("gone").map(\.operation) == [.delete])
            #expect(try await kv.status().values == 2)

            // Negative threshold: every marker goes.
            try await kv.purgeDeletes(olderThan: .seconds(-1))
            #expect(try await kv.history("gone").isEmpty)
            #expect(try await kv.status().values == 1)
            #expect(try await kv.get("kept")?.string == "1")
        }
    }

    @Test func ttlExpiresValues() async throws {
        try await withKeyValueServer { js, _ in
            // A TTL long enough that a busy machine still reads the value back before it expires.
            let kv = try await js.createKeyValue(.init(bucket: "ttl", ttl: .seconds(10)))
            try await kv.put("ephemeral", "x")
            #expect(try await kv.get("ephemeral")?.string == "x")
            #expect(try await kv.status().ttl == .seconds(10))
            // Poll for the expiry (bounded) instead of asserting on when it happens.
            var expired = false
            for _ in 0..<300 where !expired {
                try await Task.sleep(for: .milliseconds(100))
                expired = try await kv.get("ephemeral") == nil
            }
            #expect(expired)
            #expect(try await kv.keys().isEmpty)
        }
    }

    @Test func statusReflectsTheBucket() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "stat", description: "numbers", history: 4, storage: .memory))
            try await kv.put("one", "1")
            try await kv.put("one", "11")
            try await kv.put("two", "2")
            let status = try await kv.status()
            #expect(status.bucket == "stat")
            #expect(status.values == 3)
            #expect(status.history == 4)
            #expect(status.ttl == nil)
            #expect(status.bytes > 0)
            #expect(status.backingStore == "JetStream")
            #expect(status.isCompressed == false)
            #expect(status.streamInfo.config.name == "KV_stat")
            #expect(status.streamInfo.config.storage == .memory)
            #expect(status.streamInfo.config.allowDirect)
            #expect(status.streamInfo.config.denyDelete)
            #expect(status.streamInfo.config.allowRollup)
            #expect(status.streamInfo.config.discard == .new)
            #expect(status.streamInfo.config.description == "numbers")
        }
    }

    @Test func bucketLifecycle() async throws {
        try await withKeyValueServer { js, _ in
            let missing = await #expect(throws: KeyValueError.self) { try await js.keyValue("nope") }
            #expect(missing?.code == .bucketNotFound)

            let created = try await js.createKeyValue(.init(bucket: "life", history: 2))
            try await created.put("k", "v")
            // Creating again with the same configuration binds to it; a different one is a conflict.
            let again = try await js.createKeyValue(.init(bucket: "life", history: 2))
            #expect(try await again.get("k")?.string == "v")
            let conflict = await #expect(throws: KeyValueError.self) {
                try await js.createKeyValue(.init(bucket: "life", history: 7))
            }
            #expect(conflict?.code == .bucketExists)

            let opened = try await js.keyValue("life")
            #expect(try await opened.get("k")?.string == "v")
            #expect(try await js.keyValueBuckets() == ["life"])

            try await js.deleteKeyValue("life")
            let gone = await #expect(throws: KeyValueError.self) { try await js.keyValue("life") }
            #expect(gone?.code == .bucketNotFound)
            let goneAgain = await #expect(throws: KeyValueError.self) { try await js.deleteKeyValue("life") }
            #expect(goneAgain?.code == .bucketNotFound)
        }
    }

    @Test func invalidNamesAreRefusedClearly() async throws {
        try await withKeyValueServer { js, _ in
            for bucket in ["with.dot", "with space", "", "star*"] {
                let error = await #expect(throws: KeyValueError.self) { try await js.createKeyValue(.init(bucket: bucket)) }
                #expect(error?.code == .invalidBucketName)
                let openError = await #expect(throws: KeyValueError.self) { try await js.keyValue(bucket) }
                #expect(openError?.code == .invalidBucketName)
            }
            let kv = try await js.createKeyValue(.init(bucket: "names"))
            for key in ["", ".lead", "trail.", "sp ace", "wild*", "a..b", "gt>"] {
                let error = await #expect(throws: KeyValueError.self) { try await kv.put(key, "x") }
                #expect(error?.code == .invalidKey)
                #expect(error?.message.contains("'\(key)'") == true)
                let getError = await #expect(throws: KeyValueError.self) { try await kv.get(key) }
                #expect(getError?.code == .invalidKey)
            }
            let patternError = await #expect(throws: KeyValueError.self) { try await kv.watch("a.>.b") }
            #expect(patternError?.code == .invalidKey)
            let historyTooLong = await #expect(throws: KeyValueError.self) {
                try await js.createKeyValue(.init(bucket: "deep", history: 65))
            }
            #expect(historyTooLong?.code == .invalidConfiguration)
        }
    }

    @Test func oversizedValueIsAClearError() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "small", maxValueSize: 16))
            try await kv.put("fits", [UInt8](repeating: 1, count: 16))
            let error = await #expect(throws: KeyValueError.self) {
                try await kv.put("too-big", [UInt8](repeating: 1, count: 17))
            }
            #expect(error?.code == .valueTooLarge)
            #expect(error?.message.contains("17 bytes") == true)
            #expect(try await kv.get("too-big") == nil)
        }
    }

    // MARK: - Watch

    @Test func watchDeliversInitialValuesThenDoneThenUpdates() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "watch", history: 5))
            try await kv.put("a", "a1")
            try await kv.put("a", "a2")
            try await kv.put("b", "b1")
            try await withKeyValueEvents(try await kv.watch()) { events async throws in
                let initial = try await events.wait(count: 3)
                // Latest value per key only, then the marker.
                #expect(initial.map(\.summary) == ["a=a2", "b=b1", "done"])

                try await kv.put("c", "c1")
                try await kv.delete("a")
                try await kv.purge("b")
                let all = try await events.wait(count: 6)
                #expect(all.dropFirst(3).map(\.summary) == ["c=c1", "a:delete", "b:purge"])
                #expect(all.filter { $0.summary == "done" }.count == 1)
            }
        }
    }

    @Test func watchOfAnEmptyBucketSignalsDoneFirst() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "empty"))
            try await withKeyValueEvents(try await kv.watch()) { events async throws in
                #expect(try await events.wait(count: 1).map(\.summary) == ["done"])
                try await kv.put("first", "1")
                #expect(try await events.wait(count: 2).map(\.summary) == ["done", "first=1"])
            }
        }
    }

    @Test func watchOfAPatternSeesOnlyMatchingKeys() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "pattern"))
            try await kv.put("users.alice", "1")
            try await kv.put("groups.admins", "1")
            try await kv.put("users.bob.profile", "1")
            try await withKeyValueEvents(try await kv.watch("users.*")) { events async throws in
                #expect(try await events.wait(count: 2).map(\.summary) == ["users.alice=1", "done"])
                try await kv.put("groups.admins", "2")
                try await kv.put("users.bob.profile", "2")
                try await kv.put("users.carol", "1")
                #expect(try await events.wait(count: 3).map(\.summary).last == "users.carol=1")
                #expect(await events.snapshot().count == 3)
            }
            try await withKeyValueEvents(try await kv.watch("users.>")) { events async throws in
                let initial = try await events.wait(count: 4).map(\.summary)
                #expect(initial == ["users.alice=1", "users.bob.profile=2", "users.carol=1", "done"])
            }
        }
    }

    @Test func watchOptions() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "opts", history: 5))
            try await kv.put("k", "v1")
            try await kv.put("k", "v2")
            try await kv.put("gone", "x")
            try await kv.delete("gone")

            try await withKeyValueEvents(try await kv.watch(includeHistory: true)) { events async throws in
                #expect(try await events.wait(count: 5).map(\.summary) == ["k=v1", "k=v2", "gone=x", "gone:delete", "done"])
            }
            try await withKeyValueEvents(try await kv.watch(ignoreDeletes: true)) { events async throws in
                #expect(try await events.wait(count: 2).map(\.summary) == ["k=v2", "done"])
                try await kv.delete("k")
                try await kv.put("new", "n")
                #expect(try await events.wait(count: 3).map(\.summary).last == "new=n")
            }
            try await withKeyValueEvents(try await kv.watch(updatesOnly: true)) { events async throws in
                #expect(try await events.wait(count: 1).map(\.summary) == ["done"])
                try await kv.put("k", "v3")
                #expect(try await events.wait(count: 2).map(\.summary) == ["done", "k=v3"])
            }
            try await withKeyValueEvents(try await kv.watch("k", metaOnly: true)) { events async throws in
                let first = try await events.wait(count: 2)
                guard case .entry(let entry) = first[0] else {
                    Issue.record("expected an entry, got \(first[0])")
                    return
                }
                #expect(entry.key == "k")
                #expect(entry.value.readableBytes == 0)
                #expect(entry.revision > 0)
            }
            let both = await #expect(throws: KeyValueError.self) { try await kv.watch(includeHistory: true, updatesOnly: true) }
            #expect(both?.code == .invalidConfiguration)
        }
    }

    @Test func stoppingAWatcherEndsItsSequence() async throws {
        try await withKeyValueServer { js, _ in
            let kv = try await js.createKeyValue(.init(bucket: "stop"))
            try await kv.put("k", "v")
            let watcher = try await kv.watch()
            var iterator = watcher.makeAsyncIterator()
            guard case .entry(let entry)? = try await iterator.next() else {
                Issue.record("expected the initial entry")
                return
            }
            #expect(entry.string == "v")
            guard case .initialValuesDone? = try await iterator.next() else {
                Issue.record("expected initialValuesDone")
                return
            }
            await watcher.stop()
            #expect(try await iterator.next() == nil)
        }
    }
}

// MARK: - Helpers (prefixed: the JetStreamTests target is shared with other suites)

/// A JetStream-enabled server and a context on a connected client, for the duration of `body`.
func withKeyValueServer(_ body: (JetStreamContext, NATSServer) async throws -> Void) async throws {
    try await withNATSServer(.init(jetStream: true)) { server in
        try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
            try await body(JetStreamContext(client: client), server)
        }
    }
}

extension KeyValueWatcher.Event {
    /// "key=value" for puts, "key:delete"/"key:purge" for markers, "done" for the end of the initial values.
    var summary: String {
        switch self {
        case .entry(let entry) where entry.operation == .put: "\(entry.key)=\(entry.string)"
        case .entry(let entry): "\(entry.key):\(entry.operation)"
        case .initialValuesDone: "done"
        }
    }
}

/// Events a watcher delivered so far, recorded by a background task.
actor KeyValueEventLog {
    private(set) var events: [KeyValueWatcher.Event] = []
    private(set) var failure: String?

    func append(_ event: KeyValueWatcher.Event) { events.append(event) }
    func fail(_ error: any Error) { failure = "\(error)" }
    func snapshot() -> [KeyValueWatcher.Event] { events }

    /// Waits (bounded) until at least `count` events arrived; returns all of them.
    func wait(count: Int, timeout: Duration = .seconds(20)) async throws -> [KeyValueWatcher.Event] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while events.count < count {
            if let failure { throw KeyValueTestFailure(message: "watcher failed: \(failure)") }
            guard ContinuousClock.now < deadline else {
                throw KeyValueTestFailure(message: "timed out waiting for \(count) events; got \(events.map(\.summary))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return events
    }
}

struct KeyValueTestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Consumes `watcher` in the background while `body` runs; stops it afterwards.
func withKeyValueEvents(_ watcher: KeyValueWatcher, _ body: (KeyValueEventLog) async throws -> Void) async throws {
    let log = KeyValueEventLog()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                for try await event in watcher { await log.append(event) }
            } catch {
                await log.fail(error)
            }
        }
        do {
            try await body(log)
        } catch {
            await watcher.stop()
            group.cancelAll()
            throw error
        }
        await watcher.stop()
        try await group.waitForAll()
    }
}
