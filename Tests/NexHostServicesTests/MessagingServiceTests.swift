import NATS
import NATSTestSupport
import NexHostServices
import Testing

/// The messaging host service against nats-server.
@Suite("Host services: messaging")
struct MessagingServiceTests {
    @Test func publishDeliversExactBytes() async throws {
        try await withHostServices { services, client in
            let subscription = try await client.subscribe(to: "events.>")
            try await client.flush()
            try await services.publish(subject: "events.created", payload: allBytes)
            var iterator = subscription.makeAsyncIterator()
            guard case .message(let message) = try await iterator.next(timeout: .seconds(15)) else {
                Issue.record("the published message did not arrive")
                return
            }
            #expect(message.subject == "events.created")
            #expect(message.bytes == allBytes)
        }
    }

    @Test func requestGetsTheReply() async throws {
        try await withHostServices { services, client in
            try await withResponders(client, subject: "math.reverse", count: 1) { index, payload in
                Array(payload.reversed())
            } body: {
                let reply = try await services.request(subject: "math.reverse", payload: allBytes, timeout: nil)
                #expect(reply == allBytes.reversed())
                let explicit = try await services.request(subject: "math.reverse", payload: [1, 2], timeout: .seconds(15))
                #expect(explicit == [2, 1])
            }
        }
    }

    @Test func requestWithoutRespondersOrReply() async throws {
        try await withHostServices { services, client in
            await expectHostServiceError(.noResponders) {
                _ = try await services.request(subject: "nobody.home", payload: [1], timeout: nil)
            }
            // A subscriber that never answers: the request times out.
            let silent = try await client.subscribe(to: "silent")
            try await client.flush()
            await expectHostServiceError(.timeout) {
                _ = try await services.request(subject: "silent", payload: [1], timeout: .milliseconds(300))
            }
            try await silent.unsubscribe()
            await expectHostServiceError(.invalidArgument) {
                _ = try await services.request(subject: "x", payload: [], timeout: .zero)
            }
        }
    }

    @Test func requestManyCollectsEveryReply() async throws {
        try await withHostServices { services, client in
            try await withResponders(client, subject: "census", count: 3) { index, payload in
                Array("r\(index):".utf8) + payload
            } body: {
                // No limit: everything within the window (which is long enough for all three).
                let all = try await services.requestMany(subject: "census", payload: [0, 255], timeout: .seconds(10),
                                                         maxReplies: nil)
                #expect(all.map { $0 }.sorted { $0.lexicographicallyPrecedes($1) }
                    == (0..<3).map { Array("r\($0):".utf8) + [0, 255] })

                // A limit stops early.
                let two = try await services.requestMany(subject: "census", payload: [1], timeout: .seconds(30), maxReplies: 2)
                #expect(two.count == 2)
                #expect(two.allSatisfy { $0.last == 1 })
            }
        }
    }

    @Test func requestManyWithoutReplies() async throws {
        try await withHostServices { services, client in
            // Nobody subscribed: the server says so at once.
            await expectHostServiceError(.noResponders) {
                _ = try await services.requestMany(subject: "nobody", payload: [], timeout: .seconds(30), maxReplies: nil)
            }
            // Subscribed but silent: the window ends with nothing.
            let silent = try await client.subscribe(to: "quiet")
            try await client.flush()
            let replies = try await services.requestMany(subject: "quiet", payload: [], timeout: .milliseconds(300), maxReplies: nil)
            #expect(replies.isEmpty)
            try await silent.unsubscribe()

            await expectHostServiceError(.invalidArgument) {
                _ = try await services.requestMany(subject: "quiet", payload: [], timeout: nil, maxReplies: 0)
            }
        }
    }

    @Test func systemSubjectsAreRefused() async throws {
        try await withHostServices { services, client in
            let reserved = ["$SYS.REQ.SERVER.PING", "$JS.API.INFO", "$JS.ACK.x.y", "$NEX.PING", "$NEX.DEPLOY.default.n1",
                            "$KV.default_data.key", "$O.default_files.M.abc", "$JS"]
            for subject in reserved {
                let error = await expectHostServiceError(.invalidArgument) {
                    try await services.publish(subject: subject, payload: [1])
                }
                #expect(error?.message.contains("reserved") == true)
                await expectHostServiceError(.invalidArgument) {
                    _ = try await services.request(subject: subject, payload: [1], timeout: nil)
                }
                await expectHostServiceError(.invalidArgument) {
                    _ = try await services.requestMany(subject: subject, payload: [1], timeout: nil, maxReplies: 1)
                }
            }
            for invalid in ["", "a..b", "a.*", "a.>", "a b", ".a"] {
                await expectHostServiceError(.invalidArgument) {
                    try await services.publish(subject: invalid, payload: [])
                }
            }
            // Only whole first tokens are reserved: "$KVX" and "x.$SYS" are ordinary subjects.
            let subscription = try await client.subscribe(to: "$KVX.>")
            try await client.flush()
            try await services.publish(subject: "$KVX.a", payload: [9])
            try await services.publish(subject: "x.$SYS", payload: [9])
            var iterator = subscription.makeAsyncIterator()
            guard case .message(let message) = try await iterator.next(timeout: .seconds(15)) else {
                Issue.record("$KVX.a was not delivered")
                return
            }
            #expect(message.bytes == [9])
        }
    }
}

/// Runs `count` plain (not queue) subscribers on `subject` answering with `answer(index, payload)` while
/// `body` runs.
func withResponders(_ client: NATSClient, subject: String, count: Int,
                    answer: @escaping @Sendable (Int, [UInt8]) -> [UInt8],
                    body: () async throws -> Void) async throws {
    var subscriptions: [NATSSubscription] = []
    for _ in 0..<count {
        subscriptions.append(try await client.subscribe(to: subject))
    }
    try await client.flush()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (index, subscription) in subscriptions.enumerated() {
            group.addTask {
                for try await message in subscription {
                    if let reply = message.replyTo {
                        try await client.publish(answer(index, message.bytes), to: reply)
                    }
                }
            }
        }
        do {
            try await body()
        } catch {
            for subscription in subscriptions { try? await subscription.unsubscribe() }
            group.cancelAll()
            throw error
        }
        for subscription in subscriptions { try? await subscription.unsubscribe() }
        group.cancelAll()
    }
}
