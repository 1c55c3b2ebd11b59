import Logging
import NexCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Logs go to stderr so stdout carries only command output (tables, JSON, the "up" line).
let level = getenv("NEX_LOGLEVEL").flatMap { Logger.Level(rawValue: String(cString: $0).lowercased()) } ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}

// Top-level code resolves `Nex.main()` to ArgumentParser's synchronous entry point, which refuses
// async commands; inside an async function the async one is chosen.
func runNex() async {
    await Nex.main()
}
await runNex()
