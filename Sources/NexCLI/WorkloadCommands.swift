import ArgumentParser
import Foundation
import NATS
import NexAPI
import NexClient
import NKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Options shared by `nex run` and `nex devrun`: what the deploy request carries besides the artifact.
public struct WorkloadOptions: ParsableArguments, Sendable {
    // Unconditional: the value usually starts with a dash (`--argv "--port 8080"`).
    @Option(parsing: .unconditional, help: "Arguments for the workload, separated by spaces.")
    public var argv: String?

    @Flag(help: "Restart the workload when it exits with a non-zero code.")
    public var essential = false

    @Option(name: .customLong("trigger_subject"), help: "Subject that triggers a function (v8, wasm); repeatable.")
    public var triggerSubjects: [String] = []

    @Option(help: "Description of the workload.")
    public var description: String?

    @Option(name: .customLong("hs_url"), help: "NATS URL for the workload's host services.")
    public var hostServicesURL: String?

    @Option(name: .customLong("hs_jwt"), help: "User JWT for the host services connection.")
    public var hostServicesJWT: String?

    @Option(name: .customLong("hs_seed"), help: "User seed for the host services connection.")
    public var hostServicesSeed: String?

    @Option(help: "JetStream domain of the object store (default: the context's).")
    public var jsdomain: String?

    @Option(name: .customLong("deploy-timeout"), help: "How long to wait for the node to accept the deploy (default 30s).")
    public var deployTimeout: RequestTimeout?

    public init() {}

    /// `--argv` split on spaces (0.x `strings.Split`, without its empty pieces).
    public var arguments: [String] {
        (argv ?? "").split(separator: " ").map(String.init)
    }

    /// The host services connection, when `--hs_url` is given.
    public func hostServices() throws(CLIError) -> NATSJWTConnectionInfo? {
        guard let url = hostServicesURL else {
            if hostServicesJWT != nil || hostServicesSeed != nil { throw CLIError("--hs_jwt and --hs_seed need --hs_url") }
            return nil
        }
        return NATSJWTConnectionInfo(natsURL: url, natsUserJWT: hostServicesJWT ?? "", natsUserSeed: hostServicesSeed ?? "")
    }

    /// `K=V` arguments as the workload environment.
    public static func parseEnvironment(_ arguments: [String]) throws(CLIError) -> [String: String] {
        var environment: [String: String] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw CLIError("environment variable \"\(argument)\" is not KEY=VALUE")
            }
            environment[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
        return environment
    }
}

/// The 0.x success line of `run` and `devrun`.
func acceptedLine(name: String, id: String, node: NodeID) -> String {
    "🚀 Workload '\(name)' accepted. You can now refer to this workload with ID: \(id) on node \(node)"
}

/// Writes one line to stderr, unbuffered.
func printError(_ line: String) {
    writeAll(line + "\n", to: STDERR_FILENO)
}

/// Writes `text` with as few `write(2)` calls as the kernel allows: a line written at once is not
/// interleaved with another task's line.
func writeAll(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { return }
        written += count
    }
}

/// Sends `request` to `node` with the (long) deploy timeout; a failure is the 0.x `⛔` line on stderr
/// and a non-zero exit.
func submitDeploy(_ request: DeployRequest, to node: NodeID, nex: NexClient, timeout: Duration) async throws -> RunResponse {
    let deployer = NexClient(client: nex.client, namespace: nex.namespace, timeout: timeout)
    do {
        return try await deployer.deploy(request, to: node)
    } catch {
        printError("⛔ Workload run request failed to submit: \(error.message)")
        throw ExitCode.failure
    }
}

func homeDirectory(_ environment: [String: String]) -> String {
    environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NodeUp.passwdHome() ?? "/"
}

