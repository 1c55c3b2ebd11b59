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
}

/// What `nex node ls` shows of one ping response.
public struct PingResponseView: Sendable, Hashable {
    public var id: String
    public var name: String
    public var nexus: String
    public var version: String
    public var workloads: Int
    public var lameDuck: Bool

    public init(id: String, name: String, nexus: String, version: String, workloads: Int, lameDuck: Bool) {
        self.id = id
        self.name = name
        self.nexus = nexus
        self.version = version
        self.workloads = workloads
        self.lameDuck = lameDuck
    }
}
