// Guests built in the tests (the toolchain's clang with Debian's wasi-libc, wat2wasm) and a HostServices
// backed by a real NATS server.

import NativeRuntime
import Foundation
import JetStream
import NATS
import NexAPI
import NexHostServices
import Testing
import WasmRuntime

struct GuestBuildError: Error, CustomStringConvertible {
    var description: String
}

enum Guests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let examples = packageRoot.appendingPathComponent("examples/wasm")

    /// The multi-mode test guest (the subject picks the behaviour; see Guests/modes.c).
    static let modes = Result { try buildC(source: GuestSources.modes, name: "modes") }
    static let host = Result { try buildC(source: GuestSources.host, name: "host") }
    static let kvCounter = Result { try buildC(examples.appendingPathComponent("kv_counter.c")) }
    static let big = Result { try buildBig() }

    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nex-wasm-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func builtins() throws -> String {
        let base = "/usr/lib"
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: base))?.filter { $0.hasPrefix("llvm-") } ?? []
        for llvm in candidates.sorted().reversed() {
            let clangDir = "\(base)/\(llvm)/lib/clang"
            for version in (try? FileManager.default.contentsOfDirectory(atPath: clangDir)) ?? [] {
                let path = "\(clangDir)/\(version)/lib/wasi/libclang_rt.builtins-wasm32.a"
                if FileManager.default.fileExists(atPath: path) { return path }
            }
        }
        throw GuestBuildError(description: "libclang_rt.builtins-wasm32.a not found (libclang-rt-*-dev-wasm32)")
    }

    static func buildC(source: String, name: String) throws -> [UInt8] {
        let file = try scratchDirectory().appendingPathComponent("\(name).c")
        try Data(source.utf8).write(to: file)
        return try buildC(file)
    }

    static func buildC(_ source: URL) throws -> [UInt8] {
        let output = try scratchDirectory().appendingPathComponent(source.deletingPathExtension().lastPathComponent + ".wasm")
        try run("clang", [
            "--target=wasm32-wasi", "--sysroot=/usr", "-isystem", "/usr/include/wasm32-wasi", "-L/usr/lib/wasm32-wasi",
            "-O2", "-nodefaultlibs", "-I", examples.path, "-o", output.path, source.path, "-lc", try builtins(),
        ])
        return Array(try Data(contentsOf: output))
    }

    /// Assembles WAT; `features`: wat2wasm flags such as `--enable-threads`.
    static func wat(_ text: String, features: [String] = []) throws -> [UInt8] {
        let directory = try scratchDirectory()
        let source = directory.appendingPathComponent("module.wat"), output = directory.appendingPathComponent("module.wasm")
        try Data(text.utf8).write(to: source)
        try run("wat2wasm", features + [source.path, "-o", output.path])
        return Array(try Data(contentsOf: output))
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let result = try Program.run(tool, arguments)
        guard result.succeeded else {
            throw GuestBuildError(description: "\(tool) failed: \(result.standardError)")
        }
    }

    // MARK: - The big module

    static let bigFunctions = 2500
    static let bigTableSize = 40000

    /// A C module of the 857 KB class: many generated functions called through a function-pointer table and
    /// a large static table. It prints stdin ‖ argv[1] ‖ ":" ‖ a checksum ``bigChecksum()`` reproduces.
    static func buildBig() throws -> [UInt8] {
        var c = "#include <stdio.h>\n#include <unistd.h>\n"
        c += "static const unsigned table[\(bigTableSize)] = {"
        c += (0..<bigTableSize).map { String(tableValue($0)) }.joined(separator: ",")
        c += "};\n"
        for i in 0..<bigFunctions {
            c += "__attribute__((noinline)) static unsigned f\(i)(unsigned x) {\n"
            for k in 0..<12 {
                let (a, b) = constants(i, k)
                c += "  x ^= x << \(k % 7 + 3); x += \(a)u; x ^= x >> \(k % 5 + 2); x *= \(b)u;\n"
            }
            c += "  return x;\n}\n"
        }
        c += "static unsigned (*const fns[\(bigFunctions)])(unsigned) = {"
        c += (0..<bigFunctions).map { "f\($0)" }.joined(separator: ",")
        c += "};\n"
        c += """
        int main(int argc, char **argv) {
            char buf[4096]; ssize_t n;
            while ((n = read(0, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
            unsigned acc = 0;
            for (int i = 0; i < \(bigFunctions); i++) acc = fns[i](acc);
            for (int i = 0; i < \(bigTableSize); i++) acc += table[i];
            printf("%s:%u", argc > 1 ? argv[1] : "", acc);
            return 0;
        }

        """
        let directory = try scratchDirectory()
        let source = directory.appendingPathComponent("big.c")
        try Data(c.utf8).write(to: source)
        return try buildC(source)
    }

    static func tableValue(_ k: Int) -> UInt32 { UInt32(truncatingIfNeeded: k &* k &* 7 &+ 3) }

    static func constants(_ i: Int, _ k: Int) -> (UInt32, UInt32) {
        (UInt32(truncatingIfNeeded: i &* 2_654_435_761 &+ k &* 40503 &+ 1),
         UInt32(truncatingIfNeeded: (i &* 7919 &+ k &* 104_729) | 1))
    }

    static func bigChecksum() -> UInt32 {
        var acc: UInt32 = 0
        for i in 0..<bigFunctions {
            var x = acc
            for k in 0..<12 {
                let (a, b) = constants(i, k)
                x ^= x << UInt32(k % 7 + 3)
                x &+= a
                x ^= x >> UInt32(k % 5 + 2)
                x &*= b
            }
            acc = x
        }
        for k in 0..<bigTableSize { acc &+= tableValue(k) }
        return acc
    }
}

