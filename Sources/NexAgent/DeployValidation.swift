import NexAPI

/// The checks every deploy request passes before any runtime sees it (0.x `AgentWorkloadInfo.Validate`,
/// plus the artifact name, which 0.x did not have: the node names a file in the agent's directory).
enum DeployValidation {
    /// Every problem of `request`, in a stable order; empty when it is valid.
    static func problems(in request: AgentDeployRequest) -> [String] {
        var problems: [String] = []
        if request.workloadID.isEmpty { problems.append("workload id is required") }
        if request.namespace.isEmpty { problems.append("namespace is required") }
        if request.workloadName.isEmpty { problems.append("workload name is required") }
        if request.hash.isEmpty { problems.append("hash is required") }
        if request.totalBytes <= 0 { problems.append("total bytes must be greater than zero") }
        let type = request.workloadType.canonical
        if type.rawValue.isEmpty { problems.append("workload type is required") }
        if request.essential && type != .native && type != .oci {
            problems.append("essential flag is not supported for workload type")
        }
        if type.isFunction && request.triggerSubjects.isEmpty {
            problems.append("at least one trigger subject is required for function workloads")
        }
        if let problem = artifactNameProblem(request.artifact) { problems.append(problem) }
        return problems
    }

    /// The artifact is a plain file name inside the agent's directory: no path, no way out of it.
    static func artifactNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "artifact name is required" }
        if name.contains("/") || name.contains("..") || name.utf8.contains(0) {
            return "artifact name \"\(name)\" must be a plain file name (no '/', '..' or NUL)"
        }
        if name == "." { return "artifact name \".\" is not a file" }
        return nil
    }
}
