import ArgumentParser
import Foundation
import NexAPI
import NexClient
import NKeys
import Testing
@testable import NexCLI

@Suite("NexCLITests commands")
struct CommandTests {
    let node = "NDUOKSA6XSCPFEWSGYUQ226KRMXHOWY42G273JQZMWZCN2R2QJH6SF2F"

    @Test func devrunParsesEveryFlag() throws {
        let command = try Nex.parseAsRoot([
            "devrun", "./echo", "A=1", "B=2", "--type", "v8", "--argv", "-a -b", "--essential", "--trigger_subject", "x.>",
            "--trigger_subject", "y", "--no-stop", "--bucketmaxbytes", "1024", "--tag", "zone=eu", "--node", node,
            "--hs_url", "nats://hs:1", "--hs_jwt", "jwt", "--hs_seed", "seed", "--description", "d", "--jsdomain", "hub",
            "--deploy-timeout", "45s", "--user", "u", "--password", "p", "--creds", "/c", "--nkey", "/n", "--tlscert", "/cert",
            "--tlskey", "/key", "--tlsca", "/ca", "--context", "ctx", "--namespace", "team",
        ])
        let devrun = try #require(command as? DevRun)
        #expect(devrun.file == "./echo")
        #expect(devrun.environment == ["A=1", "B=2"])
        #expect(devrun.type == "v8")
        #expect(devrun.workload.arguments == ["-a", "-b"])
        #expect(devrun.workload.essential)
        #expect(devrun.workload.triggerSubjects == ["x.>", "y"])
        #expect(!devrun.stop)
        #expect(devrun.bucketMaxBytes == 1024)
        #expect(devrun.tags == ["zone=eu"])
        #expect(devrun.node == node)
        #expect(try devrun.workload.hostServices() == NATSJWTConnectionInfo(natsURL: "nats://hs:1", natsUserJWT: "jwt", natsUserSeed: "seed"))
        #expect(devrun.workload.jsdomain == "hub")
        #expect(devrun.workload.deployTimeout?.duration == .seconds(45))
        #expect(devrun.connection.user == "u")
        #expect(devrun.connection.context == "ctx")
        #expect(devrun.connection.tlsca == "/ca")
        let defaults = try #require(try Nex.parseAsRoot(["yeet", "file"]) as? DevRun)
        #expect(defaults.stop)
        #expect(defaults.bucketMaxBytes == 100 * 1024 * 1024)
        #expect(defaults.type == nil)
        #expect(try defaults.workload.hostServices() == nil)
    }

