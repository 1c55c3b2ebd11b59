import Foundation
import NATS
import NexAPI
import NexAgent
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The agent against a test playing the node, on a real nats-server in operator mode; the agent's
/// credentials reach only its own subjects, as the node will mint them.
@Suite struct NexAgentTests {
    @Test func handshakesAndAnswersPings() async throws {
        try await withAgent { node in
            let handshake = try #require(node.handshakes.first)
            #expect(handshake.id == node.agentID)
            #expect(handshake.pid == getpid())
            #expect(handshake.message == "Metadata obtained from no-sandbox environment")
            #expect(try await node.ping() == "OK")
        }
    }

    @Test func deployedServiceGetsOnlyItsEnvironmentAndItsLogsArriveInOrder() async throws {
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "echo-bin")
            var request = node.request("w1", artifact: "echo-bin", argv: ["echo", "extra arg"],
                                       environment: ["nats_url": "nats://example:4222", "Mixed_Case": "yes"])
            request.hostServices = NATSJWTConnectionInfo(natsURL: "nats://hs:4222", natsUserJWT: "jwt-value", natsUserSeed: "SUSEED")
            let reply = try await node.deploy(request)
            #expect(reply.accepted, "\(reply.message)")
            let group = try #require(reply.processGroup)
            #expect(kill(-group, 0) == 0, "the reported process group exists")

            try await waitUntil("the service to be ready") { node.logs("w1").contains { $0.text == "ready" } }
            let starts = node.processStarts("w1")
            #expect(starts.map(\.processGroup) == [group])

