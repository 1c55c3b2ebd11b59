// The node ↔ agent protocol on the internal NATS (spec §4, reshaped where 0.x was wrong).
//
// Differences from 0.x, on purpose:
// - An agent has its own ID, separate from the IDs of the workloads it runs; every workload message
//   carries the workload ID, so one agent can later host several workloads.
// - The artifact is not copied through an internal JetStream object store: the node writes it into the
//   agent's private directory (0700, the only directory the agent shares with the node, and the one a
//   sandbox binds in) and the deploy request names the file.
// - The agent answers every deploy, including a failed start (0.x never replied then).
// - The deploy reply carries the workload's process group, so the node can still stop it if the agent
//   dies.
//
// These messages never leave the node's host; plain snake_case JSON, unknown members ignored.

/// The subjects of the internal NATS. Agent `{id}` may publish only under `hostint.{id}.>` and
/// subscribe only under `agentint.{id}.>` and its own inbox prefix ``AgentSubjects/inboxPrefix(agent:)``.
public enum AgentSubjects {
    /// agent → node request: `AgentHandshake` → `AgentHandshakeReply`.
    public static func handshake(agent: String) -> String { "hostint.\(agent).handshake" }
    /// agent → node publish: a `WorkloadStatusEvent` about one of the agent's workloads; the type (last
    /// token) is `workload_undeployed` (the workload ended for good: exit code and reason) or
    /// `workload_restarting` (an essential service failed and restarts). The node wraps it in a
    /// CloudEvent on `$NEX.events.{ns}.{type}`.
    public static func event(agent: String, type: NexEventType) -> String { "hostint.\(agent).events.\(type)" }
    /// Subscription pattern for ``event(agent:type:)``.
    public static func events(agent: String) -> String { "hostint.\(agent).events.*" }
    /// agent → node publish: `[AgentFunctionExecution]`, the function executions finished since the last such
    /// message (the agent coalesces them for a moment: one message for many triggers). The node sums each
    /// workload's execution time and publishes one `function_exec_succeeded`/`_failed` CloudEvent per execution.
    public static func executions(agent: String) -> String { "hostint.\(agent).executions" }
    /// agent → node publish: `AgentLogEntry`.
    public static func logs(agent: String) -> String { "hostint.\(agent).logs" }
    /// agent → node publish: `AgentProcessStarted`, each time a workload process (re)starts, so the node
    /// can kill the workload's process group should the agent die.
    public static func process(agent: String) -> String { "hostint.\(agent).process" }
    /// node → agent request: `AgentDeployRequest` → `AgentDeployReply`.
    public static func deploy(agent: String) -> String { "agentint.\(agent).deploy" }
    /// node → agent request: `AgentUndeployRequest` → `AgentUndeployReply`.
    public static func undeploy(agent: String) -> String { "agentint.\(agent).undeploy" }
    /// node → agent request: empty → `OK`.
    public static func ping(agent: String) -> String { "agentint.\(agent).ping" }
    /// node → agent publish: the node entered lame duck mode; essential workloads stop restarting.
    public static func lameDuck(agent: String) -> String { "agentint.\(agent).lameduck" }
    /// The inbox prefix an agent must use for its own requests (its credentials allow no other).
    public static func inboxPrefix(agent: String) -> String { "_INBOX_\(agent)" }
    /// What an agent's credentials allow it to publish. The agent also answers requests (deploy,
    /// undeploy, ping) on the node's inbox, outside these subjects: its credentials must also allow
    /// responses (the user JWT's `resp` permission, at least ``agentResponsesPerRequest`` per request).
    public static func agentPublishPermissions(agent: String) -> [String] { ["hostint.\(agent).>"] }
    /// How many replies an agent sends to one request (the `resp.max` of its user JWT).
    public static let agentResponsesPerRequest = 1
    /// What an agent's credentials allow it to subscribe to.
    public static func agentSubscribePermissions(agent: String) -> [String] {
        ["agentint.\(agent).>", "\(inboxPrefix(agent: agent)).>"]
    }
    /// The reply to a ping.
    public static let pingReply: [UInt8] = Array("OK".utf8)
}

