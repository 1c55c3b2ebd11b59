import DequeModule
import NATS
import NIOConcurrencyHelpers
import NIOCore

/// The stream's acknowledgement of a published message.
public struct PubAck: Decodable, Sendable, Hashable {
    /// The stream that stored the message.
    public var stream: String
    /// The message's sequence in that stream.
    public var sequence: UInt64
    /// True when the message ID was seen within the duplicate window: nothing new was stored.
    public var duplicate: Bool
    public var domain: String?

    enum CodingKeys: String, CodingKey {
        case stream
        case sequence = "seq"
        case duplicate, domain
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stream = try c.decode(String.self, forKey: .stream)
        sequence = try c.decode(UInt64.self, forKey: .sequence)
        duplicate = try c.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
        domain = try c.decodeIfPresent(String.self, forKey: .domain)
    }

    /// Decodes an acknowledgement reply, turning an error object into a `JetStreamError` whose code says which
    /// expectation failed (10071 is shared by last-sequence and last-subject-sequence; the headers sent decide).
    static func decode(_ reply: NATSMessage, subject: String, expectations: PublishOptions) throws -> PubAck {
        do {
            return try APICoding.decodeResponse(reply.payload, as: PubAck.self, subject: subject)
        } catch var error as JetStreamError {
            if error.code == .wrongLastSequence, expectations.expectedLastSequence == nil,
                expectations.expectedLastSubjectSequence != nil
            {
                error.code = .wrongLastSubjectSequence
            }
            throw error
        }
    }
}

/// The acknowledgement of a `publishAsync`, arriving later.
public struct PubAckFuture: Sendable {
    let promise: PubAckPromise

    /// The subject the message was published to.
    public var subject: String { promise.subject }

    /// Waits for the acknowledgement; throws what `publish` would have thrown.
    public func value() async throws -> PubAck {
        let reply = try await promise.reply()
        return try PubAck.decode(reply, subject: promise.subject, expectations: promise.options)
    }
}

/// Completed on the event loop with the raw reply; decoding waits until someone asks, so the loop only
/// stores a reference per acknowledgement.
final class PubAckPromise: Sendable {
    private struct State {
        var result: Result<NATSMessage, JetStreamError>?
        var waiters: [CheckedContinuation<NATSMessage, Error>] = []
    }

    let subject: String
    let options: PublishOptions
    private let state = NIOLockedValueBox(State())

    init(subject: String, options: PublishOptions) {
        self.subject = subject
        self.options = options
    }

    func complete(_ result: Result<NATSMessage, JetStreamError>) {
        let waiters: [CheckedContinuation<NATSMessage, Error>] = state.withLockedValue { state in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as Error }) }
    }

    func reply() async throws -> NATSMessage {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<NATSMessage, JetStreamError>? = state.withLockedValue { state in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result.mapError { $0 as Error }) }
        }
    }
}

/// Bounds the number of outstanding async-publish acknowledgements: publishers wait (FIFO) for a free slot.
final class PublishWindow: Sendable {
    private struct State {
        var outstanding = 0
        var slotWaiters: Deque<CheckedContinuation<Void, Never>> = []
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let limit: Int
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        self.limit = limit
    }

    var outstanding: Int { state.withLockedValue { $0.outstanding } }

    func acquire() async {
        let acquired = state.withLockedValue { state -> Bool in
            guard state.outstanding < limit, state.slotWaiters.isEmpty else { return false }
            state.outstanding += 1
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.outstanding < limit, state.slotWaiters.isEmpty {
                    state.outstanding += 1
                    return true
                }
                state.slotWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Frees a slot, handing it straight to the next waiting publisher when there is one.
    func release() {
        enum Wake {
            case publisher(CheckedContinuation<Void, Never>)
            case idle([CheckedContinuation<Void, Never>])
        }
        let wake: Wake = state.withLockedValue { state in
            if let next = state.slotWaiters.popFirst() { return .publisher(next) }
            state.outstanding -= 1
            guard state.outstanding == 0 else { return .idle([]) }
            defer { state.idleWaiters = [] }
            return .idle(state.idleWaiters)
        }
        switch wake {
        case .publisher(let continuation): continuation.resume()
        case .idle(let continuations): for continuation in continuations { continuation.resume() }
        }
    }

    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.outstanding == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