    @Test func runRequiresIssuerXKeyAndName() throws {
        let run = try #require(try Nex.parseAsRoot(["run", "nats://NEXCLIFILES/echo", node, "K=V", "--issuer", "i.nk", "--xkey", "x.xk",
                                                    "--name", "echo", "--type", "wasm", "--trigger_subject", "t"]) as? Run)
        #expect(run.url == "nats://NEXCLIFILES/echo")
        #expect(run.nodeID == node)
        #expect(run.environment == ["K=V"])
        #expect(run.type == "wasm")
        #expect(run.workload.triggerSubjects == ["t"])
        let native = try #require(try Nex.parseAsRoot(["run", "nats://b/k", node, "--issuer", "i", "--xkey", "x", "--name", "n"]) as? Run)
        #expect(native.type == "native")
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["run", "nats://b/k", node, "--xkey", "x", "--name", "n"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["run", "nats://b/k", node, "--issuer", "i", "--name", "n"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["run", "nats://b/k", node, "--issuer", "i", "--xkey", "x"]) }
    }

    @Test func stopTakesNodeAndWorkloadOrAName() throws {
        let byID = try #require(try Nex.parseAsRoot(["stop", node, "w1", "--issuer", "i.nk"]) as? Stop)
        #expect(byID.nodeID == node)
        #expect(byID.workloadID == "w1")
        #expect(byID.issuer == "i.nk")
        let byName = try #require(try Nex.parseAsRoot(["stop", "--name", "echo"]) as? Stop)
        #expect(byName.name == "echo")
        #expect(byName.issuer == nil)
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["stop"]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["stop", node]) }
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["stop", node, "w1", "--name", "echo"]) }
    }

    @Test func watchersProbeAndPreflightParse() throws {
        let logs = try #require(try Nex.parseAsRoot(["logs", "--node", node, "--workload_name", "echo", "--workload_id", "w1",
                                                     "--level", "warn", "--json", "--namespace", "team"]) as? Logs)
        #expect(logs.node == node)
        #expect(logs.workloadName == "echo")
        #expect(logs.workloadID == "w1")
        #expect(logs.level == "warn")
        #expect(logs.json)
        let events = try #require(try Nex.parseAsRoot(["events", "--type", "heartbeat", "--type", "node_started", "--json"]) as? Events)
        #expect(events.type == ["heartbeat", "node_started"])
        #expect(events.json)
        let probe = try #require(try Nex.parseAsRoot(["node", "probe", "--workload", "echo", "--json"]) as? NodeProbe)
        #expect(probe.workload == "echo")
        #expect(probe.json)
        let preflight = try #require(try Nex.parseAsRoot(["node", "preflight", "--init", "nosandbox", "--force", "--config", "c.json"]) as? NodePreflight)
        #expect(preflight.initKind == .nosandbox)
        #expect(preflight.force)
        #expect(preflight.config == "c.json")
        #expect(throws: (any Error).self) { try Nex.parseAsRoot(["node", "preflight", "--init", "firecracker"]) }
        let full = try #require(try Nex.parseAsRoot(["node", "ls", "--full"]) as? NodeList)
        #expect(full.full)
        let info = try #require(try Nex.parseAsRoot(["node", "info", node, "--full"]) as? NodeInfo)
        #expect(info.full)
    }

    /// Every command explains itself with examples.
    @Test func everyCommandHasHelpWithExamples() {
        let commands: [(any ParsableCommand.Type, String)] = [
            (Nex.self, "USAGE: nex <subcommand>"), (NodeCommand.self, "USAGE: nex node <subcommand>"),
            (NodeUp.self, "USAGE: nex node up"), (NodePreflight.self, "USAGE: nex node preflight"),
            (NodeList.self, "USAGE: nex node ls"), (NodeInfo.self, "USAGE: nex node info"), (NodeProbe.self, "USAGE: nex node probe"),
            (DevRun.self, "USAGE: nex devrun"), (Run.self, "USAGE: nex run"), (Stop.self, "USAGE: nex stop"),
            (Logs.self, "USAGE: nex logs"), (Events.self, "USAGE: nex events"), (LameDuck.self, "USAGE: nex lameduck"),
        ]
        for (command, usage) in commands {
            let help = Nex.helpMessage(for: command, columns: 120)
            #expect(help.contains(usage), "\(command)")
            if command != NodeUp.self {
                #expect(help.contains("Example"), "\(command) has no examples")
            }
        }
        let root = Nex.helpMessage(columns: 120)
        for name in ["node", "devrun", "run", "stop", "logs", "events", "lameduck"] {
            #expect(root.contains("  \(name)"), "root help lacks \(name)")
        }
        let connection = Nex.helpMessage(for: NodeList.self, columns: 120)
        for flag in ["--server", "--user", "--password", "--creds", "--nkey", "--tlscert", "--tlskey", "--tlsca", "--timeout",
                     "--context", "--namespace"] {
            #expect(connection.contains(flag), "missing \(flag)")
        }
    }

    @Test func stopHelpIsPinned() {
        #expect(Nex.helpMessage(for: Stop.self, columns: 100) == Self.stopHelp + "\n")
    }

    @Test func logsHelpIsPinned() {
        #expect(Nex.helpMessage(for: Logs.self, columns: 100) == Self.logsHelp + "\n")
    }

    static let stopHelp = """
    OVERVIEW: Stop a running workload.

    Only the issuer that started a workload can stop it. With --name, every workload of that name in
    the namespace is found by a workload ping and stopped.

    Examples:
      nex stop NBZ... 0b5c6f3e-... --issuer ~/.nex/issuer.nk
      nex stop --name echoservice

    USAGE: nex stop [<options>] [<node-id>] [<workload-id>]

    ARGUMENTS:
      <node-id>               Node ID (N…) the workload runs on.
      <workload-id>           Workload ID.

    OPTIONS:
      -s, --server <server>   NATS server URL(s), comma-separated ($NATS_URL; default
                              nats://127.0.0.1:4222).
      --user <user>           User name; without --password it is sent as a token ($NATS_USER).
      --password <password>   Password ($NATS_PASSWORD).
      --creds <creds>         User credentials file (JWT and seed) ($NATS_CREDS).
      --nkey <nkey>           File with a user nkey seed ($NATS_NKEY).
      --tlscert <tlscert>     TLS client certificate file ($NATS_CERT).
      --tlskey <tlskey>       TLS client private key file ($NATS_KEY).
      --tlsca <tlsca>         TLS CA certificate file to verify the server with ($NATS_CA).
      --timeout <timeout>     Request timeout, e.g. 2s or 500ms ($NATS_TIMEOUT; default 2s).
      --context <context>     nats CLI context to connect with ($NATS_CONTEXT; default the selected
                              context).
      --namespace <namespace> Namespace of workloads ($NEX_NAMESPACE; default default).
      --name <name>           Stop the workloads with this name instead (found by workload ping).
      --issuer <issuer>       File with the issuer seed that started the workload (default
                              ~/.nex/issuer.nk).
      --version               Show the version.
      -h, --help              Show help information.
    """

    static let logsHelp = """
    OVERVIEW: Follow the logs of workloads until interrupted.

    Records come from $NEX.logs.<namespace>.<node>.<workload name>.<workload id>; each filter left out
    matches everything. Stdout writes are INFO, stderr writes ERROR. Ctrl-C ends it.

    Examples:
      nex logs
      nex logs --workload_name echoservice --namespace team
      nex logs --node NBZ... --json

    USAGE: nex logs <options>

    OPTIONS:
      -s, --server <server>   NATS server URL(s), comma-separated ($NATS_URL; default
                              nats://127.0.0.1:4222).
      --user <user>           User name; without --password it is sent as a token ($NATS_USER).
      --password <password>   Password ($NATS_PASSWORD).
      --creds <creds>         User credentials file (JWT and seed) ($NATS_CREDS).
      --nkey <nkey>           File with a user nkey seed ($NATS_NKEY).
      --tlscert <tlscert>     TLS client certificate file ($NATS_CERT).
      --tlskey <tlskey>       TLS client private key file ($NATS_KEY).
      --tlsca <tlsca>         TLS CA certificate file to verify the server with ($NATS_CA).
      --timeout <timeout>     Request timeout, e.g. 2s or 500ms ($NATS_TIMEOUT; default 2s).
      --context <context>     nats CLI context to connect with ($NATS_CONTEXT; default the selected
                              context).
      --namespace <namespace> Namespace of workloads ($NEX_NAMESPACE; default default).
      --node <node>           Only this node ID.
      --workload_name <workload_name>
                              Only workloads with this name.
      --workload_id <workload_id>
                              Only the workload with this ID.
      --level <level>         Lowest level shown: debug, info, warn or error (default debug). (default:
                              debug)
      --json                  Print each record as JSON.
      --version               Show the version.
      -h, --help              Show help information.
    """
}

