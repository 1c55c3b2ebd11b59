// The control-interface messages of Nex 0.x (`control-api/run.go`, `stop.go`, `types.go`).
//
// Every `encode(to:)` writes members in Go's struct-field order and follows the Go tags exactly:
// pointers without `omitempty` become `null`, `omitempty` drops zero values, slices and maps without
// `omitempty` are optional here so that a Go nil (`null`) and an empty value (`[]`, `{}`) stay
// distinct. Decoders follow Go: a missing or `null` member leaves the zero value.

/// NATS connection details for a workload's host services (`NatsJwtConnectionInfo`).
public struct NATSJWTConnectionInfo: Hashable, Sendable, Codable {
    public var natsURL: String
    public var natsUserJWT: String
    public var natsUserSeed: String

    public init(natsURL: String, natsUserJWT: String, natsUserSeed: String) {
        self.natsURL = natsURL
        self.natsUserJWT = natsUserJWT
        self.natsUserSeed = natsUserSeed
    }

    private enum CodingKeys: String, CodingKey {
        case natsURL = "nats_url", natsUserJWT = "nats_user_jwt", natsUserSeed = "nats_user_seed"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        natsURL = try c.goDecode(.natsURL)
        natsUserJWT = try c.goDecode(.natsUserJWT)
        natsUserSeed = try c.goDecode(.natsUserSeed)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(natsURL, forKey: .natsURL)
        try c.encode(natsUserJWT, forKey: .natsUserJWT)
        try c.encode(natsUserSeed, forKey: .natsUserSeed)
    }
}

/// The body of `$NEX.DEPLOY.{ns}.{node}` (`DeployRequest`).
///
/// Fields stay as loose as Go's on the wire (the node validates them, with the spec's error texts),
/// so a malformed request can still be decoded and answered with the right failure.
public struct DeployRequest: Hashable, Sendable, Codable {
    /// `argv` (omitempty).
    public var argv: [String]
    /// `description` (pointer, omitempty).
    public var description: String?
    /// `hash` (pointer, no omitempty: `null` when unset, which the 0.x CLI always sends).
    public var hash: String?
    /// `location`: the artifact (Go `*url.URL`, no omitempty).
    public var location: ArtifactLocation?
    /// `essential` (pointer, omitempty): restart the service when it exits with a non-zero code.
    public var essential: Bool?
    /// `environment`: base64 (standard, padded) of the xkey-sealed JSON `map[string]string`.
    public var environment: String?
    /// `id`: the request's UUIDv4 (not the workload ID).
    public var id: String?
    /// `jsdomain` (omitempty): JetStream domain of the artifact's object store.
    public var jsDomain: String?
    /// `retry_count` (omitempty): set on essential redeploys.
    public var retryCount: UInt?
    /// `retried_at` (omitempty): set on essential redeploys.
    public var retriedAt: GoTime?
    /// `sender_public_key`: the sender's curve public key ("X…") that sealed `environment`.
    public var senderPublicKey: String?
    /// `target_node`: the node the request is for.
    public var targetNode: String?
    /// `trigger_subjects` (omitempty): subjects that trigger a function (v8/wasm only).
    public var triggerSubjects: [String]
    /// `host_services_config` (omitempty).
    public var hostServicesConfig: NATSJWTConnectionInfo?
    /// `workload_name`.
    public var workloadName: String?
    /// `workload_jwt`: the issuer-signed workload JWT.
    public var workloadJWT: String?
    /// `type`: the workload type.
    public var workloadType: WorkloadType

    public init(argv: [String] = [], description: String? = nil, hash: String? = nil, location: ArtifactLocation? = nil,
                essential: Bool? = nil, environment: String? = nil, id: String? = nil, jsDomain: String? = nil,
                retryCount: UInt? = nil, retriedAt: GoTime? = nil, senderPublicKey: String? = nil, targetNode: String? = nil,
                triggerSubjects: [String] = [], hostServicesConfig: NATSJWTConnectionInfo? = nil, workloadName: String? = nil,
                workloadJWT: String? = nil, workloadType: WorkloadType) {
        self.argv = argv
        self.description = description
        self.hash = hash
        self.location = location
        self.essential = essential
        self.environment = environment
        self.id = id
        self.jsDomain = jsDomain
        self.retryCount = retryCount
        self.retriedAt = retriedAt
        self.senderPublicKey = senderPublicKey
        self.targetNode = targetNode
        self.triggerSubjects = triggerSubjects
        self.hostServicesConfig = hostServicesConfig
        self.workloadName = workloadName
        self.workloadJWT = workloadJWT
        self.workloadType = workloadType
    }

