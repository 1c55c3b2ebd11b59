import Foundation

/// The exact failure texts of the 0.x control interface (spec §2.4–2.5), for error envelopes.
/// Clients and tests match on these strings, so they live in the contract, not in the node.
public enum NexFailure {
    // Deploy (§2.4), in the order the node checks them.
    public static let invalidDeploySubject = "Invalid subject for workload deployment"
    public static let lameDuckDeployDenied = "Node is in lame duck mode. Workload deploy request denied"
    public static let maximumWorkloadsReached = "Node is at maximum workload limit. Deploy request denied"
    public static func undecodableDeployRequest(_ reason: String) -> String { "Unable to deserialize deploy request: \(reason)" }
    public static func unsupportedWorkloadType(_ type: WorkloadType) -> String { "Unsupported workload type on this node: \(type)" }
    public static func triggerSubjectsNotSupported(_ type: WorkloadType) -> String { "Unsupported workload type for trigger subject registration: \(type)" }
    public static func deniedTriggerSubject(_ subject: String) -> String { "The trigger subject \(subject) overlaps with subject(s) in this node's deny list" }
    public static func environmentDecryptionFailed(_ reason: String) -> String { "Failed to decrypt environment for deploy request: \(reason)" }
    public static func invalidDeployRequest(_ reason: String) -> String { "Invalid deploy request: \(reason)" }
    public static func invalidIssuer(_ issuer: String) -> String { "invalid workload issuer: \(issuer)" }
    public static func noPoolAgent(_ reason: String) -> String { "Failed to get agent client from pool: \(reason)" }
    public static func cachingFailed(_ reason: String) -> String { "Failed to cache workload bytes: \(reason)" }
    public static let workloadTooLarge = "Workload file size would exceed node limitations"
    public static let totalBytesExceeded = "Workload file size would exceed node total limitations"
    public static func deployFailed(_ reason: String) -> String { "Failed to deploy workload: \(reason)" }
    public static let duplicateWorkload = "attempted to deploy duplicate workload to node configured to reject duplicates"
    public static func rejectedByAgent(_ message: String) -> String { "workload rejected by agent: \(message)" }

    // Deploy request validation (§2.5), wrapped by `invalidDeployRequest`.
    public static let invalidWorkloadName = WorkloadName.invalidNameMessage
    public static let hashClaimMismatch = "artifact hash claim does not match request"
    public static let claimsNotValid = "standard claims within JWT are not valid"

    // Stop (§2.5).
    public static let clonedStopClaims = "stop claims appear to be cloned or captured from the original start claims. Rejecting for security reasons"
    public static let stopByOtherIssuer = "the only entity allowed to terminate a workload is the issuer that originally started it"
    /// Unknown workload and wrong namespace answer alike, so IDs cannot be probed.
    public static let noSuchWorkload = "No such workload"
}

extension DeployRequest {
    /// The sealed environment bytes (`xkv1` ‖ nonce ‖ box) from the base64 `environment` member;
    /// `nil` when absent or not standard base64.
    public var sealedEnvironment: [UInt8]? {
        get { environment.flatMap { Data(base64Encoded: $0) }.map { Array($0) } }
        set { environment = newValue.map { Data($0).base64EncodedString() } }
    }
}
