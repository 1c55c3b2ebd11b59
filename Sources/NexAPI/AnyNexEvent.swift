/// The `data` of an event whose type is only known at run time (event watchers), chosen by the
/// CloudEvent `type`.
public enum NexEventPayload: Hashable, Sendable, Codable {
    case nodeStarted(NodeStartedEvent)
    case nodeStopped(NodeStoppedEvent)
    case heartbeat(HeartbeatEvent)
    case nodeEnteredLameDuck(NodeEnteredLameDuckEvent)
    case workloadDeployed(WorkloadStatusEvent)
    /// The agent's exit report (`code`, `message`).
    case workloadExited(WorkloadStatusEvent)
    /// The node's own undeploy notice (`reason`).
    case workloadUndeployed(WorkloadUndeployedEvent)
    /// An essential service failed and restarts (`code`, and the restart in `message`).
    case workloadRestarting(WorkloadStatusEvent)
    case functionExecSucceeded(FunctionExecSucceededEvent)
    case functionExecFailed(FunctionExecFailedEvent)
    case agentStarted(AgentStartedEvent)
    case agentStopped(AgentStoppedEvent)
    /// A type this version does not know; the data is kept as JSON.
    case other(JSONValue)

    /// Decodes `data` for an event of `type`.
    init(type: NexEventType, decoder: any Decoder) throws {
        switch type {
        case .nodeStarted: self = .nodeStarted(try NodeStartedEvent(from: decoder))
        case .nodeStopped: self = .nodeStopped(try NodeStoppedEvent(from: decoder))
        case .heartbeat: self = .heartbeat(try HeartbeatEvent(from: decoder))
        case .nodeEnteredLameDuck: self = .nodeEnteredLameDuck(try NodeEnteredLameDuckEvent(from: decoder))
        case .workloadDeployed: self = .workloadDeployed(try WorkloadStatusEvent(from: decoder))
        case .workloadUndeployed:
            // Two producers share this type: the node's notice carries `reason`, the agent's `code`.
            let keys = try decoder.container(keyedBy: AnyCodingKey.self)
            if keys.contains(AnyCodingKey("reason")) {
                self = .workloadUndeployed(try WorkloadUndeployedEvent(from: decoder))
            } else {
                self = .workloadExited(try WorkloadStatusEvent(from: decoder))
            }
        case .workloadRestarting: self = .workloadRestarting(try WorkloadStatusEvent(from: decoder))
        case .functionExecSucceeded: self = .functionExecSucceeded(try FunctionExecSucceededEvent(from: decoder))
        case .functionExecFailed: self = .functionExecFailed(try FunctionExecFailedEvent(from: decoder))
        case .agentStarted: self = .agentStarted(try AgentStartedEvent(from: decoder))
        case .agentStopped: self = .agentStopped(try AgentStoppedEvent(from: decoder))
        default: self = .other(try JSONValue(from: decoder))
        }
    }

    /// Decoding needs the event type, so a bare payload decodes as ``other(_:)``; use ``AnyNexEvent``.
    public init(from decoder: any Decoder) throws {
        self = .other(try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .nodeStarted(let data): try data.encode(to: encoder)
        case .nodeStopped(let data): try data.encode(to: encoder)
        case .heartbeat(let data): try data.encode(to: encoder)
        case .nodeEnteredLameDuck(let data): try data.encode(to: encoder)
        case .workloadDeployed(let data), .workloadExited(let data), .workloadRestarting(let data): try data.encode(to: encoder)
        case .workloadUndeployed(let data): try data.encode(to: encoder)
        case .functionExecSucceeded(let data): try data.encode(to: encoder)
        case .functionExecFailed(let data): try data.encode(to: encoder)
        case .agentStarted(let data): try data.encode(to: encoder)
        case .agentStopped(let data): try data.encode(to: encoder)
        case .other(let data): try data.encode(to: encoder)
        }
    }
}

/// An event of any type, its `data` decoded by its `type` (for `nex events`-style watchers).
public struct AnyNexEvent: Sendable, Codable {
    /// The event; `data` is typed by ``NexCloudEvent/type``.
    public var event: NexCloudEvent<NexEventPayload>

    public init(_ event: NexCloudEvent<NexEventPayload>) { self.event = event }

    /// Decodes an event of any type.
    public static func decode(from bytes: some Collection<UInt8>) throws(NexAPIError) -> AnyNexEvent {
        try NexJSON.decode(AnyNexEvent.self, from: bytes)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let type = try c.decode(NexEventType.self, forKey: AnyCodingKey("type"))
        let payload = try NexEventPayload(type: type, decoder: c.superDecoder(forKey: AnyCodingKey("data")))
        // Decode the envelope with the data skipped, then put the typed payload in.
        let header = try NexCloudEvent<Skipped>(from: decoder)
        event = NexCloudEvent(id: header.id, source: header.source, type: header.type, time: header.time, data: payload,
                              extensions: header.extensions, dataContentType: header.dataContentType, specVersion: header.specVersion)
    }

    public func encode(to encoder: any Encoder) throws {
        try event.encode(to: encoder)
    }

    private struct Skipped: Codable, Sendable {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
    }
}