/// How the node tells an agent process where it is and who it is, through the agent's environment
/// (0.x names where 0.x had one).
public struct AgentEnvironment: Hashable, Sendable {
    /// `NEX_AGENT_ID` (0.x: `NEX_WORKLOADID`).
    public var agentID: String
    /// `NEX_NODE_NATS_URL`: the internal NATS, e.g. `nats://127.0.0.1:4567`.
    public var natsURL: String
    /// `NEX_NODE_NATS_USER_JWT`: the agent's user JWT on the internal NATS.
    public var userJWT: String
    /// `NEX_NODE_NATS_NKEY_SEED`: the seed that signs for ``userJWT``.
    public var userSeed: String
    /// `NEX_AGENT_DIR`: the agent's private directory; artifacts arrive here.
    public var directory: String
    /// `NEX_SANDBOX`: `false` when the agent runs without a sandbox.
    public var sandboxed: Bool
    /// `NEX_AGENT_HANDSHAKE_TIMEOUT_MS`: how long the agent keeps trying to handshake.
    public var handshakeTimeoutMilliseconds: Int
    /// `NEX_SANDBOX_DYNAMIC_SERVICES`: a sandboxed agent may run dynamically linked native services (the
    /// node mounts the host's libraries read-only when it opts in).
    public var allowsDynamicServices: Bool

    public init(agentID: String, natsURL: String, userJWT: String, userSeed: String, directory: String,
                sandboxed: Bool, handshakeTimeoutMilliseconds: Int, allowsDynamicServices: Bool = false) {
        self.agentID = agentID
        self.natsURL = natsURL
        self.userJWT = userJWT
        self.userSeed = userSeed
        self.directory = directory
        self.sandboxed = sandboxed
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.allowsDynamicServices = allowsDynamicServices
    }

    private enum Key {
        static let agentID = "NEX_AGENT_ID"
        static let natsURL = "NEX_NODE_NATS_URL"
        static let userJWT = "NEX_NODE_NATS_USER_JWT"
        static let userSeed = "NEX_NODE_NATS_NKEY_SEED"
        static let directory = "NEX_AGENT_DIR"
        static let sandboxed = "NEX_SANDBOX"
        static let handshakeTimeout = "NEX_AGENT_HANDSHAKE_TIMEOUT_MS"
        static let dynamicServices = "NEX_SANDBOX_DYNAMIC_SERVICES"
    }

    /// The variables to set for the agent process.
    public var variables: [String: String] {
        [
            Key.agentID: agentID, Key.natsURL: natsURL, Key.userJWT: userJWT, Key.userSeed: userSeed,
            Key.directory: directory, Key.sandboxed: sandboxed ? "true" : "false",
            Key.handshakeTimeout: String(handshakeTimeoutMilliseconds),
            Key.dynamicServices: allowsDynamicServices ? "true" : "false",
        ]
    }

    /// Reads the variables back; throws naming every missing or malformed one.
    public init(variables: [String: String]) throws(NexAPIError) {
        var problems: [String] = []
        func required(_ key: String) -> String {
            guard let value = variables[key], !value.isEmpty else {
                problems.append("\(key) is not set")
                return ""
            }
            return value
        }
        agentID = required(Key.agentID)
        natsURL = required(Key.natsURL)
        userJWT = required(Key.userJWT)
        userSeed = required(Key.userSeed)
        directory = required(Key.directory)
        sandboxed = variables[Key.sandboxed]?.lowercased() != "false"
        allowsDynamicServices = variables[Key.dynamicServices]?.lowercased() == "true"
        if let text = variables[Key.handshakeTimeout] {
            if let value = Int(text), value > 0 {
                handshakeTimeoutMilliseconds = value
            } else {
                problems.append("\(Key.handshakeTimeout) is not a positive integer: \(text)")
                handshakeTimeoutMilliseconds = 0
            }
        } else {
            handshakeTimeoutMilliseconds = 25_000
        }
        if !problems.isEmpty {
            throw NexAPIError(code: .invalidAgentEnvironment, message: problems.joined(separator: "; "))
        }
    }
}

/// agent → node: "I am up" (`hostint.{id}.handshake`).
public struct AgentHandshake: Hashable, Sendable, Codable {
    public var id: String
    public var startTime: GoTime
    public var message: String
    /// The agent's process ID as the agent sees it.
    public var pid: Int32
    public var version: String

    public init(id: String, startTime: GoTime, message: String, pid: Int32, version: String) {
        self.id = id
        self.startTime = startTime
        self.message = message
        self.pid = pid
        self.version = version
    }

    private enum CodingKeys: String, CodingKey { case id, startTime = "start_time", message, pid, version }
}

/// node → agent: the handshake is accepted.
public struct AgentHandshakeReply: Hashable, Sendable, Codable {
    public var accepted: Bool
    public init(accepted: Bool = true) { self.accepted = accepted }
}

