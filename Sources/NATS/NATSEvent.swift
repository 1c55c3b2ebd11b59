import NATSProtocol
import NIOConcurrencyHelpers

/// Something that happened to the client's connection.
public enum NATSEvent: Sendable {
    /// First connection established.
    case connected(ServerURL)
    case disconnected(ServerURL, NATSError?)
    case reconnected(ServerURL)
    /// The server we are connected to entered lame duck mode and will close the connection soon.
    case lameDuckMode(ServerURL)
    /// Servers announced by the cluster were added to the pool.
    case discoveredServers([ServerURL])
    /// A subscription dropped messages because its buffer was full.
    case slowConsumer(subject: String, sid: UInt64, dropped: Int)
    /// A non-fatal `-ERR` (e.g. a permissions violation).
    case serverError(ServerError)
    /// The client is closed; no more events follow.
    case closed
}

/// Fan-out of events to every listener; each listener has a bounded buffer keeping the newest events.
final class EventBroadcaster: Sendable {
    private let listeners = NIOLockedValueBox<(next: Int, streams: [Int: AsyncStream<NATSEvent>.Continuation], closed: Bool)>(
        (0, [:], false)
    )

    func stream() -> AsyncStream<NATSEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: NATSEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let id: Int? = listeners.withLockedValue { state in
            if state.closed { return nil }
            let id = state.next
            state.next += 1
            state.streams[id] = continuation
            return id
        }
        guard let id else {
            continuation.yield(.closed)
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLockedValue { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: NATSEvent) {
        let streams = listeners.withLockedValue { Array($0.streams.values) }
        for stream in streams { stream.yield(event) }
    }

    func finish() {
        let streams = listeners.withLockedValue { state in
            state.closed = true
            let streams = Array(state.streams.values)
            state.streams = [:]
            return streams
        }
        for stream in streams {
            stream.yield(.closed)
            stream.finish()
        }
    }
}
