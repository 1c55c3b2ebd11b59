import Foundation

/// Runs `python3` (with nats-py, nkeys and pynacl, installed by `scripts/bootstrap.sh`) for
/// interoperability tests: a client nobody here wrote reads what we write and vice versa.
public enum Python {
    /// The result of a script run.
    public typealias Result = (exitCode: Int32, stdout: String, stderr: String)

    /// Runs `script` with `arguments` (available as `sys.argv[1:]`) and returns its exit code and
    /// output. A script still running after `timeout` is killed and reported as an error with its
    /// output so far; so is one whose task is cancelled.
    public static func run(
        _ script: String,
        arguments: [String] = [],
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        guard let python = findExecutable(ProcessInfo.processInfo.environment["PYTHON"] ?? "python3") else {
            throw NATSTestSupportError(code: .toolNotFound, message: "python3 not found; run scripts/bootstrap.sh")
        }
        let directory = try makeTemporaryDirectory(prefix: "nats-test-python")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scriptPath = directory + "/script.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let process = try ChildProcess.spawn(
            executable: python,
            arguments: [scriptPath] + arguments,
            outputPath: directory + "/stdout",
            errorPath: directory + "/stderr"
        )
        let exited: Bool
        do {
            exited = try await process.waitForExit(timeout: timeout)
        } catch {
            process.send(SIGKILL)
            process.reap()
            throw error
        }
        if !exited { process.send(SIGKILL) }
        process.reap()
        let stdout = readTextFile(directory + "/stdout")
        let stderr = readTextFile(directory + "/stderr")
        guard exited else {
            throw NATSTestSupportError(
                code: .timeout,
                message: "python script did not finish within \(timeout).\nstdout:\n\(tail(stdout))\nstderr:\n\(tail(stderr))"
            )
        }
        return (process.exitCode ?? -1, stdout, stderr)
    }
}
