import NATS
import NIOCore

/// Expectations and de-duplication for one publish; each becomes a `Nats-*` header the stream checks.
public struct PublishOptions: Sendable, Hashable {
    /// `Nats-Msg-Id`: a second publish with the same ID within the duplicate window is not stored again.
    public var messageID: String?
    /// `Nats-Expected-Stream`: fail unless the subject belongs to this stream.
    public var expectedStream: String?
    /// `Nats-Expected-Last-Sequence`: fail unless the stream's last sequence is this.
    public var expectedLastSequence: UInt64?
    /// `Nats-Expected-Last-Subject-Sequence`: fail unless the last message on this subject has this sequence
    /// (0: there is none).
    public var expectedLastSubjectSequence: UInt64?
    /// `Nats-Expected-Last-Msg-Id`: fail unless the stream's last message had this ID.
    public var expectedLastMessageID: String?
    /// How long to wait for the acknowledgement; nil uses the context's timeout.
    public var timeout: Duration?

    public init(messageID: String? = nil, expectedStream: String? = nil, expectedLastSequence: UInt64? = nil,
                expectedLastSubjectSequence: UInt64? = nil, expectedLastMessageID: String? = nil, timeout: Duration? = nil) {
        self.messageID = messageID
        self.expectedStream = expectedStream
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
        self.expectedLastMessageID = expectedLastMessageID
        self.timeout = timeout
    }

    /// `headers` plus the headers these options stand for; nil when there are none.
    func apply(to headers: NATSHeaders?) -> NATSHeaders? {
        guard messageID != nil || expectedStream != nil || expectedLastSequence != nil
            || expectedLastSubjectSequence != nil || expectedLastMessageID != nil
        else { return headers }
        var result = headers ?? NATSHeaders()
        if let messageID { result[JetStreamHeader.messageID] = messageID }
        if let expectedStream { result[JetStreamHeader.expectedStream] = expectedStream }
        if let expectedLastSequence { result[JetStreamHeader.expectedLastSequence] = String(expectedLastSequence) }
        if let expectedLastSubjectSequence {
            result[JetStreamHeader.expectedLastSubjectSequence] = String(expectedLastSubjectSequence)
        }
        if let expectedLastMessageID { result[JetStreamHeader.expectedLastMessageID] = expectedLastMessageID }
        return result
    }
}

/// Header names JetStream reads or writes.
public enum JetStreamHeader {
    public static let messageID = "Nats-Msg-Id"
    public static let expectedStream = "Nats-Expected-Stream"
    public static let expectedLastSequence = "Nats-Expected-Last-Sequence"
    public static let expectedLastSubjectSequence = "Nats-Expected-Last-Subject-Sequence"
    public static let expectedLastMessageID = "Nats-Expected-Last-Msg-Id"
    /// `sub` purges the subject's earlier messages, `all` the stream's.
    public static let rollup = "Nats-Rollup"
    public static let stream = "Nats-Stream"
    public static let sequence = "Nats-Sequence"
    public static let timeStamp = "Nats-Time-Stamp"
    public static let subject = "Nats-Subject"
    public static let lastSequence = "Nats-Last-Sequence"
    public static let consumerStalled = "Nats-Consumer-Stalled"
    public static let pendingMessages = "Nats-Pending-Messages"
    public static let pendingBytes = "Nats-Pending-Bytes"
}

extension JetStreamContext {
    /// Publishes to a stream and waits for its acknowledgement.
    ///
    /// - Throws: `JetStreamError` `.noStreamResponse` when no stream listens on `subject`; `.wrongLastSequence`
    ///   and friends when an expectation in `options` failed; `.timeout`.
    public func publish(_ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil,
                        options: PublishOptions = .init()) async throws -> PubAck {
        let reply: NATSMessage
        do {
            reply = try await client.request(payload, to: subject, headers: options.apply(to: headers),
                                             timeout: options.timeout ?? timeout)
        } catch let error as NATSError {
            throw Self.publishError(subject: subject, error)
        }
        return try PubAck.decode(reply, subject: subject, expectations: options)
    }

    /// Publishes without waiting for the acknowledgement: returns once the message is queued, the
    /// acknowledgement arrives later in the `PubAckFuture`. At most `maxPendingAsyncPublishes` acknowledgements
    /// are outstanding; further calls wait for a free slot.
    public func publishAsync(_ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil,
                             options: PublishOptions = .init()) async throws -> PubAckFuture {
        let window = shared.publishWindow
        await window.acquire()
        let promise = PubAckPromise(subject: subject, options: options)
        do {
            try client.request(payload, to: subject, headers: options.apply(to: headers), timeout: options.timeout ?? timeout) { result in
                // On the event loop: store and move on; decoding happens in `value()`.
                promise.complete(result.mapError { Self.publishError(subject: subject, $0) })
                window.release()
            }
        } catch {
            window.release()
            throw Self.publishError(subject: subject, error)
        }
        return PubAckFuture(promise: promise)
    }

    /// Waits until every `publishAsync` so far has its acknowledgement (or its error).
    public func waitForPendingPublishes() async throws {
        await shared.publishWindow.waitUntilIdle()
        try Task.checkCancellation()
    }

    /// How many async-publish acknowledgements are outstanding.
    public var pendingPublishes: Int { shared.publishWindow.outstanding }

    static func publishError(subject: String, _ error: NATSError) -> JetStreamError {
        switch error.code {
        case .noResponders:
            return JetStreamError(.noStreamResponse, "no stream acknowledged the publish to '\(subject)' (no stream listens on it)", underlying: error)
        case .timeout:
            return JetStreamError(.timeout, "no acknowledgement for the publish to '\(subject)' in time", underlying: error)
        default:
            return JetStreamError(.client, "publish to '\(subject)': \(error.message)", underlying: error)
        }
    }
}
