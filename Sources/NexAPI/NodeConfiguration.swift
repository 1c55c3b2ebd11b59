import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NKeys

/// The node configuration file (`config.json`, spec §7): every 0.x field with its JSON key and default.
///
/// Loading follows 0.x: the file is decoded **over** the defaults, so absent members keep them, maps
/// (``tags``) merge and arrays are replaced (``load(from:over:)``); then ``normalized()`` applies the
/// post-processing of §7.1. ``problems(hostOS:fileExists:)`` returns every problem at once.
/// Nothing here reads the environment: environment-derived defaults come from ``defaults(for:)``.
public struct NodeConfiguration: Hashable, Sendable, Codable {
    /// `agent_handshake_timeout_ms`: how long the node waits for an agent's handshake.
    public var agentHandshakeTimeoutMilliseconds = 25_000
    /// `agent_ping_timeout_ms`: per-ping timeout (pings every 5 s).
    public var agentPingTimeoutMilliseconds = 750
    /// `agent_plugin_path`: enables workload provider plugins.
    public var agentPluginPath: String? = nil
    /// `allow_duplicate_workloads`: `nil` until ``normalized()`` sets `!noSandbox`.
    public var allowDuplicateWorkloads: Bool? = nil
    /// `autostart`: workloads deployed when the node starts.
    public var autostart: Autostart? = nil
    /// `bin_path`: where `nex-agent` (and 0.x's firecracker) are looked up.
    public var binPath: [String] = []
    /// `cni`: network settings of the sandbox.
    public var cni = CNI()
    /// `default_resource_dir`: base for the `vmlinux` and `rootfs.ext4` defaults.
    public var defaultResourceDirectory = ""
    /// `deny_trigger_subjects`: trigger subjects may not overlap these (``normalized()`` adds `$SYS.>`, `$JS.>`, `$NEX.>`).
    public var denyTriggerSubjects: [String] = []
    /// `host_services_config`.
    public var hostServices = HostServices()
    /// `internal_node_debug`, `internal_node_trace`: internal nats-server logging.
    public var internalNodeDebug = false
    public var internalNodeTrace = false
    /// `internal_node_host`: the internal NATS address as the sandboxed agent sees it.
    public var internalNodeHost: String? = "192.168.127.1"
    /// `internal_node_port`: ignored by 0.x (a random port is used); kept for compatibility.
    public var internalNodePort: Int? = 9222
    /// `internal_node_store_dir`: JetStream store of the internal server.
    public var internalNodeStoreDirectory: String? = nil
    /// `kernel_filepath` (0.x Firecracker).
    public var kernelFilePath = ""
    /// `machine_pool_size`: warm idle agents; at least 1.
    public var machinePoolSize = 1
    /// `machine_template`: resources per sandboxed agent.
    public var machineTemplate = MachineTemplate()
    /// `node_limits`: 0 means unlimited.
    public var nodeLimits = NodeLimits()
    /// `no_sandbox`: run agents as plain child processes.
    public var noSandbox = false
    /// `otlp_exporter_url`.
    public var otlpExporterURL = "127.0.0.1:14532"
    /// `otel_metrics`, `otel_metrics_port`, `otel_metrics_exporter`, `otel_traces`, `otel_traces_exporter`
    /// (0.x overwrites these from `node up` flags; the defaults are those flags' defaults).
    public var otelMetrics = false
    public var otelMetricsPort = 8085
    public var otelMetricsExporter = "file"
    public var otelTraces = false
    public var otelTracesExporter = "file"
    /// `pid_filepath`.
    public var pidFilePath: String? = nil
    /// `preserve_network`: skip the CNI reset at start.
    public var preserveNetwork = false
    /// `public_nats_server`: nats-server options for an embedded "userland" server.
    public var publicNATSServer: JSONValue? = nil
    /// `rate_limiters`: parsed, never applied by 0.x.
    public var rateLimiters: RateLimiters? = nil
    /// `rootfs_filepath` (0.x Firecracker).
    public var rootfsFilePath = ""
    /// `tags`: node tags (default `node_name`).
    public var tags: [String: String] = [:]
    /// `valid_issuers`: allowed workload JWT issuers; empty allows all.
    public var validIssuers: [String] = []
    /// `workload_types`: types this node runs (and bids for).
    public var workloadTypes: [WorkloadType] = [.native]

    /// The defaults that do not depend on the machine (empty paths, no `node_name` tag).
    public init() {}