/// `nex devrun <file> [K=V…]` (alias `yeet`): the developer loop — upload, pick a node, replace, deploy.
public struct DevRun: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "devrun", abstract: "Upload a workload file and run it on a node picked by auction (developer mode).",
        discussion: """
        The type comes from the file: ELF, Mach-O and PE executables are native services, .js files v8 \
        functions, .wasm files wasm functions (--type overrides). Issuer and publisher keys are created in \
        ~/.nex on first use. The file is uploaded to the object store NEXCLIFILES under its base name without \
        dots, which is also the workload name; a running workload of that name in the namespace is stopped \
        first (--no-stop keeps it).

        Examples:
          nex devrun ./echoservice NATS_URL=nats://127.0.0.1:4222
          nex devrun ./echofunction.js --trigger_subject echo.>
          nex devrun ./app --tag zone=eu --argv "--port 8080"
          nex devrun ./app --node NBZ...   (skip the auction)
        """,
        aliases: ["yeet"])

    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var workload: WorkloadOptions

    @Argument(help: "The workload file (executable, .js or .wasm).")
    public var file: String

    @Argument(help: "Environment variables for the workload, KEY=VALUE.")
    public var environment: [String] = []

    @Option(help: "Workload type (native, v8, wasm or a plugin's); default: detected from the file.")
    public var type: String?

    @Flag(inversion: .prefixedNo, help: "Stop running workloads of the same name in the namespace first.")
    public var stop = true

    @Option(name: .customLong("bucketmaxbytes"), help: "Size limit of the NEXCLIFILES bucket when it is created (default 100 MiB).")
    public var bucketMaxBytes: Int64 = ArtifactStore.defaultMaxBytes

    @Option(name: .customLong("tag"), help: "Auction constraint k=v on node tags; repeatable.")
    public var tags: [String] = []

    @Option(help: "Deploy to this node ID instead of holding an auction.")
    public var node: String?

    public init() {}

    public func run() async throws {
        let processEnvironment = processEnvironment()
        let home = homeDirectory(processEnvironment)
        let workloadEnvironment = try WorkloadOptions.parseEnvironment(environment)
        let hostServices = try workload.hostServices()
        let target = try node.map(parseNodeID)
        var constraints: [String: String] = [:]
        for (key, value) in try NodeUp.parseTags(tags) { constraints[key] = value }

        let header = try Self.readHeader(file)
        var kind = try type.map { WorkloadFileKind(type: WorkloadType($0)) } ?? WorkloadFileKind.detect(fileName: file, header: header)
        if type != nil, kind.type.canonical == .native, let detected = try? WorkloadFileKind.detect(fileName: file, header: header) {
            kind.os = detected.os
            kind.arch = detected.arch
        }
        let key = WorkloadFileKind.objectKey(forPath: file)
        let name: WorkloadName
        do {
            name = try WorkloadName(key)
        } catch {
            throw CLIError("cannot derive a workload name from \(file): \(error.message)")
        }
        if kind.type == .v8 && workload.triggerSubjects.isEmpty {
            throw CLIError(DeployRequestBuilder.missingTriggerSubjectMessage)
        }
        if ![.native, .elf, .v8, .wasm].contains(kind.type) {
            print("Warning: You've supplied a custom workload type (\(kind.type)). Target node must support this plugin")
        }

        let issuer = try KeyFiles.issuer(at: KeyFiles.issuerPath(home: home))
        print(KeyFiles.issuerMessage(issuer))
        let publisher = try KeyFiles.publisher(at: KeyFiles.publisherPath(home: home))
        print(KeyFiles.publisherMessage(publisher))
        fflush(nil)

        let resolved = try connection.resolve(environment: processEnvironment, readFile: readWholeFile)
        let domain = workload.jsdomain ?? resolved.jetStreamDomain
        let deployTimeout = workload.deployTimeout?.duration ?? .seconds(30)
        try await withNexClient(connection, node: target) { nex in
            // The node: named, or the auction's pick (random among bidders, as 0.x).
            let chosen: NodeID
            let xkey: String
            if let target {
                chosen = target
                xkey = try await nex.info(node: target).publicXKey
            } else {
                let bids = try await nex.auction(AuctionRequest(arch: kind.arch, os: kind.os, tags: constraints,
                                                                workloadTypes: [kind.type]))
                guard let bid = bids.randomElement(), let bidder = NodeID(validating: bid.nodeID) else {
                    throw CLIError("unable to locate candidate node - no nodes discovered")
                }
                chosen = bidder
                xkey = bid.targetXKey
            }

            let info = try await ArtifactStore.upload(path: file, key: key, maxBytes: bucketMaxBytes, client: nex.client,
                                                      domain: domain, timeout: max(nex.timeout, .seconds(10)))
            guard let hash = info.digest.flatMap(DeployRequestBuilder.hash(fromObjectStoreDigest:)) else {
                throw CLIError("the object store returned no usable digest for \(key)")
            }

            if stop {
                try await Self.stopExisting(name: name, nex: nex, issuer: issuer.key)
            }

            let builder = DeployRequestBuilder(
                workloadName: name, workloadType: kind.type, location: ArtifactLocation(bucket: ArtifactStore.devBucket, key: key),
                hash: hash, argv: workload.arguments, description: workload.description ?? "Workload published in devmode",
                environment: workloadEnvironment, essential: workload.essential ? true : nil,
                triggerSubjects: workload.triggerSubjects, jsDomain: domain, hostServicesConfig: hostServices)
            let request = try builder.build(for: chosen, nodeXKey: xkey, issuer: issuer.key, senderXKey: publisher.key)
            let response = try await submitDeploy(request, to: chosen, nex: nex, timeout: deployTimeout)
            print(acceptedLine(name: name.rawValue, id: response.id, node: chosen))
        }
    }

    /// Stops every workload called `name` in the namespace that answers a workload ping. Workloads the
    /// issuer did not start are refused by their node; that is reported and does not stop the deploy.
    static func stopExisting(name: WorkloadName, nex: NexClient, issuer: KeyPair) async throws {
        let found = try await nex.workloadPing(WorkloadReference(name))
        var stoppedAny = false
        for response in found {
            guard let node = NodeID(validating: response.nodeID) else { continue }
            for machine in response.runningMachines ?? [] where machine.name == name.rawValue && machine.namespace == nex.namespace.rawValue {
                guard let id = WorkloadID(validating: machine.id) else { continue }
                print("Workload \(name) (\(id)) already exists on the target. Attempting to stop it")
                do {
                    let reply = try await nex.stop(DeployRequestBuilder.stopRequest(workloadID: id, on: node, issuer: issuer), on: node)
                    if reply.stopped {
                        stoppedAny = true
                    } else {
                        printError("⛔ Workload \(id) on \(node) failed to stop")
                    }
                } catch {
                    printError("⛔ Could not stop workload \(id) on \(node): \(error.message)")
                }
            }
        }
        // 0.x waits a moment so the node has released the old workload's subjects and resources.
        if stoppedAny { try await Task.sleep(for: .milliseconds(500)) }
    }

    static func readHeader(_ path: String) throws(CLIError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(path) does not exist")
        }
        guard !isDirectory.boolValue else { throw CLIError("\(path) is not a workload: it is a directory") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot open \(path)") }
        defer { try? handle.close() }
        do {
            return Array(try handle.read(upToCount: WorkloadFileKind.headerLength) ?? Data())
        } catch {
            throw CLIError("cannot read \(path): \(error)")
        }
    }
}

