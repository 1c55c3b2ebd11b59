import Foundation
import NexAPI
import Testing

// Golden JSON for the control messages of spec §2.3. The spec gives each Go struct with its field
// order and tags, so these goldens are written in that order and compared BYTE FOR BYTE after
// decode → encode: the order is part of what a Go peer would send and what we emit.

@Suite("Control messages (spec §2.3)")
struct ControlMessageTests {
    static let location = #"{"Scheme":"nats","Opaque":"","User":null,"Host":"NEXCLIFILES","Path":"/echoservice","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}"#

    /// What the 0.x `nex run` sends: `hash` null (NewDeployRequest never sets it), no optional members.
    static let deployFromCLI = #"{"argv":["--port","8080"],"description":"echo service","hash":null,"location":"#
        + location
        + #","essential":true,"environment":"eGt2MQAAAA==","id":"8f6f0e1e-2c3a-4b7e-9d1e-5b2f3a4c5d6e","sender_public_key":"XBDHRRKAT3BVVY3LDHCDSOQMZ4OJPTYZ4E2PY2MHOO2VXAQIXZC7Q3WI","target_node":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","workload_name":"echoservice","workload_jwt":"eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln","type":"native"}"#

    /// Every member set, including the essential-redeploy ones.
    static let deployFull = #"{"argv":["a"],"description":"","hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","location":"#
        + location
        + #","essential":false,"environment":"ZW52","id":"req-2","jsdomain":"hub","retry_count":3,"retried_at":"2024-10-16T12:01:02.123456789+02:00","sender_public_key":"XSENDER","target_node":"NNODE","trigger_subjects":["hello.function","fn.\u003e"],"host_services_config":{"nats_url":"nats://127.0.0.1:4222","nats_user_jwt":"eyJ.jwt","nats_user_seed":"SUSEED"},"workload_name":"echofunction","workload_jwt":"eyJ.x.y","type":"v8"}"#

    @Test("DeployRequest from the CLI: decode → encode is byte-identical")
    func deployRequestFromCLI() throws {
        #expect(try reencode(Self.deployFromCLI, as: DeployRequest.self) == Self.deployFromCLI)
        let request = try NexJSON.decode(DeployRequest.self, from: Array(Self.deployFromCLI.utf8))
        #expect(request.hash == nil)
        #expect(request.location?.bucket == "NEXCLIFILES")
        #expect(request.location?.key == "echoservice")
        #expect(request.workloadType == .native)
        #expect(request.argv == ["--port", "8080"])
        #expect(request.essential == true)
        #expect(request.triggerSubjects.isEmpty)
    }

    @Test("DeployRequest with every member: byte-identical, time keeps nanoseconds and offset")
    func deployRequestFull() throws {
        #expect(try reencode(Self.deployFull, as: DeployRequest.self) == Self.deployFull)
        let request = try NexJSON.decode(DeployRequest.self, from: Array(Self.deployFull.utf8))
        #expect(request.retriedAt?.nanoseconds == 123_456_789)
        #expect(request.retriedAt?.utcOffsetSeconds == 7200)
        #expect(request.retryCount == 3)
        #expect(request.hostServicesConfig?.natsUserSeed == "SUSEED")
        #expect(request.description == "")  // a non-nil empty pointer is still written by Go
        #expect(request.essential == false)
        #expect(request.workloadType.isFunction)
        // Go's json.Marshal HTML-escapes '>' as \u003e; the decoded subject is the real wildcard.
        #expect(request.triggerSubjects == ["hello.function", "fn.>"])
    }

    @Test("DeployRequest with nothing set: Go's nil pointers are null, omitempty members vanish")
    func deployRequestEmpty() throws {
        let text = try encodeText(DeployRequest(workloadType: WorkloadType("")))
        #expect(text == #"{"hash":null,"location":null,"environment":null,"id":null,"sender_public_key":null,"target_node":null,"workload_name":null,"workload_jwt":null,"type":""}"#)
        // Go leaves absent members at zero values; so do we.
        let decoded = try NexJSON.decode(DeployRequest.self, from: Array("{}".utf8))
        #expect(decoded == DeployRequest(workloadType: WorkloadType("")))
    }

