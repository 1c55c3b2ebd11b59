import Foundation
import Testing
@testable import NATSTestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("NATSServer lifecycle")
struct LifecycleTests {
    @Test("stop() ends the process and removes the directory, but keeps the log")
    func stopCleansUp() async throws {
        let server = try await NATSServer.start(.init(jetStream: true))
        let pid = server.pid
        let directory = server.directory
        #expect(processIsAlive(pid))
        #expect(directoryExists(directory + "/jetstream"))
        await server.stop()
        #expect(!processIsAlive(pid))
        #expect(!directoryExists(directory))
        #expect(server.log.contains("Server Exiting"))
        #expect(!server.isRunning)
        await server.stop()  // idempotent
    }

    @Test("withNATSServer stops the server when the body throws")
    func scopedStopOnError() async throws {
        struct Expected: Error {}
        nonisolated(unsafe) var seen: (pid: Int32, directory: String)?
        await #expect(throws: Expected.self) {
            try await withNATSServer { server in
                seen = (server.pid, server.directory)
                throw Expected()
            }
        }
        let (pid, directory) = try #require(seen)
        #expect(!processIsAlive(pid))
        #expect(!directoryExists(directory))
    }

    @Test("a server that cannot start reports its log and leaves nothing behind")
    func startupFailure() async throws {
        do {
            _ = try await NATSServer.start(.init(extraConfig: "this is { not valid"))
            Issue.record("start should have failed")
        } catch let error as NATSTestSupportError {
            #expect(error.code == .serverExited)
            #expect(error.message.contains("Log tail"))
        }
    }

    @Test("restart() comes back on the same port with a new process")
    func restartKeepsPort() async throws {
        try await withNATSServer { server in
            let port = server.port
            let firstPID = server.pid
            try await server.restart()
            #expect(server.port == port)
            #expect(server.pid != firstPID)
            #expect(!processIsAlive(firstPID))
            #expect(try rawInfo(server)["port"] as? Int == port)
            #expect(try await python(roundTripScript, [server.url]) == "hello")
        }
    }

    @Test("kill() is a crash; restart() brings the server back with its JetStream data")
    func killAndRestart() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let publish = """
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1], allow_reconnect=False)
                    js = nc.jetstream()
                    if sys.argv[2] == "create":
                        await js.add_stream(name="DURABLE", subjects=["durable.>"])
                        await js.publish("durable.a", b"kept")
                    print((await js.stream_info("DURABLE")).state.messages)
                    await nc.close()
                asyncio.run(main())
                """
            #expect(try await python(publish, [server.url, "create"]) == "1")
            let port = server.port
            let crashedPID = server.pid
            await server.kill()
            #expect(!server.isRunning)
            #expect(!processIsAlive(crashedPID))
            #expect(!server.log.contains("Server Exiting"), "SIGKILL gives no graceful shutdown")
            #expect(directoryExists(server.directory + "/jetstream"))
            try await server.restart()
            #expect(server.port == port)
            #expect(try await python(publish, [server.url, "read"]) == "1")
        }
    }

    @Test("lame duck mode is entered and logged")
    func lameDuck() async throws {
        try await withNATSServer(.init(extraConfig: "lame_duck_grace_period: 1s\nlame_duck_duration: 30s")) { server in
            try await server.enterLameDuckMode()
            try await server.waitForLog("Entering lame duck mode")
        }
    }

    @Test("waitForLog times out with a clear error")
    func waitForLogTimeout() async throws {
        try await withNATSServer { server in
            do {
                try await server.waitForLog("a line nats-server never writes", timeout: .milliseconds(200))
                Issue.record("waitForLog should have timed out")
            } catch let error as NATSTestSupportError {
                #expect(error.code == .timeout)
                #expect(error.message.contains("Server is ready"))
            }
        }
    }

    @Test("concurrent starts get distinct ports")
    func concurrentStarts() async throws {
        let servers = try await withThrowingTaskGroup(of: NATSServer.self) { group in
            for index in 0..<6 {
                group.addTask { try await NATSServer.start(.init(jetStream: index.isMultiple(of: 2))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(servers.map(\.port)).count == servers.count)
        #expect(Set(servers.map(\.directory)).count == servers.count)
        for server in servers {
            #expect(try rawInfo(server)["port"] as? Int == server.port)
        }
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { await server.stop() } }
        }
        for server in servers {
            #expect(!processIsAlive(server.pid))
            #expect(!directoryExists(server.directory))
        }
    }
}