    private enum CodingKeys: String, CodingKey {
        case argv, description, hash, location, essential, environment, id, jsDomain = "jsdomain"
        case retryCount = "retry_count", retriedAt = "retried_at", senderPublicKey = "sender_public_key"
        case targetNode = "target_node", triggerSubjects = "trigger_subjects", hostServicesConfig = "host_services_config"
        case workloadName = "workload_name", workloadJWT = "workload_jwt", workloadType = "type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        argv = try c.goDecode(.argv)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        hash = try c.decodeIfPresent(String.self, forKey: .hash)
        location = try c.decodeIfPresent(ArtifactLocation.self, forKey: .location)
        essential = try c.decodeIfPresent(Bool.self, forKey: .essential)
        environment = try c.decodeIfPresent(String.self, forKey: .environment)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        jsDomain = try c.decodeIfPresent(String.self, forKey: .jsDomain)
        retryCount = try c.decodeIfPresent(UInt.self, forKey: .retryCount)
        retriedAt = try c.decodeIfPresent(GoTime.self, forKey: .retriedAt)
        senderPublicKey = try c.decodeIfPresent(String.self, forKey: .senderPublicKey)
        targetNode = try c.decodeIfPresent(String.self, forKey: .targetNode)
        triggerSubjects = try c.goDecode(.triggerSubjects)
        hostServicesConfig = try c.decodeIfPresent(NATSJWTConnectionInfo.self, forKey: .hostServicesConfig)
        workloadName = try c.decodeIfPresent(String.self, forKey: .workloadName)
        workloadJWT = try c.decodeIfPresent(String.self, forKey: .workloadJWT)
        workloadType = try c.decodeIfPresent(WorkloadType.self, forKey: .workloadType) ?? WorkloadType("")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOmitEmpty(argv, forKey: .argv)
        try c.encodeOmitNil(description, forKey: .description)
        try c.encodeOrNull(hash, forKey: .hash)
        try c.encodeOrNull(location, forKey: .location)
        try c.encodeOmitNil(essential, forKey: .essential)
        try c.encodeOrNull(environment, forKey: .environment)
        try c.encodeOrNull(id, forKey: .id)
        try c.encodeOmitNil(jsDomain, forKey: .jsDomain)
        try c.encodeOmitNil(retryCount, forKey: .retryCount)
        try c.encodeOmitNil(retriedAt, forKey: .retriedAt)
        try c.encodeOrNull(senderPublicKey, forKey: .senderPublicKey)
        try c.encodeOrNull(targetNode, forKey: .targetNode)
        try c.encodeOmitEmpty(triggerSubjects, forKey: .triggerSubjects)
        try c.encodeOmitNil(hostServicesConfig, forKey: .hostServicesConfig)
        try c.encodeOrNull(workloadName, forKey: .workloadName)
        try c.encodeOrNull(workloadJWT, forKey: .workloadJWT)
        try c.encode(workloadType, forKey: .workloadType)
    }
}

/// The reply to a deploy (`RunResponse`), type ``NexResponseType/run``.
public struct RunResponse: Hashable, Sendable, Codable {
    /// The new workload's ID.
    public var id: String
    /// The JWT issuer (`iss`) that deployed it.
    public var issuer: String
    /// The workload name.
    public var name: String
    /// Always `true` on success.
    public var started: Bool

    public init(id: String, issuer: String, name: String, started: Bool) {
        self.id = id
        self.issuer = issuer
        self.name = name
        self.started = started
    }

    private enum CodingKeys: String, CodingKey { case id, issuer, name, started }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        issuer = try c.goDecode(.issuer)
        name = try c.goDecode(.name)
        started = try c.goDecode(.started)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(issuer, forKey: .issuer)
        try c.encode(name, forKey: .name)
        try c.encode(started, forKey: .started)
    }
}

/// The body of `$NEX.STOP.{ns}.{node}` (`StopRequest`).
public struct StopRequest: Hashable, Sendable, Codable {
    public var nodeID: String
    public var workloadID: String
    /// A JWT signed by the deploying issuer with `sub` = the workload ID.
    public var workloadJWT: String

    public init(nodeID: String, workloadID: String, workloadJWT: String) {
        self.nodeID = nodeID
        self.workloadID = workloadID
        self.workloadJWT = workloadJWT
    }

