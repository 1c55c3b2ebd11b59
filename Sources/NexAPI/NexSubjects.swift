/// A `$NEX.` subject with its parameters: the one place subjects are built and parsed.
///
/// `description` builds the subject; ``init(parsing:)`` parses one and returns `nil` for anything
/// that is not exactly one of these shapes with valid tokens, so use sites never split by index.
public enum NexSubject: Hashable, Sendable, CustomStringConvertible {
    /// `$NEX.PING`: every node answers.
    case ping
    /// `$NEX.PING.{nodeId}`.
    case pingNode(NodeID)
    /// `$NEX.AUCTION`: matching nodes bid.
    case auction
    /// `$NEX.WPING.{ns}` or `$NEX.WPING.{ns}.{workloadIdOrName}`.
    case workloadPing(Namespace, WorkloadReference?)
    /// `$NEX.INFO.{ns}.{nodeId}`.
    case info(Namespace, NodeID)
    /// `$NEX.DEPLOY.{ns}.{nodeId}`.
    case deploy(Namespace, NodeID)
    /// `$NEX.STOP.{ns}.{nodeId}`.
    case stop(Namespace, NodeID)
    /// `$NEX.LAMEDUCK.{nodeId}`.
    case lameDuck(NodeID)
    /// `$NEX.events.{ns}.{type}`.
    case event(Namespace, NexEventType)
    /// `$NEX.logs.{ns}.{nodeId}.{workloadName}.{workloadId}`: a workload's log records.
    case workloadLog(Namespace, NodeID, WorkloadName, WorkloadID)
    /// `$NEX.logs.system.{nodeId}.{stdout|stderr}`: the node process's own output (`--logger nats`).
    case nodeLog(NodeID, NodeLogStream)

    /// The output stream of a node-process log subject.
    public enum NodeLogStream: String, Hashable, Sendable, CaseIterable {
        case stdout, stderr
    }

    /// `$NEX`.
    public static let prefix = "$NEX"

    /// The subject text.
    public var description: String {
        switch self {
        case .ping: return "$NEX.PING"
        case .pingNode(let node): return "$NEX.PING.\(node)"
        case .auction: return "$NEX.AUCTION"
        case .workloadPing(let namespace, nil): return "$NEX.WPING.\(namespace)"
        case .workloadPing(let namespace, let workload?): return "$NEX.WPING.\(namespace).\(workload)"
        case .info(let namespace, let node): return "$NEX.INFO.\(namespace).\(node)"
        case .deploy(let namespace, let node): return "$NEX.DEPLOY.\(namespace).\(node)"
        case .stop(let namespace, let node): return "$NEX.STOP.\(namespace).\(node)"
        case .lameDuck(let node): return "$NEX.LAMEDUCK.\(node)"
        case .event(let namespace, let type): return "$NEX.events.\(namespace).\(type)"
        case .workloadLog(let namespace, let node, let name, let id): return "$NEX.logs.\(namespace).\(node).\(name).\(id)"
        case .nodeLog(let node, let stream): return "$NEX.logs.system.\(node).\(stream.rawValue)"
        }
    }

