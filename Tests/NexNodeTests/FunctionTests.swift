import Foundation
import JetStream
import NATS
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexHostServices
import NexNode
import Testing

/// Functions end to end: a real node, real agents holding the trigger subscriptions, the JavaScript and
/// WebAssembly engines, host services on a real nats-server.
@Suite(.timeLimit(.minutes(3)))
struct FunctionTests {
    static let echoFunction = """
    (subject, payload) => JSON.stringify({ triggered_on: subject, payload: new TextDecoder().decode(payload) })
    """

    /// A node that runs functions, and a helper to deploy them.
    struct FunctionNode: Sendable {
        let nex: NexClient
        let node: NodeID
        let issuer = Issuer()

        func deploy(_ artifact: [UInt8], name: String, type: WorkloadType, triggers: [String],
                    namespace: Namespace = .default) async throws -> WorkloadID {
            let uploaded = try await upload(bytes: artifact, key: "\(name)-\(UUID().uuidString.prefix(8))", with: nex.client)
            let xkey = try await nex.info(node: node).publicXKey
            let builder = DeployRequestBuilder(workloadName: try WorkloadName(name), workloadType: type, location: uploaded.location,
                                               hash: uploaded.hash, triggerSubjects: triggers)
            let request = try builder.build(for: node, nodeXKey: xkey, issuer: issuer.key, senderXKey: issuer.xkey)
            let scoped = NexClient(client: nex.client, namespace: namespace, timeout: .seconds(10), logger: quietLogger("fn"))
            return try WorkloadID(try await scoped.deploy(request, to: node).id)
        }
    }

    func withFunctionNode(_ body: @Sendable (FunctionNode, NATSServer) async throws -> Void) async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("functions")
            defer { try? FileManager.default.removeItem(atPath: work) }
            var configuration = noSandboxConfiguration(types: [.native, .v8, .wasm])
            configuration.allowDuplicateWorkloads = true
            configuration.machinePoolSize = 2
            let spec = NodeUnderTest(url: server.url, configuration: configuration, options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                try await body(FunctionNode(nex: nex, node: running[0].nodeID), server)
            }
        }
    }

    @Test func javaScriptEchoRepliesAndReportsEachExecution() async throws {
        try await withFunctionNode { fn, _ in
            let events = Collector(try await fn.nex.events(namespace: .default))
            let id = try await fn.deploy(Array(Self.echoFunction.utf8), name: "echofunction", type: .v8, triggers: ["helloworld"])
            let reply = try await requestUntilAnswered(fn.nex.client, "hello world", to: "helloworld")
            #expect(reply == #"{"triggered_on":"helloworld","payload":"hello world"}"#)
            let succeeded = try await events.first { $0.type == .functionExecSucceeded }
            guard case .functionExecSucceeded(let data) = succeeded.event.event.data else { Issue.record("wrong payload"); return }
            #expect(data.workloadID == id.rawValue)
            #expect(data.triggerSubject == "helloworld")
            #expect(data.elapsedNanos > 0)
            let machine = try #require(try await fn.nex.info(node: fn.node).machines?.first)
            #expect(machine.workload.workloadType == .v8)
            #expect(machine.workload.runtime != "--")
        }
    }

    @Test func wildcardTriggersSeeTheConcreteSubject() async throws {
        try await withFunctionNode { fn, _ in
            _ = try await fn.deploy(Array("(subject, payload) => subject".utf8), name: "subjects", type: .v8, triggers: ["orders.*"])
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "orders.eu") == "orders.eu")
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "orders.us") == "orders.us")
        }
    }

    @Test func aThrowingFunctionRepliesNothingAndReportsTheFailure() async throws {
        try await withFunctionNode { fn, _ in
            let events = Collector(try await fn.nex.events(namespace: .default))
            let logs = Collector(try await fn.nex.logs(workloadName: try WorkloadName("thrower")))
            let source = "(subject, payload) => { if (payload.length > 0) throw new Error('bad input: ' + payload.length); return 'ok' }"
            _ = try await fn.deploy(Array(source.utf8), name: "thrower", type: .v8, triggers: ["throws"])
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "throws") == "ok")
            await #expect(throws: NATSError.self) {
                _ = try await fn.nex.client.request("xyz", to: "throws", timeout: .seconds(2))
            }
            let failed = try await events.first { $0.type == .functionExecFailed }
            guard case .functionExecFailed(let data) = failed.event.event.data else { Issue.record("wrong payload"); return }
            #expect(data.error.contains("bad input: 3"))
            let line = try await logs.first { $0.record.level == .error }
            #expect(line.record.text.contains("bad input: 3"))
            // Still serving.
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "throws") == "ok")
        }
    }

    @Test func aSyntaxErrorFailsTheDeploy() async throws {
        try await withFunctionNode { fn, _ in
            do {
                _ = try await fn.deploy(Array("(subject, payload) => { return * }".utf8), name: "broken", type: .v8, triggers: ["broken"])
                Issue.record("a syntax error was deployed")
            } catch {
                let message = (error as? NexClientError)?.message ?? "\(error)"
                #expect(message.contains("SyntaxError"), "\(message)")
            }
            let machines = try await fn.nex.info(node: fn.node).machines ?? []
            #expect(machines.isEmpty)
        }
    }

    @Test func twoInstancesShareTheLoadThroughTheirQueueGroup() async throws {
        try await withFunctionNode { fn, _ in
            let events = Collector(try await fn.nex.events(namespace: .default))
            let first = try await fn.deploy(Array("(s, p) => 'pong'".utf8), name: "shared", type: .v8, triggers: ["shared.work"])
            let second = try await fn.deploy(Array("(s, p) => 'pong'".utf8), name: "shared", type: .v8, triggers: ["shared.work"])
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "shared.work") == "pong")
            try await eventually("both instances to have served") {
                _ = try? await fn.nex.client.request("", to: "shared.work", timeout: .seconds(2))
                let served = Set(events.all.compactMap { message -> String? in
                    if case .functionExecSucceeded(let data) = message.event.event.data { return data.workloadID }
                    return nil
                })
                return served == [first.rawValue, second.rawValue]
            }
        }
    }
}

/// Puts `bytes` into bucket `NEXTEST` under `key`.
func upload(bytes: [UInt8], key: String, with client: NATSClient) async throws -> Artifact {
    let path = NSTemporaryDirectory() + "nex-artifact-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await upload(path, key: key, with: client)
}