/// `nex run <nats://BUCKET/key> <node> [K=V…]`: deploys an artifact already in an object store.
public struct Run: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a workload from an object store on a given node.",
        discussion: """
        The artifact's hash claim is taken from the object's digest. The issuer key signs the workload (only \
        it can stop it); the xkey seals the environment to the node.

        Examples:
          nex run nats://NEXCLIFILES/echoservice NBZ... --issuer ~/.nex/issuer.nk --xkey ~/.nex/publisher.xk --name echoservice
          nex run nats://funcs/echojs NBZ... --issuer issuer.nk --xkey pub.xk --name echojs --type v8 --trigger_subject echo
        """)

    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var workload: WorkloadOptions

    @Argument(help: "Artifact location, nats://BUCKET/key.")
    public var url: String

    @Argument(help: "Target node ID (N…).")
    public var nodeID: String

    @Argument(help: "Environment variables for the workload, KEY=VALUE.")
    public var environment: [String] = []

    @Option(help: "File with the issuer seed that signs the workload.")
    public var issuer: String

    @Option(help: "File with the curve (xkey) seed that seals the environment.")
    public var xkey: String

    @Option(help: "Workload name (letters, digits, _ and -).")
    public var name: String

    @Option(help: "Workload type: native, v8, wasm or a plugin's.")
    public var type: String = "native"

    public init() {}

    public func run() async throws {
        let node = try parseNodeID(nodeID)
        let location: ArtifactLocation
        do {
            location = try ArtifactLocation(string: url)
        } catch {
            throw CLIError(error.message)
        }
        let key = String(location.path.drop { $0 == "/" })
        guard location.scheme == "nats", !location.host.isEmpty, !key.isEmpty else {
            throw CLIError("\(url) is not a location of the form nats://BUCKET/key")
        }
        let workloadName: WorkloadName
        do {
            workloadName = try WorkloadName(name)
        } catch {
            throw CLIError(error.message)
        }
        let workloadType = WorkloadType(type)
        if workloadType == .v8 && workload.triggerSubjects.isEmpty {
            throw CLIError(DeployRequestBuilder.missingTriggerSubjectMessage)
        }
        let workloadEnvironment = try WorkloadOptions.parseEnvironment(environment)
        let hostServices = try workload.hostServices()
        let issuerKey = try KeyFiles.existingIssuer(at: issuer)
        let senderKey = try KeyFiles.existingXKey(at: xkey)
        let resolved = try connection.resolve(environment: processEnvironment(), readFile: readWholeFile)
        let domain = workload.jsdomain ?? resolved.jetStreamDomain
        let deployTimeout = workload.deployTimeout?.duration ?? .seconds(30)
        try await withNexClient(connection, node: node) { nex in
            let info = try await nex.info(node: node)
            let object = try await ArtifactStore.info(bucket: location.host, key: key, client: nex.client, domain: domain,
                                                      timeout: max(nex.timeout, .seconds(10)))
            guard let hash = object.digest.flatMap(DeployRequestBuilder.hash(fromObjectStoreDigest:)) else {
                throw CLIError("\(url) has no SHA-256 digest in the object store")
            }
            let builder = DeployRequestBuilder(
                workloadName: workloadName, workloadType: workloadType, location: location, hash: hash,
                argv: workload.arguments, description: workload.description, environment: workloadEnvironment,
                essential: workload.essential ? true : nil, triggerSubjects: workload.triggerSubjects, jsDomain: domain,
                hostServicesConfig: hostServices)
            let request = try builder.build(for: node, nodeXKey: info.publicXKey, issuer: issuerKey, senderXKey: senderKey)
            let response = try await submitDeploy(request, to: node, nex: nex, timeout: deployTimeout)
            print(acceptedLine(name: workloadName.rawValue, id: response.id, node: node))
        }
    }
}

