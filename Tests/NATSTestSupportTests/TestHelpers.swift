import Foundation
import Testing
@testable import NATSTestSupport

/// The INFO object a server sends first, read over a raw TCP socket (no client library involved).
func rawInfo(_ server: NATSServer) throws -> [String: Any] {
    try LoopbackTCP.serverInfo(port: server.port)
}

/// Runs a nats-py script and returns its stdout; a non-zero exit is recorded with the script's
/// stderr so the failure explains itself.
func python(_ script: String, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
    let result = try await Python.run(script, arguments: arguments)
    #expect(result.exitCode == 0, "python failed:\n\(result.stderr)", sourceLocation: sourceLocation)
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Whether a process is still alive. A zombie counts as gone: once the test process that owned a
/// server is dead, nobody may reap the server's zombie (PID 1 here does not always).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.range(of: ") ", options: .backwards) else { return false }
    return stat[close.upperBound...].first != "Z"
}

func directoryExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// Polls `condition` until it holds or about `seconds` pass (never asserts on the time itself).
func eventually(seconds: Int = 15, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<(seconds * 20) {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

/// Publishes once, then subscribes, publishes and expects the message back: proves nats-py can use
/// the server with the connect options given in `connectArguments` (Python keyword arguments).
let roundTripScript = """
    import asyncio, sys, nats
    async def main():
        url = sys.argv[1]
        kwargs = eval(sys.argv[2]) if len(sys.argv) > 2 else {}
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=5, **kwargs)
        sub = await nc.subscribe("test.roundtrip")
        await nc.publish("test.roundtrip", b"hello")
        msg = await sub.next_msg(timeout=5)
        print(msg.data.decode())
        await nc.close()
    asyncio.run(main())
    """

/// Connects and reports whether the server accepted the connection, without raising.
let connectOutcomeScript = """
    import asyncio, sys, nats
    async def main():
        url = sys.argv[1]
        kwargs = eval(sys.argv[2]) if len(sys.argv) > 2 else {}
        try:
            nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5, **kwargs)
            await nc.flush(timeout=5)
            await nc.close()
            print("connected")
        except Exception as error:
            print("refused:", type(error).__name__, error)
    asyncio.run(main())
    """
