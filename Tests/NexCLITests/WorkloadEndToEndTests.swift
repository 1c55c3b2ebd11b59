import NativeRuntime
import Foundation
import JetStream
import Logging
import NATS
import NATSTestSupport
import NexTestSupport
import NexAPI
import NexClient
import NKeys
import Testing

/// `devrun`, `stop`, `node probe`, `logs`, `events` and `preflight` through the real `nex` binary.
@Suite("NexCLITests workload end to end")
struct WorkloadEndToEndTests {
    /// Starts `nex node up` and returns it with its ID once it answers pings.
    private func startNode(_ server: NATSServer, directory: String) async throws -> (NexProcess, String) {
        let node = try NexProcess(["node", "up", "--no-sandbox", "-s", server.url, "--node-seed", directory + "/node.nk"],
                                  directory: directory)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, node.isRunning {
            let result = try await runNex(["node", "ls", "-s", server.url, "--json", "--timeout", "500ms"], directory: directory)
            if result.status == 0, let first = try NexJSON.decode([PingResponse].self, from: Array(result.stdout.utf8)).first {
                return (node, first.nodeID)
            }
        }
        node.signal(SIGKILL)
        _ = try? await node.waitForExit()
        throw NexHung(stderr: "node never answered; node stderr:\n\(node.stderr)")
    }

    private func sha256(_ path: String) throws -> String {
        try Program.run("/usr/bin/sha256sum", [path]).standardOutput.split(separator: " ").first.map(String.init) ?? ""
    }