/// Log lines an engine wrote, in order.
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(NexLogLevel, String)] = []

    var log: @Sendable (NexLogLevel, String) -> Void {
        { [self] level, line in lock.withLock { entries.append((level, line)) } }
    }

    var lines: [(NexLogLevel, String)] { lock.withLock { entries } }
}

func functionContext(environment: [String: String] = [:], limits: FunctionLimits = FunctionLimits(),
                     hostServices: (any HostServices)? = nil, logs: LogCollector = LogCollector()) -> FunctionContext {
    FunctionContext(workloadID: "wl-test", workloadName: "wasm-test", namespace: "default", environment: environment,
                    limits: limits, hostServices: hostServices, log: logs.log)
}

/// Deploys `artifact`, runs `body`, and always shuts the engine down.
func withEngine<T>(_ artifact: [UInt8], context: FunctionContext = functionContext(), workers: Int = 2,
                   _ body: (any FunctionEngine) async throws -> T) async throws -> T {
    let engine = try await WasmEngineFactory(workerCount: workers).compile(artifact, context: context)
    do {
        let result = try await body(engine)
        await engine.shutdown()
        return result
    } catch {
        await engine.shutdown()
        throw error
    }
}

/// The error an invocation threw (a test failure when it succeeded).
func invocationError(_ engine: any FunctionEngine, subject: String, payload: [UInt8] = []) async -> FunctionError? {
    do throws(FunctionError) {
        let reply = try await engine.invoke(subject: subject, payload: payload)
        Issue.record("expected a failure, got a reply of \(reply.count) bytes")
        return nil
    } catch {
        return error
    }
}

func compileError(_ artifact: [UInt8], context: FunctionContext = functionContext()) async -> FunctionError? {
    do throws(FunctionError) {
        let engine = try await WasmEngineFactory(workerCount: 1).compile(artifact, context: context)
        await engine.shutdown()
        Issue.record("expected the deploy to fail")
        return nil
    } catch {
        return error
    }
}

// MARK: - Host services on a real NATS server

/// Host services over a NATS connection and its JetStream: KV and object store buckets, publish and request.
/// HTTP goes as a NATS request to `http.<METHOD>` (payload: url, newline, body), answered by the test, so the
/// `nex.http` plumbing is exercised without an outside web server.
struct NATSBackedHostServices: HostServices {
    let client: NATSClient
    let jetStream: JetStreamContext

