import NATS
import NATSProtocol
import NATSTestSupport
import NIOCore
import Testing

@Suite("Request/reply")
struct RequestReplyTests {
    /// Answers every request on `subject` with `prefix + payload` until the subscription ends.
    static func respond(_ nats: NATSClient, on subscription: NATSSubscription, prefix: String) async throws {
        for try await message in subscription {
            guard let reply = message.replyTo else { continue }
            try await nats.publish(prefix + message.string, to: reply)
        }
    }

    @Test func requestGetsTheReply() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let service = try await nats.subscribe(to: "svc.echo")
                try await nats.flush()
                async let responder: Void = Self.respond(nats, on: service, prefix: "re: ")
                for i in 0..<100 {
                    let reply = try await nats.request("\(i)", to: "svc.echo", timeout: .seconds(5))
                    #expect(reply.string == "re: \(i)")
                }
                try await service.unsubscribe()
                try await responder
            }
        }
    }

    @Test func concurrentRequestsAreMatchedToTheirReplies() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let service = try await nats.subscribe(to: "svc.concurrent")
                try await nats.flush()
                async let responder: Void = Self.respond(nats, on: service, prefix: "")
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for i in 0..<500 {
                        group.addTask { try await nats.request("\(i)", to: "svc.concurrent").string == "\(i)" }
                    }
                    for try await matched in group { #expect(matched) }
                }
                try await service.unsubscribe()
                try await responder
            }
        }
    }

    @Test func noRespondersIsDetected() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                do {
                    _ = try await nats.request("anyone?", to: "nobody.here", timeout: .seconds(5))
                    Issue.record("request without responders succeeded")
                } catch let error as NATSError {
                    #expect(error.code == .noResponders)
                }
            }
        }
    }

    @Test func requestTimesOut() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let silent = try await nats.subscribe(to: "svc.silent")
                try await nats.flush()
                do {
                    _ = try await nats.request("hello", to: "svc.silent", timeout: .milliseconds(200))
                    Issue.record("request to a silent service succeeded")
                } catch let error as NATSError {
                    #expect(error.code == .timeout)
                }
                _ = silent
            }
        }
    }

    @Test func requestWithHeadersAndStatusReplies() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let service = try await nats.subscribe(to: "svc.headers")
                try await nats.flush()
                async let responder: Void = {
                    for try await message in service {
                        var headers = NATSHeaders()
                        headers["Echo"] = message.headers?["Ask"] ?? "none"
                        try await nats.publish("ok", to: message.replyTo!, headers: headers)
                    }
                }()
                var headers = NATSHeaders()
                headers["Ask"] = "value"
                let reply = try await nats.request("q", to: "svc.headers", headers: headers)
                #expect(reply.headers?["Echo"] == "value")
                try await service.unsubscribe()
                try await responder
            }
        }
    }

    @Test func callbackRequestsPipelineWithoutWaiting() async throws {
        try await withNATSServer { server in
            try await withClient(server) { nats in
                let service = try await nats.subscribe(to: "svc.pipeline")
                try await nats.flush()
                async let responder: Void = Self.respond(nats, on: service, prefix: "")
                let (results, continuation) = AsyncStream.makeStream(of: Result<NATSMessage, NATSError>.self)
                for i in 0..<1000 {
                    try nats.request(ByteBuffer(string: "\(i)"), to: "svc.pipeline") { continuation.yield($0) }
                }
                // One to nobody: the callback gets noResponders.
                try nats.request(ByteBuffer(string: "x"), to: "svc.nobody") { continuation.yield($0) }
                var replies = Set<String>()
                var noResponders = 0
                for await result in results {
                    switch result {
                    case .success(let message): replies.insert(message.string)
                    case .failure(let error): if error.code == .noResponders { noResponders += 1 }
                    }
                    if replies.count + noResponders == 1001 { break }
                }
                #expect(replies == Set((0..<1000).map { "\($0)" }))
                #expect(noResponders == 1)
                try await service.unsubscribe()
                try await responder
            }
        }
    }
}
