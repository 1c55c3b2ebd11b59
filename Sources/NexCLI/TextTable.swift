import NexAPI

/// A plain, aligned text table: an optional title, a header row, a rule, then the rows.
///
/// Kept to ASCII rules so the output stays aligned in any terminal and greppable in scripts; widths
/// are counted in characters (IDs and most names are ASCII; wide glyphs would misalign, which is cosmetic).
public struct TextTable: Sendable, Hashable {
    public var title: String?
    public var header: [String]
    public var rows: [[String]]

    public init(title: String? = nil, header: [String], rows: [[String]] = []) {
        self.title = title
        self.header = header
        self.rows = rows
    }

    /// The table as lines joined by `\n`, without a trailing newline; columns are separated by two spaces
    /// and trailing spaces are trimmed.
    public func render() -> String {
        let columnCount = ([header] + rows).map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columnCount)
        for row in [header] + rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for index in 0..<columnCount {
                let cell = index < cells.count ? cells[index] : ""
                if index > 0 { text += "  " }
                text += cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var lines: [String] = []
        if let title { lines.append(title) }
        lines.append(line(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines.append(contentsOf: rows.map(line))
        return lines.joined(separator: "\n")
    }
}

/// The §8.3 renderings of node listings and node info, as pure functions of the responses.
public enum NodeOutput {
    /// `nex node ls`: title `NATS Execution Nodes`, columns `ID (* = Lameduck Mode)`, `Name`, `Version`,
    /// `Workloads`; name from tag `node_name` (else `no-name`), `*` after lame-duck IDs; sorted by nexus, then name.
    public static func nodeList(_ nodes: [PingResponseView]) -> String {
        let sorted = nodes.sorted { ($0.nexus, $0.name, $0.id) < ($1.nexus, $1.name, $1.id) }
        return TextTable(title: "NATS Execution Nodes", header: ["ID (* = Lameduck Mode)", "Name", "Version", "Workloads"],
                         rows: sorted.map { [$0.id + ($0.lameDuck ? "*" : ""), $0.name, $0.version, String($0.workloads)] }).render()
    }

    /// `nex node ls --full`: columns `Nexus`, `ID (* = Lameduck Mode)`, `Name`, `Version`, `Workloads`, `Uptime`,
    /// `Sandboxed`, `OS`, `Arch`. The nexus is the response's own `nexus` (0.x read a `nexus` tag: fixed).
    public static func nodeListFull(_ nodes: [PingResponseView]) -> String {
        let sorted = nodes.sorted { ($0.nexus, $0.name, $0.id) < ($1.nexus, $1.name, $1.id) }
        return TextTable(title: "NATS Execution Nodes",
                         header: ["Nexus", "ID (* = Lameduck Mode)", "Name", "Version", "Workloads", "Uptime", "Sandboxed", "OS", "Arch"],
                         rows: sorted.map {
                             [$0.nexus, $0.id + ($0.lameDuck ? "*" : ""), $0.name, $0.version, String($0.workloads), $0.uptime,
                              $0.sandboxed ? "true" : "false", $0.os, $0.arch]
                         }).render()
    }

    /// `nex node probe`: table `Discovered Workloads` with `ID`, `Name`, `Type`, `Namespace`, `Node Name`
    /// (the node's `node_name` tag, else its ID), or `No workloads matched`.
    public static func workloadProbe(_ responses: [WorkloadPingResponse]) -> String {
        var rows: [[String]] = []
        for response in responses.sorted(by: { $0.nodeID < $1.nodeID }) {
            let nodeName = response.tags["node_name"] ?? response.nodeID
            for machine in (response.runningMachines ?? []).sorted(by: { ($0.name, $0.id) < ($1.name, $1.id) }) {
                rows.append([machine.id, machine.name, machine.workloadType.rawValue, machine.namespace, nodeName])
            }
        }
        guard !rows.isEmpty else { return "No workloads matched" }
        return TextTable(title: "Discovered Workloads", header: ["ID", "Name", "Type", "Namespace", "Node Name"], rows: rows).render()
    }
}

/// What `nex node ls` shows of one ping response.
public struct PingResponseView: Sendable, Hashable {
    public var id: String
    public var name: String
    public var nexus: String
    public var version: String
    public var workloads: Int
    public var lameDuck: Bool
    public var uptime: String
    /// Whether the node sandboxes workloads (not tagged `nex.unsafe=true`).
    public var sandboxed: Bool
    /// The `nex.os` and `nex.arch` tags, or `unknown`.
    public var os: String
    public var arch: String

    public init(id: String, name: String, nexus: String, version: String, workloads: Int, lameDuck: Bool,
                uptime: String = "", sandboxed: Bool = true, os: String = "unknown", arch: String = "unknown") {
        self.id = id
        self.name = name
        self.nexus = nexus
        self.version = version
        self.workloads = workloads
        self.lameDuck = lameDuck
        self.uptime = uptime
        self.sandboxed = sandboxed
        self.os = os
        self.arch = arch
    }

    /// What the listing shows of `response`.
    public init(_ response: PingResponse) {
        self.init(id: response.nodeID, name: response.tags["node_name"] ?? "no-name", nexus: response.nexus,
                  version: response.version, workloads: response.runningMachines,
                  lameDuck: response.tags["nex.lameduck"] == "true", uptime: response.uptime,
                  sandboxed: response.tags["nex.unsafe"] != "true", os: response.tags["nex.os"] ?? "unknown",
                  arch: response.tags["nex.arch"] ?? "unknown")
    }
}
