import Foundation
import Testing
@testable import NATSTestSupport

@Suite("Python")
struct PythonTests {
    @Test("exit code, stdout, stderr and arguments come back separately")
    func result() async throws {
        let result = try await Python.run("""
            import sys
            print("out", sys.argv[1:])
            print("err", file=sys.stderr)
            sys.exit(3)
            """, arguments: ["a b", "c"])
        #expect(result.exitCode == 3)
        #expect(result.stdout == "out ['a b', 'c']\n")
        #expect(result.stderr == "err\n")
    }

    @Test("a script that overruns its timeout is killed and reported with its output")
    func timeout() async throws {
        do {
            _ = try await Python.run("""
                import time
                print("started", flush=True)
                time.sleep(600)
                """, timeout: .seconds(5))
            Issue.record("the script should have been stopped")
        } catch let error as NATSTestSupportError {
            #expect(error.code == .timeout)
            #expect(error.message.contains("started"))
        }
    }
}

@Suite("Forgotten servers")
struct ForgottenServerTests {
    @Test("a server released without stop() is still ended and its directory removed")
    func releasedWithoutStop() async throws {
        var server: NATSServer? = try await NATSServer.start()
        let pid = try #require(server?.pid)
        let directory = try #require(server?.directory)
        #expect(processIsAlive(pid))
        server = nil
        #expect(try await eventually { !processIsAlive(pid) })
        #expect(try await eventually { !directoryExists(directory) })
    }
}
