import NATS
import NIOConcurrencyHelpers
import NIOCore

/// A periodic wake-up delivered into a subscription, so an iterator blocked on that subscription can check
/// liveness (missed heartbeats, lost pull requests) without a task of its own per wait.
///
/// Each tick is a request to `subject` (which the owner's subscription covers) with a timeout of `interval`:
/// the request message wakes the iterator at once, and, since nobody replies, the client's request timer
/// fires after `interval` on the event loop and sends the next one. It stops when `stop()` is called, the
/// owner is gone, or the client closes.
final class JetStreamTicker: Sendable {
    let client: NATSClient
    let subject: String
    let interval: Duration
    private let stopped = NIOLockedValueBox(false)

    init(client: NATSClient, subject: String, interval: Duration) {
        self.client = client
        self.subject = subject
        self.interval = interval
    }

    func start() {
        Self.arm(self)
    }

    func stop() {
        stopped.withLockedValue { $0 = true }
    }

    private static func arm(_ ticker: JetStreamTicker) {
        guard !ticker.stopped.withLockedValue({ $0 }) else { return }
        try? ticker.client.request(ByteBuffer(), to: ticker.subject, timeout: ticker.interval) { [weak ticker] result in
            guard let ticker else { return }
            switch result {
            case .failure(let error) where error.code == .timeout: arm(ticker)
            case .failure, .success: break  // closed, unsubscribed, or someone answered: stop ticking
            }
        }
    }

    deinit {
        stopped.withLockedValue { $0 = true }
    }
}
