import Foundation
import NKeys
import NexAPI

/// One workload the node runs (or is starting).
struct WorkloadRecord: Sendable {
    var id: WorkloadID
    var name: WorkloadName
    var namespace: Namespace
    var type: WorkloadType
    var description: String?
    var essential: Bool
    /// The artifact's sha256 hex (the verified claim).
    var hash: String
    var totalBytes: Int64
    /// The deploy JWT's claims: who may stop it (`iss`), and what a stop token must not be (`jti`).
    var deployClaims: GenericClaims
    var agentID: String
    var startedAt: ContinuousClock.Instant
    /// Whether the agent accepted it; until then it only holds its place (limits, duplicates).
    var running = false
    /// The process groups the agent reported, newest last; killed should the agent die.
    var processGroups: [Int32] = []
    /// Functions: the summed execution time of every successful invocation.
    var runtime: Duration = .zero

    /// The `runtime` of info (spec §2.3): `--` for services; for functions the summed execution time,
    /// `<n>ns` under a microsecond, `<n>ms` under a second, else the uptime format.
    var runtimeText: String {
        guard type.isFunction else { return "--" }
        let nanos = runtime.components.seconds * 1_000_000_000 + runtime.components.attoseconds / 1_000_000_000
        if nanos < 1_000 { return "\(nanos)ns" }
        if nanos < 1_000_000_000 { return "\(nanos / 1_000_000)ms" }
        return NexUptime.format(runtime)
    }
}

/// The node's workloads and the deploy tokens it has seen. A value type, kept under the manager's lock.
struct WorkloadRegistry: Sendable {
    private(set) var workloads: [WorkloadID: WorkloadRecord] = [:]
    /// `jti`s of deploy tokens already used, so a captured deploy request cannot be replayed.
    private var usedDeployTokens: Set<String> = []
    private var usedDeployTokenOrder: [String] = []
    private static let rememberedDeployTokens = 10_000

    var count: Int { workloads.count }

    var runningCount: Int { workloads.values.reduce(0) { $0 + ($1.running ? 1 : 0) } }

    var totalBytes: Int64 { workloads.values.reduce(0) { $0 + $1.totalBytes } }

    func workload(_ id: WorkloadID) -> WorkloadRecord? { workloads[id] }

    func workload(agent: String) -> WorkloadRecord? { workloads.values.first { $0.agentID == agent } }

    /// 0.x's duplicate rule (same artifact, same namespace), applied when duplicates are not allowed.
    func hasDuplicate(hash: String, namespace: Namespace) -> Bool {
        workloads.values.contains { $0.hash == hash && $0.namespace == namespace }
    }

    func isReplayed(_ claims: GenericClaims) -> Bool { usedDeployTokens.contains(claims.id) }

    /// Adds a workload that is about to start, and remembers its deploy token.
    mutating func reserve(_ record: WorkloadRecord) {
        workloads[record.id] = record
        if usedDeployTokens.insert(record.deployClaims.id).inserted {
            usedDeployTokenOrder.append(record.deployClaims.id)
            if usedDeployTokenOrder.count > Self.rememberedDeployTokens {
                usedDeployTokens.remove(usedDeployTokenOrder.removeFirst())
            }
        }
    }

    mutating func update(_ id: WorkloadID, _ change: (inout WorkloadRecord) -> Void) {
        guard var record = workloads[id] else { return }
        change(&record)
        workloads[id] = record
    }

    @discardableResult
    mutating func remove(_ id: WorkloadID) -> WorkloadRecord? { workloads.removeValue(forKey: id) }

    /// Running workloads of `namespace` (all namespaces when `nil`), oldest first.
    func running(in namespace: Namespace?) -> [WorkloadRecord] {
        workloads.values
            .filter { $0.running && (namespace == nil || $0.namespace == namespace) }
            .sorted { $0.startedAt < $1.startedAt }
    }
}
