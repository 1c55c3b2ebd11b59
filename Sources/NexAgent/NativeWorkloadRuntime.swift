import Foundation
import Logging
import NativeRuntime
import NexAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `native` (alias `elf`) services: an ELF executable in the agent's directory, started with only
/// the request's environment, its output forwarded line by line, restarted when `essential`.
struct NativeWorkloadRuntime: WorkloadRuntime {
    let logger: Logger

    func run(_ deployment: Deployment, session: WorkloadSession) async {
        let configuration: NativeProcessConfiguration
        do {
            // A sandbox has no shared libraries, unless the node mounted the host's in for dynamic services.
            try Self.checkArtifact(at: deployment.artifactPath, name: deployment.request.artifact,
                                   sandboxed: deployment.sandboxed && !deployment.allowsDynamicServices)
            configuration = NativeProcessConfiguration(
                executable: deployment.artifactPath, arguments: deployment.request.argv,
                environment: Self.environment(for: deployment.request), workingDirectory: deployment.directory,
                stopGracePeriod: deployment.stopGracePeriod
            )
        } catch {
            await session.reject(error.message)
            return
        }
        var logger = logger
        logger[metadataKey: "nex.workload.id"] = "\(deployment.request.workloadID)"
        if deployment.request.essential {
            await supervise(configuration, deployment: deployment, session: session, logger: logger)
        } else {
            await runOnce(configuration, deployment: deployment, session: session, logger: logger)
        }
    }

    // MARK: - Artifact and environment

    /// The artifact must be a regular file (not a link to one: the directory is shared with the node,
    /// and the name alone decides what runs), an ELF executable, and static in a sandbox, whose root
    /// file system has no shared libraries. It is made executable for the agent's user only.
    static func checkArtifact(at path: String, name: String, sandboxed: Bool) throws(NativeRuntimeError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "not found in the agent directory" : String(cString: strerror(errno))
            throw NativeRuntimeError(code: .invalidExecutable, message: "artifact \(name): \(reason)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw NativeRuntimeError(code: .invalidExecutable, message: "artifact \(name) is not a regular file")
        }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw NativeRuntimeError(code: .invalidExecutable, message: "artifact \(name) cannot be read")
        }
        let executable: ELFExecutable
        do {
            executable = try ELFExecutable(parsing: contents)
        } catch {
            throw NativeRuntimeError(code: error.code, message: "artifact \(name) is \(error.message)")
        }
        if sandboxed && executable.isDynamicallyLinked {
            throw NativeRuntimeError(code: .invalidExecutable, message: ELFExecutable.dynamicallyLinkedMessage)
        }
        guard chmod(path, 0o700) == 0 else {
            throw NativeRuntimeError(code: .systemCall, message: "cannot make artifact \(name) executable: \(String(cString: strerror(errno)))")
        }
    }

    /// Only the request's environment, keys uppercased (0.x: users pass `nats_url=…` and the service
    /// reads `NATS_URL`), plus the host services connection. Nothing is inherited, not even `PATH`.
    static func environment(for request: AgentDeployRequest) -> [String: String] {
        var environment: [String: String] = [:]
        // Sorted, so that two keys differing only in case resolve the same way every time.
        for (key, value) in request.environment.sorted(by: { $0.key < $1.key }) {
            environment[key.uppercased()] = value
        }
        environment["NEX_HOSTSERVICES_NATS_SERVER"] = request.hostServices?.natsURL ?? ""
        environment["NEX_HOSTSERVICES_NATS_USER_JWT"] = request.hostServices?.natsUserJWT ?? ""
        environment["NEX_HOSTSERVICES_NATS_USER_SEED"] = request.hostServices?.natsUserSeed ?? ""
        return environment
    }

    // MARK: - Running

    private func runOnce(_ configuration: NativeProcessConfiguration, deployment: Deployment, session: WorkloadSession,
                         logger: Logger) async {
        let process: NativeProcess
        do {
            process = try NativeProcess.start(configuration, logger: logger)
        } catch {
            await session.reject("cannot start workload \(session.workloadName): \(error.message)")
            return
        }
        let controls = WorkloadControls(stop: { _ = await process.stop() }, disableRestarts: {})
        guard await session.accept(processGroup: process.pid, controls: controls) else {
            let status = await process.stop()
            await session.ended(outcome: status.description, code: Int(status.reportedCode), message: "")
            return
        }
        await session.processStarted(processGroup: process.pid)
        for await line in process.output {
            await session.output(line)
        }
        let status = await process.wait()
        let code = Int(status.reportedCode)
        await session.ended(outcome: status.description, code: code,
                            message: "Exited workload: \(session.workloadName); status: \(code)")
    }

    private func supervise(_ configuration: NativeProcessConfiguration, deployment: Deployment, session: WorkloadSession,
                           logger: Logger) async {
        let agentPolicy = deployment.request.restartPolicy ?? deployment.defaultRestartPolicy
        let policy = RestartPolicy(maxRestarts: agentPolicy.maxRestarts,
                                   initialBackoff: .milliseconds(agentPolicy.initialBackoffMilliseconds),
                                   maxBackoff: .milliseconds(agentPolicy.maxBackoffMilliseconds))
        let supervisor = ServiceSupervisor(configuration: configuration, restartPolicy: policy, logger: logger)
        let controls = WorkloadControls(stop: { await supervisor.stop() }, disableRestarts: { supervisor.disableRestarts() })
        let name = session.workloadName

        await withDiscardingTaskGroup { group in
            group.addTask {
                await supervisor.run { line in await session.output(line) }
            }
            var answered = false
            // What the last run came to, for the next restart or final event.
            var lastCode = -1
            var lastOutcome = "not started"
            var lastMessage = "Workload \(name) failed to deploy"
            for await event in supervisor.events {
                switch event {
                case .started(let pid):
                    if !answered {
                        answered = true
                        guard await session.accept(processGroup: pid, controls: controls) else {
                            await supervisor.stop()
                            continue
                        }
                    }
                    await session.processStarted(processGroup: pid)
                case .startFailed(let error):
                    lastCode = -1
                    lastOutcome = "failed to start: \(error.message)"
                    lastMessage = "Workload \(name) failed to start: \(error.message)"
                    if !answered {
                        // The first start decides the deploy; restarting what never ran helps nobody.
                        answered = true
                        await session.reject("cannot start workload \(name): \(error.message)")
                        await supervisor.stop()
                    } else {
                        await session.log(.error, lastMessage)
                    }
                case .exited(let status):
                    lastCode = Int(status.reportedCode)
                    lastOutcome = status.description
                    lastMessage = "Exited workload: \(name); status: \(lastCode)"
                case .restarting(let attempt, let delay):
                    let reason = lastCode == -1 ? "failed to start" : "exited with status \(lastCode)"
                    await session.restarting(
                        code: lastCode,
                        message: "Workload \(name) \(reason); restart \(attempt) of \(policy.maxRestarts) in \(Self.milliseconds(delay)) ms"
                    )
                case .gaveUp:
                    await session.ended(outcome: lastOutcome, code: lastCode,
                                        message: "\(lastMessage); gave up after \(policy.maxRestarts) restarts")
                }
            }
            // A clean exit, restarts disabled by lame duck, or a stop: no-op if `.gaveUp` already ended it.
            await session.ended(outcome: lastOutcome, code: lastCode, message: lastMessage)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
