import Crypto
import Foundation
import JetStream
import NATSTestSupport
import NIOCore
import Testing

/// A 256 MiB object goes through put and get without the process holding it.
///
/// What is measured: the resident set (`VmRSS` in /proc/self/status), sampled every 10 ms while the transfer
/// runs, minus `VmRSS` just before it starts (peak RSS, `VmHWM`, would include whatever ran earlier).
/// RSS is a property of the whole process, and Swift Testing runs other suites concurrently in the same process
/// (measured: +80 MiB of noise with the whole JetStream target running), so the transfer runs in a child
/// process: this test starts the test binary again with a filter selecting only `isolatedTransfer`, which is
/// enabled only there, and reads its measurements from a file. Bound: 64 MiB. By design put holds at most 32
/// unacknowledged 128 KiB chunks plus one 1 MiB input piece (about 7 MiB measured); get is bounded by the
/// server's push flow-control window (32 MiB in nats-server 2.9), because the ordered consumer answers flow
/// control only as the reader consumes (about 28 MiB measured).
@Suite(.timeLimit(.minutes(2))) struct ObjectStoreMemoryTests {
    static let objectSize = 256 * 1024 * 1024
    static let limit = 64 * 1024 * 1024
    static let reportVariable = "OBJECT_STORE_MEMORY_REPORT"

    @Test func twoHundredFiftySixMebibytesStreamInBoundedMemory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("objstore-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("report.json")
        let output = directory.appendingPathComponent("output.txt")

        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let status = try await runChild(
            executable,
            arguments: ["--testing-library", "swift-testing", "--filter", "ObjectStoreMemoryTests/isolatedTransfer"],
            environment: [Self.reportVariable: report.path], output: output)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "the isolated transfer failed:\n\(log.suffix(4000))")
        let data = try Data(contentsOf: report)
        let measured = try JSONDecoder().decode(MemoryReport.self, from: data)
        print("object store memory (isolated process): put grew RSS by \(measured.putGrowth / 1024) KiB, get by \(measured.getGrowth / 1024) KiB")
        #expect(measured.putGrowth < Self.limit, "put grew RSS by \(measured.putGrowth / 1024 / 1024) MiB")
        #expect(measured.getGrowth < Self.limit, "get grew RSS by \(measured.getGrowth / 1024 / 1024) MiB")
        #expect(measured.putSize == Self.objectSize)
        #expect(measured.received == Self.objectSize)
        #expect(measured.digestsMatch)
    }

    /// The transfer itself; runs only in the child process started above.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[reportVariable] != nil))
    func isolatedTransfer() async throws {
        let reportPath = try #require(ProcessInfo.processInfo.environment[Self.reportVariable])
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try objectStoreClientConfiguration(server)) { client in
                let store = try await JetStreamContext(client: client).createObjectStore(.init(bucket: "big"))
                var expected = SHA256()
                for try await piece in GeneratedObject(size: Self.objectSize) {
                    piece.withUnsafeReadableBytes { expected.update(bufferPointer: $0) }
                }
                let expectedDigest = objectStoreDigestString(Array(expected.finalize()))

                let (put, putGrowth) = try await measuringRSSGrowth {
                    try await store.put(ObjectMeta(name: "huge"), data: GeneratedObject(size: Self.objectSize))
                }
                #expect(put.chunks == 2048)

                let (received, getGrowth) = try await measuringRSSGrowth {
                    var total = 0
                    var hasher = SHA256()
                    for try await chunk in try await store.get("huge") {
                        total += chunk.readableBytes
                        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    }
                    return (total, Array(hasher.finalize()))
                }
                let report = MemoryReport(
                    putGrowth: putGrowth, getGrowth: getGrowth, putSize: Int(put.size), received: received.0,
                    digestsMatch: put.digest == expectedDigest && objectStoreDigestString(received.1) == expectedDigest)
                try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: reportPath))
            }
        }
    }
}

struct MemoryReport: Codable {
    var putGrowth: Int
    var getGrowth: Int
    var putSize: Int
    var received: Int
    var digestsMatch: Bool
}

/// Runs a process to completion without blocking a thread; output and errors go to `output`. A process still
/// running after `timeout` is terminated (so a hang fails the test instead of leaving an orphan).
func runChild(
    _ executable: String, arguments: [String], environment: [String: String], output: URL, timeout: Duration = .seconds(90)
) async throws -> Int32 {
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = handle
    process.standardError = handle
    return try await withThrowingTaskGroup(of: Int32?.self) { group in
        group.addTask {
            try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled && process.isRunning { process.terminate() }
            return nil
        }
        var status: Int32 = -1
        for try await result in group {
            if let result {
                status = result
                break
            }
        }
        group.cancelAll()
        return status
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
