import Foundation
import NexAPI
import Testing

@Suite struct CloudEventTemplateTests {
    private func event(id: String, time: GoTime, nanos: Int64, name: String = "echo", trigger: String = "orders.>")
        -> NexCloudEvent<FunctionExecSucceededEvent>
    {
        NexCloudEvent(id: id, source: "NNODE-W1", type: .functionExecSucceeded, time: time,
                      data: FunctionExecSucceededEvent(workloadID: "W1", workloadName: name, namespace: "tenant\"a",
                                                       triggerSubject: trigger, elapsedNanos: nanos),
                      extensions: ["namespace": "tenant\"a"])
    }

    @Test func splicedEventsAreWhatTheGenericEncoderWrites() throws {
        let template = try #require(CloudEventTemplate { id, time, nanos in event(id: id, time: time, nanos: nanos) })
        let times = [GoTime(unixSeconds: 1_700_000_000), GoTime(unixSeconds: 1_700_000_000, nanoseconds: 120_000_000),
                     GoTime(unixSeconds: 0, nanoseconds: 1), GoTime.now(),
                     GoTime(unixSeconds: 1_700_000_000, nanoseconds: 5, utcOffsetSeconds: 3600)]
        for (index, time) in times.enumerated() {
            for nanos: Int64 in [0, 7, 123_456_789, -1, .max] {
                let id = CloudEventID.random()
                let spliced = template.encode(id: id, time: time, number: nanos)
                #expect(spliced == (try NexJSON.encode(event(id: id, time: time, nanos: nanos))), "time \(index), nanos \(nanos)")
            }
        }
    }

    @Test func aPlaceholderThatIsNotFoundExactlyOnceGivesNoTemplate() {
        // The number is also written into another member: the template cannot tell them apart.
        #expect(CloudEventTemplate { id, time, nanos in event(id: id, time: time, nanos: nanos, name: String(nanos)) } == nil)
        // The id is dropped: nothing to splice it into.
        #expect(CloudEventTemplate { _, time, nanos in event(id: "fixed", time: time, nanos: nanos) } == nil)
    }

    @Test func eventIDsAreVersion4UUIDsInLowerCase() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = CloudEventID.random()
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil)
            #expect(id == id.lowercased())
            #expect(Array(id)[14] == "4")
            #expect("89ab".contains(Array(id)[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }
}

@Suite struct AgentFunctionExecutionTests {
    @Test func batchesRoundTripWithSnakeCaseMembers() throws {
        let batch = [
            AgentFunctionExecution(workloadID: "W1", triggerSubject: "orders.>", outcome: .succeeded(elapsedNanos: 12_345)),
            AgentFunctionExecution(workloadID: "W1", triggerSubject: "orders.>", outcome: .failed("TypeError: boom")),
        ]
        let json = try NexJSON.encode(batch)
        // Go's writer escapes `>` (HTML-safe); the decoder reads it back.
        #expect(String(decoding: json, as: UTF8.self) == #"[{"workload_id":"W1","trigger_subject":"orders.\u003e","elapsed_nanos":12345},"#
            + #"{"workload_id":"W1","trigger_subject":"orders.\u003e","error":"TypeError: boom"}]"#)
        #expect(try NexJSON.decode([AgentFunctionExecution].self, from: json) == batch)
    }
}
