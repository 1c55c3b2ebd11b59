import Foundation
import NexAPI
import Testing

// CloudEvents from 0.x come from cloudevents/sdk-go v1.2.0, which marshals the attributes through a
// Go map, so the top-level members are in sorted order; these goldens are compared BYTE FOR BYTE.
// The `data` objects are Go structs in field order (spec §3.2 lists the members in that order).

@Suite("Events (spec §3.1–3.2) and log records (§3.3)")
struct EventAndLogTests {
    @Test("event type strings", arguments: [
        (NexEventType.nodeStarted, "node_started"), (.nodeStopped, "node_stopped"), (.heartbeat, "heartbeat"),
        (.nodeEnteredLameDuck, "node_entered_lameduck"), (.workloadDeployed, "workload_deployed"),
        (.workloadUndeployed, "workload_undeployed"), (.functionExecSucceeded, "function_exec_succeeded"),
        (.functionExecFailed, "function_exec_failed"), (.agentStarted, "agent_started"), (.agentStopped, "agent_stopped"),
    ])
    func typeStrings(type: NexEventType, expected: String) {
        #expect(type.rawValue == expected)
    }

    @Test("node_started CloudEvent: sorted envelope, Go-ordered data, nanosecond UTC time")
    func nodeStarted() throws {
        let golden = #"{"data":{"version":"0.3.0","id":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","tags":{"nex.arch":"amd64","node_name":"noble-headquarters"},"public_xkey":"XBDH"},"datacontenttype":"application/json","id":"a3b4c5d6-0000-4000-8000-000000000001","source":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB","specversion":"1.0","time":"2024-10-16T12:01:02.000000123Z","type":"node_started"}"#
        #expect(try reencode(golden, as: NexCloudEvent<NodeStartedEvent>.self) == golden)
        let event = try NexJSON.decode(NexCloudEvent<NodeStartedEvent>.self, from: Array(golden.utf8))
        #expect(event.type == .nodeStarted)
        #expect(event.time?.nanoseconds == 123)
        #expect(event.data.tags["node_name"] == "noble-headquarters")
        #expect(event.extensions.isEmpty)
    }

    @Test("a forwarded agent event keeps its namespace extension at top level, in sorted position")
    func forwardedAgentEvent() throws {
        let golden = #"{"data":{"code":0,"workload_id":"w1","workload_name":"echoservice","essential":false,"total_bytes":1024},"datacontenttype":"application/json","id":"e1","namespace":"default","source":"NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB-w1","specversion":"1.0","time":"2024-10-16T12:01:02.5Z","type":"workload_deployed"}"#
        #expect(try reencode(golden, as: NexCloudEvent<WorkloadStatusEvent>.self) == golden)
        let event = try NexJSON.decode(NexCloudEvent<WorkloadStatusEvent>.self, from: Array(golden.utf8))
        #expect(event.extensions == ["namespace": "default"])
        #expect(event.data.totalBytes == 1024)
    }

    @Test("events written with a local offset are emitted in UTC")
    func utcTime() throws {
        let time = try GoTime(rfc3339: "2024-10-16T14:01:02.5+02:00")
        let event = NexCloudEvent(id: "e", source: "N", type: .nodeStopped, time: time, data: NodeStoppedEvent(id: "N", graceful: true))
        #expect(try encodeText(event) == #"{"data":{"id":"N","graceful":true},"datacontenttype":"application/json","id":"e","source":"N","specversion":"1.0","time":"2024-10-16T12:01:02.5Z","type":"node_stopped"}"#)
    }

    @Test("every event data shape (byte-exact, Go field order)", arguments: [
        #"{"version":"0.3.0","id":"N1"}"#,
    ])
    func nodeEnteredLameDuck(golden: String) throws {
        #expect(try reencode(golden, as: NodeEnteredLameDuckEvent.self) == golden)
    }

    @Test("heartbeat data, full and minimal")
    func heartbeat() throws {
        let full = #"{"allow_duplicate_workloads":true,"nexus":"hub","node_id":"N1","running_machines":3,"tags":{"a":"1"},"uptime":"1h0m0s","public_xkey":"X1","version":"0.3.0"}"#
        #expect(try reencode(full, as: HeartbeatEvent.self) == full)
        let minimal = #"{"node_id":"N1","running_machines":0,"uptime":"2s","version":"0.3.0"}"#
        #expect(try reencode(minimal, as: HeartbeatEvent.self) == minimal)
    }

    @Test("workload and function event data")
    func workloadEvents() throws {
        let exited = #"{"code":1,"message":"Exited workload: echoservice; vm: w1; status: 1","workload_id":"w1","workload_name":"echoservice"}"#
        #expect(try reencode(exited, as: WorkloadStatusEvent.self) == exited)
        let undeployed = #"{"workload_id":"w1","workload_name":"echoservice","reason":"Workload undeploy requested"}"#
        #expect(try reencode(undeployed, as: WorkloadUndeployedEvent.self) == undeployed)
        #expect(WorkloadUndeployedEvent.undeployRequestedReason == "Workload undeploy requested")
        let succeeded = #"{"workload_id":"w2","workload_name":"echofunction","namespace":"default","trigger_subject":"hello.\u003e","elapsed_nanos":123456}"#
        #expect(try reencode(succeeded, as: FunctionExecSucceededEvent.self) == succeeded)
        let failed = #"{"workload_id":"w2","workload_name":"echofunction","namespace":"default","trigger_subject":"hello.\u003e","error":"boom"}"#
        #expect(try reencode(failed, as: FunctionExecFailedEvent.self) == failed)
        let stopped = #"{"id":"N1","graceful":true}"#
        #expect(try reencode(stopped, as: NodeStoppedEvent.self) == stopped)
        #expect(try reencode(#"{"agent_version":"0.3.0"}"#, as: AgentStartedEvent.self) == #"{"agent_version":"0.3.0"}"#)
        #expect(try reencode(#"{"message":"bye","code":2}"#, as: AgentStoppedEvent.self) == #"{"message":"bye","code":2}"#)
    }

