import Logging
import NATS
import NATSTestSupport
import NIOCore

/// A client configuration for `server` with fast reconnects, as tests want.
func testConfiguration(_ urls: String...) throws -> NATSClient.Configuration {
    var configuration = try NATSClient.Configuration(url: urls.joined(separator: ","))
    configuration.reconnect.wait = .milliseconds(50)
    configuration.reconnect.jitter = .milliseconds(10)
    configuration.reconnect.maxAttemptsPerServer = nil
    configuration.connectTimeout = .seconds(10)
    configuration.randomizeServers = false
    return configuration
}

func withClient<T: Sendable>(_ server: NATSServer, _ body: (NATSClient) async throws -> T) async throws -> T {
    try await withNATSClient(try testConfiguration(server.url), body)
}

/// Collects `count` messages from a subscription, failing after `timeout`.
func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(10)) async throws -> [NATSMessage] {
    try await withThrowingTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let messages = first else {
            throw TestTimeout(what: "\(count) messages on \(subscription.subject)")
        }
        return messages
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Waits for the first event matching `predicate`.
func waitForEvent(_ events: AsyncStream<NATSEvent>, timeout: Duration = .seconds(15),
                  _ predicate: @escaping @Sendable (NATSEvent) -> Bool) async throws -> NATSEvent {
    try await withThrowingTaskGroup(of: NATSEvent?.self) { group in
        group.addTask {
            var seen: [String] = []
            for await event in events {
                if predicate(event) { return event }
                seen.append("\(event)")
            }
            throw TestTimeout(what: "an event; the stream ended after \(seen)")
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let event = first else { throw TestTimeout(what: "a connection event") }
        return event
    }
}
