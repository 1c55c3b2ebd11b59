import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream streams")
struct JetStreamStreamTests {
    @Test func createUpdateInfoListDelete() async throws {
        try await withCoreJetStream { js, _ in
            var config = StreamConfig(name: "ORDERS", subjects: ["orders.>"])
            config.description = "orders"
            config.storage = .memory
            let created = try await js.createStream(config)
            #expect(created.config.name == "ORDERS")
            #expect(created.config.subjects == ["orders.>"])
            #expect(created.config.storage == .memory)
            #expect(created.state.messages == 0)
            // Creating the identical stream again is fine; a different configuration is not.
            _ = try await js.createStream(config)
            var other = config
            other.subjects = ["other.>"]
            await #expect { try await js.createStream(other) } throws: { ($0 as? JetStreamError)?.code == .streamNameInUse }

            config.maxMessages = 100
            config.subjects = ["orders.>", "returns.>"]
            let updated = try await js.updateStream(config)
            #expect(updated.config.maxMessages == 100)
            #expect(updated.config.subjects == ["orders.>", "returns.>"])

            _ = try await js.createStream(StreamConfig(name: "EVENTS", subjects: ["events.*"]))
            #expect(Set(try await js.streamNames()) == ["ORDERS", "EVENTS"])
            #expect(try await js.streamNames(subject: "events.x") == ["EVENTS"])
            let infos = try await js.streams()
            #expect(Set(infos.map(\.config.name)) == ["ORDERS", "EVENTS"])

            _ = try await js.publish(ByteBuffer(string: "a"), to: "orders.1")
            _ = try await js.publish(ByteBuffer(string: "b"), to: "orders.2")
            _ = try await js.publish(ByteBuffer(string: "c"), to: "orders.2")
            let info = try await js.streamInfo("ORDERS", subjectsFilter: ">")
            #expect(info.state.messages == 3)
            #expect(info.state.firstSequence == 1)
            #expect(info.state.lastSequence == 3)
            #expect(info.state.subjects == ["orders.1": 1, "orders.2": 2])
            #expect(info.state.numSubjects == 2)
            #expect(try await js.streamInfo("ORDERS").state.subjects == nil)

            try await js.deleteStream("EVENTS")
            #expect(try await js.streamNames() == ["ORDERS"])
            await #expect { try await js.streamInfo("EVENTS") } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .streamNotFound && error?.errorCode == 10059
            }
        }
    }

    @Test func purgeAllBySubjectAndKeep() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "P", subjects: ["p.*"]))
            for index in 0..<5 { _ = try await js.publish(ByteBuffer(string: "\(index)"), to: "p.a") }
            for index in 0..<3 { _ = try await js.publish(ByteBuffer(string: "\(index)"), to: "p.b") }

            #expect(try await js.purgeStream("P", subject: "p.a", keep: 2) == 3)
            var state = try await js.streamInfo("P", subjectsFilter: ">").state
            #expect(state.subjects == ["p.a": 2, "p.b": 3])

            #expect(try await js.purgeStream("P", subject: "p.b") == 3)
            state = try await js.streamInfo("P", subjectsFilter: ">").state
            #expect(state.subjects == ["p.a": 2])

            _ = try await js.publish(ByteBuffer(string: "x"), to: "p.c")
            // Sequence: remove everything below 9 (the p.c message is sequence 9).
            #expect(try await js.purgeStream("P", sequence: 9) == 2)
            #expect(try await js.streamInfo("P").state.messages == 1)

            #expect(try await js.purgeStream("P") == 1)
            state = try await js.streamInfo("P").state
            #expect(state.messages == 0)
            #expect(state.lastSequence == 9)
        }
    }

    @Test func deleteMessage() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "D", subjects: ["d"]))
            for index in 0..<3 { _ = try await js.publish(ByteBuffer(string: "\(index)"), to: "d") }
            try await js.deleteMessage(stream: "D", sequence: 2)
            try await js.deleteMessage(stream: "D", sequence: 3, erase: true)
            #expect(try await js.streamInfo("D").state.messages == 1)
            await #expect { try await js.getMessage(stream: "D", sequence: 2) } throws: {
                ($0 as? JetStreamError)?.code == .messageNotFound
            }
        }
    }

    @Test func unknownStreamGivesTypedError() async throws {
        try await withCoreJetStream { js, _ in
            do {
                _ = try await js.streamInfo("NOPE")
                Issue.record("expected an error")
            } catch let error as JetStreamError {
                #expect(error.code == .streamNotFound)
                #expect(error.errorCode == 10059)
                #expect(error.apiCode == 404)
            }
            await #expect { try await js.deleteStream("NOPE") } throws: { ($0 as? JetStreamError)?.errorCode == 10059 }
        }
    }

    @Test func jetStreamNotEnabledIsAClearError() async throws {
        try await withNATSServer { server in
            try await withNATSClient(try coreTestConfiguration([server.url])) { nats in
                let js = JetStreamContext(client: nats, timeout: .seconds(2))
                do {
                    _ = try await js.accountInfo()
                    Issue.record("expected an error")
                } catch let error as JetStreamError {
                    #expect(error.code == .notEnabled)
                    #expect(error.message.contains("JetStream is not enabled"))
                }
                await #expect { try await js.createStream(StreamConfig(name: "S", subjects: ["s"])) } throws: {
                    ($0 as? JetStreamError)?.code == .notEnabled
                }
            }
        }
    }

    @Test func wrongDomainHasNoResponders() async throws {
        try await withCoreJetStream { js, _ in
            let account = try await js.accountInfo()
            #expect(account.streams == 0)
            let elsewhere = JetStreamContext(client: js.client, domain: "nowhere")
            #expect(elsewhere.apiPrefix == "$JS.nowhere.API")
            #expect(elsewhere.apiSubject("STREAM.NAMES") == "$JS.nowhere.API.STREAM.NAMES")
            await #expect { try await elsewhere.streamNames() } throws: { ($0 as? JetStreamError)?.code == .notEnabled }
        }
    }
}
