import NexTestSupport
import Foundation
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexNode
import Testing

/// Native services end to end: a real node with real agents on a real nats-server, deploying the static
/// C echo service from the object store.
@Suite(.timeLimit(.minutes(3)))
struct WorkloadTests {
    @Test func deployRequestLogsEventsAndStop() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("deploy")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let artifact = try await upload(EchoService.path, key: "echo", with: nex.client)
                let issuer = Issuer()
                let info = try await nex.info(node: node)
                let request = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: info.publicXKey, issuer: issuer,
                                                    environment: ["nats_url": server.url, "ECHO_SUBJECT": "svc.echo.one",
                                                                  "echo_greeting": "sealed hello", "ECHO_PREFIX": "re:"])
                let logStream = try await nex.logs(workloadName: try WorkloadName("echo"))
                let eventStream = try await nex.events(namespace: .default)
                let logs = Collector(logStream), events = Collector(eventStream)
                let response = try await nex.deploy(request, to: node)
                #expect(response.started)
                #expect(response.name == "echo")
                #expect(response.issuer == issuer.key.publicKey)
                let workloadID = try WorkloadID(response.id)

                #expect(try await requestUntilAnswered(nex.client, "ping", to: "svc.echo.one") == "re:ping")

                let deployed = try await events.first { $0.type == .workloadDeployed }
                guard case .workloadDeployed(let status) = deployed.event.event.data else { Issue.record("wrong payload"); return }
                #expect(status.workloadID == response.id)
                #expect(status.totalBytes == Int64(try FileManager.default.attributesOfItem(atPath: EchoService.path)[.size] as! Int))
                #expect(deployed.event.event.source == "\(node)-\(response.id)")

                // The sealed environment reached the process (keys uppercased); nothing else was inherited.
                let greeting = try await logs.first { $0.record.text.hasPrefix("ECHO_GREETING=") }
                #expect(greeting.record.text == "ECHO_GREETING=sealed hello")
                #expect(greeting.record.level == .info)
                #expect(greeting.workloadID == workloadID)
                #expect(greeting.nodeID == node)
                let stderr = try await logs.first { $0.record.text == "echo service stderr line" }
                #expect(!logs.all.contains { $0.record.text == "PATH is set" })
                #expect(stderr.record.level == .error)

                let machines = try await nex.info(node: node).machines ?? []
                #expect(machines.map(\.id) == [response.id])
                #expect(machines.first?.workload.hash == artifact.hash)
                #expect(machines.first?.workload.workloadType == .native)
                #expect(try await nex.workloadPing(WorkloadReference("echo"), timeout: .seconds(2)).flatMap { $0.runningMachines ?? [] }.map(\.id) == [response.id])
                #expect(try await nex.ping(node: node)?.runningMachines == 1)

                let stop = try DeployRequestBuilder.stopRequest(workloadID: workloadID, on: node, issuer: issuer.key)
                let stopped = try await nex.stop(stop, on: node)
                #expect(stopped.stopped)
                #expect(stopped.id == response.id)
                let undeployed = try await events.first { $0.type == .workloadUndeployed }
                guard case .workloadUndeployed(let notice) = undeployed.event.event.data else { Issue.record("wrong payload"); return }
                #expect(notice.reason == WorkloadUndeployedEvent.undeployRequestedReason)
                await #expect(throws: NATSError.self) {
                    _ = try await nex.client.request("gone?", to: "svc.echo.one", timeout: .seconds(2))
                }
                #expect(try await nex.info(node: node).machines?.isEmpty ?? true)
                #expect(try await nex.workloadPing(WorkloadReference("echo"), timeout: .seconds(2)).isEmpty)
                try await logStream.close()
                try await eventStream.close()
            }
        }
    }

    @Test func badRequestsGetClearErrorsAndTheNodeStaysHealthy() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("refusals")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(types: [.native, .v8]),
                                     options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let xkey = try await nex.info(node: node).publicXKey
                let artifact = try await upload(EchoService.path, key: "echo-refusals", with: nex.client)
                let issuer = Issuer()
                let environment = ["NATS_URL": server.url, "ECHO_SUBJECT": "svc.refusals"]

                func refusal(_ request: DeployRequest) async -> String? {
                    do {
                        _ = try await nex.deploy(request, to: node)
                        return nil
                    } catch {
                        return error.code == .remote ? error.message : "\(error)"
                    }
                }

                // Invalid JSON.
                let garbage = try await rawRequest(nex.client, Array("{not json".utf8), to: .deploy(.default, node), as: RunResponse.self)
                #expect(garbage.failureReason?.hasPrefix("Unable to deserialize deploy request: ") == true)
                // Unknown type.
                var unknown = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                unknown.workloadType = WorkloadType("oci")
                #expect(await refusal(unknown) == "Unsupported workload type on this node: oci")
                // Trigger subjects on a service, and a deny-listed trigger on a function.
                var triggered = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                triggered.triggerSubjects = ["work.>"]
                #expect(await refusal(triggered) == "Unsupported workload type for trigger subject registration: native")
                triggered.workloadType = .v8
                triggered.triggerSubjects = ["$NEX.DEPLOY.>"]
                #expect(await refusal(triggered) == "The trigger subject $NEX.DEPLOY.> overlaps with subject(s) in this node's deny list")
                // Environment sealed to another key.
                let wrongKey = CurveKeyPair.generate().publicKey
                let sealedElsewhere = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: wrongKey, issuer: issuer, environment: environment)
                #expect(await refusal(sealedElsewhere)?.hasPrefix("Failed to decrypt environment for deploy request: ") == true)
                // A tampered JWT (bad signature).
                var tampered = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                let parts = try #require(tampered.workloadJWT).split(separator: ".")
                tampered.workloadJWT = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
                #expect(await refusal(tampered)?.hasPrefix("Invalid deploy request: ") == true)
                // A hash claim that is not the artifact's.
                let lying = Artifact(location: artifact.location, hash: String(repeating: "ab", count: 32))
                let mismatched = try echoDeployRequest(lying, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                #expect(await refusal(mismatched)?.contains(NexFailure.hashClaimMismatch) == true)
                // A missing artifact.
                let missing = Artifact(location: ArtifactLocation(bucket: "NEXTEST", key: "nothing-here"), hash: artifact.hash)
                let nowhere = try echoDeployRequest(missing, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                #expect(await refusal(nowhere)?.hasPrefix("Failed to cache workload bytes: ") == true)

                // A good deploy still works, and the refusals above left nothing behind.
                let good = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: xkey, issuer: issuer, environment: environment)
                let response = try await nex.deploy(good, to: node)
                let workloadID = try WorkloadID(response.id)
                #expect(try await requestUntilAnswered(nex.client, "x", to: "svc.refusals") == "x")
                #expect(try await nex.info(node: node).machines?.count == 1)
                // The same deploy request again: a replayed token.
                #expect(await refusal(good)?.contains("already used") == true)

                func stopRefusal(_ request: StopRequest, namespace: Namespace = .default) async -> String? {
                    let reply = try? await rawRequest(nex.client, try NexJSON.encode(request), to: .stop(namespace, node), as: StopResponse.self)
                    return reply?.failureReason
                }
                // Stop by another issuer.
                let stranger = try DeployRequestBuilder.stopRequest(workloadID: workloadID, on: node, issuer: KeyPair.generate(.account))
                #expect(await stopRefusal(stranger) == NexFailure.stopByOtherIssuer)
                // The deploy token replayed as a stop token.
                let cloned = StopRequest(nodeID: node.rawValue, workloadID: response.id, workloadJWT: try #require(good.workloadJWT))
                #expect(await stopRefusal(cloned) == NexFailure.clonedStopClaims)
                // A stop token for a different workload.
                let otherToken = try DeployRequestBuilder.stopRequest(workloadID: WorkloadID.random(), on: node, issuer: issuer.key)
                let misbound = StopRequest(nodeID: node.rawValue, workloadID: response.id, workloadJWT: otherToken.workloadJWT)
                #expect(await stopRefusal(misbound)?.contains("is for workload") == true)
                // Unknown workload and wrong namespace answer alike.
                let proper = try DeployRequestBuilder.stopRequest(workloadID: workloadID, on: node, issuer: issuer.key)
                #expect(await stopRefusal(proper, namespace: try Namespace("other")) == NexFailure.noSuchWorkload)
                let unknownStop = try DeployRequestBuilder.stopRequest(workloadID: WorkloadID.random(), on: node, issuer: issuer.key)
                #expect(await stopRefusal(unknownStop) == NexFailure.noSuchWorkload)

                // Still serving: the workload answers, and the right issuer stops it.
                #expect(try await requestUntilAnswered(nex.client, "still", to: "svc.refusals") == "still")
                #expect(try await nex.stop(proper, on: node).stopped)
            }
        }
    }

    @Test func aServiceThatExitsIsReportedWithItsCode() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("exit")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let artifact = try await upload(EchoService.path, key: "echo-exit", with: nex.client)
                let xkey = try await nex.info(node: node).publicXKey
                // Port 1 on loopback refuses: the service exits with code 3.
                let request = try echoDeployRequest(artifact, name: "doomed", on: node, nodeXKey: xkey, issuer: Issuer(),
                                                    environment: ["NATS_URL": "nats://127.0.0.1:1"])
                let events = try await nex.events(namespace: .default)
                let response = try await nex.deploy(request, to: node)
                let exited = try await firstMatch(in: events) { $0.type == .workloadUndeployed }
                guard case .workloadExited(let status) = exited.event.event.data else { Issue.record("wrong payload"); return }
                #expect(status.workloadID == response.id)
                #expect(status.code == 3)
                try await eventually("the workload to leave info") { try await nex.info(node: node).machines?.isEmpty ?? true }
                // The pool replaced the consumed agent.
                try await eventually("a fresh agent") { try await nex.info(node: node).availableAgents >= 1 }
                try await events.close()
            }
        }
    }

    @Test func essentialServicesRestartThenGiveUp() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("essential")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let artifact = try await upload(EchoService.path, key: "echo-essential", with: nex.client)
                let xkey = try await nex.info(node: node).publicXKey
                let request = try echoDeployRequest(artifact, name: "flaky", on: node, nodeXKey: xkey, issuer: Issuer(),
                                                    environment: ["NATS_URL": "nats://127.0.0.1:1"], essential: true)
                let events = try await nex.events(namespace: .default)
                _ = try await nex.deploy(request, to: node)
                var restarts = 0
                for try await message in events {
                    if message.type == .workloadRestarting { restarts += 1 }
                    if message.type == .workloadUndeployed { break }
                }
                #expect(restarts == 2)  // the policy of workloadNodeOptions
                try await events.close()
            }
        }
    }

    @Test func aKilledAgentLosesItsWorkloadAndThePoolRefills() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("killed")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let artifact = try await upload(EchoService.path, key: "echo-killed", with: nex.client)
                let xkey = try await nex.info(node: node).publicXKey
                let request = try echoDeployRequest(artifact, name: "orphan", on: node, nodeXKey: xkey, issuer: Issuer(),
                                                    environment: ["NATS_URL": server.url, "ECHO_SUBJECT": "svc.orphan"])
                let events = try await nex.events(namespace: .default)
                let response = try await nex.deploy(request, to: node)
                #expect(try await requestUntilAnswered(nex.client, "x", to: "svc.orphan") == "x")
                // The agent that runs it is the service's parent.
                let workload = processes(withEnvironmentContaining: "ECHO_SUBJECT=svc.orphan")
                #expect(workload.count == 1)
                let agent = try #require(workload.first.flatMap(parentOf))
                kill(agent, SIGKILL)
                let lost = try await firstMatch(in: events) { $0.type == .workloadUndeployed }
                guard case .workloadExited(let status) = lost.event.event.data else { Issue.record("wrong payload"); return }
                #expect(status.workloadID == response.id)
                #expect(status.code == -1)
                try await eventually("the orphaned service to be killed") { !workload.contains(where: processIsAlive) }
                try await eventually("a fresh agent") { try await nex.info(node: node).availableAgents >= 1 }
                #expect(try await nex.info(node: node).machines?.isEmpty ?? true)
                try await events.close()
            }
        }
    }

    @Test func agentsThatNeverHandshakeAreReplacedAndTheNodeStaysUp() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("silent")
            defer { try? FileManager.default.removeItem(atPath: work) }
            // An "agent" that starts and then says nothing.
            let silent = work + "/silent-agent"
            try "#!/bin/sh\nexec /bin/sleep 300\n".write(toFile: silent, atomically: true, encoding: .utf8)
            chmod(silent, 0o755)
            var configuration = noSandboxConfiguration()
            configuration.agentHandshakeTimeoutMilliseconds = 300
            var options = workloadNodeOptions(workDirectory: work)
            options.agentExecutable = silent
            let spec = NodeUnderTest(url: server.url, configuration: configuration, options: options)
            try await withNodes([spec], testURL: server.url, timeout: .seconds(30)) { nex, running in
                let node = running[0].nodeID
                // Several generations of silent agents come and go; none is ever offered work.
                try await eventually("a silent agent to be replaced") {
                    processes(withEnvironmentContaining: "NEX_AGENT_DIR=\(work)").count <= 1
                        && ((try? FileManager.default.contentsOfDirectory(atPath: work + "/agents")) ?? []).count <= 1
                }
                let info = try await nex.info(node: node)
                #expect(info.availableAgents == 0)
                let artifact = try await upload(EchoService.path, key: "echo-silent", with: nex.client)
                let request = try echoDeployRequest(artifact, name: "nowhere", on: node, nodeXKey: info.publicXKey, issuer: Issuer(),
                                                    environment: [:])
                await #expect(throws: NexClientError.remote(NexFailure.noPoolAgent("no available agent client in pool"))) {
                    try await nex.deploy(request, to: node)
                }
                #expect(try await nex.ping(node: node) != nil)
            }
            // Shutdown took every silent agent with it.
            #expect(processes(withEnvironmentContaining: "NEX_AGENT_DIR=\(work)").isEmpty)
        }
    }

    @Test func twoNodesOnAClusterBothBidAndBothRunWorkloads() async throws {
        try await withNATSCluster(size: 3, options: .init(jetStream: true)) { cluster in
            try await cluster.waitForJetStreamReady()
            let specs = (0..<2).map { index in
                NodeUnderTest(url: cluster.urls[index], configuration: noSandboxConfiguration(),
                              options: workloadNodeOptions(workDirectory: temporaryDirectory("cluster\(index)")))
            }
            defer { for spec in specs { try? FileManager.default.removeItem(atPath: spec.options.workDirectory!) } }
            try await withNodes(specs, testURL: cluster.urls[2], timeout: .seconds(5)) { nex, running in
                let bids = try await nex.auction(AuctionRequest(workloadTypes: [.native]))
                #expect(Set(bids.map(\.nodeID)) == Set(running.map(\.nodeID.rawValue)))
                let artifact = try await upload(EchoService.path, key: "echo-cluster", with: nex.client)
                for (index, node) in running.enumerated() {
                    let xkey = try await nex.info(node: node.nodeID).publicXKey
                    let request = try echoDeployRequest(artifact, name: "echo\(index)", on: node.nodeID, nodeXKey: xkey, issuer: Issuer(),
                                                        environment: ["NATS_URL": cluster.urls[index], "ECHO_SUBJECT": "svc.cluster.\(index)"])
                    _ = try await nex.deploy(request, to: node.nodeID)
                    #expect(try await requestUntilAnswered(nex.client, "n\(index)", to: "svc.cluster.\(index)") == "n\(index)")
                }
            }
        }
    }

    @Test func aRestartedNATSServerUnderARunningNodeIsSurvived() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("restart")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: noSandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let artifact = try await upload(EchoService.path, key: "echo-restart", with: nex.client)
                try await server.restart()
                try await waitUntilAnswering(nex, node)
                let xkey = try await nex.info(node: node).publicXKey
                let request = try echoDeployRequest(artifact, name: "survivor", on: node, nodeXKey: xkey, issuer: Issuer(),
                                                    environment: ["NATS_URL": server.url, "ECHO_SUBJECT": "svc.survivor"])
                _ = try await nex.deploy(request, to: node)
                #expect(try await requestUntilAnswered(nex.client, "alive", to: "svc.survivor") == "alive")
            }
        }
    }
}

/// The parent process ID of `pid`, from `/proc/{pid}/stat`.
func parentOf(_ pid: Int32) -> Int32? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
}
