import Foundation
import Logging
import NativeRuntime
import NexAPI

/// Starts `nex-agent` processes: a private directory each (0700; artifacts arrive there), credentials
/// that reach only the agent's own internal-NATS subjects, and an environment that says where the
/// node is (``AgentEnvironment``) and nothing else of the node's.
struct AgentLauncher: Sendable {
    /// Credentials on the internal NATS for one agent ID.
    typealias Credentials = @Sendable (_ agentID: String) throws -> (jwt: String, seed: String)
    /// Withdraws an agent's credentials once it is gone.
    typealias Revocation = @Sendable (_ agentID: String) async -> Void

    var executable: String
    var natsURL: String
    /// Agent directories are created under here.
    var directory: String
    var handshakeTimeout: Duration
    /// How long an agent gets to stop its workloads before it is killed.
    var stopGracePeriod: Duration
    var logLevel: Logger.Level
    var credentials: Credentials
    var revoke: Revocation

    struct Launched: Sendable {
        var id: String
        var process: NativeProcess
        var directory: String
    }

    func launch(agentID: String, logger: Logger) throws -> Launched {
        let agentDirectory = (directory as NSString).appendingPathComponent(agentID)
        do {
            try FileManager.default.createDirectory(atPath: agentDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw NexNodeError(code: .agent, message: "cannot create the agent directory \(agentDirectory): \(error)")
        }
        let (jwt, seed): (String, String)
        do {
            (jwt, seed) = try credentials(agentID)
        } catch {
            try? FileManager.default.removeItem(atPath: agentDirectory)
            throw NexNodeError(code: .agent, message: "cannot mint credentials for agent \(agentID): \(error)")
        }
        let environment = AgentEnvironment(
            agentID: agentID, natsURL: natsURL, userJWT: jwt, userSeed: seed, directory: agentDirectory, sandboxed: false,
            handshakeTimeoutMilliseconds: Int(handshakeTimeout.components.seconds * 1000
                + handshakeTimeout.components.attoseconds / 1_000_000_000_000_000))
        var variables = environment.variables
        variables["NEX_AGENT_LOG_LEVEL"] = logLevel.rawValue
        let configuration = NativeProcessConfiguration(
            executable: executable, arguments: [], environment: variables, workingDirectory: agentDirectory,
            stopGracePeriod: stopGracePeriod)
        do {
            let process = try NativeProcess.start(configuration, logger: logger)
            return Launched(id: agentID, process: process, directory: agentDirectory)
        } catch {
            try? FileManager.default.removeItem(atPath: agentDirectory)
            throw NexNodeError(code: .agent, message: "cannot start \(executable): \(error)")
        }
    }

    /// Where `nex-agent` is: beside the running executable (how it is installed and built), else on
    /// `PATH`; `nil` when neither has it.
    static func findExecutable(path: [String] = EmbeddedNATSServer.environmentPath()) -> String? {
        let name = "nex-agent"
        if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = ((own as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return path.lazy.map { ($0 as NSString).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
