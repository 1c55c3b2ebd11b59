import Foundation
import JetStream
import NATSTestSupport
import NKeys
import NexAPI
import NexClient
import NexHostServices
import NexNode
import NexTestSupport
import Testing

/// Functions run sandboxed like services: the agent (with JavaScriptCore) in its namespaces and cgroup,
/// its trigger subscriptions and host services on the workload NATS through its Landlock allowance.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SandboxedFunctionTests {
    @Test func javaScriptAndWasmFunctionsWorkSandboxed() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            let work = temporaryDirectory("sandbox-functions")
            defer { try? FileManager.default.removeItem(atPath: work) }
            var configuration = sandboxConfiguration()
            configuration.workloadTypes = [.native, .v8, .wasm]
            let spec = NodeUnderTest(url: server.url, configuration: configuration, options: workloadNodeOptions(workDirectory: work))
            try await withNodes([spec], testURL: server.url, timeout: .seconds(10)) { nex, running in
                let node = running[0].nodeID
                let info = try await nex.info(node: node)
                #expect(info.tags[NodeTag.unsafe] == nil)
                let issuer = Issuer()
                func deploy(_ artifact: [UInt8], name: String, type: WorkloadType, trigger: String) async throws {
                    let uploaded = try await upload(bytes: artifact, key: name, with: nex.client)
                    let builder = DeployRequestBuilder(workloadName: try WorkloadName(name), workloadType: type,
                                                       location: uploaded.location, hash: uploaded.hash, triggerSubjects: [trigger])
                    _ = try await nex.deploy(try builder.build(for: node, nodeXKey: info.publicXKey, issuer: issuer.key,
                                                               senderXKey: issuer.xkey), to: node)
                }

                // JavaScript, with a key-value host service call from inside the sandbox.
                let js = """
                (subject, payload) => { kv("sandboxed").set("last", payload); return new TextDecoder().decode(kv("sandboxed").get("last")) + "@" + subject }
                """
                try await deploy(Array(js.utf8), name: "jssandboxed", type: .v8, trigger: "sandboxed.js")
                #expect(try await requestUntilAnswered(nex.client, "hi", to: "sandboxed.js") == "hi@sandboxed.js")
                let bucket = try await JetStreamContext(client: nex.client, timeout: .seconds(10))
                    .keyValue(NATSHostServices.scopedBucketName("sandboxed", namespace: "default"))
                let stored = try await bucket.get("last")
                #expect(stored?.string == "hi")

                // WebAssembly.
                let wasm = try WasmGuest.build("""
                #include <stdio.h>
                #include <unistd.h>
                int main(int argc, char **argv) {
                    char buffer[4096]; ssize_t n;
                    while ((n = read(0, buffer, sizeof buffer)) > 0) fwrite(buffer, 1, (size_t)n, stdout);
                    fputs(argv[1], stdout);
                    return 0;
                }
                """)
                try await deploy(wasm, name: "wasmsandboxed", type: .wasm, trigger: "sandboxed.wasm")
                #expect(try await requestUntilAnswered(nex.client, "hello ", to: "sandboxed.wasm") == "hello sandboxed.wasm")
            }
        }
    }
}
