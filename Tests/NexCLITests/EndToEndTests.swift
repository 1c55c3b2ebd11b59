import Foundation
import NATSTestSupport
import NexAPI
import Testing

/// Runs the real `nex` executable against a real nats-server.
@Suite("NexCLITests end to end")
struct EndToEndTests {
    @Test func nodeUpListInfoLameDuckAndSignalShutdown() async throws {
        let server = try await NATSServer.start(.init(jetStream: true))
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seed = directory + "/node.nk"
        let node = try NexProcess(["node", "up", "--no-sandbox", "-s", server.url, "--node-seed", seed, "--tags", "e2e=yes"],
                                  directory: directory)
        do {
            // Poll until the node answers; each listing waits the (short) ping timeout.
            var listed: [PingResponse] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while listed.isEmpty, ContinuousClock.now < deadline, node.isRunning {
                let result = try await runNex(["node", "ls", "-s", server.url, "--json", "--timeout", "500ms"], directory: directory)
                if result.status == 0 {
                    listed = try NexJSON.decode([PingResponse].self, from: Array(result.stdout.utf8))
                } else {
                    #expect(result.stderr.contains("No nodes discovered"))
                }
            }
            let entry = try #require(listed.first, "node never showed up; node stderr:\n\(node.stderr)")
            #expect(listed.count == 1)
            #expect(entry.tags["e2e"] == "yes")
            #expect(entry.tags["nex.unsafe"] == "true")
            // The persisted seed is the node's identity.
            let seedText = try String(contentsOfFile: seed, encoding: .utf8)
            #expect(seedText.hasPrefix("SN"))

            let table = try await runNex(["node", "ls", "-s", server.url, "--timeout", "500ms"], directory: directory)
            #expect(table.status == 0)
            #expect(table.stdout.contains("NATS Execution Nodes"))
            #expect(table.stdout.contains(entry.nodeID))

            let info = try await runNex(["node", "info", entry.nodeID, "-s", server.url], directory: directory)
            #expect(info.status == 0)
            #expect(info.stdout.contains("Nex Node Information"))
            #expect(info.stdout.contains("Node: \(entry.nodeID)"))
            #expect(info.stdout.contains("e2e=yes"))
            let infoJSON = try await runNex(["node", "info", entry.nodeID, "-s", server.url, "--json"], directory: directory)
            let decoded = try NexJSON.decode(InfoResponse.self, from: Array(infoJSON.stdout.utf8))
            #expect(decoded.publicXKey == entry.targetXKey)

            let lameDuck = try await runNex(["lameduck", entry.nodeID, "-s", server.url], directory: directory)
            #expect(lameDuck.status == 0)
            #expect(lameDuck.stdout.contains("Command to enter lame duck mode issued to \(entry.nodeID)"))
            let afterLameDuck = try await runNex(["node", "ls", "-s", server.url, "--timeout", "500ms"], directory: directory)
            #expect(afterLameDuck.stdout.contains(entry.nodeID + "*"))

            node.signal(SIGTERM)
            let status = try await node.waitForExit()
            #expect(status == 0, "node stderr:\n\(node.stderr)")
            #expect(node.stdout.contains("Nex node \(entry.nodeID) is up, connected to \(server.url)"))
        } catch {
            node.signal(SIGKILL)
            _ = try? await node.waitForExit()
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func unknownNodeAndNoNodesAreOneLineErrors() async throws {
        let server = try await NATSServer.start()
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = "NDUOKSA6XSCPFEWSGYUQ226KRMXHOWY42G273JQZMWZCN2R2QJH6SF2F"
        let list = try await runNex(["node", "ls", "-s", server.url, "--timeout", "200ms"], directory: directory)
        #expect(list.status != 0)
        #expect(list.stderr.contains("No nodes discovered"))
        let info = try await runNex(["node", "info", missing, "-s", server.url, "--timeout", "500ms"], directory: directory)
        #expect(info.status != 0)
        #expect(info.stderr.contains("No such node: \(missing)"))
        let lameDuck = try await runNex(["lameduck", missing, "-s", server.url, "--timeout", "500ms"], directory: directory)
        #expect(lameDuck.status != 0)
        #expect(lameDuck.stderr.contains("No such node"))
        let invalid = try await runNex(["node", "info", "not-a-node", "-s", server.url], directory: directory)
        #expect(invalid.status != 0)
        #expect(invalid.stderr.contains("not-a-node"))
        await server.stop()
    }

    @Test func nodeUpSandboxedSaysWhyItCannot() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A rootfs without an agent: the sandbox cannot start, and the node says so before connecting.
        let rootfs = directory + "/empty-rootfs"
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
        let config = directory + "/config.json"
        try #"{"rootfs_filepath": "\#(rootfs)"}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await runNex(["node", "up", "-s", "nats://127.0.0.1:1", "--config", config, "--node-seed", directory + "/node.nk"],
                                      directory: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot run workloads sandboxed on this host"))
        #expect(result.stderr.contains("rootfs"))
        #expect(result.stderr.contains("--no-sandbox"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/node.nk"))
    }

    @Test func nodeUpWithUnreachableServerFails() async throws {
        // A server started and stopped again leaves a port nobody listens on.
        let server = try await NATSServer.start()
        let url = server.url
        await server.stop()
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await runNex(["node", "up", "--no-sandbox", "-s", url, "--node-seed", directory + "/node.nk"],
                                      directory: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("failed"))
        #expect(!result.stdout.contains("is up"))
    }

    @Test func invalidConfigurationListsProblems() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/config.json"
        try #"{"no_sandbox": true, "valid_issuers": ["bogus"]}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await runNex(["node", "up", "--config", config, "-s", "nats://127.0.0.1:1",
                                       "--node-seed", directory + "/node.nk"], directory: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid node configuration"))
        #expect(result.stderr.contains("valid_issuers"))
    }

    @Test func versionAndHelp() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let version = try await runNex(["--version"], directory: directory)
        #expect(version.status == 0)
        #expect(!version.stdout.isEmpty)
        let help = try await runNex(["node", "--help"], directory: directory)
        #expect(help.status == 0)
        #expect(help.stdout.contains("up"))
        #expect(help.stdout.contains("ls"))
        #expect(help.stdout.contains("info"))
    }
}

