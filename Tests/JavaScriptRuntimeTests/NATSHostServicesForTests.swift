import Foundation
import JetStream
import NATS
import NexHostServices

/// Host services for the tests, on a real nats-server: KV and object store through JetStream, messaging through
/// the client. (The product implementation lives in NexHostServices; these tests depend only on the protocol.)
/// HTTP is not offered here.
struct NATSHostServicesForTests: HostServices {
    let client: NATSClient
    let jetStream: JetStreamContext

    init(client: NATSClient) {
        self.client = client
        self.jetStream = JetStreamContext(client: client)
    }

    private func wrap<T>(_ body: () async throws -> T) async throws(HostServiceError) -> T {
        do {
            return try await body()
        } catch let error as HostServiceError {
            throw error
        } catch {
            throw HostServiceError(code: .failed, message: "\(error)")
        }
    }

    private func keyValue(_ bucket: String) async throws -> KeyValue {
        if let existing = try? await jetStream.keyValue(bucket) { return existing }
        return try await jetStream.createKeyValue(KeyValueConfig(bucket: bucket))
    }

    private func objectStore(_ bucket: String) async throws -> ObjectStore {
        if let existing = try? await jetStream.objectStore(bucket) { return existing }
        return try await jetStream.createObjectStore(ObjectStoreConfig(bucket: bucket))
    }

    func kvGet(bucket: String, key: String) async throws(HostServiceError) -> [UInt8]? {
        try await wrap {
            guard let entry = try await keyValue(bucket).get(key), entry.operation == .put else { return nil }
            return Array(entry.value.readableBytesView)
        }
    }

    func kvSet(bucket: String, key: String, value: [UInt8]) async throws(HostServiceError) -> UInt64 {
        try await wrap { try await keyValue(bucket).put(key, value) }
    }

    func kvDelete(bucket: String, key: String) async throws(HostServiceError) {
        try await wrap { try await keyValue(bucket).delete(key) }
    }

    func kvKeys(bucket: String) async throws(HostServiceError) -> [String] {
        try await wrap { try await keyValue(bucket).keys() }
    }

    func objectGet(bucket: String, name: String) async throws(HostServiceError) -> [UInt8]? {
        try await wrap {
            let store = try await objectStore(bucket)
            guard (try? await store.info(name)) != nil else { return nil }
            return try await store.getBytes(name)
        }
    }

    func objectPut(bucket: String, name: String, value: [UInt8]) async throws(HostServiceError) -> ObjectInfo {
        try await wrap { try await objectStore(bucket).put(name, bytes: value) }
    }

    func objectDelete(bucket: String, name: String) async throws(HostServiceError) {
        try await wrap { try await objectStore(bucket).delete(name) }
    }

    func objectList(bucket: String) async throws(HostServiceError) -> [ObjectInfo] {
        try await wrap { try await objectStore(bucket).list() }
    }

    func publish(subject: String, payload: [UInt8]) async throws(HostServiceError) {
        try await wrap { try await client.publish(payload, to: subject) }
    }

    func request(subject: String, payload: [UInt8], timeout: Duration?) async throws(HostServiceError) -> [UInt8] {
        try await wrap { try await client.request(payload, to: subject, timeout: timeout ?? .seconds(10)).bytes }
    }

    func requestMany(subject: String, payload: [UInt8], timeout: Duration?, maxReplies: Int?) async throws(HostServiceError)
        -> [[UInt8]]
    {
        try await wrap {
            let inbox = client.newInbox()
            let subscription = try await client.subscribe(to: inbox)
            try await client.publish(payload, to: subject, reply: inbox)
            let limit = maxReplies ?? Int.max
            let wait = timeout ?? .seconds(3)
            let replies = try await withThrowingTaskGroup(of: [[UInt8]]?.self) { group in
                group.addTask {
                    var replies: [[UInt8]] = []
                    for try await message in subscription {
                        replies.append(message.bytes)
                        if replies.count >= limit { break }
                    }
                    return replies
                }
                group.addTask {
                    // Unsubscribing ends the reader's loop.
                    try? await Task.sleep(for: wait)
                    try? await subscription.unsubscribe()
                    return nil
                }
                var collected: [[UInt8]] = []
                for try await result in group {
                    if let result {
                        collected = result
                        group.cancelAll()
                    }
                }
                return collected
            }
            try? await subscription.unsubscribe()
            return replies
        }
    }

    func http(_ method: HostHTTPMethod, url: String, body: [UInt8]?) async throws(HostServiceError) -> HostHTTPResponse {
        throw HostServiceError(code: .disabled, message: "http is not offered by the test host services")
    }
}