@Suite("NexCLITests formatting")
struct FormattingTests {
    let nodeA = "NDUOKSA6XSCPFEWSGYUQ226KRMXHOWY42G273JQZMWZCN2R2QJH6SF2F"

    @Test func fullNodeListShowsNexusUptimeSandboxAndPlatform() {
        let ping = PingResponse(nodeID: nodeA, nexus: "west", version: "0.1.0", uptime: "5m3s", targetXKey: "X",
                                tags: ["node_name": "amber-delta", "nex.unsafe": "true", "nex.os": "linux", "nex.arch": "amd64"],
                                runningMachines: 3)
        let text = NodeOutput.nodeListFull([PingResponseView(ping)])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "NATS Execution Nodes")
        let idColumn = "ID (* = Lameduck Mode)" + String(repeating: " ", count: nodeA.count - 22)
        #expect(lines[1] == "Nexus  \(idColumn)  Name         Version  Workloads  Uptime  Sandboxed  OS     Arch")
        #expect(lines[3] == "west   \(nodeA)  amber-delta  0.1.0    3          5m3s    false      linux  amd64")
        let bare = PingResponseView(PingResponse(nodeID: nodeA, version: "1", uptime: "1s", targetXKey: "X", runningMachines: 0))
        #expect(bare.name == "no-name")
        #expect(bare.sandboxed)
        #expect(bare.os == "unknown")
        #expect(bare.arch == "unknown")
    }

    @Test func probeTableAndNoMatches() {
        let responses = [
            WorkloadPingResponse(nodeID: nodeA, targetXKey: "X", version: "1", tags: ["node_name": "amber-delta"], uptime: "1s",
                                 runningMachines: [WorkloadPingMachineSummary(id: "w2", namespace: "default", name: "echo", workloadType: .native),
                                                   WorkloadPingMachineSummary(id: "w1", namespace: "default", name: "api", workloadType: .v8)]),
        ]
        #expect(NodeOutput.workloadProbe(responses) == """
        Discovered Workloads
        ID  Name  Type    Namespace  Node Name
        --  ----  ------  ---------  -----------
        w1  api   v8      default    amber-delta
        w2  echo  native  default    amber-delta
        """)
        #expect(NodeOutput.workloadProbe([]) == "No workloads matched")
        #expect(NodeOutput.workloadProbe([WorkloadPingResponse(nodeID: nodeA, targetXKey: "X", version: "1", uptime: "1s", runningMachines: nil)])
                == "No workloads matched")
    }

    @Test func fullNodeInfoListsDescriptions() {
        let info = InfoResponse(availableAgents: 1, machines: [
            MachineSummary(id: "M1", healthy: true, uptime: "1m", workload: WorkloadSummary(
                id: "W1", name: "echo", description: "Workload published in devmode", essential: false, hash: "h", runtime: "59s",
                uptime: "1m", workloadType: .native)),
        ], publicXKey: "XKEY", uptime: "5s", version: "0.1.0")
        let text = NodeOutput.nodeInfo(id: "NID", info, full: true)
        #expect(text.contains("Id  Type    Runtime  Name  Description"))
        #expect(text.contains("M1  native  59s      echo  Workload published in devmode"))
    }

    @Test func logLinesAreOneLineWithOptionalColour() throws {
        let message = NexLogMessage(namespace: .default, nodeID: try NodeID(nodeA), workloadName: try WorkloadName("echo"),
                                    workloadID: try WorkloadID("w1"), record: LogRecord(text: "hello\nworld\n", level: .error, id: "w1"))
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        let plain = WatchOutput.logLine(message, receivedAt: date, color: false)
        #expect(plain.hasSuffix(" ERROR [default NDUOKSA6XSCP… echo w1] hello⏎world"))
        #expect(!plain.contains("\u{1B}"))
        #expect(!plain.contains("\n"))
        #expect(plain.dropFirst(8).hasPrefix(".250 "))
        let coloured = WatchOutput.logLine(message, receivedAt: date, color: true)
        #expect(coloured.contains("\u{1B}[31mERROR\u{1B}[0m"))
        let json = try JSONSerialization.jsonObject(with: Data(WatchOutput.logJSON(message).utf8)) as? [String: String]
        #expect(json == ["namespace": "default", "node_id": nodeA, "workload_name": "echo", "workload_id": "w1",
                         "text": "hello\nworld\n", "level": "ERROR", "id": "w1"])
    }

    @Test func colourOnlyOnATerminalWithoutNoColor() {
        #expect(WatchOutput.useColor(environment: [:], isTerminal: true))
        #expect(!WatchOutput.useColor(environment: [:], isTerminal: false))
        #expect(!WatchOutput.useColor(environment: ["NO_COLOR": "1"], isTerminal: true))
    }

    @Test func eventSummariesSayWhatHappened() {
        #expect(WatchOutput.summary(.workloadDeployed(WorkloadStatusEvent(code: 0, workloadID: "w1", workloadName: "echo", essential: true, totalBytes: 42)))
                == "workload echo (w1) deployed, 42 bytes, essential")
        #expect(WatchOutput.summary(.workloadUndeployed(WorkloadUndeployedEvent(workloadID: "w1", workloadName: "echo", reason: "Workload undeploy requested")))
                == "workload echo (w1) undeployed: Workload undeploy requested")
        #expect(WatchOutput.summary(.nodeStopped(NodeStoppedEvent(id: "N1", graceful: true))) == "node N1 stopped gracefully")
        #expect(WatchOutput.summary(.functionExecFailed(FunctionExecFailedEvent(workloadID: "w", workloadName: "f", namespace: "default",
                                                                                triggerSubject: "t.>", error: "boom")))
                == "function f (w) triggered on t.> failed: boom")
        #expect(WatchOutput.summary(.other(.object(["k": .integer(1)]))) == #"{"k":1}"#)
    }
}

@Suite("NexCLITests preflight")
struct PreflightTests {
    /// A host described by the files and executables it has.
    private func host(executables: Set<String>, files: Set<String>, status: String, libraries: Set<String>) -> HostProbe {
        HostProbe(
            findExecutable: { name, directories in directories.map { $0 + "/" + name }.first(where: executables.contains) },
            fileExists: { files.contains($0) },
            readFile: { $0 == "/proc/self/status" ? Array(status.utf8) : nil },
            canLoadLibrary: { libraries.contains($0) })
    }

    @Test func noSandboxNeedsOnlyServerAndAgent() {
        var configuration = NodeConfiguration()
        configuration.noSandbox = true
        let probe = host(executables: ["/usr/sbin/nats-server"], files: [], status: "", libraries: [])
        let items = Preflight.check(configuration, agentDirectories: ["/opt/nex"], path: ["/usr/sbin"], probe: probe)
        #expect(items.map(\.name) == ["nats-server", "nex-agent"])
        #expect(items[0].satisfied)
        #expect(items[0].line == "✅ nats-server: /usr/sbin/nats-server [embedded and internal NATS server]")
        #expect(!items[1].satisfied)
        #expect(items[1].line.hasPrefix("⛔ nex-agent: not found"))
        #expect(items[1].line.contains("put it next to nex or on PATH"))
    }

    @Test func sandboxNeedsBwrapCgroupsSeccompAndScriptsNeedJavaScriptCore() {
        var configuration = NodeConfiguration()
        configuration.workloadTypes = [.native, .wasm]
        let ready = host(executables: ["/usr/bin/nats-server", "/opt/nex/nex-agent", "/usr/bin/bwrap"],
                         files: ["/sys/fs/cgroup/cgroup.controllers"], status: "Name:\tx\nSeccomp:\t0\n",
                         libraries: ["libjavascriptcoregtk-4.1.so.0"])
        let items = Preflight.check(configuration, agentDirectories: ["/opt/nex"], path: ["/usr/bin"], probe: ready)
        #expect(items.map(\.name) == ["nats-server", "nex-agent", "bwrap", "cgroups", "seccomp", "JavaScriptCore"])
        #expect(items.allSatisfy { $0.satisfied })
        #expect(items[3].detail.hasPrefix("cgroup v2"))

        let bare = host(executables: [], files: ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu"], status: "Name:\tx\n", libraries: [])
        let missing = Preflight.check(configuration, agentDirectories: [], path: ["/usr/bin"], probe: bare)
        #expect(missing.filter(\.satisfied).map(\.name) == ["cgroups"])
        #expect(missing.first { $0.name == "cgroups" }?.detail.hasPrefix("cgroup v1") == true)
        #expect(missing.first { $0.name == "bwrap" }?.remedy.contains("apt install bubblewrap") == true)
    }

    @Test func defaultConfigurationsLoad() throws {
        let sandboxed = try NodeConfiguration.load(from: Array(Preflight.defaultConfiguration(sandbox: true).utf8))
        #expect(!sandboxed.noSandbox)
        #expect(sandboxed.tags["simple"] == "true")
        let unsandboxed = try NodeConfiguration.load(from: Array(Preflight.defaultConfiguration(sandbox: false).utf8))
        #expect(unsandboxed.noSandbox)
        #expect(unsandboxed.machinePoolSize == 1)
    }

    /// The real host: this machine has nats-server (the tests need it), so that item must pass.
    @Test func realHostHasNATSServer() {
        var configuration = NodeConfiguration()
        configuration.noSandbox = true
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin"]
        let items = Preflight.check(configuration, agentDirectories: path, path: path, probe: .current)
        #expect(items.first { $0.name == "nats-server" }?.satisfied == true)
    }
}