/// node → agent: run this workload (`agentint.{id}.deploy`); the decrypted, validated form of a
/// `DeployRequest` (0.x `AgentWorkloadInfo`).
public struct AgentDeployRequest: Hashable, Sendable, Codable {
    public var workloadID: String
    public var workloadName: String
    public var namespace: String
    public var workloadType: WorkloadType
    /// The artifact's file name inside the agent's directory.
    public var artifact: String
    /// The artifact's sha256, hex.
    public var hash: String
    public var totalBytes: Int64
    public var argv: [String]
    /// The decrypted environment; keys as the issuer wrote them.
    public var environment: [String: String]
    public var essential: Bool
    public var description: String?
    public var triggerSubjects: [String]
    public var hostServices: NATSJWTConnectionInfo?
    public var restartPolicy: AgentRestartPolicy?
    /// Functions only: the host services the node enables (`http`, `kv`, `messaging`, `objectstore`);
    /// `nil` = all.
    public var enabledHostServices: [String]?
    /// Functions only: per-invocation limits.
    public var functionLimits: AgentFunctionLimits?

    public init(workloadID: String, workloadName: String, namespace: String, workloadType: WorkloadType,
                artifact: String, hash: String, totalBytes: Int64, argv: [String] = [], environment: [String: String] = [:],
                essential: Bool = false, description: String? = nil, triggerSubjects: [String] = [],
                hostServices: NATSJWTConnectionInfo? = nil, restartPolicy: AgentRestartPolicy? = nil,
                enabledHostServices: [String]? = nil, functionLimits: AgentFunctionLimits? = nil) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.namespace = namespace
        self.workloadType = workloadType
        self.artifact = artifact
        self.hash = hash
        self.totalBytes = totalBytes
        self.argv = argv
        self.environment = environment
        self.essential = essential
        self.description = description
        self.triggerSubjects = triggerSubjects
        self.hostServices = hostServices
        self.restartPolicy = restartPolicy
        self.enabledHostServices = enabledHostServices
        self.functionLimits = functionLimits
    }

    private enum CodingKeys: String, CodingKey {
        case workloadID = "workload_id", workloadName = "workload_name", namespace, workloadType = "workload_type"
        case artifact, hash, totalBytes = "total_bytes", argv, environment, essential, description
        case triggerSubjects = "trigger_subjects", hostServices = "host_services", restartPolicy = "restart_policy"
        case enabledHostServices = "enabled_host_services", functionLimits = "function_limits"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workloadID = try c.decode(String.self, forKey: .workloadID)
        workloadName = try c.decode(String.self, forKey: .workloadName)
        namespace = try c.decode(String.self, forKey: .namespace)
        workloadType = try c.decode(WorkloadType.self, forKey: .workloadType)
        artifact = try c.decode(String.self, forKey: .artifact)
        hash = try c.decode(String.self, forKey: .hash)
        totalBytes = try c.decode(Int64.self, forKey: .totalBytes)
        argv = try c.decodeIfPresent([String].self, forKey: .argv) ?? []
        environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
        essential = try c.decodeIfPresent(Bool.self, forKey: .essential) ?? false
        description = try c.decodeIfPresent(String.self, forKey: .description)
        triggerSubjects = try c.decodeIfPresent([String].self, forKey: .triggerSubjects) ?? []
        hostServices = try c.decodeIfPresent(NATSJWTConnectionInfo.self, forKey: .hostServices)
        restartPolicy = try c.decodeIfPresent(AgentRestartPolicy.self, forKey: .restartPolicy)
        enabledHostServices = try c.decodeIfPresent([String].self, forKey: .enabledHostServices)
        functionLimits = try c.decodeIfPresent(AgentFunctionLimits.self, forKey: .functionLimits)
    }
}

/// How an essential service restarts after a failure: exponential backoff up to a limit.
public struct AgentRestartPolicy: Hashable, Sendable, Codable {
    /// Restarts allowed in a row before giving up.
    public var maxRestarts: Int
    public var initialBackoffMilliseconds: Int
    public var maxBackoffMilliseconds: Int

    public init(maxRestarts: Int = 10, initialBackoffMilliseconds: Int = 250, maxBackoffMilliseconds: Int = 30_000) {
        self.maxRestarts = maxRestarts
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case maxRestarts = "max_restarts", initialBackoffMilliseconds = "initial_backoff_ms", maxBackoffMilliseconds = "max_backoff_ms"
    }
}

/// Per-invocation limits of a function (JS, Wasm).
public struct AgentFunctionLimits: Hashable, Sendable, Codable {
    public var executionTimeoutMilliseconds: Int
    public var maxArtifactBytes: Int
    public var maxMemoryBytes: Int

