import Foundation
import NATSProtocol
import NKeys
import NexAPI

/// The checks a deploy request passes before the node spends anything on it (spec §2.4 steps 1–10, in
/// order, with 0.x's texts), plus what 0.x lacked: a JWT that is expired or not yet valid, a missing
/// `nats.hash`/`nats.name`, a request `hash` that disagrees with the claim, a request for another node.
/// Pure: the node's state comes in as values.
struct DeployAdmission: Sendable {
    var configuration: NodeConfiguration
    var nodeID: NodeID
    var xkey: CurveKeyPair
    var lameDuck: Bool
    var liveWorkloads: Int
    var now: Date

    /// A request that passed: decoded, decrypted and verified.
    struct Admitted: Sendable {
        var request: DeployRequest
        var namespace: Namespace
        var name: WorkloadName
        var type: WorkloadType
        /// The verified workload JWT.
        var claims: GenericClaims
        /// `nats.hash`: the sha256 hex the artifact must have.
        var hashClaim: String
        var environment: [String: String]
        var bucket: String
        var key: String
    }

    func admit(subject: String, body: [UInt8]) -> Result<Admitted, DeployRefusal> {
        guard case .deploy(let namespace, _) = NexSubject(parsing: subject) else {
            return .failure(.init(NexFailure.invalidDeploySubject))
        }
        if lameDuck { return .failure(.init(NexFailure.lameDuckDeployDenied)) }
        let limit = configuration.nodeLimits.maxWorkloads
        if limit > 0, liveWorkloads >= limit { return .failure(.init(NexFailure.maximumWorkloadsReached)) }

        let request: DeployRequest
        do {
            request = try NexJSON.decode(DeployRequest.self, from: body)
        } catch {
            return .failure(.init(NexFailure.undecodableDeployRequest(error.message)))
        }
        // `elf` is the 0.1.x name of `native`; a node that runs native runs elf.
        let type = request.workloadType == .elf ? WorkloadType.native : request.workloadType
        guard configuration.workloadTypes.contains(type) || configuration.workloadTypes.contains(request.workloadType) else {
            return .failure(.init(NexFailure.unsupportedWorkloadType(request.workloadType)))
        }
        let isFunction = type == .v8 || type == .wasm
        if !request.triggerSubjects.isEmpty, !isFunction {
            return .failure(.init(NexFailure.triggerSubjectsNotSupported(request.workloadType)))
        }
        if let refusal = checkTriggerSubjects(request.triggerSubjects) { return .failure(refusal) }

        let environment: [String: String]
        switch decryptEnvironment(request) {
        case .success(let decrypted): environment = decrypted
        case .failure(let refusal): return .failure(.init(NexFailure.environmentDecryptionFailed(refusal.reason)))
        }

        let verified: (GenericClaims, WorkloadName, String)
        switch verify(request) {
        case .success(let value): verified = value
        case .failure(let refusal): return .failure(.init(NexFailure.invalidDeployRequest(refusal.reason)))
        }
        let (claims, name, hashClaim) = verified
        if !configuration.validIssuers.isEmpty, !configuration.validIssuers.contains(claims.issuer) {
            return .failure(.init(NexFailure.invalidIssuer(claims.issuer)))
        }
        if let target = request.targetNode, !target.isEmpty, target != nodeID.rawValue {
            return .failure(.init(NexFailure.invalidDeployRequest("the request is for node \(target), not \(nodeID)")))
        }
        guard let location = request.location, !location.host.isEmpty else {
            return .failure(.init(NexFailure.invalidDeployRequest("location must name the artifact as nats://BUCKET/key")))
        }
        let key = location.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard location.scheme.lowercased() == "nats", !key.isEmpty else {
            return .failure(.init(NexFailure.invalidDeployRequest("location \(location) is not nats://BUCKET/key")))
        }
        if isFunction, request.triggerSubjects.isEmpty {
            return .failure(.init(NexFailure.invalidDeployRequest("a \(type) function needs at least one trigger subject")))
        }
        if request.essential == true, isFunction {
            return .failure(.init(NexFailure.invalidDeployRequest("essential flag is not supported for workload type")))
        }
        return .success(Admitted(request: request, namespace: namespace, name: name, type: type, claims: claims,
                                 hashClaim: hashClaim, environment: environment, bucket: location.host, key: key))
    }

