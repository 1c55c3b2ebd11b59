import Foundation
import Testing
@testable import NATSTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The orphan check runs this very test binary a second time, filtered to `orphanOwner`, which
/// starts a server and then waits to be killed. Killing that process with SIGKILL must take the
/// server and its directory with it.
private let ownerReportVariable = "NATS_TEST_SUPPORT_ORPHAN_REPORT"

@Suite("No orphan servers")
struct OrphanTests {
    @Test("a server does not outlive its owning process when that process is killed with SIGKILL")
    func serverDiesWithOwner() async throws {
        let reportDirectory = try makeTemporaryDirectory(prefix: "nats-orphan-test")
        defer { try? FileManager.default.removeItem(atPath: reportDirectory) }
        let reportPath = reportDirectory + "/owner"
        let owner = try ChildProcess.spawn(
            executable: CommandLine.arguments[0],
            arguments: ["--testing-library", "swift-testing", "--filter", "orphanOwnerProcess"],
            outputPath: reportDirectory + "/owner.log",
            extraEnvironment: [ownerReportVariable: reportPath]
        )
        let reported = try await eventually(seconds: 60) {
            (try? String(contentsOfFile: reportPath, encoding: .utf8))?.hasSuffix("\n") == true
        }
        guard reported else {
            owner.send(SIGKILL)
            owner.reap()
            Issue.record("the owner process never reported its server:\n\(readTextFile(reportDirectory + "/owner.log"))")
            return
        }
        let fields = try String(contentsOfFile: reportPath, encoding: .utf8).split(separator: " ")
        let serverPID = try #require(Int32(fields[0]))
        let serverDirectory = String(fields[1].dropLast())  // drop the newline
        #expect(processIsAlive(serverPID))
        #expect(directoryExists(serverDirectory + "/jetstream"))

        owner.send(SIGKILL)
        owner.reap()

        #expect(try await eventually { !processIsAlive(serverPID) }, "nats-server \(serverPID) outlived its owner")
        #expect(try await eventually { !directoryExists(serverDirectory) }, "\(serverDirectory) was not removed")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[ownerReportVariable] != nil))
    func orphanOwnerProcess() async throws {
        let reportPath = try #require(ProcessInfo.processInfo.environment[ownerReportVariable])
        let server = try await NATSServer.start(.init(jetStream: true))
        try "\(server.pid) \(server.directory)\n".write(toFile: reportPath, atomically: true, encoding: .utf8)
        // Wait to be killed; never stop the server ourselves.
        try await Task.sleep(for: .seconds(600))
        Issue.record("the orphan owner was not killed")
    }
}
