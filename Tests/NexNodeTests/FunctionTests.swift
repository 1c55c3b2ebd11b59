import NexTestSupport
import NativeRuntime
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

    // MARK: - Host services (0.x spec scenarios 10-13, and namespace scoping)

    @Test func javaScriptKeyValueLandsInTheNamespacesBucket() async throws {
        try await withFunctionNode { fn, server in
            let source = """
            (subject, payload) => {
                kv("testBucket").set("hello2", payload);
                return JSON.stringify({ keys: kv("testBucket").keys(), value: new TextDecoder().decode(kv("testBucket").get("hello2")) });
            }
            """
            _ = try await fn.deploy(Array(source.utf8), name: "kvfunction", type: .v8, triggers: ["hellokvservice"])
            let reply = try await requestUntilAnswered(fn.nex.client, "hello!", to: "hellokvservice")
            #expect(reply == #"{"keys":["hello2"],"value":"hello!"}"#)
            // The bucket the function named lives under its namespace.
            let store = try await JetStreamContext(client: fn.nex.client, timeout: .seconds(10))
                .keyValue(NATSHostServices.scopedBucketName("testBucket", namespace: "default"))
            let stored = try await store.get("hello2")
            #expect(stored?.string == "hello!")
        }
    }

    @Test func aFunctionCannotReachAnotherNamespacesBucket() async throws {
        try await withFunctionNode { fn, _ in
            let writer = "(s, p) => { kv('shared').set('secret', p); return 'stored' }"
            let reader = "(s, p) => { const v = kv('shared').get('secret'); return v === null ? 'nothing' : v }"
            _ = try await fn.deploy(Array(writer.utf8), name: "writer", type: .v8, triggers: ["tenant.a.write"], namespace: try Namespace("tenanta"))
            _ = try await fn.deploy(Array(reader.utf8), name: "reader", type: .v8, triggers: ["tenant.b.read"], namespace: try Namespace("tenantb"))
            #expect(try await requestUntilAnswered(fn.nex.client, "top secret", to: "tenant.a.write") == "stored")
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "tenant.b.read") == "nothing")
        }
    }

    @Test func javaScriptObjectStoreAndMessaging() async throws {
        try await withFunctionNode { fn, _ in
            let objects = """
            (subject, payload) => {
                const store = objectStore("testObjBucket");
                store.put("hello2", payload);
                return JSON.stringify({ names: store.list().map(o => o.name), value: new TextDecoder().decode(store.get("hello2")) });
            }
            """
            _ = try await fn.deploy(Array(objects.utf8), name: "objfunction", type: .v8, triggers: ["helloobjectstoreservice"])
            #expect(try await requestUntilAnswered(fn.nex.client, "hello!", to: "helloobjectstoreservice")
                == #"{"names":["hello2"],"value":"hello!"}"#)

            // Two responders for requestMany, one for request.
            let single = try await fn.nex.client.subscribe(to: "hello.world.request")
            let many = try await fn.nex.client.subscribe(to: "hello.world.request.many")
            let manyToo = try await fn.nex.client.subscribe(to: "hello.world.request.many")
            let client = fn.nex.client
            let responders = Task {
                await withDiscardingTaskGroup { group in
                    for (subscription, prefix) in [(single, "resp: "), (many, "one: "), (manyToo, "two: ")] {
                        group.addTask {
                            do {
                                for try await message in subscription {
                                    if let reply = message.replyTo { try await client.publish(prefix + message.string, to: reply) }
                                }
                            } catch {}
                        }
                    }
                }
            }
            defer { responders.cancel() }
            let messaging = """
            (subject, payload) => {
                const d = new TextDecoder();
                messaging.publish("hello.world.published", payload);
                const one = d.decode(messaging.request("hello.world.request", payload));
                const all = messaging.requestMany("hello.world.request.many", payload, 500).map(r => d.decode(r)).sort();
                return JSON.stringify({ one, all });
            }
            """
            let published = try await fn.nex.client.subscribe(to: "hello.world.published")
            _ = try await fn.deploy(Array(messaging.utf8), name: "msgfunction", type: .v8, triggers: ["hellomessagingservice"])
            let reply = try await requestUntilAnswered(fn.nex.client, "asdfghjkl;'", to: "hellomessagingservice")
            #expect(reply == #"{"one":"resp: asdfghjkl;'","all":["one: asdfghjkl;'","two: asdfghjkl;'"]}"#)
            var iterator = published.makeAsyncIterator()
            guard case .message(let publishedMessage) = try await iterator.next(timeout: .seconds(10)) else {
                Issue.record("the function's publish did not arrive")
                return
            }
            #expect(publishedMessage.string == "asdfghjkl;'")
        }
    }

    @Test func javaScriptHTTPWithEveryMethod() async throws {
        try await withTestHTTPServer { http in
            try await withFunctionNode { fn, _ in
                let source = """
                (subject, payload) => JSON.stringify(["get", "post", "put", "patch", "delete", "head"].map(m => http[m]("\(http.url)/x", payload).status))
                """
                _ = try await fn.deploy(Array(source.utf8), name: "httpfunction", type: .v8, triggers: ["hellohttp"])
                #expect(try await requestUntilAnswered(fn.nex.client, "body", to: "hellohttp") == "[200,201,204,204,204,200]")
            }
        }
    }

    // MARK: - WebAssembly

    @Test func wasmEchoAppendsTheTriggerSubject() async throws {
        try await withFunctionNode { fn, _ in
            let module = try WasmGuest.build("""
            #include <stdio.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                char buffer[4096]; ssize_t n;
                while ((n = read(0, buffer, sizeof buffer)) > 0) fwrite(buffer, 1, (size_t)n, stdout);
                fputs(argv[1], stdout);
                return 0;
            }
            """)
            let events = Collector(try await fn.nex.events(namespace: .default))
            _ = try await fn.deploy(module, name: "echofunctionwasm", type: .wasm, triggers: ["helloworld"])
            #expect(try await requestUntilAnswered(fn.nex.client, "hello world", to: "helloworld") == "hello worldhelloworld")
            _ = try await events.first { $0.type == .functionExecSucceeded }
        }
    }

    @Test func wasmHostServicesThroughTheNode() async throws {
        try await withFunctionNode { fn, _ in
            let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("examples/wasm")
            let module = try WasmGuest.build(try String(contentsOf: examples.appendingPathComponent("kv_counter.c"), encoding: .utf8),
                                             includes: examples.path)
            _ = try await fn.deploy(module, name: "kvcounter", type: .wasm, triggers: ["count.*"])
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "count.a") == "count.a=1")
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "count.a") == "count.a=2")
            #expect(try await requestUntilAnswered(fn.nex.client, "", to: "count.b") == "count.b=1")
        }
    }

    @Test func aWasmModuleWithoutStartFailsTheDeploy() async throws {
        try await withFunctionNode { fn, _ in
            do {
                _ = try await fn.deploy(Array("not a module".utf8), name: "garbage", type: .wasm, triggers: ["garbage"])
                Issue.record("an invalid module was deployed")
            } catch {
                let message = (error as? NexClientError)?.message ?? "\(error)"
                #expect(message.hasPrefix("Failed to deploy workload: workload rejected by agent: "), "\(message)")
            }
        }
    }
}
