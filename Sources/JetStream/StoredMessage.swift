import Foundation
import NATS
import NIOCore

/// A message as a stream stores it, from `getMessage`/`getLastMessage`.
public struct StoredMessage: Sendable {
    public var subject: String
    public var sequence: UInt64
    /// The headers it was published with (without the `Nats-Stream`/`Nats-Sequence`/… a direct get adds);
    /// nil when there were none.
    public var headers: NATSHeaders?
    public var payload: ByteBuffer
    /// When the stream stored it.
    public var time: Date

    public init(subject: String, sequence: UInt64, headers: NATSHeaders?, payload: ByteBuffer, time: Date) {
        self.subject = subject
        self.sequence = sequence
        self.headers = headers
        self.payload = payload
        self.time = time
    }

    /// The payload decoded as UTF-8.
    public var string: String { String(buffer: payload) }

    /// Reads a direct-get reply: the stored message with `Nats-Stream`, `Nats-Sequence`, `Nats-Time-Stamp` and
    /// `Nats-Subject` headers added by the server; status 404 when there is no such message.
    init(directGetReply reply: NATSMessage, stream: String) throws {
        if let status = reply.status, status != 200 {
            if status == 404 {
                throw JetStreamError(.messageNotFound, "no message found in stream \(stream)", apiCode: 404)
            }
            throw JetStreamError(.apiError, "direct get from \(stream): status \(status) \(reply.headers?.statusDescription ?? "")", apiCode: status)
        }
        guard var headers = reply.headers,
            let subject = headers[JetStreamHeader.subject],
            let sequence = headers[JetStreamHeader.sequence].flatMap(UInt64.init)
        else {
            throw JetStreamError(.invalidResponse, "direct get reply from \(stream) lacks Nats-Subject/Nats-Sequence")
        }
        let time = headers[JetStreamHeader.timeStamp].flatMap(APITime.parse) ?? Date(timeIntervalSince1970: 0)
        for name in [JetStreamHeader.stream, JetStreamHeader.sequence, JetStreamHeader.timeStamp, JetStreamHeader.subject,
                     JetStreamHeader.lastSequence] {
            headers.removeAll(named: name)
        }
        self.init(subject: subject, sequence: sequence, headers: headers.isEmpty ? nil : headers, payload: reply.payload, time: time)
    }
}

/// `STREAM.MSG.GET` reply: `{"message":{"subject","seq","hdrs","data","time"}}` with base64 header block and data.
struct StoredMessageReply: Decodable {
    struct Message: Decodable {
        var subject: String
        var seq: UInt64
        var hdrs: String?
        var data: String?
        var time: Date
    }
    var message: Message

    func storedMessage(stream: String) throws -> StoredMessage {
        var headers: NATSHeaders?
        if let encoded = message.hdrs, !encoded.isEmpty {
            guard let block = Data(base64Encoded: encoded) else {
                throw JetStreamError(.invalidResponse, "message \(message.seq) of \(stream): headers are not base64")
            }
            do {
                let parsed = try NATSHeaders(parsing: ByteBuffer(bytes: block))
                headers = parsed.isEmpty ? nil : parsed
            } catch {
                throw JetStreamError(.invalidResponse, "message \(message.seq) of \(stream): bad header block: \(error)")
            }
        }
        var payload = ByteBuffer()
        if let encoded = message.data, !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else {
                throw JetStreamError(.invalidResponse, "message \(message.seq) of \(stream): data is not base64")
            }
            payload = ByteBuffer(bytes: data)
        }
        return StoredMessage(subject: message.subject, sequence: message.seq, headers: headers, payload: payload, time: message.time)
    }
}

extension JetStreamContext {
    /// The message with `sequence` in `stream`.
    ///
    /// Uses direct get (any replica answers) when the stream allows it, else `STREAM.MSG.GET` (the leader);
    /// the choice is remembered per stream. - Throws: `.messageNotFound` when there is none.
    public func getMessage(stream: String, sequence: UInt64) async throws -> StoredMessage {
        try await getMessage(stream: stream, request: MessageGetRequest(sequence: sequence))
    }

    /// The newest message on `subject` (no wildcards needed; wildcards allowed) in `stream`.
    /// - Throws: `.messageNotFound` when there is none.
    public func getLastMessage(stream: String, subject: String) async throws -> StoredMessage {
        try await getMessage(stream: stream, request: MessageGetRequest(lastBySubject: subject))
    }

    func getMessage(stream: String, request body: MessageGetRequest) async throws -> StoredMessage {
        try Self.validateName(stream, what: "stream name")
        let payload = try APICoding.encode(body)
        if try await usesDirectGet(stream: stream) {
            do {
                let reply = try await client.request(payload, to: apiSubject("DIRECT.GET.\(stream)"), timeout: timeout)
                return try StoredMessage(directGetReply: reply, stream: stream)
            } catch let error as NATSError where error.code == .noResponders {
                // Allowed but nobody serves it (e.g. replicas not caught up, or an older server): stop trying.
                shared.directGet.withLockedValue { $0[stream] = false }
            } catch let error as NATSError {
                throw JetStreamError(requestTo: apiSubject("DIRECT.GET.\(stream)"), error)
            }
        }
        let reply = try await request("STREAM.MSG.GET.\(stream)", payload: payload, as: StoredMessageReply.self)
        return try reply.storedMessage(stream: stream)
    }

    private func usesDirectGet(stream: String) async throws -> Bool {
        if let known = shared.directGet.withLockedValue({ $0[stream] }) { return known }
        return try await streamInfo(stream).config.allowDirect
    }
}

/// The body of a message get, direct or not: `{"seq": n}` or `{"last_by_subj": "subject"}`.
struct MessageGetRequest: Encodable {
    var sequence: UInt64?
    var lastBySubject: String?
    enum CodingKeys: String, CodingKey {
        case sequence = "seq"
        case lastBySubject = "last_by_subj"
    }
}
