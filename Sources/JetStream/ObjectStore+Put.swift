import Crypto
import DequeModule
import Foundation
import NIOCore

extension ObjectStore {
    /// Stores the content of `data` under `meta.name`, replacing any previous version.
    ///
    /// The content is re-cut into `meta.chunkSize` (default 128 KiB) chunk messages on a fresh
    /// `$O.<bucket>.C.<nuid>`, published pipelined with at most `publishWindow` unacknowledged, so memory stays
    /// bounded whatever the object's size; SHA-256 is computed on the way. Once every chunk is acknowledged the
    /// meta is published with `Nats-Rollup: sub`, and then the previous version's chunks are purged. On failure
    /// the chunks published so far are purged and the previous version stays current.
    @discardableResult
    public func put(_ meta: ObjectMeta, data: some AsyncSequence<ByteBuffer, any Error>) async throws -> ObjectInfo {
        guard !meta.name.isEmpty else { throw ObjectStoreError(.invalidObjectName, "object name must not be empty") }
        let chunkSize = meta.chunkSize ?? Self.defaultChunkSize
        guard chunkSize > 0, chunkSize <= Int(UInt32.max) else {
            throw ObjectStoreError(.badObjectMeta, "chunk size \(chunkSize) out of range")
        }

        // The previous version (also a delete marker) decides which chunks to purge afterwards.
        let existing: ObjectInfo?
        do {
            existing = try await info(meta.name, showDeleted: true)
        } catch let error as ObjectStoreError where error.code == .objectNotFound || error.code == .badObjectMeta {
            existing = nil
        }

        var nuidGenerator = NUID()
        let nuid = nuidGenerator.next()
        let chunkSubject = naming.chunkSubject(nuid: nuid)
        var publisher = ChunkPublisher(context: context, subject: chunkSubject, window: Self.publishWindow)
        var hasher = SHA256()
        var pending = ByteBuffer()
        var size: UInt64 = 0

        do {
            for try await var piece in data {
                while piece.readableBytes > 0 {
                    if pending.readableBytes == 0 && piece.readableBytes >= chunkSize {
                        // A whole chunk inside the piece: send a slice, no copy.
                        let chunk = piece.readSlice(length: chunkSize)!
                        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        size += UInt64(chunk.readableBytes)
                        try await publisher.send(chunk)
                        continue
                    }
                    let take = min(chunkSize - pending.readableBytes, piece.readableBytes)
                    if pending.capacity == 0 { pending.reserveCapacity(chunkSize) }
                    var part = piece.readSlice(length: take)!
                    pending.writeBuffer(&part)
                    if pending.readableBytes == chunkSize {
                        pending.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        size += UInt64(pending.readableBytes)
                        try await publisher.send(pending)
                        pending = ByteBuffer()
                    }
                }
            }
            if pending.readableBytes > 0 {
                pending.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                size += UInt64(pending.readableBytes)
                try await publisher.send(pending)
                pending = ByteBuffer()
            }
            try await publisher.finish()
        } catch {
            await publisher.abandon()
            _ = try? await context.purgeStream(streamName, subject: chunkSubject)
            throw error
        }

        var info = ObjectInfo(
            name: meta.name, description: meta.description, headers: meta.headers, metadata: meta.metadata,
            options: ObjectMetaOptions(maxChunkSize: chunkSize), bucket: bucket, nuid: nuid, size: size,
            chunks: publisher.sent, digest: ObjectStoreDigest.format(hasher.finalize()))
        do {
            try await publishMeta(info)
        } catch {
            _ = try? await context.purgeStream(streamName, subject: chunkSubject)
            throw error
        }
        // As nats.go: the returned time is the client's; `info(_:)` gives the server's.
        info.modified = Date()

        if let existing, !existing.deleted, !existing.nuid.isEmpty {
            _ = try await context.purgeStream(streamName, subject: naming.chunkSubject(nuid: existing.nuid))
        }
        return info
    }

    /// Stores `bytes` under `name` (chunked and streamed like any other put).
    @discardableResult
    public func put(_ name: String, bytes: some Collection<UInt8>) async throws -> ObjectInfo {
        try await put(ObjectMeta(name: name), data: CollectionChunks(bytes, chunkSize: Self.defaultChunkSize))
    }

    /// Stores the file at `path` under `name`, reading it one chunk at a time.
    @discardableResult
    public func putFile(_ name: String, path: String) async throws -> ObjectInfo {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ObjectStoreError(.io, "cannot open \(path) for reading")
        }
        defer { try? handle.close() }
        return try await put(ObjectMeta(name: name), data: FileChunks(handle: handle, path: path, chunkSize: Self.defaultChunkSize))
    }
}

/// Publishes chunks with a bounded number of acknowledgements outstanding.
struct ChunkPublisher {
    let context: JetStreamContext
    let subject: String
    let window: Int
    private var outstanding = Deque<PubAckFuture>()
    private(set) var sent = 0

    init(context: JetStreamContext, subject: String, window: Int) {
        self.context = context
        self.subject = subject
        self.window = window
    }

    mutating func send(_ chunk: ByteBuffer) async throws {
        if outstanding.count >= window {
            _ = try await outstanding.removeFirst().value()
        }
        outstanding.append(try await context.publishAsync(chunk, to: subject))
        sent += 1
    }

    /// Waits for every acknowledgement; throws the first failure.
    mutating func finish() async throws {
        while let future = outstanding.popFirst() {
            _ = try await future.value()
        }
    }

    /// After a failure: lets the outstanding publishes settle so a purge that follows removes them too.
    mutating func abandon() async {
        while let future = outstanding.popFirst() {
            _ = try? await future.value()
        }
    }
}

/// A collection as a sequence of ByteBuffers of at most `chunkSize` bytes, copied one chunk at a time.
struct CollectionChunks<Base: Collection<UInt8>>: AsyncSequence {
    typealias Element = ByteBuffer
    let base: Base
    let chunkSize: Int

    init(_ base: Base, chunkSize: Int) {
        self.base = base
        self.chunkSize = chunkSize
    }

    func makeAsyncIterator() -> Iterator { Iterator(base: base, index: base.startIndex, chunkSize: chunkSize) }

    struct Iterator: AsyncIteratorProtocol {
        let base: Base
        var index: Base.Index
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard index != base.endIndex else { return nil }
            let end = base.index(index, offsetBy: chunkSize, limitedBy: base.endIndex) ?? base.endIndex
            let buffer = ByteBuffer(bytes: base[index..<end])
            index = end
            return buffer
        }
    }
}

/// A file read `chunkSize` bytes at a time.
struct FileChunks: AsyncSequence {
    typealias Element = ByteBuffer
    let handle: FileHandle
    let path: String
    let chunkSize: Int

    func makeAsyncIterator() -> Iterator { Iterator(handle: handle, path: path, chunkSize: chunkSize) }

    struct Iterator: AsyncIteratorProtocol {
        let handle: FileHandle
        let path: String
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            let data: Data?
            do {
                data = try handle.read(upToCount: chunkSize)
            } catch {
                throw ObjectStoreError(.io, "reading \(path) failed", underlying: error)
            }
            guard let data, !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        }
    }
}
