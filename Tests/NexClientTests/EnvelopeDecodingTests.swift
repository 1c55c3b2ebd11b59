import NexAPI
import Testing
@testable import NexClient

/// The envelope handling of replies, without a server.
@Suite struct EnvelopeDecodingTests {
    private func decode(_ text: String) throws(NexClientError) -> LameDuckResponse {
        try NexClient.decode(LameDuckResponse.self, .lameDuck, from: Array(text.utf8))
    }

    @Test func successPayload() throws {
        let reply = try decode(#"{"type":"io.nats.nex.v1.lameduck_response","data":{"node_id":"N1","success":true}}"#)
        #expect(reply == LameDuckResponse(nodeID: "N1", success: true))
    }

    @Test func goFailureEnvelopeKeepsTheText() {
        // Go `respondFail` writes an empty []byte as data, which encodes as "".
        let error = #expect(throws: NexClientError.self) {
            try decode(#"{"type":"io.nats.nex.v1.lameduck_response","data":"","error":"No such workload"}"#)
        }
        #expect(error == .remote("No such workload"))
    }

    @Test func nonStringErrorIsStillAFailure() {
        let error = #expect(throws: NexClientError.self) {
            try decode(#"{"type":"io.nats.nex.v1.lameduck_response","error":42}"#)
        }
        #expect(error == .remote("42"))
    }

    @Test func nullErrorIsSuccess() throws {
        let reply = try decode(#"{"type":"io.nats.nex.v1.lameduck_response","data":{"node_id":"N2","success":false},"error":null}"#)
        #expect(reply == LameDuckResponse(nodeID: "N2", success: false))
    }

    @Test(arguments: ["", "null", "{", #"{"type":"io.nats.nex.v1.lameduck_response","data":"oops"}"#,
                      #"{"type":"io.nats.nex.v1.ping_response","data":{"node_id":"N1","success":true}}"#])
    func anythingElseIsInvalidResponse(text: String) {
        let error = #expect(throws: NexClientError.self) { try decode(text) }
        #expect(error?.code == .invalidResponse)
    }
}
