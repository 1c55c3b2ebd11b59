/// A Nex event type: the last token of `$NEX.events.{ns}.{type}` and the CloudEvent `type`.
public struct NexEventType: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The wire string, e.g. `node_started`; always a single subject token.
    public let rawValue: String

    /// Validates `rawValue` as a single NATS subject token.
    public init(_ rawValue: String) throws(NexAPIError) {
        guard SubjectToken.isValid(rawValue) else {
            throw NexAPIError(code: .invalidIdentifier, message: "event type \"\(rawValue)\" must be a single NATS subject token")
        }
        self.rawValue = rawValue
    }

    private init(unchecked: String) { rawValue = unchecked }

    /// `system` namespace; data ``NodeStartedEvent``.
    public static let nodeStarted = NexEventType(unchecked: "node_started")
    /// `system` namespace; data ``NodeStoppedEvent``.
    public static let nodeStopped = NexEventType(unchecked: "node_stopped")
    /// `system` namespace, every 30 s; data ``HeartbeatEvent``.
    public static let heartbeat = NexEventType(unchecked: "heartbeat")
    /// `system` namespace; data ``NodeEnteredLameDuckEvent``.
    public static let nodeEnteredLameDuck = NexEventType(unchecked: "node_entered_lameduck")
    /// Workload namespace; data ``WorkloadStatusEvent``.
    public static let workloadDeployed = NexEventType(unchecked: "workload_deployed")
    /// Workload namespace; data ``WorkloadStatusEvent`` (agent: exit code) or ``WorkloadUndeployedEvent`` (node: reason).
    public static let workloadUndeployed = NexEventType(unchecked: "workload_undeployed")
    /// Workload namespace; data ``WorkloadStatusEvent`` (the exit code, and the restart in `message`):
    /// an essential service failed and is being restarted (new in swift-nex; 0.x redeployed silently).
    public static let workloadRestarting = NexEventType(unchecked: "workload_restarting")
    /// Workload namespace; data ``FunctionExecSucceededEvent``.
    public static let functionExecSucceeded = NexEventType(unchecked: "function_exec_succeeded")
    /// Workload namespace; data ``FunctionExecFailedEvent``.
    public static let functionExecFailed = NexEventType(unchecked: "function_exec_failed")
    /// Declared in 0.x but never emitted; data ``AgentStartedEvent``.
    public static let agentStarted = NexEventType(unchecked: "agent_started")
    /// Declared in 0.x but never emitted; data ``AgentStoppedEvent``.
    public static let agentStopped = NexEventType(unchecked: "agent_stopped")

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A CloudEvents 1.0 event in structured JSON mode, as the 0.x node publishes it on
/// `$NEX.events.{namespace}.{type}`.
///
/// 0.x uses `cloudevents/sdk-go` v1.2.0, whose `jsonEncode` collects the attributes, the flattened
/// extensions and `data` in a Go `map[string]json.RawMessage` before marshalling — so the top-level
/// keys come out **sorted** (`data`, `datacontenttype`, `id`, extensions, `source`, `specversion`,
/// `time`, `type`), and ``NexJSON`` writes them the same way. `data` is the embedded JSON object.
public struct NexCloudEvent<EventData: Codable & Sendable>: Sendable, Codable {
    /// `specversion`: "1.0".
    public var specVersion: String
    /// `id`: a UUIDv4.
    public var id: String
    /// `source`: the node ID, or `{nodeId}-{workloadId}` for agent events the node forwards.
    public var source: String
    /// `type`: the event type.
    public var type: NexEventType
    /// `time`: RFC 3339 with nanoseconds.
    public var time: GoTime?
    /// `datacontenttype`: `application/json`.
    public var dataContentType: String?
    /// Extension attributes, flattened to top-level string members (0.x: `namespace` on forwarded
    /// agent events).
    public var extensions: [String: String]
    /// `data`.
    public var data: EventData

    /// The CloudEvents version Nex uses.
    public static var specVersion10: String { "1.0" }
    /// The extension that carries the workload namespace on forwarded agent events (no `-` allowed).
    public static var namespaceExtension: String { "namespace" }