    private func checkTriggerSubjects(_ subjects: [String]) -> DeployRefusal? {
        let denied = configuration.denyTriggerSubjects.compactMap(SubjectPattern.init)
        for subject in subjects {
            guard let pattern = SubjectPattern(subject) else {
                return DeployRefusal(NexFailure.invalidDeployRequest("trigger subject \"\(subject)\" is not a valid subject"))
            }
            if denied.contains(where: { $0.collides(with: pattern) }) {
                return DeployRefusal(NexFailure.deniedTriggerSubject(subject))
            }
        }
        return nil
    }

    private func decryptEnvironment(_ request: DeployRequest) -> Result<[String: String], DeployRefusal> {
        guard let sealed = request.sealedEnvironment else {
            return .failure(.init(request.environment == nil ? "no environment in the request" : "environment is not base64"))
        }
        guard let sender = request.senderPublicKey, !sender.isEmpty else {
            return .failure(.init("no sender_public_key in the request"))
        }
        do {
            let plaintext = try xkey.open(sealed, from: sender)
            return .success(try NexJSON.decode([String: String].self, from: plaintext))
        } catch let error as XKeyError {
            return .failure(.init(error.message))
        } catch {
            return .failure(.init("the environment is not a JSON object of strings"))
        }
    }

    private func verify(_ request: DeployRequest) -> Result<(GenericClaims, WorkloadName, String), DeployRefusal> {
        guard let token = request.workloadJWT, !token.isEmpty else { return .failure(.init("no workload JWT")) }
        let claims: GenericClaims
        do {
            claims = try JWT.decodeGeneric(token)
        } catch {
            return .failure(.init(error.message))
        }
        guard let nameText = claims.nexWorkloadName, let name = WorkloadName(validating: nameText) else {
            return .failure(.init(NexFailure.invalidWorkloadName))
        }
        if let requested = request.workloadName, !requested.isEmpty, requested != nameText {
            return .failure(.init("workload name \(requested) does not match the JWT's \(nameText)"))
        }
        guard let hash = claims.nexHash, Self.isSHA256Hex(hash) else {
            return .failure(.init("the workload JWT has no sha256 hash claim"))
        }
        if let requestHash = request.hash, requestHash != hash { return .failure(.init(NexFailure.hashClaimMismatch)) }
        do {
            try claims.validate(at: now)
        } catch {
            return .failure(.init(NexFailure.claimsNotValid))
        }
        return .success((claims, name, hash))
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Why a deploy was refused: the text of the failure envelope.
struct DeployRefusal: Error, Sendable, Equatable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The checks of a stop request against the workload it names (spec §2.5, bound as 0.x was not):
/// the token's `sub` must be the workload ID, its issuer the deploy issuer, and it must not be the
/// deploy token; expired or not-yet-valid tokens are refused.
struct StopAuthorization: Sendable {
    var now: Date

    func authorize(_ request: StopRequest, deployClaims: GenericClaims, workloadID: WorkloadID) -> Result<GenericClaims, DeployRefusal> {
        let claims: GenericClaims
        do {
            claims = try JWT.decodeGeneric(request.workloadJWT)
        } catch {
            return .failure(.init("Invalid stop request: \(error.message)"))
        }
        if claims.id == deployClaims.id { return .failure(.init(NexFailure.clonedStopClaims)) }
        if claims.issuer != deployClaims.issuer { return .failure(.init(NexFailure.stopByOtherIssuer)) }
        if claims.subject != workloadID.rawValue {
            return .failure(.init("Invalid stop request: the stop token is for workload \(claims.subject), not \(workloadID)"))
        }
        do {
            try claims.validate(at: now)
        } catch {
            return .failure(.init("Invalid stop request: \(NexFailure.claimsNotValid)"))
        }
        return .success(claims)
    }
}