    private enum CodingKeys: String, CodingKey {
        case nodeID = "node_id", workloadID = "workload_id", workloadJWT = "workload_jwt"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeID = try c.goDecode(.nodeID)
        workloadID = try c.goDecode(.workloadID)
        workloadJWT = try c.goDecode(.workloadJWT)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(workloadID, forKey: .workloadID)
        try c.encode(workloadJWT, forKey: .workloadJWT)
    }
}

/// The reply to a stop (`StopResponse`), type ``NexResponseType/stop``.
public struct StopResponse: Hashable, Sendable, Codable {
    public var id: String
    public var issuer: String
    public var stopped: Bool

    public init(id: String, issuer: String, stopped: Bool) {
        self.id = id
        self.issuer = issuer
        self.stopped = stopped
    }

    private enum CodingKeys: String, CodingKey { case id, issuer, stopped }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        issuer = try c.goDecode(.issuer)
        stopped = try c.goDecode(.stopped)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(issuer, forKey: .issuer)
        try c.encode(stopped, forKey: .stopped)
    }
}

/// The body of `$NEX.AUCTION` (`AuctionRequest`). Every criterion is optional; a node that does not
/// match all given criteria stays silent.
public struct AuctionRequest: Hashable, Sendable, Codable {
    public var arch: String?
    public var os: String?
    public var sandboxed: Bool?
    public var tags: [String: String]
    public var workloadTypes: [WorkloadType]

    public init(arch: String? = nil, os: String? = nil, sandboxed: Bool? = nil, tags: [String: String] = [:], workloadTypes: [WorkloadType] = []) {
        self.arch = arch
        self.os = os
        self.sandboxed = sandboxed
        self.tags = tags
        self.workloadTypes = workloadTypes
    }

    private enum CodingKeys: String, CodingKey {
        case arch, os, sandboxed, tags, workloadTypes = "workload_types"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        arch = try c.decodeIfPresent(String.self, forKey: .arch)
        os = try c.decodeIfPresent(String.self, forKey: .os)
        sandboxed = try c.decodeIfPresent(Bool.self, forKey: .sandboxed)
        tags = try c.goDecode(.tags)
        workloadTypes = try c.goDecode(.workloadTypes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOmitNil(arch, forKey: .arch)
        try c.encodeOmitNil(os, forKey: .os)
        try c.encodeOmitNil(sandboxed, forKey: .sandboxed)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encodeOmitEmpty(workloadTypes, forKey: .workloadTypes)
    }
}

/// The reply to `$NEX.PING` / `$NEX.PING.{node}` (`PingResponse`), type ``NexResponseType/ping``;
/// also the auction reply (``AuctionResponse``), type ``NexResponseType/auction``.
public struct PingResponse: Hashable, Sendable, Codable {
    public var nodeID: String
    /// `nexus` (omitempty).
    public var nexus: String
    public var version: String
    /// Uptime in the nats-server format (see ``NexUptime``).
    public var uptime: String
    /// The node's current curve public key ("X…") for sealing environments.
    public var targetXKey: String
    /// `tags` (omitempty).
    public var tags: [String: String]
    public var runningMachines: Int

    public init(nodeID: String, nexus: String = "", version: String, uptime: String, targetXKey: String, tags: [String: String] = [:], runningMachines: Int) {
        self.nodeID = nodeID
        self.nexus = nexus
        self.version = version
        self.uptime = uptime
        self.targetXKey = targetXKey
        self.tags = tags
        self.runningMachines = runningMachines
    }

    private enum CodingKeys: String, CodingKey {
        case nodeID = "node_id", nexus, version, uptime, targetXKey = "target_xkey", tags, runningMachines = "running_machines"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeID = try c.goDecode(.nodeID)
        nexus = try c.goDecode(.nexus)
        version = try c.goDecode(.version)
        uptime = try c.goDecode(.uptime)
        targetXKey = try c.goDecode(.targetXKey)
        tags = try c.goDecode(.tags)
        runningMachines = try c.goDecode(.runningMachines)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encodeOmitEmpty(nexus, forKey: .nexus)
        try c.encode(version, forKey: .version)
        try c.encode(uptime, forKey: .uptime)
        try c.encode(targetXKey, forKey: .targetXKey)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encode(runningMachines, forKey: .runningMachines)
    }
}

/// The auction reply: Go's `type AuctionResponse PingResponse`, the same JSON.
public typealias AuctionResponse = PingResponse

/// One matching workload in a ``WorkloadPingResponse`` (`WorkloadPingMachineSummary`).
public struct WorkloadPingMachineSummary: Hashable, Sendable, Codable {
    public var id: String
    public var namespace: String
    public var name: String
    public var workloadType: WorkloadType

