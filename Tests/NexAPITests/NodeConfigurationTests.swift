import Foundation
import NexAPI
import Testing

// The configuration file's member order is not part of any contract, so encoded configurations are
// compared as parsed values (decode(encode(x)) == x), never byte for byte.

@Suite("Node configuration (spec §7)")
struct NodeConfigurationTests {
    static let environment = NodeConfiguration.Environment(
        homeDirectory: "/home/nex", path: ["/usr/local/bin", "/usr/bin"], temporaryDirectory: "/tmp", nodeName: "noble-headquarters")

    static func load(_ json: String) throws(NexAPIError) -> NodeConfiguration {
        try NodeConfiguration.load(from: Array(json.utf8), over: .defaults(for: environment))
    }

    @Test("defaults of every field (§7.2)")
    func defaults() {
        let c = NodeConfiguration.defaults(for: Self.environment)
        #expect(c.agentHandshakeTimeoutMilliseconds == 25_000)
        #expect(c.agentPingTimeoutMilliseconds == 750)
        #expect(c.agentPluginPath == nil)
        #expect(c.allowDuplicateWorkloads == nil)
        #expect(c.autostart == nil)
        #expect(c.binPath == ["/home/nex/.nex/bin", "/usr/local/bin", "/usr/bin"])
        #expect(c.cni.binPath == ["/usr/local/bin", "/usr/bin"])
        #expect(c.cni.interfaceName == "veth0")
        #expect(c.cni.networkName == "fcnet")
        #expect(c.cni.subnet == "192.168.127.0/24")
        #expect(c.cni.nameservers.isEmpty)
        #expect(c.defaultResourceDirectory == "")
        #expect(c.denyTriggerSubjects.isEmpty)
        #expect(c.hostServices.nats == NATSJWTConnectionInfo(natsURL: "", natsUserJWT: "", natsUserSeed: ""))
        #expect(c.hostServices.services.keys.sorted() == ["http", "kv", "messaging", "objectstore"])
        #expect(c.hostServices.services.values.allSatisfy { $0.enabled && $0.config == nil })
        #expect(!c.internalNodeDebug && !c.internalNodeTrace)
        #expect(c.internalNodeHost == "192.168.127.1")
        #expect(c.internalNodePort == 9222)
        #expect(c.internalNodeStoreDirectory == "/tmp/pnats")
        #expect(c.kernelFilePath == "" && c.rootfsFilePath == "")
        #expect(c.machinePoolSize == 1)
        #expect(c.machineTemplate.vcpuCount == 1 && c.machineTemplate.memSizeMiB == 256)
        #expect(c.nodeLimits.maxWorkloads == 0 && c.nodeLimits.maxWorkloadBytes == 0 && c.nodeLimits.maxTotalBytes == 0)
        #expect(!c.noSandbox)
        #expect(c.otlpExporterURL == "127.0.0.1:14532")
        #expect(!c.otelMetrics && c.otelMetricsPort == 8085 && c.otelMetricsExporter == "file")
        #expect(!c.otelTraces && c.otelTracesExporter == "file")
        #expect(c.pidFilePath == "/tmp/nex.pid")
        #expect(!c.preserveNetwork)
        #expect(c.publicNATSServer == nil && c.rateLimiters == nil)
        #expect(c.tags == ["node_name": "noble-headquarters"])
        #expect(c.validIssuers.isEmpty)
        #expect(c.workloadTypes == [.native])
    }

    @Test("the preflight sandbox config (§9.1) loads over the defaults: absent members keep them, tags merge")
    func preflightConfig() throws {
        let c = try Self.load("""
            { "default_resource_dir":"/tmp/nex", "machine_pool_size": 1, "internal_node_host":"10.10.10.1",
              "cni": {"network_name":"fcnet","interface_name":"veth0","subnet":"10.10.10.0/24"},
              "machine_template": {"vcpu_count":1,"memsize_mib":256}, "tags": {"simple":"true"} }
            """)
        #expect(c.internalNodeHost == "10.10.10.1")
        #expect(c.cni.subnet == "10.10.10.0/24")
        #expect(c.cni.binPath == ["/usr/local/bin", "/usr/bin"])  // nested member absent → default kept
        #expect(c.tags == ["node_name": "noble-headquarters", "simple": "true"])
        let normalized = c.normalized()
        #expect(normalized.kernelFilePath == "/tmp/nex/vmlinux")
        #expect(normalized.rootfsFilePath == "/tmp/nex/rootfs.ext4")
        #expect(normalized.allowDuplicateWorkloads == true)
        #expect(normalized.problems(hostOS: "linux", fileExists: { _ in true }).isEmpty)
    }

