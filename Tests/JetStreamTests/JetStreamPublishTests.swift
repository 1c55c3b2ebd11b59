import JetStream
import NATSTestSupport
import NIOCore
import Testing

@Suite("JetStream publish")
struct JetStreamPublishTests {
    @Test func publishAcksAndDeduplicates() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "PUB", subjects: ["pub.>"]))
            let first = try await js.publish(ByteBuffer(string: "one"), to: "pub.a")
            #expect(first.stream == "PUB")
            #expect(first.sequence == 1)
            #expect(!first.duplicate)

            let withID = try await js.publish(ByteBuffer(string: "two"), to: "pub.a", options: .init(messageID: "id-2"))
            #expect(withID.sequence == 2)
            let again = try await js.publish(ByteBuffer(string: "two"), to: "pub.a", options: .init(messageID: "id-2"))
            #expect(again.duplicate)
            #expect(again.sequence == 2)
            #expect(try await js.streamInfo("PUB").state.messages == 2)

            var headers = NATSHeaders()
            headers["X-Trace"] = "t1"
            _ = try await js.publish(ByteBuffer(string: "three"), to: "pub.b", headers: headers)
            let stored = try await js.getLastMessage(stream: "PUB", subject: "pub.b")
            #expect(stored.headers?["X-Trace"] == "t1")
            #expect(stored.string == "three")
        }
    }

    @Test func expectationViolationsAreTyped() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "EXP", subjects: ["exp.>"]))
            _ = try await js.publish(ByteBuffer(string: "1"), to: "exp.a", options: .init(messageID: "m1"))
            _ = try await js.publish(ByteBuffer(string: "2"), to: "exp.b")

            let ok = try await js.publish(ByteBuffer(string: "3"), to: "exp.a", options: .init(expectedLastSequence: 2))
            #expect(ok.sequence == 3)
            await #expect { try await js.publish(ByteBuffer(string: "x"), to: "exp.a", options: .init(expectedLastSequence: 1)) } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .wrongLastSequence && error?.errorCode == 10071
            }
            await #expect { try await js.publish(ByteBuffer(string: "x"), to: "exp.a", options: .init(expectedStream: "OTHER")) } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .wrongStream && error?.errorCode == 10060
            }
            // exp.a's last message is sequence 3.
            await #expect { try await js.publish(ByteBuffer(string: "x"), to: "exp.a", options: .init(expectedLastSubjectSequence: 1)) } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .wrongLastSubjectSequence && error?.errorCode == 10071
            }
            #expect(try await js.publish(ByteBuffer(string: "4"), to: "exp.a", options: .init(expectedLastSubjectSequence: 3)).sequence == 4)
            #expect(try await js.publish(ByteBuffer(string: "5"), to: "exp.new", options: .init(expectedLastSubjectSequence: 0)).sequence == 5)
            await #expect { try await js.publish(ByteBuffer(string: "x"), to: "exp.a", options: .init(expectedLastMessageID: "nope")) } throws: { error in
                let error = error as? JetStreamError
                return error?.code == .wrongLastMessageID && error?.errorCode == 10070
            }
            #expect(try await js.streamInfo("EXP").state.messages == 5)
        }
    }

    @Test func publishWithoutStreamIsNoStreamResponse() async throws {
        try await withCoreJetStream { js, _ in
            await #expect { try await js.publish(ByteBuffer(string: "x"), to: "nobody.listens") } throws: {
                ($0 as? JetStreamError)?.code == .noStreamResponse
            }
            let future = try await js.publishAsync(ByteBuffer(string: "x"), to: "nobody.listens")
            await #expect { try await future.value() } throws: { ($0 as? JetStreamError)?.code == .noStreamResponse }
        }
    }

    @Test func asyncPublishOf50kAllAcked() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "ASYNC", subjects: ["async.*"]))
            let count = 50_000
            var futures: [PubAckFuture] = []
            futures.reserveCapacity(count)
            let payload = ByteBuffer(string: "payload-of-some-bytes")
            for index in 0..<count {
                futures.append(try await js.publishAsync(payload, to: "async.\(index % 10)"))
                #expect(js.pendingPublishes <= 4000)
            }
            try await js.waitForPendingPublishes()
            #expect(js.pendingPublishes == 0)
            var sequences = Set<UInt64>()
            for future in futures {
                let ack = try await future.value()
                #expect(ack.stream == "ASYNC")
                sequences.insert(ack.sequence)
            }
            #expect(sequences.count == count)
            #expect(sequences.min() == 1)
            #expect(sequences.max() == UInt64(count))
            #expect(try await js.streamInfo("ASYNC").state.messages == UInt64(count))
        }
    }

    @Test func asyncPublishWindowIsBounded() async throws {
        try await withCoreJetStream { js, _ in
            _ = try await js.createStream(StreamConfig(name: "WIN", subjects: ["win"]))
            let small = JetStreamContext(client: js.client, maxPendingAsyncPublishes: 8)
            var futures: [PubAckFuture] = []
            for index in 0..<500 {
                futures.append(try await small.publishAsync(ByteBuffer(string: "\(index)"), to: "win"))
                #expect(small.pendingPublishes <= 8)
            }
            try await small.waitForPendingPublishes()
            let last = try await futures.last!.value()
            #expect(last.sequence == 500)
        }
    }
}