/// `nex stop <node> <workload>` or `nex stop --name <name>`: undeploys workloads this issuer started.
public struct Stop: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop a running workload.",
        discussion: """
        Only the issuer that started a workload can stop it. With --name, every workload of that name in the \
        namespace is found by a workload ping and stopped.

        Examples:
          nex stop NBZ... 0b5c6f3e-... --issuer ~/.nex/issuer.nk
          nex stop --name echoservice
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Argument(help: "Node ID (N…) the workload runs on.")
    public var nodeID: String?

    @Argument(help: "Workload ID.")
    public var workloadID: String?

    @Option(help: "Stop the workloads with this name instead (found by workload ping).")
    public var name: String?

    @Option(help: "File with the issuer seed that started the workload (default ~/.nex/issuer.nk).")
    public var issuer: String?

    public init() {}

    public func validate() throws {
        switch (nodeID, workloadID, name) {
        case (.some, .some, nil), (nil, nil, .some): return
        default: throw ValidationError("give either <node-id> <workload-id>, or --name <name>")
        }
    }

    public func run() async throws {
        let issuerPath = issuer ?? KeyFiles.issuerPath(home: homeDirectory(processEnvironment()))
        let issuerKey = try KeyFiles.existingIssuer(at: issuerPath)
        var given: [(NodeID, WorkloadID)] = []
        if let nodeID, let workloadID {
            let node = try parseNodeID(nodeID)
            guard let id = WorkloadID(validating: workloadID) else { throw CLIError("\"\(workloadID)\" is not a workload ID") }
            given = [(node, id)]
        }
        let explicitTargets = given
        let failed = try await withNexClient(connection) { nex in
            var targets = explicitTargets
            if let name {
                guard let workloadName = WorkloadName(validating: name) else { throw CLIError("\"\(name)\" is not a workload name") }
                for response in try await nex.workloadPing(WorkloadReference(workloadName)) {
                    guard let node = NodeID(validating: response.nodeID) else { continue }
                    for machine in response.runningMachines ?? [] where machine.name == name && machine.namespace == nex.namespace.rawValue {
                        if let id = WorkloadID(validating: machine.id) { targets.append((node, id)) }
                    }
                }
                guard !targets.isEmpty else {
                    throw CLIError("No workload named \(name) is running in namespace \(nex.namespace)")
                }
            }
            var failed = false
            for (node, id) in targets {
                do {
                    let request = try DeployRequestBuilder.stopRequest(workloadID: id, on: node, issuer: issuerKey)
                    let response = try await nex.stop(request, on: node)
                    if response.stopped {
                        print("✅ Workload '\(id)' stopped.")
                    } else {
                        printError("⛔ Workload failed to stop")
                        failed = true
                    }
                } catch {
                    printError("⛔ Workload stop request failed: \((error as? NexClientError)?.message ?? "\(error)")")
                    failed = true
                }
            }
            return failed
        }
        if failed { throw ExitCode.failure }
    }
}