// MARK: - Running nex

struct NexResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `nex` executable next to the test bundle (both live in the build's bin directory).
func nexExecutable() throws -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The bundle may be a directory (`….xctest/…`); walk up until the sibling `nex` appears.
    for _ in 0..<5 {
        let candidate = directory.appendingPathComponent("nex").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/nex").path
    guard FileManager.default.isExecutableFile(atPath: fromSource) else {
        throw NexNotBuilt()
    }
    return fromSource
}

struct NexNotBuilt: Error, CustomStringConvertible {
    var description: String { "the nex executable was not found; run swift build --build-tests" }
}

func makeDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nex-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A running `nex` with its output in files (pipes could fill up and stall it).
final class NexProcess: @unchecked Sendable {
    private let process = Process()
    private let outPath: String
    private let errPath: String

    init(_ arguments: [String], directory: String) throws {
        let id = UUID().uuidString
        outPath = directory + "/\(id).out"
        errPath = directory + "/\(id).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try nexExecutable())
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        // Isolate from the user's setup: no ~/.nex, no ambient NATS or sandbox settings.
        environment["HOME"] = directory
        for key in ["NATS_URL", "NATS_TIMEOUT", "NEX_NAMESPACE", "NEX_NODE_NOSANDBOX", "NEX_NODE_TAGS"] {
            environment.removeValue(forKey: key)
        }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// The exit status; a hang guard (not a speed assertion) kills the process after `limit`.
    func waitForExit(limit: Duration = .seconds(90)) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                throw NexHung(stderr: stderr)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

struct NexHung: Error, CustomStringConvertible {
    var stderr: String
    var description: String { "nex did not exit; stderr:\n\(stderr)" }
}

func runNex(_ arguments: [String], directory: String) async throws -> NexResult {
    let process = try NexProcess(arguments, directory: directory)
    let status = try await process.waitForExit()
    return NexResult(status: status, stdout: process.stdout, stderr: process.stderr)
}
