import ArgumentParser
import NexNode

/// `nex`: the command line of the NATS Execution Engine (spec §8).
public struct Nex: AsyncParsableCommand {
    /// The version `nex --version` prints and the node reports.
    public static let version = NexNode.defaultVersion

    public static let configuration = CommandConfiguration(
        commandName: "nex",
        abstract: "NATS Execution Engine: run and manage Nex nodes.",
        version: version,
        subcommands: [NodeCommand.self, LameDuck.self]
    )

    public init() {}
}

/// `nex node …`.
public struct NodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a Nex node or inspect the nodes on a NATS system.",
        subcommands: [NodeUp.self, NodeList.self, NodeInfo.self]
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