    public init(id: String, source: String, type: NexEventType, time: GoTime?, data: EventData,
                extensions: [String: String] = [:], dataContentType: String? = "application/json", specVersion: String = "1.0") {
        self.specVersion = specVersion
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.dataContentType = dataContentType
        self.extensions = extensions
        self.data = data
    }

    private static var attributeNames: Set<String> {
        ["specversion", "id", "source", "type", "time", "datacontenttype", "data", "dataschema", "subject", "data_base64"]
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        specVersion = try c.decode(String.self, forKey: AnyCodingKey("specversion"))
        id = try c.decode(String.self, forKey: AnyCodingKey("id"))
        source = try c.decode(String.self, forKey: AnyCodingKey("source"))
        type = try c.decode(NexEventType.self, forKey: AnyCodingKey("type"))
        time = try c.decodeIfPresent(GoTime.self, forKey: AnyCodingKey("time"))
        dataContentType = try c.decodeIfPresent(String.self, forKey: AnyCodingKey("datacontenttype"))
        data = try c.decode(EventData.self, forKey: AnyCodingKey("data"))
        var extensions: [String: String] = [:]
        for key in c.allKeys where !Self.attributeNames.contains(key.stringValue) {
            // sdk-go writes extensions as strings; keep other scalars as their text.
            if let text = try? c.decode(String.self, forKey: key) {
                extensions[key.stringValue] = text
            } else if let number = try? c.decode(Int64.self, forKey: key) {
                extensions[key.stringValue] = String(number)
            } else if let flag = try? c.decode(Bool.self, forKey: key) {
                extensions[key.stringValue] = String(flag)
            }
        }
        self.extensions = extensions
    }

    public func encode(to encoder: any Encoder) throws {
        var members: [(String, Member)] = [
            ("specversion", .text(specVersion)), ("id", .text(id)), ("source", .text(source)), ("type", .text(type.rawValue)),
            ("data", .data),
        ]
        if let time { members.append(("time", .text(time.utc.rfc3339Nano))) }
        if let dataContentType { members.append(("datacontenttype", .text(dataContentType))) }
        for (name, value) in extensions where !Self.attributeNames.contains(name) {
            members.append((name, .text(value)))
        }
        members.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for (name, member) in members {
            switch member {
            case .text(let text): try c.encode(text, forKey: AnyCodingKey(name))
            case .data: try c.encode(data, forKey: AnyCodingKey(name))
            }
        }
    }

    private enum Member {
        case text(String)
        case data
    }
}

/// `node_started` data: `{"version","id","tags"?,"public_xkey"?}`.
public struct NodeStartedEvent: Hashable, Sendable, Codable {
    public var version: String
    /// The node ID.
    public var id: String
    public var tags: [String: String]
    public var publicXKey: String

    public init(version: String, id: String, tags: [String: String] = [:], publicXKey: String = "") {
        self.version = version
        self.id = id
        self.tags = tags
        self.publicXKey = publicXKey
    }

    private enum CodingKeys: String, CodingKey { case version, id, tags, publicXKey = "public_xkey" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.goDecode(.version)
        id = try c.goDecode(.id)
        tags = try c.goDecode(.tags)
        publicXKey = try c.goDecode(.publicXKey)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(id, forKey: .id)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encodeOmitEmpty(publicXKey, forKey: .publicXKey)
    }
}

/// `node_stopped` data: `{"id","graceful"}`.
public struct NodeStoppedEvent: Hashable, Sendable, Codable {
    public var id: String
    public var graceful: Bool

    public init(id: String, graceful: Bool) {
        self.id = id
        self.graceful = graceful
    }

    private enum CodingKeys: String, CodingKey { case id, graceful }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.goDecode(.id)
        graceful = try c.goDecode(.graceful)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(graceful, forKey: .graceful)
    }
}

/// `heartbeat` data:
/// `{"allow_duplicate_workloads"?,"nexus"?,"node_id","running_machines","tags"?,"uptime","public_xkey"?,"version"}`.
public struct HeartbeatEvent: Hashable, Sendable, Codable {
    public var allowDuplicateWorkloads: Bool?
    public var nexus: String
    public var nodeID: String
    public var runningMachines: Int
    public var tags: [String: String]
    public var uptime: String
    public var publicXKey: String
    public var version: String

