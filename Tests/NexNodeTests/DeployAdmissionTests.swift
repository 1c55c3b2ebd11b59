import NexTestSupport
import Foundation
import NKeys
import NexAPI
import NexClient
import Testing
@testable import NexNode

/// The pure deploy and stop checks, in the order and with the texts of spec §2.4–2.5.
@Suite struct DeployAdmissionTests {
    let node = NodeIdentity.generate()
    let issuer = KeyPair.generate(.account)
    let sender = CurveKeyPair.generate()
    let hash = String(repeating: "0f", count: 32)

    func admission(_ change: (inout NodeConfiguration) -> Void = { _ in }, lameDuck: Bool = false, live: Int = 0,
                   now: Date = Date()) -> DeployAdmission {
        var configuration = NodeConfiguration()
        configuration.workloadTypes = [.native, .v8]
        configuration.denyTriggerSubjects = NodeConfiguration.alwaysDeniedTriggerSubjects + ["private.>"]
        change(&configuration)
        return DeployAdmission(configuration: configuration, nodeID: node.nodeID, xkey: node.xkey, lameDuck: lameDuck,
                               liveWorkloads: live, now: now)
    }

    func request(type: WorkloadType = .native, triggers: [String] = [], environment: [String: String] = ["A": "b"],
                 issuedAt: Date = Date()) throws -> DeployRequest {
        let builder = DeployRequestBuilder(workloadName: try WorkloadName("echo"), workloadType: type,
                                           location: ArtifactLocation(bucket: "B", key: "k"), hash: hash,
                                           environment: environment, triggerSubjects: triggers)
        return try builder.build(for: node.nodeID, nodeXKey: node.xkey.publicKey, issuer: issuer, senderXKey: sender, issuedAt: issuedAt)
    }

    func admit(_ admission: DeployAdmission, _ request: DeployRequest, namespace: String = "default") throws -> Result<DeployAdmission.Admitted, DeployRefusal> {
        admission.admit(subject: "$NEX.DEPLOY.\(namespace).\(node.nodeID)", body: try NexJSON.encode(request))
    }

    @Test func aGoodRequestIsAdmittedWithItsDecryptedEnvironment() throws {
        let admitted = try admit(admission(), request()).get()
        #expect(admitted.environment == ["A": "b"])
        #expect(admitted.name.rawValue == "echo")
        #expect(admitted.bucket == "B" && admitted.key == "k")
        #expect(admitted.hashClaim == hash)
        #expect(admitted.claims.issuer == issuer.publicKey)
    }

    @Test func checksRunInTheSpecOrder() throws {
        // Lame duck beats everything after the subject check.
        let garbage = Array("nope".utf8)
        #expect(admission(lameDuck: true).admit(subject: "$NEX.DEPLOY.default.\(node.nodeID)", body: garbage).refusalReason == NexFailure.lameDuckDeployDenied)
        #expect(admission().admit(subject: "$NEX.DEPLOY.bad ns.\(node.nodeID)", body: garbage).refusalReason == NexFailure.invalidDeploySubject)
        #expect(admission({ $0.nodeLimits.maxWorkloads = 1 }, live: 1).admit(subject: "$NEX.DEPLOY.default.\(node.nodeID)", body: garbage).refusalReason == NexFailure.maximumWorkloadsReached)
    }

    @Test func refusals() throws {
        #expect(try admit(admission({ $0.workloadTypes = [.v8] }), request()).refusalReason == NexFailure.unsupportedWorkloadType(.native))
        #expect(try admit(admission(), request(triggers: ["a"])).refusalReason == NexFailure.triggerSubjectsNotSupported(.native))
        #expect(try admit(admission(), request(type: .v8, triggers: ["ok", "private.x"])).refusalReason == NexFailure.deniedTriggerSubject("private.x"))
        #expect(try admit(admission({ $0.validIssuers = ["Asomeoneelse"] }), request()).refusalReason == NexFailure.invalidIssuer(issuer.publicKey))
        var wrongHash = try request()
        wrongHash.hash = String(repeating: "aa", count: 32)
        #expect(try admit(admission(), wrongHash).refusalReason == NexFailure.invalidDeployRequest(NexFailure.hashClaimMismatch))
        var forOtherNode = try request()
        forOtherNode.targetNode = NodeIdentity.generate().nodeID.rawValue
        #expect(try admit(admission(), forOtherNode).isFailure)
        // `elf` is `native`.
        var elf = try request()
        elf.workloadType = .elf
        #expect(try admit(admission(), elf).get().type == .native)
    }

    @Test func expiredAndNotYetValidTokensAreRefused() throws {
        let claims = GenericClaims.nexWorkload(requestID: "r", workloadName: "echo", hash: hash)
        var expiring = claims
        expiring.expires = Date(timeIntervalSinceNow: -60)
        var base = try request()
        base.workloadJWT = try JWT.encode(generic: expiring, signer: issuer)
        #expect(try admit(admission(), base).refusalReason == NexFailure.invalidDeployRequest(NexFailure.claimsNotValid))
        var early = claims
        early.notBefore = Date(timeIntervalSinceNow: 3600)
        base.workloadJWT = try JWT.encode(generic: early, signer: issuer)
        #expect(try admit(admission(), base).refusalReason == NexFailure.invalidDeployRequest(NexFailure.claimsNotValid))
    }

    @Test func stopTokensAreBoundToWorkloadAndIssuer() throws {
        let deployClaims = try JWT.decodeGeneric(try #require(try request().workloadJWT))
        let workload = WorkloadID.random()
        let authorization = StopAuthorization(now: Date())
        let good = try DeployRequestBuilder.stopRequest(workloadID: workload, on: node.nodeID, issuer: issuer)
        #expect(try authorization.authorize(good, deployClaims: deployClaims, workloadID: workload).get().issuer == issuer.publicKey)
        let other = try DeployRequestBuilder.stopRequest(workloadID: workload, on: node.nodeID, issuer: KeyPair.generate(.account))
        #expect(authorization.authorize(other, deployClaims: deployClaims, workloadID: workload).refusalReason == NexFailure.stopByOtherIssuer)
        #expect(authorization.authorize(good, deployClaims: deployClaims, workloadID: WorkloadID.random()).isFailure)
        let replayed = StopRequest(nodeID: node.nodeID.rawValue, workloadID: workload.rawValue, workloadJWT: try #require(try request().workloadJWT))
        // A different deploy token of the same issuer is not the deploy token: refused for its subject.
        #expect(authorization.authorize(replayed, deployClaims: deployClaims, workloadID: workload).isFailure)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

extension Result where Failure == DeployRefusal {
    var refusalReason: String? {
        if case .failure(let refusal) = self { return refusal.reason }
        return nil
    }
}