    @Test("log record golden (spec §3.3)")
    func logRecord() throws {
        let golden = #"{"text":"hello from echoservice\n","level":"INFO","id":"w1"}"#
        #expect(try reencode(golden, as: LogRecord.self) == golden)
        let record = try NexJSON.decode(LogRecord.self, from: Array(golden.utf8))
        #expect(record.level == .info)
        #expect(try encodeText(LogRecord(text: "oops", level: .error, id: "w1")) == #"{"text":"oops","level":"ERROR","id":"w1"}"#)
    }

    @Test("slog level text", arguments: [
        (NexLogLevel.trace, "DEBUG-4"), (.debug, "DEBUG"), (.info, "INFO"), (.warn, "WARN"), (.error, "ERROR"),
        (.fatal, "ERROR+2"), (.panic, "ERROR+4"), (NexLogLevel(2), "INFO+2"), (NexLogLevel(-5), "DEBUG-1"),
    ])
    func levelText(level: NexLogLevel, text: String) {
        #expect(level.description == text)
        #expect(NexLogLevel(text: text) == level)
        #expect(NexLogLevel(text: text.lowercased()) == level)
    }

    @Test("invalid slog levels are rejected")
    func badLevels() {
        #expect(NexLogLevel(text: "LOUD") == nil)
        #expect(NexLogLevel(text: "INFO+x") == nil)
        #expect(throws: NexAPIError.self) { try NexJSON.decode(LogRecord.self, from: Array(#"{"text":"","level":"NOPE","id":""}"#.utf8)) }
    }
}

@Suite("Events of any type")
struct AnyEventTests {
    static func event(type: String, data: String, extra: String = "") -> String {
        #"{"data":"# + data + #","datacontenttype":"application/json","id":"e1","# + extra + #""source":"N1","specversion":"1.0","time":"2024-10-16T12:01:02Z","type":""# + type + #""}"#
    }

    @Test("data is decoded by the event type; re-encoding is byte-identical")
    func byType() throws {
        let cases: [(String, String, (NexEventPayload) -> Bool)] = [
            ("node_started", #"{"version":"v","id":"N1"}"#, { if case .nodeStarted = $0 { true } else { false } }),
            ("node_stopped", #"{"id":"N1","graceful":true}"#, { if case .nodeStopped = $0 { true } else { false } }),
            ("heartbeat", #"{"node_id":"N1","running_machines":1,"uptime":"1s","version":"v"}"#, { if case .heartbeat = $0 { true } else { false } }),
            ("node_entered_lameduck", #"{"version":"v","id":"N1"}"#, { if case .nodeEnteredLameDuck = $0 { true } else { false } }),
            ("workload_deployed", #"{"code":0,"workload_id":"w","workload_name":"n","essential":true,"total_bytes":5}"#, { if case .workloadDeployed = $0 { true } else { false } }),
            ("workload_undeployed", #"{"code":2,"message":"Exited workload: n; vm: w; status: 2","workload_id":"w","workload_name":"n"}"#, { if case .workloadExited(let e) = $0 { e.code == 2 } else { false } }),
            ("workload_undeployed", #"{"workload_id":"w","workload_name":"n","reason":"Workload undeploy requested"}"#, { if case .workloadUndeployed = $0 { true } else { false } }),
            ("function_exec_succeeded", #"{"workload_id":"w","workload_name":"n","namespace":"default","trigger_subject":"t","elapsed_nanos":7}"#, { if case .functionExecSucceeded = $0 { true } else { false } }),
            ("function_exec_failed", #"{"workload_id":"w","workload_name":"n","namespace":"default","trigger_subject":"t","error":"x"}"#, { if case .functionExecFailed = $0 { true } else { false } }),
            ("agent_started", #"{"agent_version":"v"}"#, { if case .agentStarted = $0 { true } else { false } }),
            ("agent_stopped", #"{"message":"m","code":1}"#, { if case .agentStopped = $0 { true } else { false } }),
            ("something_new", #"{"a":[1,true,null]}"#, { $0 == .other(.object(["a": .array([.integer(1), .bool(true), .null])])) }),
        ]
        for (type, data, check) in cases {
            let text = Self.event(type: type, data: data, extra: #""namespace":"default","#)
            let decoded = try AnyNexEvent.decode(from: Array(text.utf8))
            #expect(decoded.event.type.rawValue == type)
            #expect(check(decoded.event.data), "\(type)")
            #expect(decoded.event.extensions == ["namespace": "default"])
            #expect(try encodeText(decoded) == text, "\(type)")
        }
    }

    @Test("an event without a type or with a malformed payload is an error")
    func errors() {
        #expect(throws: NexAPIError.self) { try AnyNexEvent.decode(from: Array(#"{"data":{},"id":"e","source":"s","specversion":"1.0"}"#.utf8)) }
        #expect(throws: NexAPIError.self) { try AnyNexEvent.decode(from: Array(Self.event(type: "node_stopped", data: #"{"graceful":"yes"}"#).utf8)) }
        #expect(throws: NexAPIError.self) { try AnyNexEvent.decode(from: Array(Self.event(type: "bad.type", data: "{}").utf8)) }
    }
}
