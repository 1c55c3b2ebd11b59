import Foundation
import NATS
import NKeys
import NexAPI
import Testing
@testable import NexClient

/// The sha256 of the empty string, as hex and as an object store digest.
private let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
private let emptyDigest = "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="

private func echoBuilder(environment: [String: String] = ["SECRET": "hunter2", "MODE": "test"]) throws -> DeployRequestBuilder {
    DeployRequestBuilder(workloadName: try WorkloadName("echo"), workloadType: .native,
                         location: ArtifactLocation(bucket: "NEXCLIFILES", key: "echo"), hash: emptyHash,
                         argv: ["-port", "8080"], description: "echo service", environment: environment, essential: true)
}

/// A node that validates deploys as a 0.x node does the parts that concern the client: opens the
/// environment with its xkey, verifies the JWT against its issuer, and answers with the issuer.
private func deployingNode() -> ScriptedNode {
    ScriptedNode { node, subject, body in
        switch subject {
        case .deploy(_, let target) where target == node.id:
            let request = try NexJSON.decode(DeployRequest.self, from: body)
            guard let sealed = request.environment, let sender = request.senderPublicKey, let token = request.workloadJWT else {
                return try failure(.run, RunResponse.self, reason: NexFailure.invalidDeployRequest("missing fields"))
            }
            let environment = try NexJSON.decode([String: String].self, from: node.xkey.openBase64(sealed, from: sender))
            let claims = try JWT.decodeGeneric(token)
            guard environment["SECRET"] == "hunter2", claims.nexWorkloadName == request.workloadName else {
                return try failure(.run, RunResponse.self, reason: NexFailure.invalidDeployRequest("bad claims"))
            }
            return try success(.run, RunResponse(id: "vm-1", issuer: claims.issuer, name: request.workloadName ?? "", started: true))
        case .stop(_, let target) where target == node.id:
            let request = try NexJSON.decode(StopRequest.self, from: body)
            let claims = try JWT.decodeGeneric(request.workloadJWT)
            guard claims.subject == request.workloadID else {
                return try failure(.stop, StopResponse.self, reason: NexFailure.noSuchWorkload)
            }
            return try success(.stop, StopResponse(id: request.workloadID, issuer: claims.issuer, stopped: true))
        default:
            return nil
        }
    }
}

@Suite struct DeployTests {
    @Test func deployAndStopThroughAScriptedNode() async throws {
        let node = deployingNode()
        let issuer = KeyPair.generate(.account)
        let request = try echoBuilder().build(for: node.pingResponse, issuer: issuer, senderXKey: CurveKeyPair.generate(),
                                              issuedAt: Date(timeIntervalSince1970: 1_700_000_000))
        let stop = try DeployRequestBuilder.stopRequest(workloadID: try WorkloadID("vm-1"), on: node.id, issuer: issuer,
                                                        issuedAt: Date(timeIntervalSince1970: 1_700_000_010))
        let (run, stopped) = try await withScriptedNodes([node]) { client in
            let nex = NexClient(client: client, timeout: .seconds(10))
            return (try await nex.deploy(request, to: node.id), try await nex.stop(stop, on: node.id))
        }
        #expect(run == RunResponse(id: "vm-1", issuer: issuer.publicKey, name: "echo", started: true))
        #expect(stopped == StopResponse(id: "vm-1", issuer: issuer.publicKey, stopped: true))
    }

    @Test(arguments: [NexFailure.lameDuckDeployDenied, NexFailure.unsupportedWorkloadType("oci"),
                      NexFailure.deniedTriggerSubject("$NEX.>"), "text with \"quotes\", <tags> & ünïcødé"])
    func deployFailureTextPassesThroughExactly(reason: String) async throws {
        let node = ScriptedNode { node, subject, _ in
            guard case .deploy = subject else { return nil }
            return try failure(.run, RunResponse.self, reason: reason)
        }
        let request = try echoBuilder().build(for: node.pingResponse, issuer: KeyPair.generate(.account), senderXKey: CurveKeyPair.generate())
        let error = try await withScriptedNodes([node]) { client in
            await #expect(throws: NexClientError.self) { try await NexClient(client: client, timeout: .seconds(10)).deploy(request, to: node.id) }
        }
        #expect(error == NexClientError(code: .remote, message: reason))
    }

    @Test func stopFailureTextPassesThroughExactly() async throws {
        let node = ScriptedNode { _, subject, _ in
            guard case .stop = subject else { return nil }
            return try failure(.stop, StopResponse.self, reason: NexFailure.stopByOtherIssuer)
        }
        let stop = try DeployRequestBuilder.stopRequest(workloadID: .random(), on: node.id, issuer: KeyPair.generate(.account))
        let error = try await withScriptedNodes([node]) { client in
            await #expect(throws: NexClientError.self) { try await NexClient(client: client, timeout: .seconds(10)).stop(stop, on: node.id) }
        }
        #expect(error?.code == .remote)
        #expect(error?.message == NexFailure.stopByOtherIssuer)
    }
}