    @Test("DeployRequest accepts location as a plain URL string and emits the Go object")
    func deployRequestStringLocation() throws {
        let text = #"{"location":"nats://NEXCLIFILES/echoservice","type":"native"}"#
        let request = try NexJSON.decode(DeployRequest.self, from: Array(text.utf8))
        #expect(request.location == ArtifactLocation(bucket: "NEXCLIFILES", key: "echoservice"))
        #expect(try encodeText(request).contains(#""location":"# + Self.location))
    }

    @Test("RunResponse golden (spec §2.4 step 15)")
    func runResponse() throws {
        let golden = #"{"id":"0f6c6a5e-4a3b-4f6e-8a5d-2b1c0d9e8f7a","issuer":"ABJ5T3G4RMZW6TCL3KEVE6XMS5FW3WKDALDKDPXNSD4KYXXMAX3MU6VS","name":"echoservice","started":true}"#
        #expect(try reencode(golden, as: RunResponse.self) == golden)
    }

    @Test("StopRequest and StopResponse goldens")
    func stop() throws {
        let request = #"{"node_id":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","workload_id":"0f6c6a5e","workload_jwt":"eyJ.a.b"}"#
        #expect(try reencode(request, as: StopRequest.self) == request)
        let response = #"{"id":"0f6c6a5e","issuer":"ABJ5","stopped":true}"#
        #expect(try reencode(response, as: StopResponse.self) == response)
    }

    @Test("AuctionRequest: every criterion, none, and Go's sorted tag keys")
    func auctionRequest() throws {
        let full = #"{"arch":"amd64","os":"linux","sandboxed":false,"tags":{"b":"2","a":"1"},"workload_types":["native","v8"]}"#
        // Tags are a Go map: written with sorted keys whatever order they arrived in.
        #expect(try reencode(full, as: AuctionRequest.self) == #"{"arch":"amd64","os":"linux","sandboxed":false,"tags":{"a":"1","b":"2"},"workload_types":["native","v8"]}"#)
        #expect(try encodeText(AuctionRequest()) == "{}")
        let cliAuction = #"{"arch":"arm64","os":"darwin","workload_types":["wasm"]}"#
        #expect(try reencode(cliAuction, as: AuctionRequest.self) == cliAuction)
    }

    @Test("PingResponse / AuctionResponse golden, with and without omitempty members")
    func pingResponse() throws {
        let full = #"{"node_id":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","nexus":"hub","version":"0.3.0","uptime":"1h2m3s","target_xkey":"XBDH","tags":{"nex.arch":"amd64","nex.os":"linux","node_name":"noble-headquarters"},"running_machines":2}"#
        #expect(try reencode(full, as: PingResponse.self) == full)
        let minimal = #"{"node_id":"N1","version":"0.3.0","uptime":"5s","target_xkey":"X1","running_machines":0}"#
        #expect(try reencode(minimal, as: AuctionResponse.self) == minimal)
    }

    @Test("WorkloadPingResponse golden; nil machines are null, empty ones []")
    func workloadPing() throws {
        let golden = #"{"node_id":"N1","target_xkey":"X1","version":"0.3.0","tags":{"a":"b"},"uptime":"3m1s","running_machines":[{"id":"w1","namespace":"default","name":"echoservice","type":"native"}]}"#
        #expect(try reencode(golden, as: WorkloadPingResponse.self) == golden)
        let nilMachines = WorkloadPingResponse(nodeID: "N1", targetXKey: "X1", version: "v", uptime: "1s", runningMachines: nil)
        #expect(try encodeText(nilMachines) == #"{"node_id":"N1","target_xkey":"X1","version":"v","uptime":"1s","running_machines":null}"#)
        var empty = nilMachines
        empty.runningMachines = []
        #expect(try encodeText(empty).hasSuffix(#""running_machines":[]}"#))
    }

