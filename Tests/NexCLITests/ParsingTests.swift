import ArgumentParser
import NexAPI
import Testing
@testable import NexCLI

@Suite("NexCLITests parsing")
struct ParsingTests {
    @Test func nodeUpParsesEveryFlag() throws {
        let command = try Nex.parseAsRoot(["node", "up", "--config", "/etc/nex.json", "--no-sandbox", "--tags", "a=1,b=2",
                                           "--tags", "c=3", "--node-seed", "/tmp/seed.nk", "-s", "nats://example:4222",
                                           "--timeout", "500ms", "--namespace", "prod"])
        let up = try #require(command as? NodeUp)
        #expect(up.config == "/etc/nex.json")
        #expect(up.noSandbox)
        #expect(up.tags == ["a=1,b=2", "c=3"])
        #expect(up.nodeSeed == "/tmp/seed.nk")
        #expect(up.connection.server == "nats://example:4222")
        #expect(up.connection.timeout?.duration == .milliseconds(500))
        #expect(up.connection.namespace == "prod")
    }

    @Test func nodeUpDefaults() throws {
        let up = try #require(try Nex.parseAsRoot(["node", "up"]) as? NodeUp)
        #expect(up.config == nil)
        #expect(!up.noSandbox)
        #expect(up.tags.isEmpty)
        #expect(up.nodeSeed == nil)
        #expect(up.connection.server == nil)
    }

    @Test func listInfoAndLameDuckParse() throws {
        let id = "NDUOKSA6XSCPFEWSGYUQ226KRMXHOWY42G273JQZMWZCN2R2QJH6SF2F"
        let list = try #require(try Nex.parseAsRoot(["node", "ls", "--json", "--server", "nats://a:1"]) as? NodeList)
        #expect(list.json)
        #expect(list.connection.server == "nats://a:1")
        #expect(try Nex.parseAsRoot(["node", "nodes"]) is NodeList)
        let info = try #require(try Nex.parseAsRoot(["node", "info", id, "--json"]) as? NodeInfo)
        #expect(info.id == id)
        #expect(info.json)
        let lameDuck = try #require(try Nex.parseAsRoot(["lameduck", id, "--timeout", "3s"]) as? LameDuck)
        #expect(lameDuck.id == id)
        #expect(lameDuck.connection.timeout?.duration == .seconds(3))
    }