    @Test func devrunDeploysAServiceThatLogsProbesAndStops() async throws {
        let server = try await NATSServer.start(.init(jetStream: true))
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (node, nodeID) = try await startNode(server, directory: directory)
        var watchers: [NexProcess] = []
        do {
            // Not a workload: a clear error before anything is uploaded or any key is written.
            let text = directory + "/notes.txt"
            try "just text".write(toFile: text, atomically: true, encoding: .utf8)
            let refused = try await runNex(["devrun", text, "-s", server.url], directory: directory)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("notes.txt is not a workload"))
            #expect(!FileManager.default.fileExists(atPath: directory + "/.nex/issuer.nk"))

            let logs = try NexProcess(["logs", "-s", server.url], directory: directory)
            let events = try NexProcess(["events", "-s", server.url], directory: directory)
            watchers = [logs, events]
            try await Task.sleep(for: .milliseconds(500))  // let the watchers subscribe (they print nothing until then)

            // A static ELF service, uploaded under its dot-less base name, deployed with a sealed environment.
            let binary = try EchoService.build(into: directory, name: "echo.service")
            let devrun = try await runNex(["devrun", binary, "NATS_URL=\(server.url)", "ECHO_SUBJECT=svc.cli", "echo_greeting=hi",
                                           "-s", server.url, "--timeout", "3s"], directory: directory)
            #expect(devrun.status == 0, "stderr: \(devrun.stderr)")
            #expect(devrun.stdout.contains("Wrote new issuer account key: \(directory)/.nex/issuer.nk"))
            #expect(devrun.stdout.contains("Wrote new publisher xkey: \(directory)/.nex/publisher.xk"))
            #expect(devrun.stdout.contains("🚀 Workload 'echoservice' accepted. You can now refer to this workload with ID: "))
            #expect(devrun.stdout.contains(" on node \(nodeID)"))

            let expectedHash = try sha256(binary)
            let (digest, reply) = try await withNATSClient(NATSClient.Configuration(url: server.url)) { client in
                let store = try await JetStreamContext(client: client, timeout: .seconds(10)).objectStore("NEXCLIFILES")
                let status = try await store.status()
                #expect(status.description == "Ad hoc object storage for Nex CLI developer mode uploads")
                let digest = try await store.info("echoservice").digest
                var reply: String?
                for _ in 0..<200 where reply == nil {
                    reply = try? await client.request("hello", to: "svc.cli", timeout: .seconds(1)).string
                    if reply == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                return (digest, reply)
            }
            #expect(digest.flatMap(DeployRequestBuilder.hash(fromObjectStoreDigest:)) == expectedHash)
            #expect(reply == "hello")

            let info = try await runNex(["node", "info", nodeID, "-s", server.url, "--timeout", "3s"], directory: directory)
            #expect(info.stdout.contains("echoservice"), "stdout: \(info.stdout)")
            let probe = try await runNex(["node", "probe", "-s", server.url, "--timeout", "1s"], directory: directory)
            #expect(probe.stdout.contains("echoservice"), "stdout: \(probe.stdout)")

            try await waitFor(logs, "the service's log line") { $0.stdout.contains("ECHO_GREETING=hi") }
            try await waitFor(events, "the deploy event") { $0.stdout.contains("workload_deployed") }

            // The second run reuses the keys, skips the auction with --node, and first stops the running
            // workload of the same name.
            let again = try await runNex(["devrun", binary, "NATS_URL=\(server.url)", "ECHO_SUBJECT=svc.cli", "--node", nodeID,
                                          "-s", server.url, "--timeout", "3s"], directory: directory)
            #expect(again.status == 0, "stderr: \(again.stderr)")
            #expect(again.stdout.contains("Reusing existing issuer account key: \(directory)/.nex/issuer.nk"))
            #expect(again.stdout.contains("Reusing existing publisher xkey: \(directory)/.nex/publisher.xk"))
            #expect(again.stdout.contains("already exists on the target. Attempting to stop it"))
            #expect(again.stdout.contains("🚀 Workload 'echoservice' accepted."))
            try await waitFor(events, "the undeploy event") { $0.stdout.contains("workload_undeployed") }

            // No node bids for a type nobody runs.
            let noBidder = try await runNex(["devrun", binary, "--type", "oci", "-s", server.url, "--timeout", "1s"], directory: directory)
            #expect(noBidder.status != 0)
            #expect(noBidder.stderr.contains("unable to locate candidate node - no nodes discovered"))

            // Stopping a workload that does not exist: the node's answer, non-zero.
            let stop = try await runNex(["stop", nodeID, "0b5c6f3e-0000-4000-8000-000000000000", "-s", server.url, "--timeout", "5s"],
                                        directory: directory)
            #expect(stop.status != 0)
            #expect(stop.stderr.contains("⛔ Workload stop request failed: No such workload"), "stderr: \(stop.stderr)")

            // Stop by name: found by workload ping, stopped with the issuer key devrun made.
            let byName = try await runNex(["stop", "--name", "echoservice", "-s", server.url, "--timeout", "2s"], directory: directory)
            #expect(byName.status == 0, "stderr: \(byName.stderr)")
            #expect(byName.stdout.contains("✅ Workload '"), "stdout: \(byName.stdout)")
            let gone = try await runNex(["stop", "--name", "echoservice", "-s", server.url, "--timeout", "1s"], directory: directory)
            #expect(gone.status != 0)
            #expect(gone.stderr.contains("No workload named echoservice is running in namespace default"))
            // `nex run` deploys what is already in the object store, with explicit key files (only now: a
            // no-sandbox node refuses a duplicate of a running artifact in the same namespace).
            let run = try await runNex(["run", "nats://NEXCLIFILES/echoservice", nodeID, "NATS_URL=\(server.url)", "ECHO_SUBJECT=svc.run",
                                        "--issuer", directory + "/.nex/issuer.nk", "--xkey", directory + "/.nex/publisher.xk",
                                        "--name", "echorun", "-s", server.url, "--timeout", "3s"], directory: directory)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout.contains("🚀 Workload 'echorun' accepted."))
            let runStop = try await runNex(["stop", "--name", "echorun", "-s", server.url, "--timeout", "2s"], directory: directory)
            #expect(runStop.status == 0, "stderr: \(runStop.stderr)")

            let empty = try await runNex(["node", "probe", "-s", server.url, "--timeout", "1s"], directory: directory)
            #expect(empty.stdout.contains("No workloads matched"))

            let full = try await runNex(["node", "ls", "--full", "-s", server.url, "--timeout", "1s"], directory: directory)
            #expect(full.stdout.contains("Sandboxed"))
            #expect(full.stdout.contains(nodeID))
        } catch {
            for process in watchers + [node] { process.signal(SIGKILL) }
            _ = try? await node.waitForExit()
            await server.stop()
            throw error
        }
        for watcher in watchers {
            watcher.signal(SIGINT)
            #expect(try await watcher.waitForExit() == 0)
        }
        node.signal(SIGTERM)
        #expect(try await node.waitForExit() == 0)
        await server.stop()
    }

    @Test func aNodeThatShutsDownLeavesNoWorkloadBehind() async throws {
        let server = try await NATSServer.start(.init(jetStream: true))
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (node, _) = try await startNode(server, directory: directory)
        let binary = try EchoService.build(into: directory, name: "echo.service")
        let marker = "svc.shutdown.\(UUID().uuidString.prefix(8))"
        let devrun = try await runNex(["devrun", binary, "NATS_URL=\(server.url)", "ECHO_SUBJECT=\(marker)", "-s", server.url,
                                       "--timeout", "3s"], directory: directory)
        #expect(devrun.status == 0, "stderr: \(devrun.stderr)")
        #expect(!servicesRunning(marker).isEmpty)
        node.signal(SIGTERM)
        #expect(try await node.waitForExit() == 0)
        #expect(servicesRunning(marker).isEmpty)
        await server.stop()
    }

    /// Live processes whose environment has `ECHO_SUBJECT=<subject>`.
    private func servicesRunning(_ subject: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"), !stat[stat.index(after: close)...].hasPrefix(" Z") else { return false }
            return String(decoding: data, as: UTF8.self).contains("ECHO_SUBJECT=\(subject)\u{0}")
        }
    }

    /// Waits until `process`'s output satisfies `condition` (a hang guard, not a timing assertion).
    private func waitFor(_ process: NexProcess, _ what: String, _ condition: (NexProcess) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(process) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw NexHung(stderr: "waiting for \(what); stdout:\n\(process.stdout)\nstderr:\n\(process.stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func logsFollowWithWorkingFiltersUntilInterrupted() async throws {
        let server = try await NATSServer.start()
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let logs = try NexProcess(["logs", "-s", server.url, "--namespace", "team", "--workload_name", "echo"], directory: directory)
        try await waitFor(logs, "the subscription") { $0.stderr.contains("Following logs in namespace team") }
        try await withNATSClient(NATSClient.Configuration(url: server.url)) { client in
            func publish(_ namespace: String, _ name: String, _ id: String, _ text: String, _ level: NexLogLevel = .info) async throws {
                let subject = "$NEX.logs.\(namespace).\(node).\(name).\(id)"
                try await client.publish(NexJSON.encode(LogRecord(text: text, level: level, id: id)), to: subject)
            }
            try await publish("team", "echo", "w1", "wanted line", .error)
            try await publish("team", "other", "w2", "other workload")
            try await publish("default", "echo", "w3", "other namespace")
            try await publish("team", "echo", "w1", "last line")
            try await client.flush()
        }
        try await waitFor(logs, "the last line") { $0.stdout.contains("last line") }
        logs.signal(SIGINT)
        let status = try await logs.waitForExit()
        #expect(status == 0)
        let lines = logs.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("ERROR [team \(node.rawValue.prefix(12))… echo w1] wanted line") == true)
        #expect(!logs.stdout.contains("other workload"))
        #expect(!logs.stdout.contains("other namespace"))
        #expect(!logs.stdout.contains("\u{1B}["))  // not a terminal: no colour
        await server.stop()
    }

    @Test func eventsShowTheNamespaceAndSystemAsTextOrJSON() async throws {
        let server = try await NATSServer.start()
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let text = try NexProcess(["events", "-s", server.url, "--namespace", "team"], directory: directory)
        let json = try NexProcess(["events", "-s", server.url, "--namespace", "team", "--json"], directory: directory)
        try await waitFor(text, "the subscription") { $0.stderr.contains("Following events") }
        try await waitFor(json, "the subscription") { $0.stderr.contains("Following events") }
        try await withNATSClient(NATSClient.Configuration(url: server.url)) { client in
            func publish(_ namespace: Namespace, _ type: NexEventType, _ data: NexEventPayload) async throws {
                let event = NexCloudEvent(id: UUID().uuidString.lowercased(), source: node.rawValue, type: type, time: GoTime.now(), data: data)
                try await client.publish(NexJSON.encode(AnyNexEvent(event)), to: NexSubject.event(namespace, type).description)
            }
            try await publish(try Namespace("team"), .workloadDeployed,
                              .workloadDeployed(WorkloadStatusEvent(code: 0, workloadID: "w1", workloadName: "echo")))
            try await publish(.default, .workloadDeployed,
                              .workloadDeployed(WorkloadStatusEvent(code: 0, workloadID: "w9", workloadName: "elsewhere")))
            try await publish(.system, .nodeStopped, .nodeStopped(NodeStoppedEvent(id: node.rawValue, graceful: true)))
            try await client.flush()
        }
        try await waitFor(text, "both events") { $0.stdout.contains("stopped gracefully") && $0.stdout.contains("echo (w1)") }
        try await waitFor(json, "both events") { $0.stdout.split(separator: "\n").count >= 2 }
        text.signal(SIGINT)
        json.signal(SIGTERM)
        #expect(try await text.waitForExit() == 0)
        #expect(try await json.waitForExit() == 0)
        #expect(text.stdout.contains("workload_deployed team \(node): workload echo (w1) deployed"))
        #expect(text.stdout.contains("node_stopped system \(node): node \(node) stopped gracefully"))
        #expect(!text.stdout.contains("elsewhere"))
        let decoded = try json.stdout.split(separator: "\n").map { try AnyNexEvent.decode(from: Array($0.utf8)) }
        #expect(Set(decoded.map(\.event.type)) == [.workloadDeployed, .nodeStopped])
        await server.stop()
    }

    @Test func preflightInitWritesOnceAndReportsMissingItems() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/config.json"
        let first = try await runNex(["node", "preflight", "--init", "nosandbox", "--config", config], directory: directory)
        #expect(first.stdout.contains("Wrote default nosandbox configuration: \(config)"))
        #expect(try NodeConfiguration.load(from: Array(String(contentsOfFile: config, encoding: .utf8).utf8)).noSandbox)
        #expect(first.stdout.contains("✅ nats-server") || first.stdout.contains("⛔ nats-server"))
        // The status follows the items: non-zero exactly when something is missing.
        #expect((first.status != 0) == first.stdout.contains("⛔"))

        let again = try await runNex(["node", "preflight", "--init", "sandbox", "--config", config], directory: directory)
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists; use --force"))
        let forced = try await runNex(["node", "preflight", "--init", "sandbox", "--config", config, "--force"], directory: directory)
        #expect(forced.stdout.contains("Wrote default sandbox configuration"))
        #expect(forced.stdout.contains("bwrap"))
        #expect(forced.stdout.contains("seccomp"))
        #expect(try !NodeConfiguration.load(from: Array(String(contentsOfFile: config, encoding: .utf8).utf8)).noSandbox)
    }
}
