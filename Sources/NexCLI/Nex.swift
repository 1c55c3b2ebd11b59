import ArgumentParser
import NexNode

/// `nex`: the command line of the NATS Execution Engine (spec §8).
public struct Nex: AsyncParsableCommand {
    /// The version `nex --version` prints and the node reports.
    public static let version = NexNode.defaultVersion

    public static let configuration = CommandConfiguration(
        commandName: "nex",
        abstract: "NATS Execution Engine: run and manage Nex nodes and their workloads.",
        discussion: """
        Connection options follow the nats CLI: -s/--server, --user/--password, --creds, --nkey, --tlscert, \
        --tlskey, --tlsca, --timeout and --context (nats CLI contexts; the selected one is used by default). \
        --namespace picks the workload namespace ($NEX_NAMESPACE, default "default").

        Examples:
          nex node up --no-sandbox
          nex node ls
          nex devrun ./echoservice
          nex logs --workload_name echoservice
        """,
        version: version,
        subcommands: [NodeCommand.self, DevRun.self, Run.self, Stop.self, Logs.self, Events.self, LameDuck.self, Rootfs.self]
    )

    public init() {}
}

/// `nex node …`.
public struct NodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a Nex node or inspect the nodes on a NATS system.",
        discussion: """
        Examples:
          nex node preflight --init nosandbox
          nex node up --no-sandbox
          nex node ls --full
          nex node info NBZ...
          nex node probe --workload echoservice
        """,
        subcommands: [NodeUp.self, NodePreflight.self, NodeList.self, NodeInfo.self, NodeProbe.self]
    )

    public init() {}
}

/// A failure the CLI reports as one line on stderr (ArgumentParser prefixes `Error: `) with exit status 1.
public struct CLIError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
