import Crypto
import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// A 256 MiB object goes through put and get without the process holding it.
///
/// What is measured: the process's resident set (`VmRSS` in /proc/self/status), sampled every 10 ms while the
/// transfer runs, minus `VmRSS` just before it starts. Peak RSS (`VmHWM`) would include whatever other suites
/// running in the same process did earlier, so the growth during this transfer is the meaningful number. Other
/// suites may run concurrently and add to it, which is why the bound (64 MiB) is generous compared to what
/// put and get hold by design: put keeps at most 32 unacknowledged 128 KiB chunks plus one 1 MiB input piece
/// (about 7 MiB growth measured alone); get is bounded by the server's push flow-control window (32 MiB in
/// nats-server 2.9) because the ordered consumer answers flow control only as the reader consumes (about
/// 28 MiB measured alone). The measurements are printed.
@Suite(.timeLimit(.minutes(2))) struct ObjectStoreMemoryTests {
    static let objectSize = 256 * 1024 * 1024
    static let limit = 64 * 1024 * 1024

    @Test func twoHundredFiftySixMebibytesStreamInBoundedMemory() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try .init(url: server.url)) { client in
                let store = try await JetStreamContext(client: client).createObjectStore(.init(bucket: "big"))
                var expected = SHA256()
                for try await piece in GeneratedObject(size: Self.objectSize) {
                    piece.withUnsafeReadableBytes { expected.update(bufferPointer: $0) }
                }
                let expectedDigest = "SHA-256=" + Data(expected.finalize()).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")

                let (put, putGrowth) = try await measuringRSSGrowth {
                    try await store.put(ObjectMeta(name: "huge"), data: GeneratedObject(size: Self.objectSize))
                }
                #expect(put.size == UInt64(Self.objectSize))
                #expect(put.chunks == 2048)
                #expect(put.digest == expectedDigest)
                print("object store memory: put grew RSS by \(putGrowth / 1024) KiB")
                #expect(putGrowth < Self.limit, "put grew RSS by \(putGrowth / 1024 / 1024) MiB")

                let (received, getGrowth) = try await measuringRSSGrowth {
                    var total = 0
                    var hasher = SHA256()
                    for try await chunk in try await store.get("huge") {
                        total += chunk.readableBytes
                        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    }
                    return (total, Array(hasher.finalize()))
                }
                #expect(received.0 == Self.objectSize)
                #expect(objectStoreDigestString(received.1) == expectedDigest)
                print("object store memory: get grew RSS by \(getGrowth / 1024) KiB")
                #expect(getGrowth < Self.limit, "get grew RSS by \(getGrowth / 1024 / 1024) MiB")
            }
        }
    }
}

func objectStoreDigestString(_ digest: [UInt8]) -> String {
    "SHA-256=" + Data(digest).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
}

/// Resident set size in bytes, from /proc/self/status.
func residentSetBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
    return 0
}

/// Runs `body` while sampling RSS; returns its result and the largest growth over the value before.
func measuringRSSGrowth<T: Sendable>(_ body: () async throws -> T) async throws -> (T, Int) {
    let baseline = residentSetBytes()
    return try await withThrowingTaskGroup(of: Int.self) { group in
        group.addTask {
            var peak = 0
            while !Task.isCancelled {
                peak = max(peak, residentSetBytes())
                try? await Task.sleep(for: .milliseconds(10))
            }
            return peak
        }
        let result: T
        do {
            result = try await body()
        } catch {
            group.cancelAll()
            throw error
        }
        let afterwards = residentSetBytes()
        group.cancelAll()
        let sampled = try await group.next() ?? 0
        return (result, max(sampled, afterwards) - baseline)
    }
}

/// 256 MiB (or `size`) of deterministic content, produced 1 MiB at a time and never materialised: a fixed
/// pseudo-random block with the piece number stamped into its first bytes, so every piece differs.
struct GeneratedObject: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let pieceSize = 1024 * 1024
    static let block: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<pieceSize).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }()
    let size: Int

    func makeAsyncIterator() -> Iterator { Iterator(size: size) }

    struct Iterator: AsyncIteratorProtocol {
        let size: Int
        var produced = 0
        var index: UInt64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard produced < size else { return nil }
            let length = Swift.min(GeneratedObject.pieceSize, size - produced)
            var buffer = ByteBuffer(bytes: GeneratedObject.block[0..<length])
            buffer.setInteger(index, at: 0)
            produced += length
            index += 1
            return buffer
        }
    }
}
