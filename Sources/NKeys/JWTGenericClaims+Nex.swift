// The two generic-claims tokens of Nex 0.x (spec §2.5), as `control-api` builds them:
//   workload JWT: sub = deploy request ID, nats = {"hash": <artifact sha256 hex>, "name": <workload name>}
//   stop JWT:     sub = workload ID,       nats = {} (only the "version": 2 every v2 token gets)
// Checks that belong to the node (name pattern, hash against the artifact, stop-vs-deploy
// anti-replay) live with the node; these only build and read the fields.

extension GenericClaims {
    /// `nats` key of the artifact hash in a Nex workload JWT.
    public static let nexHashKey = "hash"
    /// `nats` key of the workload name in a Nex workload JWT.
    public static let nexWorkloadNameKey = "name"

    /// The claims of a Nex workload (deploy) JWT, as 0.x `CreateWorkloadJWT`.
    ///
    /// - Parameters:
    ///   - requestID: the deploy request's `id` (a UUID), which becomes `sub`.
    ///   - workloadName: the workload name (`nats.name`).
    ///   - hash: the artifact's sha256 in lower-case hex (`nats.hash`).
    public static func nexWorkload(requestID: String, workloadName: String, hash: String) -> GenericClaims {
        GenericClaims(subject: requestID, data: [nexHashKey: .string(hash), nexWorkloadNameKey: .string(workloadName)])
    }

    /// The claims of a Nex stop JWT for `workloadID` (`sub`), as 0.x `nex stop` builds it.
    public static func nexStop(workloadID: String) -> GenericClaims {
        GenericClaims(subject: workloadID)
    }

    /// `nats.hash` of a workload JWT, if present and a string.
    public var nexHash: String? { data[Self.nexHashKey]?.stringValue }

    /// `nats.name` of a workload JWT, if present and a string.
    public var nexWorkloadName: String? { data[Self.nexWorkloadNameKey]?.stringValue }
}
