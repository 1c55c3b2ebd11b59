import Foundation
import NIOCore

/// A bucket of objects of any size on a JetStream stream (ADR-20), wire-compatible with nats.go and nats-py.
///
/// Content is split into chunk messages on `$O.<bucket>.C.<nuid>`; a meta message (`ObjectInfo` as JSON) on
/// `$O.<bucket>.M.<base64url(name)>` says which nuid holds the current version, its size and SHA-256 digest.
/// Meta messages are published with `Nats-Rollup: sub`, so the stream keeps only the latest per name.
/// Obtain one with `JetStreamContext.createObjectStore(_:)` or `objectStore(_:)`.
public struct ObjectStore: Sendable {
    /// The bucket name.
    public var bucket: String { naming.bucket }
    /// The backing stream, `OBJ_<bucket>`.
    public var streamName: String { naming.streamName }
    /// The JetStream context the store talks through.
    public let context: JetStreamContext

    let naming: ObjectStoreNaming

    /// Chunks published but not yet acknowledged during `put`: enough to keep the connection busy
    /// (4 MiB at the default chunk size) while bounding memory whatever the object's size.
    static let publishWindow = 32
    /// nats.go's default chunk size.
    public static let defaultChunkSize = 128 * 1024
    /// How many links `get` follows before deciding the links form a loop.
    static let maxLinkDepth = 8

    init(context: JetStreamContext, naming: ObjectStoreNaming) {
        self.context = context
        self.naming = naming
    }

    // MARK: - Info, delete

    /// The current info for `name`: the last meta message on its subject, with `modified` set to that
    /// message's stream timestamp. A delete marker counts as absent unless `showDeleted`.
    /// - Throws: `ObjectStoreError` `.objectNotFound`, `.bucketNotFound`, `.invalidObjectName`, `.badObjectMeta`.
    public func info(_ name: String, showDeleted: Bool = false) async throws -> ObjectInfo {
        guard !name.isEmpty else { throw ObjectStoreError(.invalidObjectName, "object name must not be empty") }
        let message: StoredMessage
        do {
            message = try await context.getLastMessage(stream: streamName, subject: naming.metaSubject(objectName: name))
        } catch let error as JetStreamError where error.code == .messageNotFound {
            throw ObjectStoreError(.objectNotFound, "object \"\(name)\" not found in bucket \(bucket)")
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw ObjectStoreError(.bucketNotFound, "object store bucket \(bucket) not found", underlying: error)
        }
        var info: ObjectInfo
        do {
            info = try JSONDecoder().decode(ObjectInfo.self, from: Data(message.payload.readableBytesView))
        } catch {
            throw ObjectStoreError(.badObjectMeta, "meta of \"\(name)\" in bucket \(bucket) is not object info JSON", underlying: error)
        }
        if info.deleted && !showDeleted {
            throw ObjectStoreError(.objectNotFound, "object \"\(name)\" in bucket \(bucket) was deleted")
        }
        info.modified = message.time
        return info
    }

    /// Deletes `name`: publishes a delete marker (meta with `deleted: true`, rolling up the old meta), then
    /// purges the object's chunks.
    public func delete(_ name: String) async throws {
        var info = try await self.info(name, showDeleted: true)
        guard !info.nuid.isEmpty else {
            throw ObjectStoreError(.badObjectMeta, "meta of \"\(name)\" in bucket \(bucket) has no nuid")
        }
        info.deleted = true
        info.size = 0
        info.chunks = 0
        info.digest = nil
        try await publishMeta(info)
        _ = try await context.purgeStream(streamName, subject: naming.chunkSubject(nuid: info.nuid))
    }

    /// Publishes `info` as the meta for its name, replacing (rolling up) every earlier meta for that name.
    /// Like nats.go, the stored `mtime` is the zero time; readers take the message timestamp.
    func publishMeta(_ info: ObjectInfo) async throws {
        var stored = info
        stored.modified = ObjectInfo.zeroTime
        let json = try JSONEncoder().encode(stored)
        var headers = NATSHeaders()
        headers["Nats-Rollup"] = "sub"
        _ = try await context.publish(ByteBuffer(bytes: json), to: naming.metaSubject(objectName: info.name), headers: headers)
    }

    // MARK: - Status

    /// Run-time status of the bucket, from its stream info.
    public func status() async throws -> ObjectStoreStatus {
        do {
            return ObjectStoreStatus(bucket: bucket, streamInfo: try await context.streamInfo(streamName))
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw ObjectStoreError(.bucketNotFound, "object store bucket \(bucket) not found", underlying: error)
        }
    }
}

/// A snapshot of an object store bucket's backing stream.
public struct ObjectStoreStatus: Sendable {
    /// The bucket name.
    public var bucket: String
    /// The stream's info, for anything not surfaced here.
    public var streamInfo: StreamInfo
    /// The description given at creation.
    public var description: String? { streamInfo.config.description }
    /// Combined size of chunks and metas in bytes.
    public var size: UInt64 { streamInfo.state.bytes }
    /// Always "JetStream".
    public var backingStore: String { "JetStream" }
}

extension JetStreamContext {
    /// Creates the bucket's stream `OBJ_<bucket>` (or returns the existing one when its configuration is
    /// the same), configured as nats.go does: subjects `$O.<bucket>.C.>` and `$O.<bucket>.M.>`, discard new,
    /// rollup headers and direct get allowed.
    /// - Throws: `ObjectStoreError(.invalidBucketName)`, or the `JetStreamError` of the create.
    public func createObjectStore(_ config: ObjectStoreConfig) async throws -> ObjectStore {
        guard let naming = ObjectStoreNaming(bucket: config.bucket) else {
            throw ObjectStoreError(.invalidBucketName, "invalid object store bucket name \"\(config.bucket)\" (allowed: A-Z a-z 0-9 _ -)")
        }
        _ = try await createStream(config.streamConfig(naming))
        return ObjectStore(context: self, naming: naming)
    }

    /// Binds to an existing bucket.
    /// - Throws: `ObjectStoreError` `.invalidBucketName`, `.bucketNotFound`.
    public func objectStore(_ bucket: String) async throws -> ObjectStore {
        guard let naming = ObjectStoreNaming(bucket: bucket) else {
            throw ObjectStoreError(.invalidBucketName, "invalid object store bucket name \"\(bucket)\" (allowed: A-Z a-z 0-9 _ -)")
        }
        do {
            _ = try await streamInfo(naming.streamName)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw ObjectStoreError(.bucketNotFound, "object store bucket \(bucket) not found", underlying: error)
        }
        return ObjectStore(context: self, naming: naming)
    }

    /// Deletes the bucket's stream with every object in it.
    /// - Throws: `ObjectStoreError` `.invalidBucketName`, `.bucketNotFound`.
    public func deleteObjectStore(_ bucket: String) async throws {
        guard let naming = ObjectStoreNaming(bucket: bucket) else {
            throw ObjectStoreError(.invalidBucketName, "invalid object store bucket name \"\(bucket)\" (allowed: A-Z a-z 0-9 _ -)")
        }
        do {
            try await deleteStream(naming.streamName)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw ObjectStoreError(.bucketNotFound, "object store bucket \(bucket) not found", underlying: error)
        }
    }
}
