import ArgumentParser
import Logging
import NATS
import NexAPI
import NexClient
import NexNode
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `nex node up`: runs a Nex node until SIGINT or SIGTERM (or until lame duck mode runs out).
public struct NodeUp: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Run a Nex node on this machine.",
        discussion: """
        Without --server and $NATS_URL the node uses nats://127.0.0.1:4222; when nothing listens there it \
        starts an embedded nats-server with JetStream (data in ~/.nex/embedded) and stops it on shutdown.
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Node configuration file (JSON, spec §7); defaults apply when omitted.")
    public var config: String?

    @Flag(name: .customLong("no-sandbox"), help: "Run workloads as plain processes, without a sandbox ($NEX_NODE_NOSANDBOX).")
    public var noSandbox = false

    @Option(help: "Extra node tags, k=v[,k=v…]; repeatable ($NEX_NODE_TAGS).")
    public var tags: [String] = []

    @Option(name: .customLong("node-seed"), help: "File with the node's server nkey seed; created when missing (default ~/.nex/node.nk).")
    public var nodeSeed: String?

    public init() {}

    /// The message for a sandboxed start on a host that cannot sandbox: we never run workloads
    /// unsandboxed unasked, and say what is missing.
    public static func sandboxUnavailable(_ problems: [String]) -> String {
        "cannot run workloads sandboxed on this host:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
            + "\nfix the above (nex node preflight explains), or run with --no-sandbox (or no_sandbox: true in the config)"
            + " to run workloads as unsandboxed processes"
    }

    public func run() async throws {
        let environment = processEnvironment()
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.passwdHome() ?? "/"
        let configuration = try effectiveConfiguration(environment: environment, home: home)

        if !configuration.noSandbox {
            // Sandboxed is the default; a host that cannot do it gets told why, never silently unsafe.
            let failed = NexNode.sandboxChecks(rootfsFilePath: configuration.rootfsFilePath,
                                               agentExecutable: NexNode.defaultAgentExecutable()).filter { !$0.passed }
            guard failed.isEmpty else { throw CLIError(Self.sandboxUnavailable(failed.map { "\($0.name): \($0.detail)" })) }
        }
        let problems = configuration.problems(hostOS: HostFacts.current.os, fileExists: { access($0, F_OK) == 0 })
        guard problems.isEmpty else {
            throw CLIError("invalid node configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }

        let seedPath = nodeSeed ?? home + "/.nex/node.nk"
        if nodeSeed == nil { try Self.makeDirectory(home + "/.nex") }
        let identity: NodeIdentity
        do {
            identity = try NodeIdentity.load(seedFile: seedPath)
        } catch {
            throw CLIError(error.message)
        }

        var embedded: EmbeddedNATSServer?
        let url: String
        if let explicit = connection.explicitServer(environment: environment) {
            url = explicit
        } else if Self.somethingListens(host: "127.0.0.1", port: 4222) {
            url = ConnectionOptions.defaultServer
        } else {
            let store = EmbeddedNATSServer.defaultStoreDirectory(home: home)
            do {
                let server = try await EmbeddedNATSServer.start(.init(port: 4222, storeDirectory: store),
                                                                logger: Logger(label: "nex.embedded-nats"))
                embedded = server
                url = server.url
            } catch {
                throw CLIError(error.message)
            }
            print("Started embedded nats-server with JetStream at \(url) (data in \(store))")
            fflush(nil)
        }

        do {
            try await runNode(configuration: configuration, identity: identity, url: url, environment: environment)
        } catch {
            await embedded?.stop()
            throw error
        }
        await embedded?.stop()
    }

    /// The configuration file (or defaults) with the command line applied over it.
    func effectiveConfiguration(environment: [String: String], home: String) throws -> NodeConfiguration {
        let defaults = NodeConfiguration.defaults(for: .init(
            homeDirectory: home,
            path: (environment["PATH"] ?? "").split(separator: ":").map(String.init),
            temporaryDirectory: environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp",
            nodeName: NodeNames.random()))
        var configuration = defaults
        if let config {
            let bytes = try Self.readFile(config)
            do {
                configuration = try NodeConfiguration.load(from: bytes, over: defaults)
            } catch {
                throw CLIError("\(config): \(error.message)")
            }
        }
        if noSandbox || ["true", "1"].contains(environment["NEX_NODE_NOSANDBOX"]?.lowercased() ?? "") {
            configuration.noSandbox = true
        }
        var tagArguments = tags
        if let fromEnvironment = environment["NEX_NODE_TAGS"], !fromEnvironment.isEmpty { tagArguments.insert(fromEnvironment, at: 0) }
        for (key, value) in try Self.parseTags(tagArguments) { configuration.tags[key] = value }
        return configuration.normalized()
    }

    private func runNode(configuration: NodeConfiguration, identity: NodeIdentity, url: String,
                         environment: [String: String]) async throws {
        var clientConfiguration = try connection.clientConfiguration(url: url)
        clientConfiguration.connectTimeout = .seconds(5)
        let client = NATSClient(configuration: clientConfiguration, logger: Logger(label: "nex.nats"))
        let node = NexNode(configuration: configuration, client: client, identity: identity,
                           options: NexNode.Options(version: Nex.version), logger: Logger(label: "nex.node"))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                // The client first: the group stops services in reverse order, so the node says goodbye
                // (node_stopped) while its connection is still up.
                .init(service: client),
                .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "nex.services")))
        let timeout = try connection.requestTimeout(environment: environment)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // "Up" means answering its own ping, so the line never claims more than is true.
                let nex = NexClient(client: client, timeout: timeout, logger: Logger(label: "nex.cli"))
                while !Task.isCancelled {
                    guard (try? await Task.sleep(for: .milliseconds(100))) != nil else { return }
                    if (try? await nex.ping(node: identity.nodeID)) != nil {
                        print("Nex node \(identity.nodeID) is up, connected to \(url)")
                        fflush(nil)  // stdout may be a pipe: the line must arrive now, not at exit
                        return
                    }
                }
            }
            tasks.addTask {
                // SIGUSR2 (as nats-server's `--signal ldm`): lame duck, then shutdown after the delay;
                // SIGTERM/SIGINT meanwhile shut down at once.
                for await _ in await UnixSignalsSequence(trapping: .sigusr2) { node.enterLameDuckMode() }
            }
            // The group ending ends the command; the announcer may still be polling.
            defer { tasks.cancelAll() }
            do {
                try await group.run()
            } catch {
                throw CLIError("node \(identity.nodeID) failed: \(error)")
            }
        }
    }

    /// `k=v[,k=v…]` arguments as pairs.
    static func parseTags(_ arguments: [String]) throws -> [(String, String)] {
        var pairs: [(String, String)] = []
        for argument in arguments {
            for item in argument.split(separator: ",") {
                let trimmed = item.trimmingCharacters(in: " ")
                guard let equals = trimmed.firstIndex(of: "="), equals != trimmed.startIndex else {
                    throw CLIError("tag \"\(trimmed)\" is not k=v")
                }
                pairs.append((String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...])))
            }
        }
        return pairs
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func passwdHome() -> String? {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    /// Whether a TCP connect to `host:port` (IPv4) succeeds.
    static func somethingListens(host: String, port: UInt16) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var result = self
        while result.first == character { result.removeFirst() }
        while result.last == character { result.removeLast() }
        return result
    }
}

/// Generated node names (`node_name` tag) when the configuration gives none, like 0.x's `fname` names.
enum NodeNames {
    static let adjectives = ["amber", "brisk", "calm", "deft", "eager", "fair", "gentle", "hardy", "keen", "lively",
                             "mellow", "noble", "proud", "quiet", "rapid", "steady", "tidy", "vivid", "warm", "zesty"]
    static let nouns = ["anchor", "beacon", "canyon", "delta", "ember", "falcon", "glacier", "harbor", "island", "juniper",
                        "lagoon", "meadow", "nebula", "orchard", "prairie", "quarry", "river", "summit", "tundra", "valley"]

    static func random() -> String {
        "\(adjectives.randomElement()!)-\(nouns.randomElement()!)"
    }
}