    public init(id: String, namespace: String, name: String, workloadType: WorkloadType) {
        self.id = id
        self.namespace = namespace
        self.name = name
        self.workloadType = workloadType
    }

    private enum CodingKeys: String, CodingKey { case id, namespace, name, workloadType = "type" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        namespace = try c.goDecode(.namespace)
        name = try c.goDecode(.name)
        workloadType = WorkloadType(try c.goDecode(.workloadType) as String)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(name, forKey: .name)
        try c.encode(workloadType, forKey: .workloadType)
    }
}

/// The reply to `$NEX.WPING.{ns}[.{idOrName}]` (`WorkloadPingResponse`), type ``NexResponseType/ping``.
public struct WorkloadPingResponse: Hashable, Sendable, Codable {
    public var nodeID: String
    public var targetXKey: String
    public var version: String
    /// `tags` (omitempty).
    public var tags: [String: String]
    public var uptime: String
    /// `running_machines` (no omitempty: `nil` is written as `null`).
    public var runningMachines: [WorkloadPingMachineSummary]?

    public init(nodeID: String, targetXKey: String, version: String, tags: [String: String] = [:], uptime: String, runningMachines: [WorkloadPingMachineSummary]?) {
        self.nodeID = nodeID
        self.targetXKey = targetXKey
        self.version = version
        self.tags = tags
        self.uptime = uptime
        self.runningMachines = runningMachines
    }

    private enum CodingKeys: String, CodingKey {
        case nodeID = "node_id", targetXKey = "target_xkey", version, tags, uptime, runningMachines = "running_machines"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeID = try c.goDecode(.nodeID)
        targetXKey = try c.goDecode(.targetXKey)
        version = try c.goDecode(.version)
        tags = try c.goDecode(.tags)
        uptime = try c.goDecode(.uptime)
        runningMachines = try c.decodeIfPresent([WorkloadPingMachineSummary].self, forKey: .runningMachines)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(targetXKey, forKey: .targetXKey)
        try c.encode(version, forKey: .version)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encode(uptime, forKey: .uptime)
        try c.encodeOrNull(runningMachines, forKey: .runningMachines)
    }
}

/// The reply to `$NEX.LAMEDUCK.{node}` (`LameDuckResponse`), type ``NexResponseType/lameDuck``.
public struct LameDuckResponse: Hashable, Sendable, Codable {
    public var nodeID: String
    public var success: Bool

    public init(nodeID: String, success: Bool) {
        self.nodeID = nodeID
        self.success = success
    }

    private enum CodingKeys: String, CodingKey { case nodeID = "node_id", success }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeID = try c.goDecode(.nodeID)
        success = try c.goDecode(.success)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(success, forKey: .success)
    }
}

/// Host memory in kB, from `/proc/meminfo` (`MemoryStat`).
public struct MemoryStat: Hashable, Sendable, Codable {
    public var total: Int
    public var free: Int
    public var available: Int

    public init(total: Int, free: Int, available: Int) {
        self.total = total
        self.free = free
        self.available = available
    }

    private enum CodingKeys: String, CodingKey { case total, free, available }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.goDecode(.total)
        free = try c.goDecode(.free)
        available = try c.goDecode(.available)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(total, forKey: .total)
        try c.encode(free, forKey: .free)
        try c.encode(available, forKey: .available)
    }
}

/// A deployed workload as INFO shows it (`WorkloadSummary`).
public struct WorkloadSummary: Hashable, Sendable, Codable {
    public var id: String
    public var name: String
    /// `description` (omitempty).
    public var description: String
    public var essential: Bool
    /// The node's sha256 hex of the artifact.
    public var hash: String
    /// `--` for services; cumulative execution time for functions (see ``NexUptime/runtime(nanoseconds:)``).
    public var runtime: String
    public var uptime: String
    public var workloadType: WorkloadType

    public init(id: String, name: String, description: String = "", essential: Bool, hash: String, runtime: String, uptime: String, workloadType: WorkloadType) {
        self.id = id
        self.name = name
        self.description = description
        self.essential = essential
        self.hash = hash
        self.runtime = runtime
        self.uptime = uptime
        self.workloadType = workloadType
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, description, essential, hash, runtime, uptime, workloadType = "type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        name = try c.goDecode(.name)
        description = try c.goDecode(.description)
        essential = try c.goDecode(.essential)
        hash = try c.goDecode(.hash)
        runtime = try c.goDecode(.runtime)
        uptime = try c.goDecode(.uptime)
        workloadType = WorkloadType(try c.goDecode(.workloadType) as String)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeOmitEmpty(description, forKey: .description)
        try c.encode(essential, forKey: .essential)
        try c.encode(hash, forKey: .hash)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(uptime, forKey: .uptime)
        try c.encode(workloadType, forKey: .workloadType)
    }
}

