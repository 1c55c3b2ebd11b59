import Foundation
import JetStream
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Uploads of `nex devrun` to the `NEXCLIFILES` object store, and reads of `nex run`'s artifact info.
enum ArtifactStore {
    /// The bucket `nex devrun` uploads to (0.x name, so 0.x nodes and tools find the files).
    static let devBucket = "NEXCLIFILES"
    /// 0.x's default bucket size: 100 MiB.
    static let defaultMaxBytes: Int64 = 100 * 1024 * 1024
    static let devBucketDescription = "Ad hoc object storage for Nex CLI developer mode uploads"
    /// Files at least this large get a progress bar (when stderr is a terminal).
    static let progressThreshold: UInt64 = 4 * 1024 * 1024

    /// Stores the file at `path` as `key` in `NEXCLIFILES`, creating the bucket with `maxBytes` when it
    /// does not exist. Returns the object info, whose digest is the sha256 of the bytes sent.
    static func upload(path: String, key: String, maxBytes: Int64, client: NATSClient, domain: String?,
                       timeout: Duration) async throws(CLIError) -> ObjectInfo {
        let jetStream = JetStreamContext(client: client, domain: domain, timeout: timeout)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot open \(path)") }
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        let progress = size >= progressThreshold && isatty(STDERR_FILENO) == 1 ? ProgressBar(total: size, label: key) : nil
        do {
            let store: ObjectStore
            do {
                store = try await jetStream.objectStore(devBucket)
            } catch let error as ObjectStoreError where error.code == .bucketNotFound {
                var config = ObjectStoreConfig(bucket: devBucket)
                config.maxBytes = maxBytes
                config.description = devBucketDescription
                store = try await jetStream.createObjectStore(config)
            }
            let info = try await store.put(ObjectMeta(name: key), data: FileReader(handle: handle, path: path, progress: progress))
            progress?.finish()
            return info
        } catch let error as CLIError {
            throw error
        } catch {
            progress?.finish()
            throw CLIError("cannot upload \(path) to the object store \(devBucket): \(error)")
        }
    }

    /// The info of `key` in `bucket` (for `nex run`).
    static func info(bucket: String, key: String, client: NATSClient, domain: String?, timeout: Duration) async throws(CLIError) -> ObjectInfo {
        let jetStream = JetStreamContext(client: client, domain: domain, timeout: timeout)
        do {
            return try await jetStream.objectStore(bucket).info(key)
        } catch {
            throw CLIError("cannot read nats://\(bucket)/\(key): \(error)")
        }
    }
}

/// The file in 128 KiB pieces, advancing the progress bar as they are read.
struct FileReader: AsyncSequence {
    typealias Element = ByteBuffer
    let handle: FileHandle
    let path: String
    let progress: ProgressBar?

    func makeAsyncIterator() -> Iterator { Iterator(handle: handle, path: path, progress: progress) }

    struct Iterator: AsyncIteratorProtocol {
        let handle: FileHandle
        let path: String
        let progress: ProgressBar?

        mutating func next() async throws -> ByteBuffer? {
            guard let data = try handle.read(upToCount: 128 * 1024), !data.isEmpty else { return nil }
            progress?.advance(by: UInt64(data.count))
            return ByteBuffer(bytes: data)
        }
    }
}

/// A one-line progress bar on stderr, redrawn in place with `\r`. Only used when stderr is a terminal.
final class ProgressBar: @unchecked Sendable {
    // Mutated only by the one upload loop that owns it.
    private var done: UInt64 = 0
    private var lastPercent = -1
    private let total: UInt64
    private let label: String

    init(total: UInt64, label: String) {
        self.total = max(total, 1)
        self.label = label
    }

    func advance(by count: UInt64) {
        done += count
        let percent = Int(min(done, total) * 100 / total)
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        writeAll("\rUploading \(label) \(bar) \(percent)% of \(ProgressBar.format(total))", to: STDERR_FILENO)
    }

    func finish() {
        if lastPercent >= 0 { writeAll("\n", to: STDERR_FILENO) }
    }

    static func format(_ bytes: UInt64) -> String {
        let mib = Double(bytes) / 1_048_576
        return mib >= 1 ? "\((mib * 10).rounded() / 10) MiB" : "\(bytes / 1024) KiB"
    }
}