    @Test("no_sandbox config with services, limits, issuers, autostart, rate limiters")
    func fullConfig() throws {
        let c = try Self.load("""
            {"no_sandbox":true,"workload_types":["native","v8"],"valid_issuers":["ABB43QBD2IWV7HQQPUNANE2FPU25DUIOW7JBY4QRSL2W6XPEAZS5GADJ"],
             "node_limits":{"max_workloads":5},"internal_node_host":null,"deny_trigger_subjects":["secret.>"],
             "host_services_config":{"services":{"http":{"enabled":false},"kv":{"enabled":true,"config":{"max_bytes":0,"auto_provision":false}}}},
             "rate_limiters":{"bandwidth":{"refill_time":100,"size":1024}},
             "public_nats_server":{"server_name":"userland","port":4222,"jetstream":true},
             "autostart":{"workloads":[{"name":"echofunctionjs","namespace":"default","type":"v8",
               "location":"nats://NEXCLIFILES/echofunctionjs","environment":{"A":"1"},"trigger_subjects":["hello.function"]}]}}
            """)
        #expect(c.noSandbox)
        #expect(c.workloadTypes == [.native, .v8])
        #expect(c.nodeLimits.maxWorkloads == 5 && c.nodeLimits.maxTotalBytes == 0)
        #expect(c.internalNodeHost == nil)  // null clears a Go pointer
        #expect(c.hostServices.services["http"]?.enabled == false)
        #expect(c.hostServices.services["kv"]?.config == .object(["max_bytes": .integer(0), "auto_provision": .bool(false)]))
        #expect(c.hostServices.services["messaging"]?.enabled == true)  // map entries merge
        #expect(c.rateLimiters?.bandwidth?.size == 1024 && c.rateLimiters?.iops == nil)
        #expect(c.publicNATSServer == .object(["server_name": .string("userland"), "port": .integer(4222), "jetstream": .bool(true)]))
        #expect(c.autostart?.workloads.first?.triggerSubjects == ["hello.function"])
        let normalized = c.normalized()
        #expect(normalized.allowDuplicateWorkloads == false)
        #expect(normalized.denyTriggerSubjects == ["secret.>", "$SYS.>", "$JS.>", "$NEX.>"])
        #expect(normalized.normalized() == normalized)
        #expect(normalized.problems(hostOS: "darwin", fileExists: { _ in false }).isEmpty)

        // Encode → load gives the same configuration (order is not compared).
        let reloaded = try NodeConfiguration.load(from: try NexJSON.encode(normalized))
        #expect(reloaded == normalized)
    }

    @Test("validation reports every problem at once, with the 0.x texts where 0.x has them")
    func problems() throws {
        var c = NodeConfiguration()
        c.machinePoolSize = 0
        c.agentPingTimeoutMilliseconds = 0
        c.kernelFilePath = "/missing/vmlinux"
        c.cni.subnet = "10.0.0.0/33"
        c.internalNodeHost = "not-an-ip"
        c.nodeLimits.maxTotalBytes = -1
        c.validIssuers = ["not-a-key", "XBDHRRKAT3BVVY3LDHCDSOQMZ4OJPTYZ4E2PY2MHOO2VXAQIXZC7Q3WI"]
        c.denyTriggerSubjects = ["a.>.b", "ok.*"]
        c.autostart = .init(workloads: [.init(name: "bad name", namespace: "a.b", workloadType: .native, location: "nowhere", triggerSubjects: ["x"])])
        let problems = c.problems(hostOS: "darwin", fileExists: { _ in false })
        #expect(problems == [
            "agent_ping_timeout_ms must be > 0",
            "allow_duplicate_workloads is required",
            "autostart.workloads[0]: invalid workload name \"bad name\"",
            "autostart.workloads[0]: invalid namespace \"a.b\"",
            "autostart.workloads[0]: invalid location \"nowhere\"",
            "autostart.workloads[0]: trigger subjects are only allowed for v8 and wasm workloads",
            "deny_trigger_subjects: \"a.>.b\" is not a valid subject",
            "machine pool size must be >= 1",
            "node_limits.max_total_bytes must be >= 0",
            "host must be configured to run in no sandbox mode",
            "kernel file /missing/vmlinux does not exist",
            "cni.subnet \"10.0.0.0/33\" is not a valid CIDR prefix",
            "internal_node_host \"not-an-ip\" is not a valid IP address",
            "valid_issuers: \"not-a-key\" is not a public nkey",
            "valid_issuers: \"XBDHRRKAT3BVVY3LDHCDSOQMZ4OJPTYZ4E2PY2MHOO2VXAQIXZC7Q3WI\" is not a public nkey",
        ])
        do {
            try c.validate(hostOS: "darwin", fileExists: { _ in false })
            Issue.record("an invalid configuration must not validate")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.hasPrefix("invalid node config; [agent_ping_timeout_ms must be > 0; "))
        }
    }

    @Test("internal node host must be inside the CNI subnet (IPv4 and IPv6)", arguments: [
        ("192.168.127.0/24", "192.168.127.1", true), ("192.168.127.0/24", "192.168.128.1", false),
        ("10.0.0.0/8", "10.255.1.2", true), ("10.10.10.0/25", "10.10.10.200", false), ("0.0.0.0/0", "8.8.8.8", true),
        ("fd00::/64", "fd00::1", true), ("fd00::/64", "fd01::1", false), ("10.0.0.0/8", "fd00::1", false),
    ])
    func subnet(subnet: String, host: String, inside: Bool) {
        var c = NodeConfiguration().normalized()
        c.cni.subnet = subnet
        c.internalNodeHost = host
        let problems = c.problems(hostOS: "linux", fileExists: { _ in true })
        #expect(problems.contains("internal node host must be in the CNI subnet") == !inside)
    }

    @Test("malformed files are clear errors")
    func malformed() {
        #expect(throws: NexAPIError.self) { try Self.load("{") }
        do {
            _ = try Self.load(#"{"machine_pool_size":"two"}"#)
            Issue.record("a string pool size must be rejected")
        } catch {
            #expect(error.message.contains("machine_pool_size"))
        }
    }
}