/// A running machine (agent) with its workload, as INFO shows it (`MachineSummary`).
public struct MachineSummary: Hashable, Sendable, Codable {
    public var id: String
    /// Always `true` in 0.x.
    public var healthy: Bool
    public var uptime: String
    /// `namespace` (omitempty).
    public var namespace: String
    /// `workload` (Go `omitempty` has no effect on a struct: always written).
    public var workload: WorkloadSummary

    public init(id: String, healthy: Bool, uptime: String, namespace: String = "", workload: WorkloadSummary) {
        self.id = id
        self.healthy = healthy
        self.uptime = uptime
        self.namespace = namespace
        self.workload = workload
    }

    private enum CodingKeys: String, CodingKey { case id, healthy, uptime, namespace, workload }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        healthy = try c.goDecode(.healthy)
        uptime = try c.goDecode(.uptime)
        namespace = try c.goDecode(.namespace)
        workload = try c.decodeIfPresent(WorkloadSummary.self, forKey: .workload)
            ?? WorkloadSummary(id: "", name: "", essential: false, hash: "", runtime: "", uptime: "", workloadType: WorkloadType(""))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(healthy, forKey: .healthy)
        try c.encode(uptime, forKey: .uptime)
        try c.encodeOmitEmpty(namespace, forKey: .namespace)
        try c.encode(workload, forKey: .workload)
    }
}

/// The reply to `$NEX.INFO.{ns}.{node}` (`InfoResponse`), type ``NexResponseType/info``.
public struct InfoResponse: Hashable, Sendable, Codable {
    /// Idle agents in the warm pool.
    public var availableAgents: Int
    /// `allow_duplicate_workloads` (pointer, omitempty).
    public var allowDuplicateWorkloads: Bool?
    /// Workloads in the request's namespace (no omitempty: `nil` is written as `null`).
    public var machines: [MachineSummary]?
    /// `memory` (pointer, omitempty): `nil` when `/proc/meminfo` is absent.
    public var memory: MemoryStat?
    public var publicXKey: String
    /// `supported_workload_types` (omitempty).
    public var supportedWorkloadTypes: [WorkloadType]
    /// `tags` (omitempty).
    public var tags: [String: String]
    public var uptime: String
    public var version: String

    public init(availableAgents: Int, allowDuplicateWorkloads: Bool? = nil, machines: [MachineSummary]?, memory: MemoryStat? = nil,
                publicXKey: String, supportedWorkloadTypes: [WorkloadType] = [], tags: [String: String] = [:], uptime: String, version: String) {
        self.availableAgents = availableAgents
        self.allowDuplicateWorkloads = allowDuplicateWorkloads
        self.machines = machines
        self.memory = memory
        self.publicXKey = publicXKey
        self.supportedWorkloadTypes = supportedWorkloadTypes
        self.tags = tags
        self.uptime = uptime
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case availableAgents = "available_agents", allowDuplicateWorkloads = "allow_duplicate_workloads", machines, memory
        case publicXKey = "public_xkey", supportedWorkloadTypes = "supported_workload_types", tags, uptime, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        availableAgents = try c.goDecode(.availableAgents)
        allowDuplicateWorkloads = try c.decodeIfPresent(Bool.self, forKey: .allowDuplicateWorkloads)
        machines = try c.decodeIfPresent([MachineSummary].self, forKey: .machines)
        memory = try c.decodeIfPresent(MemoryStat.self, forKey: .memory)
        publicXKey = try c.goDecode(.publicXKey)
        supportedWorkloadTypes = try c.goDecode(.supportedWorkloadTypes)
        tags = try c.goDecode(.tags)
        uptime = try c.goDecode(.uptime)
        version = try c.goDecode(.version)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(availableAgents, forKey: .availableAgents)
        try c.encodeOmitNil(allowDuplicateWorkloads, forKey: .allowDuplicateWorkloads)
        try c.encodeOrNull(machines, forKey: .machines)
        try c.encodeOmitNil(memory, forKey: .memory)
        try c.encode(publicXKey, forKey: .publicXKey)
        try c.encodeOmitEmpty(supportedWorkloadTypes, forKey: .supportedWorkloadTypes)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encode(uptime, forKey: .uptime)
        try c.encode(version, forKey: .version)
    }
}
