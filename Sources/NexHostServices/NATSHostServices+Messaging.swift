import NATS

// Messaging on the workload's connection, subjects as given (no rewriting), minus the system's own.

extension NATSHostServices {
    /// First subject tokens guest code may not publish or send requests to: the system account, JetStream's API
    /// and acks, Nex's control plane, and the raw subjects behind Key-Value and object store buckets (which would
    /// bypass the namespace scoping).
    static let reservedSubjectRoots: Set<Substring> = ["$SYS", "$JS", "$NEX", "$KV", "$O"]

    public func publish(subject: String, payload: [UInt8]) async throws(HostServiceError) {
        try require(HostServicesConfiguration.messaging)
        try checkSubject(subject)
        do {
            try await client.publish(payload, to: subject)
        } catch {
            throw HostServiceError.from(error, operation: "messaging publish")
        }
    }

    /// The first reply; `noResponders` when nobody subscribes to `subject`, `timeout` when nobody answered
    /// within `timeout` (default ``HostServicesConfiguration/requestTimeout``).
    public func request(subject: String, payload: [UInt8], timeout: Duration?) async throws(HostServiceError) -> [UInt8] {
        try require(HostServicesConfiguration.messaging)
        try checkSubject(subject)
        let timeout = try effectiveTimeout(timeout, default: configuration.requestTimeout)
        do {
            return try await client.request(payload, to: subject, timeout: timeout).bytes
        } catch {
            throw HostServiceError.from(error, operation: "messaging request")
        }
    }

    /// Every reply that arrives within `timeout` (default ``HostServicesConfiguration/requestManyTimeout``),
    /// in arrival order, stopping early at `maxReplies`. Throws `noResponders` at once when nobody subscribes
    /// to `subject`; returns an empty array when subscribers exist but none answered in time.
    public func requestMany(subject: String, payload: [UInt8], timeout: Duration?,
                            maxReplies: Int?) async throws(HostServiceError) -> [[UInt8]] {
        try require(HostServicesConfiguration.messaging)
        try checkSubject(subject)
        let window = try effectiveTimeout(timeout, default: configuration.requestManyTimeout)
        if let maxReplies, maxReplies < 1 {
            throw HostServiceError(code: .invalidArgument, message: "maxReplies must be at least 1, not \(maxReplies)")
        }
        let clock = ContinuousClock()
        let deadline = clock.now + window
        do {
            // A subscription of its own (not the muxed request inbox), as several replies share one inbox.
            let inbox = client.newInbox()
            return try await client.withSubscription(to: inbox) { subscription in
                try await client.publish(payload, to: subject, reply: inbox)
                var replies: [[UInt8]] = []
                var iterator = subscription.makeAsyncIterator()
                while replies.count < (maxReplies ?? Int.max) {
                    let remaining = deadline - clock.now
                    guard remaining > .zero else { break }
                    switch try await iterator.next(timeout: remaining) {
                    case .message(let message):
                        // The server's "no responders" status: nobody was subscribed when we published.
                        if message.status == 503 {
                            if replies.isEmpty {
                                throw HostServiceError(code: .noResponders, message: "messaging requestMany: no responders")
                            }
                            continue
                        }
                        replies.append(message.bytes)
                    case .timedOut, .end:
                        return replies
                    }
                }
                return replies
            }
        } catch {
            throw HostServiceError.from(error, operation: "messaging requestMany")
        }
    }

    /// A valid subject to publish to, outside ``reservedSubjectRoots``.
    func checkSubject(_ subject: String) throws(HostServiceError) {
        guard SubjectValidation.isValidSubject(subject) else {
            throw HostServiceError(code: .invalidArgument,
                                   message: "invalid subject \"\(subject)\": non-empty tokens, no spaces or wildcards")
        }
        let root = subject.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !Self.reservedSubjectRoots.contains(root) else {
            throw HostServiceError(code: .invalidArgument, message: "subject \"\(subject)\" is reserved for the system")
        }
    }
}
