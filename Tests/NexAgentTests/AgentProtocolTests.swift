import NexAPI
import Testing

@Suite struct AgentEnvironmentTests {
    @Test func roundTripsThroughVariables() throws {
        let environment = AgentEnvironment(agentID: "a1", natsURL: "nats://127.0.0.1:4567", userJWT: "jwt", userSeed: "SU",
                                           directory: "/tmp/a1", sandboxed: false, handshakeTimeoutMilliseconds: 5000)
        #expect(try AgentEnvironment(variables: environment.variables) == environment)
    }

    @Test func namesEveryMissingVariable() {
        #expect {
            try AgentEnvironment(variables: ["NEX_AGENT_ID": "a1", "NEX_AGENT_HANDSHAKE_TIMEOUT_MS": "soon"])
        } throws: { error in
            let message = (error as? NexAPIError)?.message ?? ""
            return ["NEX_NODE_NATS_URL", "NEX_NODE_NATS_USER_JWT", "NEX_NODE_NATS_NKEY_SEED", "NEX_AGENT_DIR",
                    "NEX_AGENT_HANDSHAKE_TIMEOUT_MS"].allSatisfy { message.contains($0) }
        }
    }

    @Test func deployRequestRoundTripsAndToleratesMissingOptionals() throws {
        let request = AgentDeployRequest(workloadID: "w1", workloadName: "echo", namespace: "default", workloadType: .native,
                                         artifact: "workload-w1", hash: "ab", totalBytes: 10, argv: ["-v"],
                                         environment: ["A": "b"], essential: true)
        let bytes = try NexJSON.encode(request)
        #expect(try NexJSON.decode(AgentDeployRequest.self, from: bytes) == request)
        let minimal = #"{"workload_id":"w","workload_name":"n","namespace":"default","workload_type":"native","artifact":"f","hash":"h","total_bytes":1,"extra":true}"#
        let decoded = try NexJSON.decode(AgentDeployRequest.self, from: Array(minimal.utf8))
        #expect(decoded.argv.isEmpty && decoded.environment.isEmpty && !decoded.essential)
    }
}
