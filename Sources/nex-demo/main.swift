import Foundation
import Logging
import NATS
import NATSTestSupport
import NIOCore
import UnixSignals

// Until the Nex node exists, `make run` shows the NATS client at work: it starts an embedded nats-server
// (unless NATS_URL names one), subscribes, publishes, requests, then serves `demo.echo` until Ctrl-C.

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let logger = Logger(label: "nex-demo")

var embedded: NATSServer?
let url: String
if let fromEnvironment = ProcessInfo.processInfo.environment["NATS_URL"], !fromEnvironment.isEmpty {
    url = fromEnvironment
} else {
    let server = try await NATSServer.start(.init(jetStream: true))
    embedded = server
    url = server.url
    print("started an embedded nats-server with JetStream at \(url)")
}

let configuration = try NATSClient.Configuration(url: url)
try await withNATSClient(configuration, logger: logger) { nats in
    let greetings = try await nats.subscribe(to: "demo.greet.*")
    try await nats.flush()
    try await nats.publish("hello from swift-nex", to: "demo.greet.world")
    for try await message in greetings {
        print("received on \(message.subject): \(message.string)")
        break
    }

    let echo = try await nats.subscribe(to: "demo.echo", queue: "demo")
    try await nats.flush()
    let start = ContinuousClock.now
    async let reply = nats.request("ping", to: "demo.echo")
    for try await message in echo {
        if let replyTo = message.replyTo { try await nats.publish("echo: " + message.string, to: replyTo) }
        break
    }
    print("request answered: \(try await reply.string) in \(ContinuousClock.now - start)")

    print("serving demo.echo on \(url) — try: nats --server \(url) request demo.echo hi   (Ctrl-C to stop)")
    let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
    await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for try await message in echo {
                if let replyTo = message.replyTo { try await nats.publish("echo: " + message.string, to: replyTo) }
            }
        }
        for await _ in signals { break }
        group.cancelAll()
    }
}
await embedded?.stop()
print("stopped")
