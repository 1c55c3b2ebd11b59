import Foundation

// JSON for the node configuration. Decoding follows Go's "unmarshal over defaults": an absent member
// keeps the current value, `null` clears a pointer (Swift optional) and is a no-op elsewhere, nested
// objects merge member by member, and maps merge entry by entry (each entry replaced whole). Member
// order of the file is not part of any contract; encoding writes the §7.2 table order.

/// A value that can be decoded on top of an existing one, like Go's `json.Unmarshal` into a filled struct.
protocol GoOverlayDecodable: Decodable {
    init()
    mutating func overlay(from decoder: any Decoder) throws
}

extension GoOverlayDecodable {
    init(overlaying decoder: any Decoder) throws {
        self.init()
        try overlay(from: decoder)
    }
}

extension KeyedDecodingContainer {
    func overlay<T: Decodable>(_ value: inout T, _ key: Key) throws {
        if let decoded = try decodeIfPresent(T.self, forKey: key) { value = decoded }
    }

    func overlay<T: Decodable>(_ value: inout T?, _ key: Key) throws {
        if contains(key) { value = try decodeIfPresent(T.self, forKey: key) }
    }

    func overlayNested<T: GoOverlayDecodable>(_ value: inout T, _ key: Key) throws {
        if contains(key), try !decodeNil(forKey: key) { try value.overlay(from: superDecoder(forKey: key)) }
    }

    func overlayNested<T: GoOverlayDecodable>(_ value: inout T?, _ key: Key) throws {
        guard contains(key) else { return }
        if try decodeNil(forKey: key) { value = nil; return }
        var current = value ?? T()
        try current.overlay(from: superDecoder(forKey: key))
        value = current
    }

    func overlayMerging<V: Decodable>(_ value: inout [String: V], _ key: Key) throws {
        guard let decoded = try decodeIfPresent([String: V].self, forKey: key) else { return }
        value.merge(decoded) { _, new in new }
    }
}

extension CodingUserInfoKey {
    /// The configuration a file is decoded over (see ``NodeConfiguration/load(from:over:)``).
    static let nodeConfigurationBase = CodingUserInfoKey(rawValue: "nex.nodeConfigurationBase")!
}

extension NodeConfiguration: GoOverlayDecodable {
    static var baseKey: CodingUserInfoKey { .nodeConfigurationBase }

    private enum CodingKeys: String, CodingKey {
        case agentHandshakeTimeoutMilliseconds = "agent_handshake_timeout_ms", agentPingTimeoutMilliseconds = "agent_ping_timeout_ms"
        case agentPluginPath = "agent_plugin_path", allowDuplicateWorkloads = "allow_duplicate_workloads", autostart
        case binPath = "bin_path", cni, defaultResourceDirectory = "default_resource_dir", denyTriggerSubjects = "deny_trigger_subjects"
        case hostServices = "host_services_config", internalNodeDebug = "internal_node_debug", internalNodeTrace = "internal_node_trace"
        case internalNodeHost = "internal_node_host", internalNodePort = "internal_node_port", internalNodeStoreDirectory = "internal_node_store_dir"
        case kernelFilePath = "kernel_filepath", machinePoolSize = "machine_pool_size", machineTemplate = "machine_template"
        case nodeLimits = "node_limits", noSandbox = "no_sandbox", otlpExporterURL = "otlp_exporter_url", otelMetrics = "otel_metrics"
        case otelMetricsPort = "otel_metrics_port", otelMetricsExporter = "otel_metrics_exporter", otelTraces = "otel_traces"
        case otelTracesExporter = "otel_traces_exporter", pidFilePath = "pid_filepath", preserveNetwork = "preserve_network"
        case publicNATSServer = "public_nats_server", rateLimiters = "rate_limiters", rootfsFilePath = "rootfs_filepath", tags
        case validIssuers = "valid_issuers", workloadTypes = "workload_types"
    }

