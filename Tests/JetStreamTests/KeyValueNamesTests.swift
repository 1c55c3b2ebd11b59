import Foundation
@testable import JetStream
import NIOCore
import Testing

/// The pure parts of Key-Value: naming rules, the bucket → stream mapping, the end-of-initial-values rule.
@Suite("Key-Value names and mapping")
struct KeyValueNamesTests {
    @Test(arguments: ["config", "A_b-9", "x", "KV_ok"])
    func validBuckets(_ bucket: String) {
        #expect(KeyValueNames.isValidBucket(bucket))
    }

    @Test(arguments: ["", "a.b", "a b", "a*", "a>", "ü", "a/b", "a=b"])
    func invalidBuckets(_ bucket: String) {
        #expect(!KeyValueNames.isValidBucket(bucket))
    }

    @Test(arguments: ["k", "a.b.c", "path/to=x", "-_/=", "A9.z", "a.b-c_d"])
    func validKeys(_ key: String) {
        #expect(KeyValueNames.isValidKey(key))
    }

    @Test(arguments: ["", ".a", "a.", "a..b", "a b", "a*", ">", "a.>", "ü", "a\tb", "a:b"])
    func invalidKeys(_ key: String) {
        #expect(!KeyValueNames.isValidKey(key))
    }

    @Test(arguments: [">", "*", "a.*", "a.>", "*.b.>", "a.b", "x/y=z.*"])
    func validPatterns(_ pattern: String) {
        #expect(KeyValueNames.isValidKeyPattern(pattern))
    }

    @Test(arguments: ["", "a.", ".a", "a..b", "a.>.b", "a*", ">a", "a b", "a.*x"])
    func invalidPatterns(_ pattern: String) {
        #expect(!KeyValueNames.isValidKeyPattern(pattern))
    }

    @Test func subjectsAndStreamNames() {
        #expect(KeyValueNames.streamName(bucket: "cfg") == "KV_cfg")
        #expect(KeyValueNames.keyPrefix(bucket: "cfg") == "$KV.cfg.")
        #expect(KeyValueNames.bucket(ofStream: "KV_cfg") == "cfg")
        #expect(KeyValueNames.bucket(ofStream: "OBJ_cfg") == nil)
        #expect(KeyValueNames.bucket(ofStream: "KV_") == nil)
    }

    @Test func streamConfigOfADefaultBucket() throws {
        let stream = try KeyValueManagement.streamConfig(for: KeyValueConfig(bucket: "cfg"))
        #expect(stream.name == "KV_cfg")
        #expect(stream.subjects == ["$KV.cfg.>"])
        #expect(stream.maxMessagesPerSubject == 1)
        #expect(stream.maxBytes == -1)
        #expect(stream.maxMessageSize == -1)
        #expect(stream.maxMessages == -1)
        #expect(stream.allowRollup == true)
        #expect(stream.denyDelete == true)
        #expect(stream.allowDirect == true)
        #expect(stream.discard == .new)
        #expect(stream.storage == .file)
        #expect(stream.replicas == 1)
        #expect(stream.duplicateWindow == .seconds(120))
    }

    @Test func streamConfigCarriesTheBucketSettings() throws {
        let config = KeyValueConfig(bucket: "b", description: "d", maxValueSize: 1024, history: 10, ttl: .seconds(30),
                                    maxBytes: 1 << 20, storage: .memory, replicas: 3)
        let stream = try KeyValueManagement.streamConfig(for: config)
        #expect(stream.description == "d")
        #expect(stream.maxMessageSize == 1024)
        #expect(stream.maxMessagesPerSubject == 10)
        #expect(stream.maxAge == .seconds(30))
        // The duplicate window never exceeds the TTL (the server would reject it).
        #expect(stream.duplicateWindow == .seconds(30))
        #expect(stream.maxBytes == 1 << 20)
        #expect(stream.storage == .memory)
        #expect(stream.replicas == 3)

        let long = try KeyValueManagement.streamConfig(for: .init(bucket: "b", ttl: .seconds(3600)))
        #expect(long.duplicateWindow == .seconds(120))
    }

