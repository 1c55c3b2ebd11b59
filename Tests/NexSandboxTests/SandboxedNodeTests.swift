import NexTestSupport
import Foundation
import Synchronization
import NATS
import NATSTestSupport
import NexAPI
import NexClient
import NexNode
import NexSandbox
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real sandboxed node (root, bubblewrap, cgroups, seccomp, Landlock) running real static C services.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SandboxedNodeTests {
    @Test func theEchoServiceWorksSandboxed() async throws {
        let agentIDs = Mutex<Set<String>>([])
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("sandbox-echo")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: sandboxConfiguration(), options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let info = try await nex.info(node: node)
                #expect(info.tags[NodeTag.unsafe] == nil)
                let artifact = try await upload(EchoService.path, key: "echo-sandboxed", with: nex.client)
                let issuer = Issuer()
                let request = try echoDeployRequest(artifact, name: "echo", on: node, nodeXKey: info.publicXKey, issuer: issuer,
                                                    environment: ["nats_url": server.url, "ECHO_SUBJECT": "svc.sandboxed",
                                                                  "echo_greeting": "from inside", "ECHO_PREFIX": "re:"])
                let logStream = try await nex.logs(workloadName: try WorkloadName("echo"))
                let eventStream = try await nex.events(namespace: .default)
                let logs = Collector(logStream), events = Collector(eventStream)
                let response = try await nex.deploy(request, to: node)
                #expect(response.started)
                #expect(try await requestUntilAnswered(nex.client, "ping", to: "svc.sandboxed") == "re:ping")
                let greeting = try await logs.first { $0.record.text.hasPrefix("ECHO_GREETING=") }
                #expect(greeting.record.text == "ECHO_GREETING=from inside")
                _ = try await events.first { $0.type == .workloadDeployed }

                // The agent runs sandboxed: a non-root user of its own on the host, in its own cgroup
                // (`nex-{agent ID}`; this node's agent IDs are its agent directories — other tests run
                // sandboxed nodes at the same time).
                let ownAgentIDs = (try? FileManager.default.contentsOfDirectory(atPath: work + "/agents")) ?? []
                agentIDs.withLock { $0.formUnion(ownAgentIDs) }
                let agents = processes(withEnvironmentContaining: "NEX_SANDBOX_TCP_PORTS=")
                    .filter { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("nex-agent") == true }
                    .filter { pid in
                        let cgroups = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
                        return ownAgentIDs.contains { cgroups.contains("nex-\($0)") }
                    }
                #expect(!agents.isEmpty)
                for pid in agents {
                    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                    let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
                    #expect(uid?.contains("\t0\t") == false, "agent \(pid) runs as host root: \(uid ?? "")")
                    let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
                    #expect(cgroups.contains("nex-"), "agent \(pid) is not in a sandbox cgroup")
                }

                let stop = try DeployRequestBuilder.stopRequest(workloadID: try WorkloadID(response.id), on: node, issuer: issuer.key)
                #expect(try await nex.stop(stop, on: node).stopped)
                _ = try await events.first { $0.type == .workloadUndeployed }
                try await logStream.close()
                try await eventStream.close()
            }
            // Every agent's cgroup went with it.
            let hierarchy = try #require(CgroupHierarchy.discover())
            let ours = Set(agentIDs.withLock { $0 }.map { "nex-\($0)" })
            #expect(!ours.isEmpty)
            for parent in Set(hierarchy.parents.values) {
                let left = (try? FileManager.default.contentsOfDirectory(atPath: parent))?.filter(ours.contains) ?? []
                #expect(left.isEmpty, "cgroups left under \(parent): \(left)")
            }
        }
    }

    @Test func preflightPassesHereAndExplainsWhatIsMissing() throws {
        let checks = NexNode.sandboxChecks(rootfsFilePath: "", agentExecutable: NexNode.defaultAgentExecutable())
        for check in checks { #expect(check.passed, "\(check.name): \(check.detail)") }
        #expect(Set(checks.map(\.name)).isSuperset(of: ["bubblewrap", "user namespaces", "cgroups", "seccomp", "landlock", "rootfs"]))
        let empty = temporaryDirectory("empty-rootfs")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let missing = NexNode.sandboxChecks(rootfsFilePath: empty, agentExecutable: nil).first { $0.name == "rootfs" }
        #expect(missing?.passed == false)
        #expect(missing?.detail.contains("nex rootfs") == true)
    }

    @Test func aHostileWorkloadCannotEscape() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("sandbox-hostile")
            defer { try? FileManager.default.removeItem(atPath: work) }
            // What it must not reach: a key file of the node, another agent's artifact, a host port.
            let secret = work + "/node.nk"
            try "SNODESECRET".write(toFile: secret, atomically: true, encoding: .utf8)
            chmod(secret, 0o600)
            let otherAgent = work + "/agents/other-agent"
            try FileManager.default.createDirectory(atPath: otherAgent, withIntermediateDirectories: true)
            try "artifact".write(toFile: otherAgent + "/workload-other", atomically: true, encoding: .utf8)
            let listener = try LoopbackListener()
            defer { listener.close() }
            let natsPort = try #require(URL(string: server.url)?.port)

            var options = workloadNodeOptions(workDirectory: work)
            options.sandbox.pidsLimit = 48
            let spec = NodeUnderTest(url: server.url, configuration: sandboxConfiguration(vcpus: 1), options: options)
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let info = try await nex.info(node: node)
                let artifact = try await upload(HostileWorkload.path, key: "hostile", with: nex.client)
                let logStream = try await nex.logs(workloadName: try WorkloadName("hostile"))
                let logs = Collector(logStream)
                let request = try echoDeployRequest(artifact, name: "hostile", on: node, nodeXKey: info.publicXKey, issuer: Issuer(), environment: [
                    "HOSTILE_MODE": "probe", "HOSTILE_SECRET": secret, "HOSTILE_OTHER_ARTIFACT": otherAgent + "/workload-other",
                    "HOSTILE_FORBIDDEN_PORT": "\(listener.port)", "HOSTILE_ALLOWED_PORT": "\(natsPort)",
                    "HOSTILE_SPINNERS": "2", "HOSTILE_SPIN_SECONDS": "3",
                ])
                _ = try await nex.deploy(request, to: node)
                _ = try await logs.first(limit: .seconds(60)) { $0.record.text == "DONE" }
                let lines = logs.all.map(\.record.text)
                let results = lines.filter { $0.hasPrefix("RESULT ") }
                if ProcessInfo.processInfo.environment["NEX_SANDBOX_TEST_VERBOSE"] != nil { print(lines.joined(separator: "\n")) }
                for name in ["processes", "read_node_key", "read_other_artifact", "read_etc_passwd", "read_root_home", "write_outside",
                             "connect_forbidden", "udp_socket", "raw_socket", "tcp_bind", "mount", "unshare_user", "ptrace", "fork_bomb"] {
                    let attempts = results.filter { $0.hasPrefix("RESULT \(name) ") }
                    #expect(!attempts.isEmpty, "no result for \(name)")
                    for attempt in attempts { #expect(attempt.contains(" blocked "), "\(attempt)") }
                }
                // Not a host process in sight, and no host uid 0 inside.
                let processes = try #require(lines.first { $0.hasPrefix("PROCESSES ") })
                #expect(!processes.contains("nats-server") && !processes.contains("swift-nex"), "\(processes)")
                #expect(lines.contains { $0.hasPrefix("HOSTILE uid=1000 ") })
                // What it may do still works: /tmp, its own directory, the allowed NATS port.
                #expect(lines.contains("WRITE_TMP ok"))
                #expect(lines.contains("WRITE_OWN ok"))
                #expect(lines.contains("CONNECT_ALLOWED ok"))
                // Nothing was written on the host, and the listener never saw a connection.
                #expect(!FileManager.default.fileExists(atPath: "/evil"))
                #expect(!listener.hasPendingConnection())
                // The fork bomb ended below the pids limit.
                let forks = try #require(lines.first { $0.hasPrefix("FORKS ") }.flatMap { Int($0.split(separator: " ")[1]) })
                #expect(forks < 48)
                // Two spinners on a one-CPU quota: CPU time stays near the wall time (the quota holds), not twice it.
                let spin = try #require(lines.first { $0.hasPrefix("SPIN ") })
                let values = spin.split(separator: " ").dropFirst().compactMap { $0.split(separator: "=").last.flatMap { Double($0) } }
                try #require(values.count == 2)
                #expect(values[0] / values[1] < 1.3, "\(spin)")
                try await logStream.close()
            }
        }
    }

    @Test func allocatingPastTheMemoryLimitIsAnOOMKill() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("sandbox-oom")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let spec = NodeUnderTest(url: server.url, configuration: sandboxConfiguration(memoryMiB: 192),
                                     options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let info = try await nex.info(node: node)
                let artifact = try await upload(HostileWorkload.path, key: "hostile-oom", with: nex.client)
                let events = try await nex.events(namespace: .default)
                let logStream = try await nex.logs(workloadName: try WorkloadName("hog"))
                let logs = Collector(logStream)
                let request = try echoDeployRequest(artifact, name: "hog", on: node, nodeXKey: info.publicXKey, issuer: Issuer(),
                                                    environment: ["HOSTILE_MODE": "oom"])
                let response = try await nex.deploy(request, to: node)
                let ended = try await firstMatch(in: events, limit: .seconds(60)) { $0.type == .workloadUndeployed }
                let message: String
                switch ended.event.event.data {
                case .workloadExited(let status): message = status.message
                case .workloadUndeployed(let notice): message = notice.reason
                default: message = ""
                }
                #expect(message.contains("killed for exceeding its memory limit"), "\(message)")
                #expect(ended.event.event.source.hasSuffix(response.id))
                #expect(!logs.all.contains { $0.record.text == "OOM_SURVIVED" })
                try await events.close()
                try await logStream.close()
            }
        }
    }
}

func sandboxConfiguration(memoryMiB: Int = 256, vcpus: Int = 1) -> NodeConfiguration {
    var configuration = NodeConfiguration()
    configuration.noSandbox = false
    configuration.workloadTypes = [.native]
    configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects
    configuration.agentHandshakeTimeoutMilliseconds = 20_000
    configuration.machineTemplate.memSizeMiB = memoryMiB
    configuration.machineTemplate.vcpuCount = vcpus
    return configuration
}

/// A TCP listener on 127.0.0.1 (a host port no sandbox may reach).
final class LoopbackListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 8) == 0 else { throw TestTimeout(what: "a loopback listener (\(errno))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether someone connected (checked without blocking).
    func hasPendingConnection() -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    func close() { _ = Glibc.close(descriptor) }
}