    /// What the environment-derived defaults come from (read by the executable, not by this library).
    public struct Environment: Sendable {
        public var homeDirectory: String
        /// `$PATH` entries.
        public var path: [String]
        public var temporaryDirectory: String
        /// A generated node name (0.x: `fname`, e.g. `noble-headquarters`).
        public var nodeName: String

        public init(homeDirectory: String, path: [String], temporaryDirectory: String, nodeName: String) {
            self.homeDirectory = homeDirectory
            self.path = path
            self.temporaryDirectory = temporaryDirectory
            self.nodeName = nodeName
        }
    }

    /// 0.x `DefaultNodeConfiguration()`: `bin_path` = `~/.nex/bin` + `$PATH`, `cni.bin_path` = `$PATH`,
    /// store and pid file under the temporary directory, tag `node_name`.
    public static func defaults(for environment: Environment) -> NodeConfiguration {
        var configuration = NodeConfiguration()
        configuration.binPath = [Self.join(environment.homeDirectory, ".nex/bin")] + environment.path
        configuration.cni.binPath = environment.path
        configuration.internalNodeStoreDirectory = Self.join(environment.temporaryDirectory, "pnats")
        configuration.pidFilePath = Self.join(environment.temporaryDirectory, "nex.pid")
        configuration.tags = ["node_name": environment.nodeName]
        return configuration
    }

    /// Decodes a configuration file over `defaults` (absent members keep them; `tags` merge).
    public static func load(from bytes: some Collection<UInt8>, over defaults: NodeConfiguration = NodeConfiguration()) throws(NexAPIError) -> NodeConfiguration {
        do {
            return try NexJSON.decode(NodeConfiguration.self, from: bytes, userInfo: [baseKey: defaults])
        } catch {
            throw NexAPIError(code: .invalidJSON, message: "invalid node configuration: \(error.message)")
        }
    }

    /// The subjects every node denies as triggers.
    public static let alwaysDeniedTriggerSubjects = ["$SYS.>", "$JS.>", "$NEX.>"]

    /// §7.1 post-processing: `allow_duplicate_workloads` defaults to `!no_sandbox`, empty
    /// `workload_types` become `["native"]`, empty kernel/rootfs paths derive from
    /// `default_resource_dir`, and the always-denied trigger subjects are added.
    public func normalized() -> NodeConfiguration {
        var configuration = self
        if configuration.allowDuplicateWorkloads == nil {
            configuration.allowDuplicateWorkloads = !configuration.noSandbox
        }
        if configuration.workloadTypes.isEmpty {
            configuration.workloadTypes = [.native]
        }
        if configuration.kernelFilePath.isEmpty, !configuration.defaultResourceDirectory.isEmpty {
            configuration.kernelFilePath = Self.join(configuration.defaultResourceDirectory, "vmlinux")
        }
        if configuration.rootfsFilePath.isEmpty, !configuration.defaultResourceDirectory.isEmpty {
            configuration.rootfsFilePath = Self.join(configuration.defaultResourceDirectory, "rootfs.ext4")
        }
        for subject in Self.alwaysDeniedTriggerSubjects where !configuration.denyTriggerSubjects.contains(subject) {
            configuration.denyTriggerSubjects.append(subject)
        }
        return configuration
    }