    public init(allowDuplicateWorkloads: Bool? = nil, nexus: String = "", nodeID: String, runningMachines: Int,
                tags: [String: String] = [:], uptime: String, publicXKey: String = "", version: String) {
        self.allowDuplicateWorkloads = allowDuplicateWorkloads
        self.nexus = nexus
        self.nodeID = nodeID
        self.runningMachines = runningMachines
        self.tags = tags
        self.uptime = uptime
        self.publicXKey = publicXKey
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case allowDuplicateWorkloads = "allow_duplicate_workloads", nexus, nodeID = "node_id", runningMachines = "running_machines"
        case tags, uptime, publicXKey = "public_xkey", version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allowDuplicateWorkloads = try c.decodeIfPresent(Bool.self, forKey: .allowDuplicateWorkloads)
        nexus = try c.goDecode(.nexus)
        nodeID = try c.goDecode(.nodeID)
        runningMachines = try c.goDecode(.runningMachines)
        tags = try c.goDecode(.tags)
        uptime = try c.goDecode(.uptime)
        publicXKey = try c.goDecode(.publicXKey)
        version = try c.goDecode(.version)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOmitNil(allowDuplicateWorkloads, forKey: .allowDuplicateWorkloads)
        try c.encodeOmitEmpty(nexus, forKey: .nexus)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(runningMachines, forKey: .runningMachines)
        try c.encodeOmitEmpty(tags, forKey: .tags)
        try c.encode(uptime, forKey: .uptime)
        try c.encodeOmitEmpty(publicXKey, forKey: .publicXKey)
        try c.encode(version, forKey: .version)
    }
}

/// `node_entered_lameduck` data: `{"version","id"}`.
public struct NodeEnteredLameDuckEvent: Hashable, Sendable, Codable {
    public var version: String
    public var id: String

    public init(version: String, id: String) {
        self.version = version
        self.id = id
    }

    private enum CodingKeys: String, CodingKey { case version, id }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.goDecode(.version)
        id = try c.goDecode(.id)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(id, forKey: .id)
    }
}

/// The agent's workload status (`WorkloadStatusEvent`), sent as `workload_deployed`
/// (`{"code":0,"workload_id","workload_name","essential","total_bytes"}`) and, on exit, as
/// `workload_undeployed` (`{"code","message","workload_id","workload_name"}`).
///
/// The spec shows `essential`/`total_bytes` only on the deployed form, so they are optional here and
/// written only when set; `message` is Go `omitempty`.
public struct WorkloadStatusEvent: Hashable, Sendable, Codable {
    public var code: Int
    public var message: String
    public var workloadID: String
    public var workloadName: String
    public var essential: Bool?
    public var totalBytes: Int64?

    public init(code: Int, message: String = "", workloadID: String, workloadName: String, essential: Bool? = nil, totalBytes: Int64? = nil) {
        self.code = code
        self.message = message
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.essential = essential
        self.totalBytes = totalBytes
    }

    private enum CodingKeys: String, CodingKey {
        case code, message, workloadID = "workload_id", workloadName = "workload_name", essential, totalBytes = "total_bytes"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.goDecode(.code)
        message = try c.goDecode(.message)
        workloadID = try c.goDecode(.workloadID)
        workloadName = try c.goDecode(.workloadName)
        essential = try c.decodeIfPresent(Bool.self, forKey: .essential)
        totalBytes = try c.decodeIfPresent(Int64.self, forKey: .totalBytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encodeOmitEmpty(message, forKey: .message)
        try c.encode(workloadID, forKey: .workloadID)
        try c.encode(workloadName, forKey: .workloadName)
        try c.encodeOmitNil(essential, forKey: .essential)
        try c.encodeOmitNil(totalBytes, forKey: .totalBytes)
    }
}

/// The node's own `workload_undeployed` data: `{"workload_id","workload_name","reason"}`.
public struct WorkloadUndeployedEvent: Hashable, Sendable, Codable {
    public var workloadID: String
    public var workloadName: String
    public var reason: String

