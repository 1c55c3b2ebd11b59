import Foundation
import NexAPI
import NKeys

/// Builds signed, encrypted deploy requests as 0.x `nex run`/`devrun` does (spec §2.4–2.6, §8.4), and
/// the matching stop requests.
///
/// A deploy request carries a workload JWT signed by the issuer (an account key in 0.x: `sub` = the
/// request ID, `nats.name` = the workload name, `nats.hash` = the artifact's sha256 hex) and the
/// environment sealed to the target node's xkey, which the node opens with `sender_public_key`.
/// The request's own `hash` member stays `null`, as the 0.x CLI sends it.
public struct DeployRequestBuilder: Sendable {
    /// The text 0.x `nex run` refuses a v8 workload without trigger subjects with.
    public static let missingTriggerSubjectMessage = "cannot start a function-type workload without specifying at least one trigger subject"

    public var workloadName: WorkloadName
    public var workloadType: WorkloadType
    /// Where the node fetches the artifact (`nats://BUCKET/key`).
    public var location: ArtifactLocation
    /// The artifact's sha256 in lower-case hex, signed into the JWT's `nats.hash`.
    public var hash: String
    public var argv: [String]
    public var description: String?
    /// Plain environment; only its sealed form goes on the wire.
    public var environment: [String: String]
    /// Restart the workload when it exits with a non-zero code.
    public var essential: Bool?
    /// Subjects that trigger a function (v8 and wasm only).
    public var triggerSubjects: [String]
    /// JetStream domain of the artifact's object store.
    public var jsDomain: String?
    public var hostServicesConfig: NATSJWTConnectionInfo?

    public init(workloadName: WorkloadName, workloadType: WorkloadType, location: ArtifactLocation, hash: String,
                argv: [String] = [], description: String? = nil, environment: [String: String] = [:], essential: Bool? = nil,
                triggerSubjects: [String] = [], jsDomain: String? = nil, hostServicesConfig: NATSJWTConnectionInfo? = nil) {
        self.workloadName = workloadName
        self.workloadType = workloadType
        self.location = location
        self.hash = hash
        self.argv = argv
        self.description = description
        self.environment = environment
        self.essential = essential
        self.triggerSubjects = triggerSubjects
        self.jsDomain = jsDomain
        self.hostServicesConfig = hostServicesConfig
    }

    /// The deploy request for `node`, whose current xkey is `nodeXKey` (`target_xkey` of a ping or
    /// auction reply, `public_xkey` of info).
    ///
    /// - Parameters:
    ///   - issuer: signs the workload JWT; only this key may stop the workload later.
    ///   - senderXKey: seals the environment; its public key travels as `sender_public_key`.
    ///   - requestID: the request's UUID (`id`, and the JWT's `sub`).
    ///   - issuedAt: the JWT's `iat`. A stop JWT with the same `iat` (second) is refused by the node.
    public func build(for node: NodeID, nodeXKey: String, issuer: KeyPair, senderXKey: CurveKeyPair,
                      requestID: String = UUID().uuidString.lowercased(), issuedAt: Date = Date()) throws(NexClientError) -> DeployRequest {
        if workloadType == .v8 && triggerSubjects.isEmpty {
            throw NexClientError(code: .invalidRequest, message: Self.missingTriggerSubjectMessage)
        }
        let sealedEnvironment: String
        do {
            sealedEnvironment = try senderXKey.sealBase64(try NexJSON.encode(environment), to: nodeXKey)
        } catch let error as XKeyError {
            throw NexClientError(code: .invalidRequest, message: "cannot seal the environment to \(nodeXKey): \(error.message)")
        } catch {
            throw NexClientError(code: .invalidRequest, message: "cannot encode the environment: \(error)")
        }
        let token: String
        do {
            let claims = GenericClaims.nexWorkload(requestID: requestID, workloadName: workloadName.rawValue, hash: hash)
            token = try JWT.encode(generic: claims, signer: issuer, issuedAt: issuedAt)
        } catch {
            throw NexClientError(code: .invalidRequest, message: "cannot sign the workload JWT: \(error.message)")
        }
        return DeployRequest(argv: argv, description: description, hash: nil, location: location, essential: essential,
                             environment: sealedEnvironment, id: requestID, jsDomain: jsDomain,
                             senderPublicKey: senderXKey.publicKey, targetNode: node.rawValue, triggerSubjects: triggerSubjects,
                             hostServicesConfig: hostServicesConfig, workloadName: workloadName.rawValue, workloadJWT: token,
                             workloadType: workloadType)
    }

    /// The deploy request for the node that sent `target` (a ping or auction reply), sealed to its xkey.
    public func build(for target: PingResponse, issuer: KeyPair, senderXKey: CurveKeyPair,
                      requestID: String = UUID().uuidString.lowercased(), issuedAt: Date = Date()) throws(NexClientError) -> DeployRequest {
        guard let node = NodeID(validating: target.nodeID) else {
            throw NexClientError(code: .invalidRequest, message: "\"\(target.nodeID)\" is not a node ID")
        }
        return try build(for: node, nodeXKey: target.targetXKey, issuer: issuer, senderXKey: senderXKey,
                         requestID: requestID, issuedAt: issuedAt)
    }

    /// A stop request for `workloadID` on `node`, with a stop JWT (`sub` = the workload ID) signed by
    /// `issuer`, which must be the key that deployed it.
    ///
    /// The node refuses a stop JWT issued in the same second as the deploy JWT (anti-replay), so
    /// `issuedAt` must lie in a later second than the deploy's.
    public static func stopRequest(workloadID: WorkloadID, on node: NodeID, issuer: KeyPair,
                                   issuedAt: Date = Date()) throws(NexClientError) -> StopRequest {
        let token: String
        do {
            token = try JWT.encode(generic: .nexStop(workloadID: workloadID.rawValue), signer: issuer, issuedAt: issuedAt)
        } catch {
            throw NexClientError(code: .invalidRequest, message: "cannot sign the stop JWT: \(error.message)")
        }
        return StopRequest(nodeID: node.rawValue, workloadID: workloadID.rawValue, workloadJWT: token)
    }

    /// The lower-case hex sha256 of an object store digest `SHA-256=<base64url>` (0.x `SanitizeNATSDigest`),
    /// which is what `nex run` signs as the hash claim; `nil` for anything else.
    public static func hash(fromObjectStoreDigest digest: String) -> String? {
        let prefix = "SHA-256="
        guard digest.hasPrefix(prefix) else { return nil }
        var text = String(digest.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else { return nil }
        return bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
