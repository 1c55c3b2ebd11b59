import Foundation
import NATS
import NKeys
import NexAPI
import Testing
@testable import NexClient

private func deployedEvent(_ name: String, node: NodeID) throws -> [UInt8] {
    let data = NexEventPayload.workloadDeployed(WorkloadStatusEvent(code: 0, workloadID: WorkloadID.random().rawValue, workloadName: name))
    return try NexJSON.encode(AnyNexEvent(NexCloudEvent(id: UUID().uuidString.lowercased(), source: node.rawValue,
                                                        type: .workloadDeployed, time: GoTime.now(), data: data)))
}

private func agentStartedEvent(node: NodeID) throws -> [UInt8] {
    try NexJSON.encode(AnyNexEvent(NexCloudEvent(id: UUID().uuidString.lowercased(), source: node.rawValue, type: .agentStarted,
                                                 time: GoTime.now(), data: .agentStarted(AgentStartedEvent(agentVersion: "0.2.8")))))
}

@Suite struct StreamTests {
    @Test func eventsFilterByNamespaceAndTypeAndSkipGarbage() async throws {
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let team = try Namespace("team")
        let (events, skipped) = try await withScriptedNodes([]) { client in
            let stream = try await NexClient(client: client, timeout: .seconds(10)).events(types: [.workloadDeployed], namespace: team)
            try await client.flush()
            try await client.publish(deployedEvent("other-namespace", node: node), to: NexSubject.event(.default, .workloadDeployed).description)
            try await client.publish(agentStartedEvent(node: node), to: NexSubject.event(team, .agentStarted).description)
            try await client.publish(deployedEvent("first", node: node), to: NexSubject.event(team, .workloadDeployed).description)
            try await client.publish(Array("garbage".utf8), to: NexSubject.event(team, .workloadDeployed).description)
            try await client.publish(deployedEvent("second", node: node), to: NexSubject.event(team, .workloadDeployed).description)
            let events = try await first(2, of: stream)
            try await stream.close()
            return (events, stream.skippedCount)
        }
        #expect(events.map(\.namespace) == [team, team])
        #expect(events.map(\.type) == [.workloadDeployed, .workloadDeployed])
        let names = events.compactMap { message -> String? in
            guard case .workloadDeployed(let status) = message.event.event.data else { return nil }
            return status.workloadName
        }
        #expect(names == ["first", "second"])
        #expect(events.first?.event.event.source == node.rawValue)
        #expect(skipped == 1)
    }

    @Test func eventsOfSeveralTypesInEveryNamespace() async throws {
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let events = try await withScriptedNodes([]) { client in
            try await NexClient(client: client, timeout: .seconds(10)).withEvents(types: [.agentStarted, .workloadDeployed]) { stream in
            try await client.flush()
            try await client.publish(agentStartedEvent(node: node), to: NexSubject.event(.default, .agentStarted).description)
            let heartbeat = NexCloudEvent(id: "h1", source: node.rawValue, type: .heartbeat, time: GoTime.now(),
                                          data: NexEventPayload.heartbeat(HeartbeatEvent(nodeID: node.rawValue, runningMachines: 0, uptime: "1s", version: "0.2.8")))
            try await client.publish(NexJSON.encode(AnyNexEvent(heartbeat)), to: NexSubject.event(.system, .heartbeat).description)
            try await client.publish(deployedEvent("x", node: node), to: NexSubject.event(.system, .workloadDeployed).description)
            return try await first(2, of: stream)
            }
        }
        #expect(events.map(\.type) == [.agentStarted, .workloadDeployed])
        #expect(events.map(\.namespace) == [.default, .system])
    }

    @Test func logsDecodeAndFilterByWorkload() async throws {
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let echo = try WorkloadName("echo")
        let other = try WorkloadName("other")
        let echoID = WorkloadID.random()
        let (logs, skipped) = try await withScriptedNodes([]) { client in
            let stream = try await NexClient(client: client, timeout: .seconds(10)).logs(workloadName: echo)
            try await client.flush()
            func publish(_ record: LogRecord, _ name: WorkloadName, _ id: WorkloadID, _ namespace: Namespace = .default) async throws {
                try await client.publish(NexJSON.encode(record), to: NexSubject.workloadLog(namespace, node, name, id).description)
            }
            try await publish(LogRecord(text: "hello", level: .info, id: echoID.rawValue), echo, echoID)
            try await publish(LogRecord(text: "not mine", level: .info, id: "w2"), other, try WorkloadID("w2"))
            try await client.publish(Array("{\"text\":5}".utf8), to: NexSubject.workloadLog(.default, node, echo, echoID).description)
            try await publish(LogRecord(text: "oops", level: .error, id: echoID.rawValue), echo, echoID, try Namespace("team"))
            let logs = try await first(2, of: stream)
            try await stream.close()
            return (logs, stream.skippedCount)
        }
        #expect(logs.map(\.record.text) == ["hello", "oops"])
        #expect(logs.map(\.record.level) == [.info, .error])
        #expect(logs.map(\.namespace.rawValue) == ["default", "team"])
        #expect(logs.allSatisfy { $0.nodeID == node && $0.workloadName == echo && $0.workloadID == echoID })
        #expect(skipped == 1)
    }

    @Test func logsOfOneNamespaceAndNode() async throws {
        let node = try NodeID(keyPair: KeyPair.generate(.server))
        let otherNode = try NodeID(keyPair: KeyPair.generate(.server))
        let team = try Namespace("team")
        let name = try WorkloadName("svc")
        let id = WorkloadID.random()
        let logs = try await withScriptedNodes([]) { client in
            try await NexClient(client: client, timeout: .seconds(10)).withLogs(node: node, namespace: team) { stream in
                try await client.flush()
                for (namespace, source, text) in [(Namespace.default, node, "wrong namespace"), (team, otherNode, "wrong node"), (team, node, "right")] {
                    try await client.publish(NexJSON.encode(LogRecord(text: text, level: .info, id: id.rawValue)),
                                             to: NexSubject.workloadLog(namespace, source, name, id).description)
                }
                return try await first(1, of: stream)
            }
        }
        #expect(logs.map(\.record.text) == ["right"])
    }
}