    @Test("LameDuckResponse golden (spec §2.10)")
    func lameDuck() throws {
        let golden = #"{"node_id":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","success":true}"#
        #expect(try reencode(golden, as: LameDuckResponse.self) == golden)
    }

    @Test("InfoResponse golden with machines, memory and every optional member")
    func info() throws {
        let golden = #"{"available_agents":1,"allow_duplicate_workloads":false,"machines":[{"id":"w1","healthy":true,"uptime":"10s","namespace":"default","workload":{"id":"w1","name":"echoservice","description":"echo","essential":false,"hash":"9f86d081","runtime":"--","uptime":"10s","type":"native"}}],"memory":{"total":16000000,"free":8000000,"available":12000000},"public_xkey":"XBDH","supported_workload_types":["native","v8","wasm"],"tags":{"nex.arch":"amd64"},"uptime":"1m5s","version":"0.3.0"}"#
        #expect(try reencode(golden, as: InfoResponse.self) == golden)
        // No /proc/meminfo, no machines yet (Go nil slice), empty description and namespace omitted.
        let sparse = #"{"available_agents":0,"machines":null,"public_xkey":"X","uptime":"0s","version":"v"}"#
        #expect(try reencode(sparse, as: InfoResponse.self) == sparse)
        let machine = #"{"id":"w2","healthy":true,"uptime":"1s","workload":{"id":"w2","name":"f","essential":false,"hash":"h","runtime":"12ms","uptime":"1s","type":"wasm"}}"#
        #expect(try reencode(machine, as: MachineSummary.self) == machine)
    }

    @Test("Uptime and runtime texts follow nats-server's format", arguments: [
        (Duration.seconds(0), "0s"), (.seconds(59), "59s"), (.seconds(61), "1m1s"), (.seconds(3600), "1h0m0s"),
        (.seconds(90061), "1d1h1m1s"), (.seconds(365 * 86400 + 86400 + 3661), "1y1d1h1m1s"), (.milliseconds(1999), "1s"),
    ])
    func uptime(duration: Duration, expected: String) {
        #expect(NexUptime.format(duration) == expected)
    }

    @Test("Function runtime text")
    func runtime() {
        #expect(NexUptime.runtime(nanoseconds: 999) == "999ns")
        #expect(NexUptime.runtime(nanoseconds: 1000) == "0ms")
        #expect(NexUptime.runtime(nanoseconds: 25_000_000) == "25ms")
        #expect(NexUptime.runtime(nanoseconds: 62_000_000_000) == "1m2s")
        #expect(NexUptime.serviceRuntime == "--")
    }
}

@Suite("Failure texts and environment bytes")
struct ControlFailureTests {
    @Test("failure texts are the spec's, verbatim")
    func texts() {
        #expect(NexFailure.unsupportedWorkloadType(.wasm) == "Unsupported workload type on this node: wasm")
        #expect(NexFailure.deniedTriggerSubject("$NEX.>") == "The trigger subject $NEX.> overlaps with subject(s) in this node's deny list")
        #expect(NexFailure.invalidDeployRequest(NexFailure.invalidWorkloadName) == "Invalid deploy request: invalid workload name")
        #expect(NexFailure.deployFailed(NexFailure.duplicateWorkload) == "Failed to deploy workload: attempted to deploy duplicate workload to node configured to reject duplicates")
        #expect(NexFailure.noSuchWorkload == "No such workload")
    }

    @Test("the sealed environment is standard padded base64 of the bytes")
    func sealedEnvironment() throws {
        var request = DeployRequest(workloadType: .native)
        #expect(request.sealedEnvironment == nil)
        request.sealedEnvironment = Array("xkv1".utf8) + [0, 255, 16]
        #expect(request.environment == "eGt2MQD/EA==")
        #expect(request.sealedEnvironment == Array("xkv1".utf8) + [0, 255, 16])
        request.environment = "not base64!"
        #expect(request.sealedEnvironment == nil)
    }
}