@Suite struct DeployRequestBuilderTests {
    @Test func buildsASignedSealedRequest() throws {
        let issuer = KeyPair.generate(.account)
        let sender = CurveKeyPair.generate()
        let nodeXKey = CurveKeyPair.generate()
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        var builder = try echoBuilder()
        builder.jsDomain = "hub"
        let request = try builder.build(for: node, nodeXKey: nodeXKey.publicKey, issuer: issuer, senderXKey: sender,
                                        requestID: "5d2f7c0e-3c3e-4d4b-9c39-0f6a1f1b2e3d")

        let claims = try JWT.decodeGeneric(try #require(request.workloadJWT))
        #expect(claims.issuer == issuer.publicKey)
        #expect(claims.subject == "5d2f7c0e-3c3e-4d4b-9c39-0f6a1f1b2e3d")
        #expect(claims.nexHash == emptyHash)
        #expect(claims.nexWorkloadName == "echo")

        let opened = try nodeXKey.openBase64(try #require(request.environment), from: try #require(request.senderPublicKey))
        #expect(try NexJSON.decode([String: String].self, from: opened) == ["SECRET": "hunter2", "MODE": "test"])
        #expect(request.senderPublicKey == sender.publicKey)
        // Another key cannot open it.
        #expect(throws: XKeyError.self) { try CurveKeyPair.generate().openBase64(request.environment!, from: sender.publicKey) }

        #expect(request.id == "5d2f7c0e-3c3e-4d4b-9c39-0f6a1f1b2e3d")
        #expect(request.hash == nil)
        #expect(request.targetNode == node.rawValue)
        #expect(request.workloadName == "echo")
        #expect(request.workloadType == .native)
        #expect(request.argv == ["-port", "8080"])
        #expect(request.description == "echo service")
        #expect(request.essential == true)
        #expect(request.jsDomain == "hub")
        #expect(request.location?.description == "nats://NEXCLIFILES/echo")

        // What goes on the wire decodes to the same request.
        #expect(try NexJSON.decode(DeployRequest.self, from: NexJSON.encode(request)) == request)
    }

    @Test func v8NeedsATriggerSubject() throws {
        var builder = try echoBuilder()
        builder.workloadType = .v8
        let error = #expect(throws: NexClientError.self) {
            try builder.build(for: try NodeID(keyPair: KeyPair.generate(.server)), nodeXKey: CurveKeyPair.generate().publicKey,
                              issuer: KeyPair.generate(.account), senderXKey: CurveKeyPair.generate())
        }
        #expect(error?.message == DeployRequestBuilder.missingTriggerSubjectMessage)
        builder.triggerSubjects = ["echo.>"]
        let request = try builder.build(for: try NodeID(keyPair: KeyPair.generate(.server)), nodeXKey: CurveKeyPair.generate().publicKey,
                                        issuer: KeyPair.generate(.account), senderXKey: CurveKeyPair.generate())
        #expect(request.triggerSubjects == ["echo.>"])
    }

    @Test func badNodeXKeyIsAnInvalidRequest() throws {
        let error = #expect(throws: NexClientError.self) {
            try echoBuilder().build(for: try NodeID(keyPair: KeyPair.generate(.server)), nodeXKey: "Xnotakey",
                                    issuer: KeyPair.generate(.account), senderXKey: CurveKeyPair.generate())
        }
        #expect(error?.code == .invalidRequest)
    }

    @Test func stopRequestIsBoundToTheWorkload() throws {
        let issuer = KeyPair.generate(.account)
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let workload = WorkloadID.random()
        let stop = try DeployRequestBuilder.stopRequest(workloadID: workload, on: node, issuer: issuer)
        let claims = try JWT.decodeGeneric(stop.workloadJWT)
        #expect(claims.subject == workload.rawValue)
        #expect(claims.issuer == issuer.publicKey)
        #expect(claims.nexHash == nil)
        #expect(stop.nodeID == node.rawValue)
        #expect(stop.workloadID == workload.rawValue)
    }

    @Test func objectStoreDigestBecomesHex() {
        #expect(DeployRequestBuilder.hash(fromObjectStoreDigest: emptyDigest) == emptyHash)
        #expect(DeployRequestBuilder.hash(fromObjectStoreDigest: "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU") == emptyHash)
        #expect(DeployRequestBuilder.hash(fromObjectStoreDigest: "MD5=abc") == nil)
        #expect(DeployRequestBuilder.hash(fromObjectStoreDigest: "SHA-256=AAAA") == nil)
    }
}