            let logs = node.logs("w1")
            let stdout = logs.filter { $0.level == .info }.map(\.text)
            let stderr = logs.filter { $0.level == .error }.map(\.text)
            #expect(stdout.filter { $0.hasPrefix("out ") } == ["out 1", "out 2", "out 3"])
            #expect(stderr == ["err 1", "err 2"])
            let environment = Set(stdout.filter { $0.hasPrefix("env ") })
            #expect(environment == [
                "env NATS_URL=nats://example:4222", "env MIXED_CASE=yes",
                "env NEX_HOSTSERVICES_NATS_SERVER=nats://hs:4222", "env NEX_HOSTSERVICES_NATS_USER_JWT=jwt-value",
                "env NEX_HOSTSERVICES_NATS_USER_SEED=SUSEED",
            ])
            #expect(stdout.contains("arg extra arg"))
            let cwd = try #require(stdout.first { $0.hasPrefix("cwd ") })
            #expect(URL(fileURLWithPath: String(cwd.dropFirst(4))).resolvingSymlinksInPath().path == node.directory.resolvingSymlinksInPath().path)

            let undeployed = try await node.undeploy("w1")
            #expect(undeployed.stopped, "\(undeployed.message)")
            #expect(!isAlive(group))
            // A requested stop is the node's to report; the agent publishes nothing for it.
            #expect(try await node.ping() == "OK")
            #expect(node.events(.workloadUndeployed, "w1").isEmpty)
            let again = try await node.undeploy("w1")
            #expect(!again.stopped && again.message.contains("no such workload"))
        }
    }

    @Test func aServiceThatExitsIsReportedOnceAfterItsLastLine() async throws {
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "exiter")
            let reply = try await node.deploy(node.request("w2", artifact: "exiter", argv: ["exit", "3"]))
            #expect(reply.accepted, "\(reply.message)")
            try await waitUntil("workload_undeployed") { !node.events(.workloadUndeployed, "w2").isEmpty }
            // Anything more would have been published before a ping's answer.
            #expect(try await node.ping() == "OK")
            let events = node.events(.workloadUndeployed, "w2")
            #expect(events.count == 1)
            #expect(events.first?.code == 3)
            #expect(events.first?.message == "Exited workload: svc-w2; status: 3")
            let lastLine = try #require(node.index { $0.subject == AgentSubjects.logs(agent: node.agentID) && $0.string.contains("exiting with 3") })
            let event = try #require(node.index { $0.subject == AgentSubjects.event(agent: node.agentID, type: .workloadUndeployed) })
            #expect(lastLine < event)
            #expect(node.events(.workloadRestarting, "w2").isEmpty)
            let undeploy = try await node.undeploy("w2")
            #expect(!undeploy.stopped)
        }
    }

    @Test func undeployKillsAServiceThatIgnoresSigtermAndItsGrandchild() async throws {
        try await withAgent(stopGracePeriod: .milliseconds(500)) { node in
            try node.install(AgentFixture.staticPath, as: "stubborn")
            let reply = try await node.deploy(node.request("w3", artifact: "stubborn", argv: ["stubborn"]))
            #expect(reply.accepted, "\(reply.message)")
            var leader: Int32?
            var grandchild: Int32?
            try await waitUntil("both processes to report") {
                for entry in node.logs("w3") {
                    let parts = entry.text.split(separator: " ")
                    if parts.count == 2, parts[0] == "leader" { leader = Int32(parts[1]) }
                    if parts.count == 2, parts[0] == "grandchild" { grandchild = Int32(parts[1]) }
                }
                return leader != nil && grandchild != nil
            }
            let leaderPID = try #require(leader)
            let grandchildPID = try #require(grandchild)
            #expect(leaderPID == reply.processGroup)
            #expect(isAlive(leaderPID) && isAlive(grandchildPID))
            let stopped = try await node.undeploy("w3")
            #expect(stopped.stopped)
            #expect(stopped.message == "terminated by signal \(SIGKILL)")
            #expect(!isAlive(leaderPID))
            // The group got SIGKILL; the grandchild (reparented, not ours to reap) finishes dying on its own time,
            // which a loaded machine has been seen to stretch past this line.
            try await waitUntil("the grandchild to die") { !isAlive(grandchildPID) }
            #expect(node.events(.workloadUndeployed, "w3").isEmpty)
        }
    }

    @Test func essentialServiceRestartsWithEventsThenGivesUp() async throws {
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "crasher")
            let policy = AgentRestartPolicy(maxRestarts: 2, initialBackoffMilliseconds: 10, maxBackoffMilliseconds: 20)
            let reply = try await node.deploy(node.request("w4", artifact: "crasher", argv: ["exit", "7"], essential: true,
                                                           restartPolicy: policy))
            #expect(reply.accepted, "\(reply.message)")
            try await waitUntil("the final workload_undeployed") { !node.events(.workloadUndeployed, "w4").isEmpty }
            #expect(try await node.ping() == "OK")
            let restarts = node.events(.workloadRestarting, "w4")
            #expect(restarts.map(\.code) == [7, 7])
            #expect(restarts.first?.message.contains("restart 1 of 2") == true)
            #expect(restarts.last?.message.contains("restart 2 of 2") == true)
            let final = node.events(.workloadUndeployed, "w4")
            #expect(final.count == 1)
            #expect(final.first?.code == 7)
            #expect(final.first?.message.hasPrefix("Exited workload: svc-w4; status: 7") == true)
            #expect(node.processStarts("w4").count == 3)
            #expect(node.logs("w4").filter { $0.text == "exiting with 7" }.count == 3)
        }
    }

    @Test func lameDuckStopsRestarts() async throws {
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "waiter")
            let policy = AgentRestartPolicy(maxRestarts: 5, initialBackoffMilliseconds: 10, maxBackoffMilliseconds: 20)
            let reply = try await node.deploy(node.request("w5", artifact: "waiter", argv: ["waitfile", "go", "5"], essential: true,
                                                           restartPolicy: policy))
            #expect(reply.accepted, "\(reply.message)")
            try await waitUntil("the service to wait") { node.logs("w5").contains { $0.text == "waiting for go" } }
            try await node.lameDuck()
            // The file is relative: the service runs in the agent directory.
            try Data().write(to: node.directory.appendingPathComponent("go"))
            try await waitUntil("workload_undeployed") { !node.events(.workloadUndeployed, "w5").isEmpty }
            #expect(try await node.ping() == "OK")
            #expect(node.events(.workloadRestarting, "w5").isEmpty)
            #expect(node.events(.workloadUndeployed, "w5").map(\.code) == [5])
            #expect(node.processStarts("w5").count == 1)
        }
    }

    @Test func undeployOfAnEssentialServiceEndsItsSupervisionWithoutEvents() async throws {
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "echo-bin")
            let reply = try await node.deploy(node.request("e1", artifact: "echo-bin", argv: ["echo"], essential: true))
            #expect(reply.accepted, "\(reply.message)")
            let group = try #require(reply.processGroup)
            try await waitUntil("the service to be ready") { node.logs("e1").contains { $0.text == "ready" } }
            let stopped = try await node.undeploy("e1")
            #expect(stopped.stopped)
            #expect(stopped.message == "terminated by signal \(SIGTERM)")
            #expect(!isAlive(group))
            #expect(try await node.ping() == "OK")
            #expect(node.events(.workloadRestarting, "e1").isEmpty)
            #expect(node.events(.workloadUndeployed, "e1").isEmpty)
            #expect(node.processStarts("e1").map(\.processGroup) == [group])
        }
    }

    @Test func badDeploysAreRefusedWithAReason() async throws {
        try await withAgent(sandboxed: true) { node in
            try node.install(AgentFixture.staticPath, as: "good")
            try node.install(AgentFixture.dynamicPath, as: "dynamic")
            try Data("#!/bin/sh\necho hi\n".utf8).write(to: node.directory.appendingPathComponent("script"))

            func refusal(_ request: AgentDeployRequest) async throws -> String {
                let reply = try await node.deploy(request)
                #expect(!reply.accepted)
                #expect(reply.processGroup == nil)
                return reply.message
            }
            #expect(try await refusal(node.request("b1", artifact: "../good", argv: ["echo"])).contains("plain file name"))
            #expect(try await refusal(node.request("b2", artifact: "sub/good", argv: ["echo"])).contains("plain file name"))
            #expect(try await refusal(node.request("b3", artifact: "missing", argv: ["echo"])).contains("not found"))
            #expect(try await refusal(node.request("b4", artifact: "script", argv: ["echo"])).contains("not a usable ELF file"))
            #expect(try await refusal(node.request("b5", artifact: "dynamic", argv: ["echo"])) ==
                    "native binary contains at least one dynamically linked dependency")
            #expect(try await refusal(node.request("b6", artifact: "good", argv: [], type: "oci")).contains("unsupported workload type"))
            #expect(try await refusal(node.request("b7", artifact: "good", argv: [], type: .v8))
                    .contains("at least one trigger subject"))
            var invalid = node.request("b8", artifact: "good", argv: ["echo"])
            invalid.namespace = ""
            invalid.totalBytes = 0
            let joined = try await refusal(invalid)
            #expect(joined.contains("namespace is required") && joined.contains("total bytes must be greater than zero"))
            let malformed = try await node.deploy(raw: Array(#"{"workload_id": 12"#.utf8))
            #expect(!malformed.accepted && malformed.message.contains("invalid deploy request"))
            let badUndeploy = try await node.undeploy(raw: Array("nope".utf8))
            #expect(!badUndeploy.stopped && badUndeploy.message.contains("invalid undeploy request"))

            // The agent is still healthy: a static binary deploys (alias `elf`), a duplicate ID does not.
            let accepted = try await node.deploy(node.request("g1", artifact: "good", argv: ["echo"], type: .elf))
            #expect(accepted.accepted, "\(accepted.message)")
            #expect(try await refusal(node.request("g1", artifact: "good", argv: ["echo"])).contains("already deployed"))
            #expect(try await node.undeploy("g1").stopped)
        }
    }

    @Test func shutdownStopsEveryWorkload() async throws {
        var group: Int32?
        try await withAgent { node in
            try node.install(AgentFixture.staticPath, as: "echo-bin")
            let reply = try await node.deploy(node.request("s1", artifact: "echo-bin", argv: ["echo"]))
            #expect(reply.accepted, "\(reply.message)")
            group = reply.processGroup
        }
        let pid = try #require(group)
        #expect(!isAlive(pid))
    }
}

