extension NexNode {
    /// How the node behaves beyond its configuration file: timings and what it reports about itself.
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

        public init(heartbeatInterval: Duration = .seconds(30), version: String = NexNode.defaultVersion,
                    lameDuckShutdownDelay: Duration = .seconds(30), host: HostFacts = .current) {
            self.heartbeatInterval = heartbeatInterval
            self.version = version
            self.lameDuckShutdownDelay = lameDuckShutdownDelay
            self.host = host
        }
    }

    /// The version this library reports when the caller gives none.
    public static let defaultVersion = "0.1.0-swift"

    /// The honest answer to deploy and stop until this node can run workloads.
    public static let workloadsUnavailable = "workload deployment is not available on this node yet"
}
