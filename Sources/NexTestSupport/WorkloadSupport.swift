import NativeRuntime
import Foundation
import Synchronization
import JetStream
import NATS
import NKeys
import NexAPI
import NexClient
import NexNode

/// The static C echo service (`Benchmarks/c/echo_service.c`).
public enum EchoService {
    /// Built once per test run.
    public static let path: String = {
        let directory = NSTemporaryDirectory() + "nex-echo-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            return try build(into: directory)
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    /// Builds it with gcc (static) as `name` in `directory`; returns the path.
    public static func build(into directory: String, name: String = "echo_service") throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/c/echo_service.c").path
        let output = directory + "/" + name
        let gcc = try Program.run("/usr/bin/gcc", ["-O2", "-static", "-o", output, source])
        guard gcc.succeeded else {
            throw ToolFailure(message: "gcc could not build \(source) statically (is libc6-dev installed?): \(gcc.standardError)")
        }
        return output
    }
}

/// A compiler or other tool a test or benchmark needs failed.
public struct ToolFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Keys of one workload issuer, as `nex devrun` keeps them.
public struct Issuer: Sendable {
    public var key = KeyPair.generate(.account)
    public var xkey = CurveKeyPair.generate()

    public init() {}
}

/// An artifact uploaded to an object store: where it is and its sha256 hex.
public struct Artifact: Sendable {
    public var location: ArtifactLocation
    public var hash: String

    public init(location: ArtifactLocation, hash: String) {
        self.location = location
        self.hash = hash
    }
}

/// Puts `path` into bucket `NEXTEST` under `key`.
public func upload(_ path: String, key: String, with client: NATSClient) async throws -> Artifact {
    let jetStream = JetStreamContext(client: client, timeout: .seconds(10))
    let store: ObjectStore
    do {
        store = try await jetStream.objectStore("NEXTEST")
    } catch {
        store = try await jetStream.createObjectStore(ObjectStoreConfig(bucket: "NEXTEST"))
    }
    let info = try await store.putFile(key, path: path)
    guard let hash = DeployRequestBuilder.hash(fromObjectStoreDigest: info.digest ?? "") else {
        throw TestTimeout(what: "a SHA-256 digest for \(key) (the object store gave \(info.digest ?? "none"))")
    }
    return Artifact(location: ArtifactLocation(bucket: "NEXTEST", key: key), hash: hash)
}

/// A signed deploy request for the echo service on `node`.
public func echoDeployRequest(_ artifact: Artifact, name: String, on node: NodeID, nodeXKey: String, issuer: Issuer,
                       environment: [String: String], essential: Bool? = nil) throws -> DeployRequest {
    let builder = DeployRequestBuilder(workloadName: try WorkloadName(name), workloadType: .native, location: artifact.location,
                                       hash: artifact.hash, environment: environment, essential: essential)
    return try builder.build(for: node, nodeXKey: nodeXKey, issuer: issuer.key, senderXKey: issuer.xkey)
}

/// Requests `subject` until someone answers (a freshly started service needs a moment to subscribe).
public func requestUntilAnswered(_ client: NATSClient, _ payload: String, to subject: String, limit: Duration = .seconds(20)) async throws -> String {
    let deadline = ContinuousClock.now + limit
    while true {
        do {
            return try await client.request(payload, to: subject, timeout: .seconds(2)).string
        } catch {
            guard ContinuousClock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Polls `condition` until it holds (a hang guard, not a timing assertion).
public func eventually(_ what: String, limit: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestTimeout(what: what)
}

/// Whether process `pid` exists (and is not a zombie).
public func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Processes whose environment contains `marker` (e.g. an agent's `NEX_AGENT_DIR` under a test's
/// work directory).
public func processes(withEnvironmentContaining marker: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return String(decoding: data, as: UTF8.self).contains(marker)
    }
}

/// A node options value for workload tests: agents under a private work directory.
public func workloadNodeOptions(workDirectory: String) -> NexNode.Options {
    NexNode.Options(heartbeatInterval: .seconds(3600), lameDuckShutdownDelay: .seconds(3600), workDirectory: workDirectory,
                    agentPingInterval: .seconds(1), stopGracePeriod: .seconds(2),
                    restartPolicy: AgentRestartPolicy(maxRestarts: 2, initialBackoffMilliseconds: 50, maxBackoffMilliseconds: 200))
}

public func temporaryDirectory(_ label: String) -> String {
    let path = NSTemporaryDirectory() + "nex-\(label)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

public func noSandboxConfiguration(types: [WorkloadType] = [.native]) -> NodeConfiguration {
    var configuration = NodeConfiguration()
    configuration.noSandbox = true
    configuration.workloadTypes = types
    configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects
    configuration.agentHandshakeTimeoutMilliseconds = 20_000
    return configuration
}

/// Everything a sequence yields, gathered by a background task, so a test can wait for several
/// different elements of one subscription (an iterator can be consumed only once).
public final class Collector<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let elements = Mutex<[Element]>([])
    }
    private let storage = Storage()
    private let task: Task<Void, Never>

    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let storage = self.storage
        task = Task {
            do {
                for try await element in sequence { storage.elements.withLock { $0.append(element) } }
            } catch {}
        }
    }

    deinit { task.cancel() }

    public var all: [Element] { storage.elements.withLock { $0 } }

    /// The first element that satisfies `predicate`, waiting for it up to `limit`.
    public func first(limit: Duration = .seconds(20), where predicate: @Sendable (Element) -> Bool) async throws -> Element {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let match = all.first(where: predicate) { return match }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestTimeout(what: "a matching element")
    }
}

/// WASI guests in C, built with the toolchain's clang against Debian's wasi-libc.
public enum WasmGuest {

    /// The clang resource directory that has Debian's wasm32 builtins (libclang-rt-*-dev-wasm32).
    public static func wasmResourceDirectory() -> String? {
        let base = "/usr/lib"
        for llvm in ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter({ $0.hasPrefix("llvm-") }).sorted().reversed() {
            let clang = "\(base)/\(llvm)/lib/clang"
            for version in (try? FileManager.default.contentsOfDirectory(atPath: clang)) ?? []
            where FileManager.default.fileExists(atPath: "\(clang)/\(version)/lib/wasi/libclang_rt.builtins-wasm32.a") {
                return "\(clang)/\(version)"
            }
        }
        return nil
    }
    public static func build(_ source: String, includes: String? = nil) throws -> [UInt8] {
        let directory = temporaryDirectory("wasm-guest")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/guest.c", output = directory + "/guest.wasm"
        try source.write(toFile: input, atomically: true, encoding: .utf8)
        let clang = try Program.run("clang", ["--target=wasm32-wasi", "--sysroot=/usr", "-isystem", "/usr/include/wasm32-wasi",
                                              "-resource-dir", wasmResourceDirectory() ?? "/usr/lib/llvm-14/lib/clang/14.0.6", "-O1",
                                              "-o", output, input] + (includes.map { ["-I", $0] } ?? []))
        guard clang.succeeded, let bytes = FileManager.default.contents(atPath: output) else {
            throw ToolFailure(message: "clang could not build a wasm32-wasi guest (needs wasi-libc and libclang-rt-14-dev-wasm32): "
                + clang.standardError)
        }
        return Array(bytes)
    }
}

/// Puts `bytes` into bucket `NEXTEST` under `key`.
public func upload(bytes: [UInt8], key: String, with client: NATSClient) async throws -> Artifact {
    let path = NSTemporaryDirectory() + "nex-artifact-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await upload(path, key: key, with: client)
}