    /// Every problem with this configuration, in field order; empty when it is usable.
    ///
    /// 0.x texts are kept where 0.x has them. Deliberate differences: kernel and rootfs files are
    /// checked only when set (our sandbox is not Firecracker, so they are not required), and the
    /// checks 0.x lacked are added (timeouts, limits, issuers, trigger deny list, autostart entries).
    /// - Parameters:
    ///   - hostOS: `linux`, `darwin`, … (0.x requires no_sandbox everywhere but Linux).
    ///   - fileExists: how to check the configured files (a parameter so tests need no files).
    public func problems(hostOS: String, fileExists: (String) -> Bool) -> [String] {
        var problems: [String] = []
        if agentHandshakeTimeoutMilliseconds <= 0 { problems.append("agent_handshake_timeout_ms must be > 0") }
        if agentPingTimeoutMilliseconds <= 0 { problems.append("agent_ping_timeout_ms must be > 0") }
        if allowDuplicateWorkloads == nil { problems.append("allow_duplicate_workloads is required") }
        if let autostart {
            for (index, workload) in autostart.workloads.enumerated() {
                problems += workload.problems(supportedTypes: workloadTypes).map { "autostart.workloads[\(index)]: \($0)" }
            }
        }
        for subject in denyTriggerSubjects where !Self.isValidSubject(subject) {
            problems.append("deny_trigger_subjects: \"\(subject)\" is not a valid subject")
        }
        if machinePoolSize < 1 { problems.append("machine pool size must be >= 1") }
        if nodeLimits.maxWorkloads < 0 { problems.append("node_limits.max_workloads must be >= 0") }
        if nodeLimits.maxWorkloadBytes < 0 { problems.append("node_limits.max_workload_bytes must be >= 0") }
        if nodeLimits.maxTotalBytes < 0 { problems.append("node_limits.max_total_bytes must be >= 0") }
        if hostOS != "linux" && !noSandbox { problems.append("host must be configured to run in no sandbox mode") }
        if !noSandbox {
            if !kernelFilePath.isEmpty, !fileExists(kernelFilePath) { problems.append("kernel file \(kernelFilePath) does not exist") }
            if !rootfsFilePath.isEmpty, !fileExists(rootfsFilePath) { problems.append("rootfs file \(rootfsFilePath) does not exist") }
            if machineTemplate.vcpuCount < 1 { problems.append("machine_template.vcpu_count must be >= 1") }
            if machineTemplate.memSizeMiB < 1 { problems.append("machine_template.memsize_mib must be >= 1") }
            let subnet = IPPrefix(cni.subnet)
            if subnet == nil { problems.append("cni.subnet \"\(cni.subnet)\" is not a valid CIDR prefix") }
            let host = internalNodeHost.flatMap(IPPrefix.address)
            if host == nil { problems.append("internal_node_host \"\(internalNodeHost ?? "")\" is not a valid IP address") }
            if let subnet, let host, !subnet.contains(host) { problems.append("internal node host must be in the CNI subnet") }
        }
        for key in tags.keys.sorted() where key.isEmpty { problems.append("tags: empty tag name") }
        for issuer in validIssuers where !KeyPair.isValidPublicKey(issuer) || KeyPair.role(ofPublicKey: issuer) == .curve {
            problems.append("valid_issuers: \"\(issuer)\" is not a public nkey")
        }
        for type in workloadTypes where !SubjectToken.isValid(type.rawValue) {
            problems.append("workload_types: \"\(type.rawValue)\" is not a valid workload type")
        }
        return problems
    }

    /// Throws one ``NexAPIError`` listing every problem (0.x: `invalid node config; [...]`).
    public func validate(hostOS: String, fileExists: (String) -> Bool) throws(NexAPIError) {
        let problems = problems(hostOS: hostOS, fileExists: fileExists)
        guard problems.isEmpty else {
            throw NexAPIError(code: .invalidConfiguration, message: "invalid node config; [\(problems.joined(separator: "; "))]")
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// A publishable subject or subscription pattern: non-empty tokens, `>` only last.
    static func isValidSubject(_ subject: String) -> Bool {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            if token == "*" { continue }
            if token == ">" { if index == tokens.count - 1 { continue } else { return false } }
            if !SubjectToken.isValid(token) { return false }
        }
        return !tokens.isEmpty
    }
}

// MARK: Nested sections

extension NodeConfiguration {
    /// `cni`.
    public struct CNI: Hashable, Sendable, Codable {
        /// `bin_path`: CNI plugin directories.
        public var binPath: [String] = []
        /// `interface_name`.
        public var interfaceName = "veth0"
        /// `network_name`.
        public var networkName = "fcnet"
        /// `subnet`: must parse as a CIDR prefix when sandboxed.
        public var subnet = "192.168.127.0/24"
        /// `nameservers`.
        public var nameservers: [String] = []

        public init() {}
    }

    /// `machine_template`.
    public struct MachineTemplate: Hashable, Sendable, Codable {
        /// `vcpu_count`.
        public var vcpuCount = 1
        /// `memsize_mib`.
        public var memSizeMiB = 256

        public init() {}
    }

    /// `node_limits` (0 = unlimited).
    public struct NodeLimits: Hashable, Sendable, Codable {
        /// `max_workloads`.
        public var maxWorkloads = 0
        /// `max_workload_bytes`: per artifact.
        public var maxWorkloadBytes: Int64 = 0
        /// `max_total_bytes`: sum over live workloads.
        public var maxTotalBytes: Int64 = 0

        public init() {}
    }

