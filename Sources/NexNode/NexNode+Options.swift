import Logging
import NexAPI

extension NexNode {
    /// How the node behaves beyond its configuration file: timings, where its agents come from, and what
    /// it reports about itself.
    public struct Options: Sendable {
        /// How often the `heartbeat` event goes out (0.x: 30 s).
        public var heartbeatInterval: Duration
        /// The version string in ping, info and events.
        public var version: String
        /// How long a node in lame duck mode keeps answering before `run()` ends on its own. 0.x never
        /// stopped; the 1.0 rewrite does, and a lame-duck node that lingers forever only confuses.
        public var lameDuckShutdownDelay: Duration
        /// The machine facts behind `nex.os`, `nex.arch` and `nex.cpucount`.
        public var host: HostFacts
        /// The `nex-agent` executable; `nil` looks beside the running executable, then on `PATH`.
        public var agentExecutable: String?
        /// Where agent directories and the internal NATS live; `nil` = a fresh directory under the
        /// system's temporary directory, removed when the node stops.
        public var workDirectory: String?
        /// How often each agent is pinged (0.x: 5 s); the timeout is `agent_ping_timeout_ms`.
        public var agentPingInterval: Duration
        /// How long a stopped service gets between SIGTERM and SIGKILL.
        public var stopGracePeriod: Duration
        /// How essential services restart after a failure.
        public var restartPolicy: AgentRestartPolicy
        /// Per-invocation limits of functions (JS, Wasm): execution time (default 5 s), artifact size, memory.
        public var functionLimits: AgentFunctionLimits
        /// The log level agents run with (their output goes to the node's log at debug level).
        public var agentLogLevel: Logger.Level
        /// How sandboxed agents are set up (unless `no_sandbox`).
        public var sandbox: SandboxOptions

        public init(heartbeatInterval: Duration = .seconds(30), version: String = NexNode.defaultVersion,
                    lameDuckShutdownDelay: Duration = .seconds(30), host: HostFacts = .current,
                    agentExecutable: String? = nil, workDirectory: String? = nil, agentPingInterval: Duration = .seconds(5),
                    stopGracePeriod: Duration = .seconds(5), restartPolicy: AgentRestartPolicy = AgentRestartPolicy(),
                    functionLimits: AgentFunctionLimits = AgentFunctionLimits(), agentLogLevel: Logger.Level = .info,
                    sandbox: SandboxOptions = SandboxOptions()) {
            self.heartbeatInterval = heartbeatInterval
            self.version = version
            self.lameDuckShutdownDelay = lameDuckShutdownDelay
            self.host = host
            self.agentExecutable = agentExecutable
            self.workDirectory = workDirectory
            self.agentPingInterval = agentPingInterval
            self.stopGracePeriod = stopGracePeriod
            self.restartPolicy = restartPolicy
            self.functionLimits = functionLimits
            self.agentLogLevel = agentLogLevel
            self.sandbox = sandbox
        }
    }

    /// The version this library reports when the caller gives none.
    public static let defaultVersion = "0.1.0-swift"
}