    public init(executionTimeoutMilliseconds: Int = 5_000, maxArtifactBytes: Int = 16 << 20, maxMemoryBytes: Int = 256 << 20) {
        self.executionTimeoutMilliseconds = executionTimeoutMilliseconds
        self.maxArtifactBytes = maxArtifactBytes
        self.maxMemoryBytes = maxMemoryBytes
    }

    private enum CodingKeys: String, CodingKey {
        case executionTimeoutMilliseconds = "execution_timeout_ms", maxArtifactBytes = "max_artifact_bytes", maxMemoryBytes = "max_memory_bytes"
    }
}

/// agent → node: the answer to a deploy. Always sent, also when the start failed.
public struct AgentDeployReply: Hashable, Sendable, Codable {
    public var accepted: Bool
    public var message: String
    /// For native workloads: the workload's process group (its first process's pid), so the node can
    /// kill it should the agent die.
    public var processGroup: Int32?

    public init(accepted: Bool, message: String, processGroup: Int32? = nil) {
        self.accepted = accepted
        self.message = message
        self.processGroup = processGroup
    }

    private enum CodingKeys: String, CodingKey { case accepted, message, processGroup = "process_group" }
}

/// agent → node: a workload process started (first run or restart) as the leader of this process group.
public struct AgentProcessStarted: Hashable, Sendable, Codable {
    public var workloadID: String
    public var processGroup: Int32
    public init(workloadID: String, processGroup: Int32) {
        self.workloadID = workloadID
        self.processGroup = processGroup
    }
    private enum CodingKeys: String, CodingKey { case workloadID = "workload_id", processGroup = "process_group" }
}

/// node → agent: stop and forget this workload (`agentint.{id}.undeploy`).
public struct AgentUndeployRequest: Hashable, Sendable, Codable {
    public var workloadID: String
    public init(workloadID: String) { self.workloadID = workloadID }
    private enum CodingKeys: String, CodingKey { case workloadID = "workload_id" }
}

/// agent → node: the workload is stopped (or was not there).
public struct AgentUndeployReply: Hashable, Sendable, Codable {
    public var stopped: Bool
    /// How the workload ended, e.g. `exit code 0` or `killed by signal 9`.
    public var message: String
    public init(stopped: Bool, message: String) {
        self.stopped = stopped
        self.message = message
    }
}

/// agent → node: one log record of a workload (`hostint.{id}.logs`); the node republishes it as a
/// `LogRecord` on `$NEX.logs.{ns}.{node}.{name}.{workloadId}`. A record without a workload ID is the
/// agent's own and goes to the node's log.
/// One finished function execution, in an ``AgentSubjects/executions(agent:)`` message.
public struct AgentFunctionExecution: Hashable, Sendable, Codable {
    public var workloadID: String
    /// The trigger subscription's subject pattern.
    public var triggerSubject: String
    public var outcome: Outcome

    public enum Outcome: Hashable, Sendable {
        /// Replied (when asked to) after running this long.
        case succeeded(elapsedNanos: Int64)
        /// Failed with this message; no reply was sent.
        case failed(String)
    }

    public init(workloadID: String, triggerSubject: String, outcome: Outcome) {
        self.workloadID = workloadID
        self.triggerSubject = triggerSubject
        self.outcome = outcome
    }

    private enum CodingKeys: String, CodingKey {
        case workloadID = "workload_id", triggerSubject = "trigger_subject", elapsedNanos = "elapsed_nanos", error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        workloadID = try container.decode(String.self, forKey: .workloadID)
        triggerSubject = try container.decode(String.self, forKey: .triggerSubject)
        if let error = try container.decodeIfPresent(String.self, forKey: .error) {
            outcome = .failed(error)
        } else {
            outcome = .succeeded(elapsedNanos: try container.decode(Int64.self, forKey: .elapsedNanos))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(workloadID, forKey: .workloadID)
        try container.encode(triggerSubject, forKey: .triggerSubject)
        switch outcome {
        case .succeeded(let nanos): try container.encode(nanos, forKey: .elapsedNanos)
        case .failed(let error): try container.encode(error, forKey: .error)
        }
    }
}

public struct AgentLogEntry: Hashable, Sendable, Codable {
    public var workloadID: String?
    public var level: NexLogLevel
    public var text: String

    public init(workloadID: String?, level: NexLogLevel, text: String) {
        self.workloadID = workloadID
        self.level = level
        self.text = text
    }

    private enum CodingKeys: String, CodingKey { case workloadID = "workload_id", level, text }
}