    /// `host_services_config`.
    public struct HostServices: Hashable, Sendable, Codable {
        /// `nats`: the host-services connection (empty strings = use the control connection's server).
        public var nats = NATSJWTConnectionInfo(natsURL: "", natsUserJWT: "", natsUserSeed: "")
        /// `services`: per built-in service (`http`, `kv`, `messaging`, `objectstore`), all enabled by default.
        public var services: [String: Service] = [
            "http": Service(), "kv": Service(), "messaging": Service(), "objectstore": Service(),
        ]

        public init() {}

        /// `services.<name>`.
        public struct Service: Hashable, Sendable, Codable {
            /// `enabled`.
            public var enabled = true
            /// `config`: passed raw to the service.
            public var config: JSONValue? = nil

            public init(enabled: Bool = true, config: JSONValue? = nil) {
                self.enabled = enabled
                self.config = config
            }
        }
    }

    /// `rate_limiters` (0.x parses these and never applies them).
    public struct RateLimiters: Hashable, Sendable, Codable {
        public var bandwidth: TokenBucket?
        public var iops: TokenBucket?

        public init(bandwidth: TokenBucket? = nil, iops: TokenBucket? = nil) {
            self.bandwidth = bandwidth
            self.iops = iops
        }

        /// Firecracker's token bucket: `one_time_burst`?, `refill_time` (ms), `size`.
        public struct TokenBucket: Hashable, Sendable, Codable {
            public var oneTimeBurst: Int64?
            public var refillTime: Int64
            public var size: Int64

            public init(oneTimeBurst: Int64? = nil, refillTime: Int64, size: Int64) {
                self.oneTimeBurst = oneTimeBurst
                self.refillTime = refillTime
                self.size = size
            }
        }
    }

    /// `autostart`.
    public struct Autostart: Hashable, Sendable, Codable {
        /// `workloads`.
        public var workloads: [Workload]

        public init(workloads: [Workload]) { self.workloads = workloads }

        /// `AutostartDeployRequest` (§7.5); `location` is a URL **string** here, not Go's URL object.
        public struct Workload: Hashable, Sendable, Codable {
            public var name: String
            public var namespace: String
            public var argv: [String]
            public var description: String?
            public var essential: Bool?
            public var workloadType: WorkloadType
            public var location: String
            public var jsDomain: String?
            /// Plaintext environment.
            public var environment: [String: String]
            public var triggerSubjects: [String]

            public init(name: String, namespace: String, argv: [String] = [], description: String? = nil, essential: Bool? = nil,
                        workloadType: WorkloadType, location: String, jsDomain: String? = nil, environment: [String: String] = [:],
                        triggerSubjects: [String] = []) {
                self.name = name
                self.namespace = namespace
                self.argv = argv
                self.description = description
                self.essential = essential
                self.workloadType = workloadType
                self.location = location
                self.jsDomain = jsDomain
                self.environment = environment
                self.triggerSubjects = triggerSubjects
            }

            func problems(supportedTypes: [WorkloadType]) -> [String] {
                var problems: [String] = []
                if !WorkloadName.isValid(name) { problems.append("\(WorkloadName.invalidNameMessage) \"\(name)\"") }
                if Namespace(validating: namespace) == nil { problems.append("invalid namespace \"\(namespace)\"") }
                if (try? ArtifactLocation(string: location)) == nil { problems.append("invalid location \"\(location)\"") }
                if !supportedTypes.map(\.canonical).contains(workloadType.canonical) {
                    problems.append("workload type \(workloadType) is not in workload_types")
                }
                if !triggerSubjects.isEmpty && !workloadType.isFunction {
                    problems.append("trigger subjects are only allowed for v8 and wasm workloads")
                }
                for subject in triggerSubjects where !NodeConfiguration.isValidSubject(subject) {
                    problems.append("invalid trigger subject \"\(subject)\"")
                }
                return problems
            }
        }
    }
}

// MARK: IP prefixes (netip.ParsePrefix / ParseAddr equivalents)

/// An IPv4 or IPv6 prefix such as `192.168.127.0/24`.
struct IPPrefix: Hashable {
    let address: [UInt8]
    let bits: Int

    init?(_ text: String) {
        guard let slash = text.lastIndex(of: "/"), let bits = Int(text[text.index(after: slash)...]),
              let address = Self.address(String(text[..<slash])), bits >= 0, bits <= address.count * 8
        else { return nil }
        self.address = address
        self.bits = bits
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address, or `nil`.
    static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    func contains(_ other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        var remaining = bits
        for (a, b) in zip(address, other) where remaining > 0 {
            let take = min(remaining, 8)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if a & mask != b & mask { return false }
            remaining -= take
        }
        return true
    }
}
