// The `nex-agent` executable: started by a node, never by hand.
import Foundation
import Logging
import NATS
import NexAPI
import NexAgent
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if os(Linux)
// An agent must never outlive its node: the kernel kills us when the parent (the node) dies.
// `prctl` is variadic in C, so Swift cannot call it directly; the fixed-argument form is ABI-compatible.
typealias PrctlFunction = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
let parent = getppid()
if let symbol = dlsym(nil, "prctl") {
    let prctl = unsafeBitCast(symbol, to: PrctlFunction.self)
    let setParentDeathSignal: Int32 = 1  // PR_SET_PDEATHSIG
    _ = prctl(setParentDeathSignal, UInt(SIGKILL), 0, 0, 0)
}
// The node may have died before the request took effect; then a reaper adopted us. (Not a check
// for pid 1: in a container the node itself may be pid 1.)
if getppid() != parent {
    FileHandle.standardError.write(Data("nex-agent: the parent process is gone\n".utf8))
    exit(1)
}
#endif
// In a sandbox, the network rules go on before anything connects (NexAgent/SandboxSelfRestriction.swift).
do { try SandboxSelfRestriction.applyIfRequested() } catch { FileHandle.standardError.write(Data("nex-agent: \(error.message)\n".utf8)); exit(2) }

// Logs go to stderr; the node reads the agent's workload output over NATS, not from here.
let level = ProcessInfo.processInfo.environment["NEX_AGENT_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}
let logger = Logger(label: "nex-agent")

let environment: AgentEnvironment
let clientConfiguration: NATSClient.Configuration
do {
    environment = try AgentEnvironment(variables: ProcessInfo.processInfo.environment)
    clientConfiguration = try NexAgent.clientConfiguration(for: environment)
} catch {
    let message = (error as? NexAPIError)?.message ?? (error as? NexAgentError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("nex-agent: invalid environment: \(message)\n".utf8))
    exit(2)
}

func runAgent() async -> Int32 {
    let client = NATSClient(configuration: clientConfiguration, logger: logger)
    let agent = NexAgent(environment: environment, client: client, logger: logger)
    // The client first: services shut down in reverse order, so the agent stops its workloads while
    // the connection is still up.
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: client), .init(service: agent)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    ))
    do {
        try await group.run()
        return 0
    } catch {
        logger.error("nex-agent failed", metadata: ["error": "\(error)"])
        return 1
    }
}
exit(await runAgent())