    /// Parses a concrete subject; `nil` unless it is exactly one of the cases with valid tokens
    /// (wildcards, empty tokens, bad node IDs, a wrong token count or a wrong prefix all give `nil`).
    public init?(parsing subject: some StringProtocol) {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 2, tokens[0] == Self.prefix else { return nil }
        let rest = tokens.dropFirst(2)
        switch (tokens[1], rest.count) {
        case ("PING", 0):
            self = .ping
        case ("PING", 1):
            guard let node = NodeID(validating: tokens[2]) else { return nil }
            self = .pingNode(node)
        case ("AUCTION", 0):
            self = .auction
        case ("WPING", 1):
            guard let namespace = Namespace(validating: tokens[2]) else { return nil }
            self = .workloadPing(namespace, nil)
        case ("WPING", 2):
            guard let namespace = Namespace(validating: tokens[2]),
                  let workload = try? WorkloadReference(String(tokens[3])) else { return nil }
            self = .workloadPing(namespace, workload)
        case ("INFO", 2), ("DEPLOY", 2), ("STOP", 2):
            guard let namespace = Namespace(validating: tokens[2]), let node = NodeID(validating: tokens[3]) else { return nil }
            switch tokens[1] {
            case "INFO": self = .info(namespace, node)
            case "DEPLOY": self = .deploy(namespace, node)
            default: self = .stop(namespace, node)
            }
        case ("LAMEDUCK", 1):
            guard let node = NodeID(validating: tokens[2]) else { return nil }
            self = .lameDuck(node)
        case ("events", 2):
            guard let namespace = Namespace(validating: tokens[2]), let type = try? NexEventType(String(tokens[3])) else { return nil }
            self = .event(namespace, type)
        case ("logs", 4):
            guard let namespace = Namespace(validating: tokens[2]), let node = NodeID(validating: tokens[3]),
                  let name = WorkloadName(validating: tokens[4]), let id = WorkloadID(validating: tokens[5]) else { return nil }
            self = .workloadLog(namespace, node, name, id)
        case ("logs", 3):
            guard tokens[2] == Namespace.system.rawValue, let node = NodeID(validating: tokens[3]),
                  let stream = NodeLogStream(rawValue: String(tokens[4])) else { return nil }
            self = .nodeLog(node, stream)
        default:
            return nil
        }
    }

    /// The namespace the subject is scoped to, if it has one.
    public var namespace: Namespace? {
        switch self {
        case .workloadPing(let namespace, _), .info(let namespace, _), .deploy(let namespace, _), .stop(let namespace, _),
             .event(let namespace, _), .workloadLog(let namespace, _, _, _):
            return namespace
        case .nodeLog:
            return .system
        case .ping, .pingNode, .auction, .lameDuck:
            return nil
        }
    }

    /// The node the subject addresses, if it names one.
    public var nodeID: NodeID? {
        switch self {
        case .pingNode(let node), .info(_, let node), .deploy(_, let node), .stop(_, let node), .lameDuck(let node),
             .workloadLog(_, let node, _, _), .nodeLog(let node, _):
            return node
        case .ping, .auction, .workloadPing, .event:
            return nil
        }
    }
}

/// Subscription patterns (with wildcards) for the `$NEX.` subjects; concrete subjects are
/// ``NexSubject`` values.
public enum NexSubscriptions {
    /// `$NEX.PING`.
    public static let ping = "$NEX.PING"
    /// `$NEX.AUCTION`.
    public static let auction = "$NEX.AUCTION"
    /// `$NEX.WPING.>`: every workload ping, in every namespace.
    public static let workloadPing = "$NEX.WPING.>"

    /// `$NEX.PING.{nodeId}`.
    public static func ping(node: NodeID) -> String { NexSubject.pingNode(node).description }
    /// `$NEX.INFO.*.{nodeId}`.
    public static func info(node: NodeID) -> String { "$NEX.INFO.*.\(node)" }
    /// `$NEX.DEPLOY.*.{nodeId}`.
    public static func deploy(node: NodeID) -> String { "$NEX.DEPLOY.*.\(node)" }
    /// `$NEX.STOP.*.{nodeId}`.
    public static func stop(node: NodeID) -> String { "$NEX.STOP.*.\(node)" }
    /// `$NEX.LAMEDUCK.{nodeId}`.
    public static func lameDuck(node: NodeID) -> String { NexSubject.lameDuck(node).description }

    /// `$NEX.events.{ns|*}.{type|*}`.
    public static func events(namespace: Namespace? = nil, type: NexEventType? = nil) -> String {
        "$NEX.events.\(namespace?.rawValue ?? "*").\(type?.rawValue ?? "*")"
    }

    /// `$NEX.logs.{ns}.{node}.{workloadName}.{workloadId}`, each missing part a `*`.
    public static func logs(namespace: Namespace? = nil, node: NodeID? = nil, workloadName: WorkloadName? = nil, workloadID: WorkloadID? = nil) -> String {
        "$NEX.logs.\(namespace?.rawValue ?? "*").\(node?.rawValue ?? "*").\(workloadName?.rawValue ?? "*").\(workloadID?.rawValue ?? "*")"
    }
}