    /// The reason 0.x sends on every stop.
    public static let undeployRequestedReason = "Workload undeploy requested"

    public init(workloadID: String, workloadName: String, reason: String) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey { case workloadID = "workload_id", workloadName = "workload_name", reason }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workloadID = try c.goDecode(.workloadID)
        workloadName = try c.goDecode(.workloadName)
        reason = try c.goDecode(.reason)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workloadID, forKey: .workloadID)
        try c.encode(workloadName, forKey: .workloadName)
        try c.encode(reason, forKey: .reason)
    }
}

/// `function_exec_succeeded` data: `{"workload_id","workload_name","namespace","trigger_subject","elapsed_nanos"}`.
public struct FunctionExecSucceededEvent: Hashable, Sendable, Codable {
    public var workloadID: String
    public var workloadName: String
    public var namespace: String
    /// The trigger subscription's subject pattern, not the concrete subject.
    public var triggerSubject: String
    public var elapsedNanos: Int64

    public init(workloadID: String, workloadName: String, namespace: String, triggerSubject: String, elapsedNanos: Int64) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.namespace = namespace
        self.triggerSubject = triggerSubject
        self.elapsedNanos = elapsedNanos
    }

    private enum CodingKeys: String, CodingKey {
        case workloadID = "workload_id", workloadName = "workload_name", namespace, triggerSubject = "trigger_subject", elapsedNanos = "elapsed_nanos"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workloadID = try c.goDecode(.workloadID)
        workloadName = try c.goDecode(.workloadName)
        namespace = try c.goDecode(.namespace)
        triggerSubject = try c.goDecode(.triggerSubject)
        elapsedNanos = try c.goDecode(.elapsedNanos)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workloadID, forKey: .workloadID)
        try c.encode(workloadName, forKey: .workloadName)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(triggerSubject, forKey: .triggerSubject)
        try c.encode(elapsedNanos, forKey: .elapsedNanos)
    }
}

/// `function_exec_failed` data: `{"workload_id","workload_name","namespace","trigger_subject","error"}`.
public struct FunctionExecFailedEvent: Hashable, Sendable, Codable {
    public var workloadID: String
    public var workloadName: String
    public var namespace: String
    public var triggerSubject: String
    public var error: String

    public init(workloadID: String, workloadName: String, namespace: String, triggerSubject: String, error: String) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.namespace = namespace
        self.triggerSubject = triggerSubject
        self.error = error
    }

    private enum CodingKeys: String, CodingKey {
        case workloadID = "workload_id", workloadName = "workload_name", namespace, triggerSubject = "trigger_subject", error
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workloadID = try c.goDecode(.workloadID)
        workloadName = try c.goDecode(.workloadName)
        namespace = try c.goDecode(.namespace)
        triggerSubject = try c.goDecode(.triggerSubject)
        error = try c.goDecode(.error)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workloadID, forKey: .workloadID)
        try c.encode(workloadName, forKey: .workloadName)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(triggerSubject, forKey: .triggerSubject)
        try c.encode(error, forKey: .error)
    }
}

/// `agent_started` data (declared, never emitted by 0.x): `{"agent_version"}`.
public struct AgentStartedEvent: Hashable, Sendable, Codable {
    public var agentVersion: String

    public init(agentVersion: String) { self.agentVersion = agentVersion }

    private enum CodingKeys: String, CodingKey { case agentVersion = "agent_version" }

    public init(from decoder: any Decoder) throws {
        agentVersion = try decoder.container(keyedBy: CodingKeys.self).goDecode(.agentVersion)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(agentVersion, forKey: .agentVersion)
    }
}

/// `agent_stopped` data (declared, never emitted by 0.x): `{"message","code"}`.
public struct AgentStoppedEvent: Hashable, Sendable, Codable {
    public var message: String
    public var code: Int

    public init(message: String, code: Int) {
        self.message = message
        self.code = code
    }

    private enum CodingKeys: String, CodingKey { case message, code }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        message = try c.goDecode(.message)
        code = try c.goDecode(.code)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(message, forKey: .message)
        try c.encode(code, forKey: .code)
    }
}