    @Test func missingArgumentsAndUnknownFlagsAreRejected() {
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["node", "info"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["lameduck"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["node", "up", "--bogus"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["node", "ls", "--timeout", "soon"]) }
    }

    @Test func helpNamesTheCommands() {
        let root = Nex.helpMessage()
        #expect(root.contains("node"))
        #expect(root.contains("lameduck"))
        let node = Nex.helpMessage(for: NodeCommand.self)
        #expect(node.contains("up"))
        #expect(node.contains("ls"))
        #expect(node.contains("info"))
        let up = Nex.helpMessage(for: NodeUp.self)
        #expect(up.contains("--no-sandbox"))
        #expect(up.contains("--node-seed"))
        #expect(up.contains("--tags"))
        #expect(up.contains("--server"))
    }

    @Test func timeoutsParse() {
        #expect(RequestTimeout(argument: "2s")?.duration == .seconds(2))
        #expect(RequestTimeout(argument: "250ms")?.duration == .milliseconds(250))
        #expect(RequestTimeout(argument: "1m")?.duration == .seconds(60))
        #expect(RequestTimeout(argument: "1.5")?.duration == .milliseconds(1500))
        #expect(RequestTimeout(argument: "0s") == nil)
        #expect(RequestTimeout(argument: "-1s") == nil)
        #expect(RequestTimeout(argument: "fast") == nil)
    }

    @Test func connectionDefaultsComeFromTheEnvironment() throws {
        let options = try ConnectionOptions.parse([])
        #expect(options.explicitServer(environment: [:]) == nil)
        #expect(options.serverURL(environment: [:]) == "nats://127.0.0.1:4222")
        #expect(options.serverURL(environment: ["NATS_URL": "nats://env:4222"]) == "nats://env:4222")
        #expect(try options.requestTimeout(environment: ["NATS_TIMEOUT": "5s"]) == .seconds(5))
        #expect(try options.requestTimeout(environment: [:]) == .seconds(2))
        #expect(try options.resolvedNamespace(environment: [:]).rawValue == "default")
        #expect(try options.resolvedNamespace(environment: ["NEX_NAMESPACE": "team"]).rawValue == "team")
        let flagged = try ConnectionOptions.parse(["-s", "nats://flag:1", "--namespace", "flagged"])
        #expect(flagged.serverURL(environment: ["NATS_URL": "nats://env:4222"]) == "nats://flag:1")
        #expect(try flagged.resolvedNamespace(environment: ["NEX_NAMESPACE": "team"]).rawValue == "flagged")
    }

    @Test func tagsAndConfigurationApplyOverDefaults() throws {
        #expect(try NodeUp.parseTags(["a=1, b=2", "c=x=y"]).map { "\($0.0)=\($0.1)" } == ["a=1", "b=2", "c=x=y"])
        #expect(throws: CLIError.self) { try NodeUp.parseTags(["novalue"]) }
        let up = try #require(try Nex.parseAsRoot(["node", "up", "--no-sandbox", "--tags", "zone=eu"]) as? NodeUp)
        let configuration = try up.effectiveConfiguration(environment: ["PATH": "/bin"], home: "/home/nex")
        #expect(configuration.noSandbox)
        #expect(configuration.tags["zone"] == "eu")
        #expect(configuration.tags["node_name"]?.contains("-") == true)
        #expect(configuration.binPath == ["/home/nex/.nex/bin", "/bin"])
        let sandboxed = try #require(try Nex.parseAsRoot(["node", "up"]) as? NodeUp)
        #expect(try !sandboxed.effectiveConfiguration(environment: [:], home: "/h").noSandbox)
        #expect(try sandboxed.effectiveConfiguration(environment: ["NEX_NODE_NOSANDBOX": "true"], home: "/h").noSandbox)
    }
}

@Suite("NexCLITests output")
struct OutputTests {
    @Test func tableAlignsColumns() {
        let table = TextTable(title: "T", header: ["A", "Long header"], rows: [["wide cell", "x"], ["b", "yy"]])
        #expect(table.render() == """
        T
        A          Long header
        ---------  -----------
        wide cell  x
        b          yy
        """)
    }

    @Test func nodeListSortsAndMarksLameDucks() {
        let text = NodeOutput.nodeList([
            PingResponseView(id: "NB", name: "zeta", nexus: "", version: "1", workloads: 0, lameDuck: false),
            PingResponseView(id: "NA", name: "alpha", nexus: "", version: "1", workloads: 2, lameDuck: true),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "NATS Execution Nodes")
        #expect(lines[1].hasPrefix("ID (* = Lameduck Mode)  Name   Version  Workloads"))
        #expect(lines[3].hasPrefix("NA*"))
        #expect(lines[3].hasSuffix("2"))
        #expect(lines[4].hasPrefix("NB "))
    }

    @Test func nodeInfoShowsFieldsMemoryAndWorkloads() {
        let info = InfoResponse(availableAgents: 1, machines: [
            MachineSummary(id: "M1", healthy: true, uptime: "1m", workload: WorkloadSummary(
                id: "W1", name: "echo", essential: false, hash: "h", runtime: "1m", uptime: "1m", workloadType: .native)),
        ], memory: MemoryStat(total: 300, free: 100, available: 200), publicXKey: "XKEY",
           tags: ["b": "2", "a": "1"], uptime: "5s", version: "0.1.0")
        let text = NodeOutput.nodeInfo(id: "NID", info)
        #expect(text.hasPrefix("Nex Node Information"))
        #expect(text.contains("            Node: NID"))
        #expect(text.contains("            Xkey: XKEY"))
        #expect(text.contains("Available Agents: 1"))
        #expect(text.contains("            Tags: a=1, b=2"))
        #expect(text.contains("Memory in kB"))
        #expect(text.contains("           Total: 300"))
        #expect(text.contains("Workloads"))
        #expect(text.contains("🟢  M1  native  echo  1m      1m"))
        let empty = NodeOutput.nodeInfo(id: "NID", InfoResponse(availableAgents: 0, machines: nil, publicXKey: "X", uptime: "1s", version: "v"))
        #expect(empty.contains("No workloads"))
        #expect(!empty.contains("Memory in kB"))
    }
}
