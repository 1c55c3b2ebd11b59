import NexAPI

/// The tag names the node computes itself (spec §2.8).
public enum NodeTag {
    /// `nex.os`: Go's `GOOS`.
    public static let os = "nex.os"
    /// `nex.arch`: Go's `GOARCH`.
    public static let arch = "nex.arch"
    /// `nex.cpucount`: usable processors.
    public static let cpuCount = "nex.cpucount"
    /// `nex.unsafe`: `"true"` only when workloads run without a sandbox.
    public static let unsafe = "nex.unsafe"
    /// `nex.lameduck`: `"true"` once the node entered lame duck mode.
    public static let lameDuck = "nex.lameduck"
}

/// What the node offers to an auction: the pure part of bidding, kept apart from the I/O so the rules
/// of spec §2.9 are tested without a server.
public struct AuctionTerms: Hashable, Sendable {
    /// The effective tags (configured plus computed).
    public var tags: [String: String]
    /// Whether workloads run without a sandbox.
    public var noSandbox: Bool
    /// The workload types the node runs.
    public var workloadTypes: [WorkloadType]
    /// Lame-duck nodes never bid (0.x still did: a gap the spec marks).
    public var lameDuck: Bool

    public init(tags: [String: String], noSandbox: Bool, workloadTypes: [WorkloadType], lameDuck: Bool) {
        self.tags = tags
        self.noSandbox = noSandbox
        self.workloadTypes = workloadTypes
        self.lameDuck = lameDuck
    }

    /// Whether the node bids on `request`: every given criterion must hold, compared case-insensitively
    /// as Go's `strings.EqualFold` does; `elf` and `native` are the same type.
    public func bids(on request: AuctionRequest) -> Bool {
        if lameDuck { return false }
        if let arch = request.arch, !Self.equalFold(arch, tags[NodeTag.arch]) { return false }
        if let os = request.os, !Self.equalFold(os, tags[NodeTag.os]) { return false }
        // `sandboxed: true` wants a sandboxing node, `false` one without; a mismatch stays silent.
        if let sandboxed = request.sandboxed, sandboxed == noSandbox { return false }
        for (key, value) in request.tags where !Self.equalFold(value, tags[key]) { return false }
        let offered = Set(workloadTypes.map { $0.canonical.rawValue.lowercased() })
        for type in request.workloadTypes where !offered.contains(type.canonical.rawValue.lowercased()) { return false }
        return true
    }

    private static func equalFold(_ lhs: String, _ rhs: String?) -> Bool {
        guard let rhs else { return false }
        return lhs.lowercased() == rhs.lowercased()
    }
}
