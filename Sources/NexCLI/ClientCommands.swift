import ArgumentParser
import Logging
import NATS
import NexAPI
import NexClient
import NexNode

/// Runs `body` with a `NexClient` for the global options; failures become one-line errors, and when the
/// request is for one `node`, "nobody answers" and "no answer in time" become `No such node: …`.
func withNexClient<T: Sendable>(_ options: ConnectionOptions, node: NodeID? = nil,
                                _ body: (NexClient) async throws -> T) async throws -> T {
    let environment = processEnvironment()
    let url = options.serverURL(environment: environment)
    let timeout = try options.requestTimeout(environment: environment)
    let namespace = try options.resolvedNamespace(environment: environment)
    var configuration = try options.clientConfiguration(url: url)
    configuration.connectTimeout = max(timeout, .seconds(2))
    var logger = Logger(label: "nex.cli")
    // A one-shot command's output is its answer; connection chatter only when asked for with NEX_LOGLEVEL.
    if environment["NEX_LOGLEVEL"] == nil { logger.logLevel = .warning }
    do {
        return try await withNATSClient(configuration, logger: logger) { client in
            try await body(NexClient(client: client, namespace: namespace, timeout: timeout, logger: logger))
        }
    } catch let error as CLIError {
        throw error
    } catch let error as NexClientError {
        if let node, error.code == .noNode || error.code == .timeout { throw CLIError("No such node: \(node)") }
        throw CLIError(error.message)
    } catch let error as NATSError {
        throw CLIError("cannot talk to NATS at \(url): \(error)")
    }
}

func parseNodeID(_ text: String) throws -> NodeID {
    do {
        return try NodeID(text)
    } catch {
        throw CLIError(error.message)
    }
}

func printJSON(_ value: some Encodable) throws {
    do {
        print(String(decoding: try NexJSON.encode(value), as: UTF8.self))
    } catch {
        throw CLIError("cannot encode the response: \(error.message)")
    }
}

/// `nex node ls` (alias `nodes`): every node that answers `$NEX.PING` within the timeout.
public struct NodeList: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the Nex nodes that answer a ping.",
        discussion: """
        Every node answering $NEX.PING within --timeout is listed; a * after the ID marks lame duck mode.

        Examples:
          nex node ls
          nex node ls --full
          nex node ls --json --timeout 5s
        """,
        aliases: ["nodes"])

    @OptionGroup public var connection: ConnectionOptions

    @Flag(help: "Print the raw ping responses as JSON.")
    public var json = false

    @Flag(help: "Also show nexus, uptime, sandboxing, OS and architecture.")
    public var full = false

    public init() {}

    public func run() async throws {
        let nodes = try await withNexClient(connection) { try await $0.ping() }
        guard !nodes.isEmpty else { throw CLIError("No nodes discovered") }
        if json {
            try printJSON(nodes)
            return
        }
        let views = nodes.map(PingResponseView.init)
        print(full ? NodeOutput.nodeListFull(views) : NodeOutput.nodeList(views))
    }
}

/// `nex node info <id>`: one node's description and its workloads in the namespace.
public struct NodeInfo: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show one Nex node: identity, tags, memory and workloads.",
        discussion: """
        Workloads shown are those of the namespace (--namespace).

        Examples:
          nex node info NBZ...
          nex node info NBZ... --full --namespace team
          nex node info NBZ... --json
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Flag(help: "Print the raw info response as JSON.")
    public var json = false

    @Flag(help: "List workloads with their runtime and description.")
    public var full = false

    @Argument(help: "The node ID (N…).")
    public var id: String

    public init() {}

    public func run() async throws {
        let node = try parseNodeID(id)
        let info = try await withNexClient(connection, node: node) { try await $0.info(node: node) }
        if json {
            try printJSON(info)
        } else {
            print(NodeOutput.nodeInfo(id: node.rawValue, info, full: full))
        }
    }
}

/// `nex node probe [--workload id|name]`: the workloads of the namespace that answer a workload ping.
public struct NodeProbe: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Find running workloads in the namespace by workload ping.",
        discussion: """
        Every node running a matching workload answers; the others stay silent, so the command waits the \
        whole --timeout.

        Examples:
          nex node probe
          nex node probe --workload echoservice --namespace team
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Only the workload with this ID or name.")
    public var workload: String?

    @Flag(help: "Print the raw workload ping responses as JSON.")
    public var json = false

    public init() {}

    public func run() async throws {
        var reference: WorkloadReference?
        if let workload {
            do {
                reference = try WorkloadReference(workload)
            } catch {
                throw CLIError(error.message)
            }
        }
        let responses = try await withNexClient(connection) { try await $0.workloadPing(reference) }
        if json {
            try printJSON(responses)
        } else {
            print(NodeOutput.workloadProbe(responses))
        }
    }
}

/// `nex lameduck <id>`: the node stops bidding and refuses deploys, then shuts down.
public struct LameDuck: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lameduck", abstract: "Put a Nex node into lame duck mode.",
        discussion: """
        The node stops bidding in auctions and refuses deploys, then shuts down gracefully.

        Example:
          nex lameduck NBZ...
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Argument(help: "The node ID (N…).")
    public var id: String

    public init() {}

    public func run() async throws {
        let node = try parseNodeID(id)
        let response = try await withNexClient(connection, node: node) { try await $0.lameDuck(node: node) }
        guard response.success else { throw CLIError("Node \(node) did not enter lame duck mode") }
        print("Command to enter lame duck mode issued to \(node)")
    }
}

extension NodeOutput {
    /// `nex node info`: heading `Nex Node Information`, rows `Node`, `Xkey`, `Version`, `Uptime`,
    /// `Available Agents`, `Tags` (`k=v` sorted, joined by `, `), `Memory in kB`, then the `Workloads` table.
    public static func nodeInfo(id: String, _ info: InfoResponse, full: Bool = false) -> String {
        var fields: [(String, String)] = [
            ("Node", id), ("Xkey", info.publicXKey), ("Version", info.version), ("Uptime", info.uptime),
            ("Available Agents", String(info.availableAgents)),
            ("Tags", info.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")),
        ]
        if let memory = info.memory {
            fields += [("Free", String(memory.free)), ("Available", String(memory.available)), ("Total", String(memory.total))]
        }
        let labelWidth = fields.map(\.0.count).max() ?? 0
        func field(_ pair: (String, String)) -> String {
            String(repeating: " ", count: labelWidth - pair.0.count) + pair.0 + ": " + pair.1
        }
        var lines = ["Nex Node Information", ""]
        lines += fields.prefix(6).map(field)
        if info.memory != nil {
            lines += ["", "Memory in kB", ""]
            lines += fields.dropFirst(6).map(field)
        }
        lines.append("")
        let machines = info.machines ?? []
        if machines.isEmpty {
            lines.append("No workloads")
        } else if full {
            lines.append(TextTable(title: "Workloads", header: ["Id", "Type", "Runtime", "Name", "Description"], rows: machines.map {
                [$0.id, $0.workload.workloadType.rawValue, $0.workload.runtime, $0.workload.name, $0.workload.description]
            }).render())
        } else {
            lines.append(TextTable(title: "Workloads", header: ["", "ID", "Type", "Name", "Uptime", "Runtime"], rows: machines.map {
                [$0.healthy ? "🟢" : "🔴", $0.id, $0.workload.workloadType.rawValue, $0.workload.name, $0.uptime, $0.workload.runtime]
            }).render())
        }
        return lines.joined(separator: "\n")
    }
}