    public init(from decoder: any Decoder) throws {
        self = decoder.userInfo[.nodeConfigurationBase] as? NodeConfiguration ?? NodeConfiguration()
        try overlay(from: decoder)
    }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&agentHandshakeTimeoutMilliseconds, .agentHandshakeTimeoutMilliseconds)
        try c.overlay(&agentPingTimeoutMilliseconds, .agentPingTimeoutMilliseconds)
        try c.overlay(&agentPluginPath, .agentPluginPath)
        try c.overlay(&allowDuplicateWorkloads, .allowDuplicateWorkloads)
        try c.overlay(&autostart, .autostart)
        try c.overlay(&binPath, .binPath)
        try c.overlayNested(&cni, .cni)
        try c.overlay(&defaultResourceDirectory, .defaultResourceDirectory)
        try c.overlay(&denyTriggerSubjects, .denyTriggerSubjects)
        try c.overlayNested(&hostServices, .hostServices)
        try c.overlay(&internalNodeDebug, .internalNodeDebug)
        try c.overlay(&internalNodeTrace, .internalNodeTrace)
        try c.overlay(&internalNodeHost, .internalNodeHost)
        try c.overlay(&internalNodePort, .internalNodePort)
        try c.overlay(&internalNodeStoreDirectory, .internalNodeStoreDirectory)
        try c.overlay(&kernelFilePath, .kernelFilePath)
        try c.overlay(&machinePoolSize, .machinePoolSize)
        try c.overlayNested(&machineTemplate, .machineTemplate)
        try c.overlayNested(&nodeLimits, .nodeLimits)
        try c.overlay(&noSandbox, .noSandbox)
        try c.overlay(&otlpExporterURL, .otlpExporterURL)
        try c.overlay(&otelMetrics, .otelMetrics)
        try c.overlay(&otelMetricsPort, .otelMetricsPort)
        try c.overlay(&otelMetricsExporter, .otelMetricsExporter)
        try c.overlay(&otelTraces, .otelTraces)
        try c.overlay(&otelTracesExporter, .otelTracesExporter)
        try c.overlay(&pidFilePath, .pidFilePath)
        try c.overlay(&preserveNetwork, .preserveNetwork)
        if c.contains(.publicNATSServer) {
            let value = try c.decode(JSONValue.self, forKey: .publicNATSServer)
            publicNATSServer = value == .null ? nil : value
        }
        try c.overlayNested(&rateLimiters, .rateLimiters)
        try c.overlay(&rootfsFilePath, .rootfsFilePath)
        try c.overlayMerging(&tags, .tags)
        try c.overlay(&validIssuers, .validIssuers)
        try c.overlay(&workloadTypes, .workloadTypes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(agentHandshakeTimeoutMilliseconds, forKey: .agentHandshakeTimeoutMilliseconds)
        try c.encode(agentPingTimeoutMilliseconds, forKey: .agentPingTimeoutMilliseconds)
        try c.encodeOrNull(agentPluginPath, forKey: .agentPluginPath)
        try c.encodeOrNull(allowDuplicateWorkloads, forKey: .allowDuplicateWorkloads)
        try c.encodeOrNull(autostart, forKey: .autostart)
        try c.encode(binPath, forKey: .binPath)
        try c.encode(cni, forKey: .cni)
        try c.encode(defaultResourceDirectory, forKey: .defaultResourceDirectory)
        try c.encode(denyTriggerSubjects, forKey: .denyTriggerSubjects)
        try c.encode(hostServices, forKey: .hostServices)
        try c.encode(internalNodeDebug, forKey: .internalNodeDebug)
        try c.encode(internalNodeTrace, forKey: .internalNodeTrace)
        try c.encodeOrNull(internalNodeHost, forKey: .internalNodeHost)
        try c.encodeOrNull(internalNodePort, forKey: .internalNodePort)
        try c.encodeOrNull(internalNodeStoreDirectory, forKey: .internalNodeStoreDirectory)
        try c.encode(kernelFilePath, forKey: .kernelFilePath)
        try c.encode(machinePoolSize, forKey: .machinePoolSize)
        try c.encode(machineTemplate, forKey: .machineTemplate)
        try c.encode(nodeLimits, forKey: .nodeLimits)
        try c.encode(noSandbox, forKey: .noSandbox)
        try c.encode(otlpExporterURL, forKey: .otlpExporterURL)
        try c.encode(otelMetrics, forKey: .otelMetrics)
        try c.encode(otelMetricsPort, forKey: .otelMetricsPort)
        try c.encode(otelMetricsExporter, forKey: .otelMetricsExporter)
        try c.encode(otelTraces, forKey: .otelTraces)
        try c.encode(otelTracesExporter, forKey: .otelTracesExporter)
        try c.encodeOrNull(pidFilePath, forKey: .pidFilePath)
        try c.encode(preserveNetwork, forKey: .preserveNetwork)
        try c.encodeOrNull(publicNATSServer, forKey: .publicNATSServer)
        try c.encodeOrNull(rateLimiters, forKey: .rateLimiters)
        try c.encode(rootfsFilePath, forKey: .rootfsFilePath)
        try c.encode(tags, forKey: .tags)
        try c.encode(validIssuers, forKey: .validIssuers)
        try c.encode(workloadTypes, forKey: .workloadTypes)
    }
}

extension NodeConfiguration.CNI: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey {
        case binPath = "bin_path", interfaceName = "interface_name", networkName = "network_name", subnet, nameservers
    }

    public init(from decoder: any Decoder) throws { try self.init(overlaying: decoder) }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&binPath, .binPath)
        try c.overlay(&interfaceName, .interfaceName)
        try c.overlay(&networkName, .networkName)
        try c.overlay(&subnet, .subnet)
        try c.overlay(&nameservers, .nameservers)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(binPath, forKey: .binPath)
        try c.encode(interfaceName, forKey: .interfaceName)
        try c.encode(networkName, forKey: .networkName)
        try c.encode(subnet, forKey: .subnet)
        try c.encode(nameservers, forKey: .nameservers)
    }
}