/// The real `nex-agent` executable, built beside the test bundle.
@Suite struct NexAgentExecutableTests {
    static func executable() throws -> String {
        let tests = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: tests).deletingLastPathComponent().appendingPathComponent("nex-agent").path
        try #require(FileManager.default.isExecutableFile(atPath: path), "nex-agent not built at \(path)")
        return path
    }

    static func start(environment: [String: String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    static func waitForExit(_ process: Process) async throws -> Int32 {
        try await waitUntil("nex-agent to exit") { !process.isRunning }
        return process.terminationStatus
    }

    @Test func exitsWithTwoOnABadEnvironment() async throws {
        let (process, errors) = try Self.start(environment: ["NEX_AGENT_ID": "a1", "NEX_AGENT_HANDSHAKE_TIMEOUT_MS": "soon"])
        #expect(try await Self.waitForExit(process) == 2)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("NEX_NODE_NATS_URL") && text.contains("NEX_AGENT_HANDSHAKE_TIMEOUT_MS"), "\(text)")
    }

    @Test func handshakesAnswersPingsAndExitsCleanlyOnSigterm() async throws {
        try await withNodeSide { node in
            let environment = try node.environment()
            let (process, _) = try Self.start(environment: environment.variables)
            do {
                try await waitUntil("the handshake") { !node.handshakes.isEmpty }
                #expect(node.handshakes.first?.pid == process.processIdentifier)
                #expect(try await node.ping() == "OK")
            } catch {
                process.terminate()
                throw error
            }
            process.terminate()
            #expect(try await Self.waitForExit(process) == 0)
        }
    }

    @Test func exitsWithOneWhenNoNodeAnswersTheHandshake() async throws {
        try await withNodeSide { node in
            // Nobody answers this agent's handshake subject.
            let environment = try node.environment(agentID: "orphan\(UInt32.random(in: 1...UInt32.max))", handshakeTimeoutMilliseconds: 300)
            let (process, errors) = try Self.start(environment: environment.variables)
            #expect(try await Self.waitForExit(process) == 1)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("handshake"), "\(text)")
        }
    }
}
