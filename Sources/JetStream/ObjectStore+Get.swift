import Crypto
import Foundation
import NIOCore

extension ObjectStore {
    /// Opens `name` for reading. Links to objects are followed (within this bucket or into another); a link
    /// to a whole bucket throws `.linkToBucket`.
    ///
    /// The returned reader streams the chunks through an ordered consumer on the object's chunk subject and
    /// checks, before handing out the last chunk, that size and SHA-256 match the meta: a mismatch throws
    /// `.digestMismatch`, chunks missing from the stream throw `.incomplete`.
    /// - Throws: `ObjectStoreError` `.objectNotFound` (also for deleted objects), `.linkToBucket`, `.incomplete`.
    public func get(_ name: String) async throws -> ObjectReader {
        try await get(name, linkDepth: 0)
    }

    private func get(_ name: String, linkDepth: Int) async throws -> ObjectReader {
        let info = try await self.info(name)
        guard !info.nuid.isEmpty else {
            throw ObjectStoreError(.badObjectMeta, "meta of \"\(name)\" in bucket \(bucket) has no nuid")
        }
        if let link = info.link {
            guard let target = link.name else {
                throw ObjectStoreError(.linkToBucket, "\"\(name)\" in bucket \(bucket) is a link to the bucket \(link.bucket), not to an object")
            }
            guard linkDepth < Self.maxLinkDepth else {
                throw ObjectStoreError(.badObjectMeta, "\"\(name)\" in bucket \(bucket): more than \(Self.maxLinkDepth) links in a row")
            }
            let store = link.bucket == bucket ? self : try await context.objectStore(link.bucket)
            return try await store.get(target, linkDepth: linkDepth + 1)
        }
        guard info.size > 0 else {
            return ObjectReader(info: info, consumer: nil)
        }

        // An ordered consumer on a subject without messages would just wait; count first.
        let chunkSubject = naming.chunkSubject(nuid: info.nuid)
        let present = try await context.streamInfo(streamName, subjectsFilter: chunkSubject).state.subjects?[chunkSubject] ?? 0
        if present == 0 || (info.chunks > 0 && present < UInt64(info.chunks)) {
            throw ObjectStoreError(
                .incomplete,
                "object \"\(name)\" in bucket \(bucket) is incomplete: meta records \(info.chunks) chunks (\(info.size) bytes), the stream holds \(present)")
        }
        let consumer = try await context.orderedConsumer(
            stream: streamName, config: OrderedConsumerConfig(filterSubjects: [chunkSubject]))
        return ObjectReader(info: info, consumer: consumer)
    }

    /// Reads the whole of `name` into memory: for small objects.
    public func getBytes(_ name: String) async throws -> [UInt8] {
        let reader = try await get(name)
        var bytes: [UInt8] = []
        // The size comes from the meta, which anyone may have written: reserve, but not blindly.
        bytes.reserveCapacity(Int(clamping: min(reader.info.size, 64 * 1024 * 1024)))
        for try await chunk in reader {
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    /// Writes `name` to the file at `path` (created or truncated) chunk by chunk. The file is removed when
    /// the read fails, so a file that exists afterwards passed the digest check.
    @discardableResult
    public func getFile(_ name: String, to path: String) async throws -> ObjectInfo {
        let reader = try await get(name)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            await reader.cancel()
            throw ObjectStoreError(.io, "cannot create \(path)")
        }
        do {
            defer { try? handle.close() }
            for try await chunk in reader {
                do {
                    try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
                } catch {
                    throw ObjectStoreError(.io, "writing \(path) failed", underlying: error)
                }
            }
        } catch {
            await reader.cancel()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return reader.info
    }
}

/// An object's content as a sequence of chunks, plus its info. Iterate it once.
///
/// The last chunk is only handed out after the size and SHA-256 of everything read matched the meta, so a
/// complete iteration means verified content. Stopping early: call `cancel()` to delete the consumer now
/// (otherwise the server removes it after its inactivity threshold).
public struct ObjectReader: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// The object's info (of the link target when the name was a link).
    public let info: ObjectInfo
    let consumer: OrderedConsumer?

    init(info: ObjectInfo, consumer: OrderedConsumer?) {
        self.info = info
        self.consumer = consumer
    }

    /// Stops reading: deletes the consumer and ends the sequence.
    public func cancel() async {
        await consumer?.stop()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(info: info, consumer: consumer, base: consumer?.makeAsyncIterator())
    }

    /// Yields chunks and verifies the object at its end.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let info: ObjectInfo
        let consumer: OrderedConsumer?
        var base: OrderedConsumer.AsyncIterator?
        var hasher = SHA256()
        var received: UInt64 = 0
        var chunks = 0
        var finished = false

        init(info: ObjectInfo, consumer: OrderedConsumer?, base: OrderedConsumer.AsyncIterator?) {
            self.info = info
            self.consumer = consumer
            self.base = base
        }

        public mutating func next() async throws -> ByteBuffer? {
            guard !finished, base != nil else { return nil }
            let next: JetStreamMessage?
            do {
                next = try await base!.next()
            } catch {
                finished = true
                await consumer?.stop()
                throw error
            }
            guard let message = next else {
                finished = true
                throw ObjectStoreError(
                    .incomplete,
                    "object \"\(info.name)\" in bucket \(info.bucket): the chunk stream ended after \(chunks) chunks (\(received) of \(info.size) bytes)")
            }
            let chunk = message.payload
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            received += UInt64(chunk.readableBytes)
            chunks += 1
            if received > info.size {
                try await fail(.digestMismatch, "more content than the \(info.size) bytes the meta records")
            }
            if message.metadata.pending == 0 {
                finished = true
                await consumer?.stop()
                try verify()
            }
            return chunk
        }

        private mutating func fail(_ code: ObjectStoreError.Code, _ detail: String) async throws -> Never {
            finished = true
            await consumer?.stop()
            throw ObjectStoreError(code, "object \"\(info.name)\" in bucket \(info.bucket): \(detail)")
        }

        private func verify() throws {
            let prefix = "object \"\(info.name)\" in bucket \(info.bucket)"
            guard received == info.size else {
                throw ObjectStoreError(.incomplete, "\(prefix): read \(received) bytes in \(chunks) chunks, meta records \(info.size) bytes in \(info.chunks)")
            }
            if info.chunks > 0 && chunks != info.chunks {
                throw ObjectStoreError(.incomplete, "\(prefix): read \(chunks) chunks, meta records \(info.chunks)")
            }
            guard let digest = info.digest else {
                throw ObjectStoreError(.invalidDigestFormat, "\(prefix): meta has no digest")
            }
            guard let expected = ObjectStoreDigest.parse(digest) else {
                throw ObjectStoreError(.invalidDigestFormat, "\(prefix): digest \"\(digest)\" is not SHA-256=<base64url>")
            }
            let actual = Array(hasher.finalize())
            guard actual == expected else {
                throw ObjectStoreError(
                    .digestMismatch,
                    "\(prefix): content hashes to \(ObjectStoreDigest.prefix)\(ObjectStoreBase64.encode(actual)), meta records \(digest)")
            }
        }
    }
}