    @Test func invalidConfigurationsAreRefusedBeforeSending() {
        for history in [0, 65, -1] {
            #expect(throws: KeyValueError.self) { try KeyValueManagement.streamConfig(for: .init(bucket: "b", history: history)) }
        }
        let error = #expect(throws: KeyValueError.self) { try KeyValueManagement.streamConfig(for: .init(bucket: "no.dots")) }
        #expect(error?.code == .invalidBucketName)
        #expect(error?.message.contains("no.dots") == true)
    }

    @Test func operationFromHeaders() {
        var headers = NATSHeaders()
        #expect(KeyValueEntry.Operation(headers: nil) == .put)
        #expect(KeyValueEntry.Operation(headers: headers) == .put)
        headers["KV-Operation"] = "DEL"
        #expect(KeyValueEntry.Operation(headers: headers) == .delete)
        headers["KV-Operation"] = "PURGE"
        #expect(KeyValueEntry.Operation(headers: headers) == .purge)
    }
}

@Suite("Key-Value watch tracker")
struct KeyValueWatchTrackerTests {
    private func tracker(ignoreDeletes: Bool = false, noInitialValues: Bool = false) -> KeyValueWatchTracker {
        KeyValueWatchTracker(bucket: "b", keyPrefix: "$KV.b.", ignoreDeletes: ignoreDeletes, noInitialValues: noInitialValues)
    }

    private func drain(_ tracker: inout KeyValueWatchTracker) -> [String] {
        var events: [String] = []
        while let event = tracker.nextQueued() {
            switch event {
            case .entry(let entry): events.append("\(entry.key)@\(entry.revision):\(entry.operation)")
            case .initialValuesDone: events.append("done")
            }
        }
        return events
    }

    private func receive(_ tracker: inout KeyValueWatchTracker, _ key: String, revision: UInt64, pending: UInt64,
                         operation: KeyValueEntry.Operation = .put) {
        var headers: NATSHeaders?
        if let value = operation.headerValue {
            headers = NATSHeaders()
            headers?["KV-Operation"] = value
        }
        tracker.received(subject: "$KV.b." + key, headers: headers, payload: ByteBuffer(string: "v"), revision: revision,
                         created: Date(timeIntervalSince1970: 0), pending: pending)
    }

    @Test func emptyBucketIsDoneAtOnce() {
        var tracker = tracker(noInitialValues: true)
        #expect(drain(&tracker) == ["done"])
        receive(&tracker, "a", revision: 1, pending: 0)
        #expect(drain(&tracker) == ["a@1:put"])
    }

    @Test func doneFollowsTheLastInitialValue() {
        var tracker = tracker()
        receive(&tracker, "a", revision: 1, pending: 2)
        receive(&tracker, "b", revision: 2, pending: 1)
        #expect(drain(&tracker) == ["a@1:put", "b@2:put"])
        receive(&tracker, "c", revision: 3, pending: 0)
        #expect(drain(&tracker) == ["c@3:put", "done"])
        // Live updates never repeat the marker.
        receive(&tracker, "a", revision: 4, pending: 0)
        #expect(drain(&tracker) == ["a@4:put"])
    }

    @Test func doneByCountWhenUpdatesKeepPendingAboveZero() {
        // A burst of writes during the initial delivery keeps `pending` up; the count from the first message ends it.
        var tracker = tracker()
        receive(&tracker, "a", revision: 1, pending: 1)
        receive(&tracker, "b", revision: 2, pending: 5)
        #expect(drain(&tracker) == ["a@1:put", "b@2:put", "done"])
    }

    @Test func ignoredDeletesStillCountTowardsTheInitialValues() {
        var tracker = tracker(ignoreDeletes: true)
        receive(&tracker, "a", revision: 1, pending: 1)
        receive(&tracker, "b", revision: 2, pending: 0, operation: .delete)
        #expect(drain(&tracker) == ["a@1:put", "done"])
        receive(&tracker, "a", revision: 3, pending: 0, operation: .purge)
        #expect(drain(&tracker).isEmpty)
    }

    @Test func markersAreEntriesUnlessIgnored() {
        var tracker = tracker(noInitialValues: true)
        receive(&tracker, "x.y", revision: 7, pending: 0, operation: .delete)
        receive(&tracker, "x.y", revision: 8, pending: 0, operation: .purge)
        #expect(drain(&tracker) == ["done", "x.y@7:delete", "x.y@8:purge"])
    }
}