    private func mapped(_ error: any Error) -> HostServiceError {
        if let error = error as? NATSError {
            if error.code == .noResponders { return HostServiceError(code: .noResponders, message: "no responders: \(error)") }
            if error.code == .timeout { return HostServiceError(code: .timeout, message: "\(error)") }
        }
        if let error = error as? KeyValueError, error.code == .invalidBucketName || error.code == .invalidKey {
            return HostServiceError(code: .invalidArgument, message: "\(error)")
        }
        return HostServiceError(code: .failed, message: "\(error)")
    }

    func kvGet(bucket: String, key: String) async throws(HostServiceError) -> [UInt8]? {
        do { return try await jetStream.keyValue(bucket).get(key).map { Array($0.value.readableBytesView) } } catch { throw mapped(error) }
    }

    func kvSet(bucket: String, key: String, value: [UInt8]) async throws(HostServiceError) -> UInt64 {
        do { return try await jetStream.keyValue(bucket).put(key, value) } catch { throw mapped(error) }
    }

    func kvDelete(bucket: String, key: String) async throws(HostServiceError) {
        do { try await jetStream.keyValue(bucket).delete(key) } catch { throw mapped(error) }
    }

    func kvKeys(bucket: String) async throws(HostServiceError) -> [String] {
        do { return try await jetStream.keyValue(bucket).keys() } catch { throw mapped(error) }
    }

    func objectGet(bucket: String, name: String) async throws(HostServiceError) -> [UInt8]? {
        do {
            let store = try await jetStream.objectStore(bucket)
            guard (try? await store.info(name)) != nil else { return nil }
            return try await store.getBytes(name)
        } catch { throw mapped(error) }
    }

    func objectPut(bucket: String, name: String, value: [UInt8]) async throws(HostServiceError) -> ObjectInfo {
        do { return try await jetStream.objectStore(bucket).put(name, bytes: value) } catch { throw mapped(error) }
    }

    func objectDelete(bucket: String, name: String) async throws(HostServiceError) {
        do { try await jetStream.objectStore(bucket).delete(name) } catch { throw mapped(error) }
    }

    func objectList(bucket: String) async throws(HostServiceError) -> [ObjectInfo] {
        do { return try await jetStream.objectStore(bucket).list() } catch { throw mapped(error) }
    }

    func publish(subject: String, payload: [UInt8]) async throws(HostServiceError) {
        do { try await client.publish(payload, to: subject) } catch { throw mapped(error) }
    }

    func request(subject: String, payload: [UInt8], timeout: Duration?) async throws(HostServiceError) -> [UInt8] {
        do {
            return Array(try await client.request(payload, to: subject, timeout: timeout ?? .seconds(10)).payload.readableBytesView)
        } catch { throw mapped(error) }
    }

    func requestMany(subject: String, payload: [UInt8], timeout: Duration?, maxReplies: Int?) async throws(HostServiceError) -> [[UInt8]] {
        throw HostServiceError(code: .failed, message: "requestMany is not offered to Wasm guests")
    }

    func http(_ method: HostHTTPMethod, url: String, body: [UInt8]?) async throws(HostServiceError) -> HostHTTPResponse {
        do {
            let reply = try await client.request(Array(url.utf8) + [10] + (body ?? []), to: "http.\(method.rawValue)", timeout: .seconds(10))
            return HostHTTPResponse(status: 201, headers: ["content-type": "text/plain", "x-test": "a, b"],
                                    body: Array(reply.payload.readableBytesView))
        } catch { throw mapped(error) }
    }
}

/// An invocation with untyped throws (for use inside `#expect`, whose expansion does not handle typed throws).
func run(_ engine: any FunctionEngine, subject: String, payload: [UInt8]) async throws -> [UInt8] {
    try await engine.invoke(subject: subject, payload: payload)
}