extension NodeConfiguration.MachineTemplate: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey { case vcpuCount = "vcpu_count", memSizeMiB = "memsize_mib" }

    public init(from decoder: any Decoder) throws { try self.init(overlaying: decoder) }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&vcpuCount, .vcpuCount)
        try c.overlay(&memSizeMiB, .memSizeMiB)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vcpuCount, forKey: .vcpuCount)
        try c.encode(memSizeMiB, forKey: .memSizeMiB)
    }
}

extension NodeConfiguration.NodeLimits: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey {
        case maxWorkloads = "max_workloads", maxWorkloadBytes = "max_workload_bytes", maxTotalBytes = "max_total_bytes"
    }

    public init(from decoder: any Decoder) throws { try self.init(overlaying: decoder) }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&maxWorkloads, .maxWorkloads)
        try c.overlay(&maxWorkloadBytes, .maxWorkloadBytes)
        try c.overlay(&maxTotalBytes, .maxTotalBytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxWorkloads, forKey: .maxWorkloads)
        try c.encode(maxWorkloadBytes, forKey: .maxWorkloadBytes)
        try c.encode(maxTotalBytes, forKey: .maxTotalBytes)
    }
}

extension NodeConfiguration.HostServices: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey { case nats, services }

    public init(from decoder: any Decoder) throws { try self.init(overlaying: decoder) }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&nats, .nats)
        try c.overlayMerging(&services, .services)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nats, forKey: .nats)
        try c.encode(services, forKey: .services)
    }
}

extension NodeConfiguration.HostServices.Service: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey { case enabled, config }

    public init() { self.init(enabled: true, config: nil) }

    // A map entry is decoded from Go's zero value, not from the default: `{"config":{…}}` alone
    // leaves `enabled` false, exactly as 0.x would.
    public init(from decoder: any Decoder) throws {
        self.init(enabled: false, config: nil)
        try overlay(from: decoder)
    }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&enabled, .enabled)
        if c.contains(.config) {
            let value = try c.decode(JSONValue.self, forKey: .config)
            config = value == .null ? nil : value
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(enabled, forKey: .enabled)
        try c.encodeOrNull(config, forKey: .config)
    }
}

extension NodeConfiguration.RateLimiters: GoOverlayDecodable {
    private enum CodingKeys: String, CodingKey { case bandwidth, iops }

    public init() { self.init(bandwidth: nil, iops: nil) }

    public init(from decoder: any Decoder) throws { try self.init(overlaying: decoder) }

    mutating func overlay(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.overlay(&bandwidth, .bandwidth)
        try c.overlay(&iops, .iops)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOrNull(bandwidth, forKey: .bandwidth)
        try c.encodeOrNull(iops, forKey: .iops)
    }
}

extension NodeConfiguration.RateLimiters.TokenBucket {
    private enum CodingKeys: String, CodingKey { case oneTimeBurst = "one_time_burst", refillTime = "refill_time", size }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        oneTimeBurst = try c.decodeIfPresent(Int64.self, forKey: .oneTimeBurst)
        refillTime = try c.goDecode(.refillTime)
        size = try c.goDecode(.size)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeOmitNil(oneTimeBurst, forKey: .oneTimeBurst)
        try c.encode(refillTime, forKey: .refillTime)
        try c.encode(size, forKey: .size)
    }
}

extension NodeConfiguration.Autostart {
    private enum CodingKeys: String, CodingKey { case workloads }

    public init(from decoder: any Decoder) throws {
        workloads = try decoder.container(keyedBy: CodingKeys.self).goDecode(.workloads)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workloads, forKey: .workloads)
    }
}

extension NodeConfiguration.Autostart.Workload {
    private enum CodingKeys: String, CodingKey {
        case name, namespace, argv, description, essential, workloadType = "type", location, jsDomain = "jsdomain", environment
        case triggerSubjects = "trigger_subjects"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.goDecode(.name)
        namespace = try c.goDecode(.namespace)
        argv = try c.goDecode(.argv)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        essential = try c.decodeIfPresent(Bool.self, forKey: .essential)
        workloadType = WorkloadType(try c.goDecode(.workloadType) as String)
        location = try c.goDecode(.location)
        jsDomain = try c.decodeIfPresent(String.self, forKey: .jsDomain)
        environment = try c.goDecode(.environment)
        triggerSubjects = try c.goDecode(.triggerSubjects)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(namespace, forKey: .namespace)
        try c.encodeOmitEmpty(argv, forKey: .argv)
        try c.encodeOmitNil(description, forKey: .description)
        try c.encodeOmitNil(essential, forKey: .essential)
        try c.encode(workloadType, forKey: .workloadType)
        try c.encode(location, forKey: .location)
        try c.encodeOmitNil(jsDomain, forKey: .jsDomain)
        try c.encode(environment, forKey: .environment)
        try c.encodeOmitEmpty(triggerSubjects, forKey: .triggerSubjects)
    }
}
