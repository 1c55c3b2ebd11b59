import Foundation

/// Minimal child-process helpers for the interop tests: run a command to completion, or keep a
/// nats-server alive for the duration of a closure. (The real launcher lives in NATSTestSupport;
/// these stay self-contained so NKeys tests do not depend on it.)
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `executable` with `arguments` to completion; output goes through temporary files so a
/// chatty child never blocks on a full pipe.
func runProcess(_ executable: String, _ arguments: [String]) async throws -> ProcessOutput {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("stdout")
    let errURL = dir.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    defer { try? out.close(); try? err.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return ProcessOutput(
        status: status,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nkeys-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Starts `nats-server -c <file>` with `config` plus `listen: 127.0.0.1:-1`, waits for the log line
/// announcing the client port, runs `body` with the client URL, then stops the server.
func withNATSServer<T>(config: String, in dir: URL, _ body: (String) async throws -> T) async throws -> T {
    let configURL = dir.appendingPathComponent("server.conf")
    let logURL = dir.appendingPathComponent("server.log")
    try ("listen: 127.0.0.1:-1\n" + config).write(to: configURL, atomically: true, encoding: .utf8)
    _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    let log = try FileHandle(forWritingTo: logURL)
    defer { try? log.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: try natsServerPath())
    process.arguments = ["-c", configURL.path]
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
    defer {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    let marker = "Listening for client connections on 127.0.0.1:"
    var port: Int?
    // Generous bound so a broken server fails the test instead of hanging it; never asserted on.
    for _ in 0..<400 where port == nil {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        if let range = text.range(of: marker) {
            port = Int(text[range.upperBound...].prefix(while: \.isNumber))
        } else if !process.isRunning {
            throw ChildProcessError(description: "nats-server exited with \(process.terminationStatus):\n\(text)")
        } else {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
    guard let port else {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        throw ChildProcessError(description: "nats-server did not report its client port:\n\(text)")
    }
    return try await body("nats://127.0.0.1:\(port)")
}

/// Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
func natsServerPath() throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let candidates = path.split(separator: ":").map { "\($0)/nats-server" } + ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ChildProcessError(description: "nats-server not found on PATH or in /usr/sbin, /usr/bin, /usr/local/bin")
    }
    return found
}
