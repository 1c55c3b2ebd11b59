/// The `type` string of a control-interface reply envelope.
public struct NexResponseType: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The wire string, e.g. `io.nats.nex.v1.ping_response`.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Replies to `$NEX.PING`, `$NEX.PING.{node}` and `$NEX.WPING.…`.
    public static let ping = NexResponseType("io.nats.nex.v1.ping_response")
    /// Replies to `$NEX.AUCTION`.
    public static let auction = NexResponseType("io.nats.nex.v1.auction_response")
    /// Replies to `$NEX.INFO.{ns}.{node}`.
    public static let info = NexResponseType("io.nats.nex.v1.info_response")
    /// Replies to `$NEX.DEPLOY.{ns}.{node}`.
    public static let run = NexResponseType("io.nats.nex.v1.run_response")
    /// Replies to `$NEX.STOP.{ns}.{node}`.
    public static let stop = NexResponseType("io.nats.nex.v1.stop_response")
    /// Replies to `$NEX.LAMEDUCK.{node}`.
    public static let lameDuck = NexResponseType("io.nats.nex.v1.lameduck_response")

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A control-interface reply: `{"type","data","error"}`.
///
/// Success is `{"type":"…","data":{…}}`; failure (Go `respondFail`) is
/// `{"type":"…","data":"","error":"<reason>"}` — Go puts an empty `[]byte` in `data`, which it
/// writes as `""`. A reader treats any non-null `error` as a failure, as the Go client does.
public struct NexEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    /// What the reply answers.
    public var type: NexResponseType
    /// The payload or the failure text.
    public var outcome: Outcome

    /// Success or failure of the request.
    public enum Outcome: Sendable {
        case success(Payload)
        case failure(reason: String)
    }

    public init(type: NexResponseType, outcome: Outcome) {
        self.type = type
        self.outcome = outcome
    }

    /// A success envelope.
    public static func success(_ type: NexResponseType, _ payload: Payload) -> NexEnvelope {
        NexEnvelope(type: type, outcome: .success(payload))
    }

    /// A failure envelope with the reason text the spec gives for that failure.
    public static func failure(_ type: NexResponseType, reason: String) -> NexEnvelope {
        NexEnvelope(type: type, outcome: .failure(reason: reason))
    }

    /// The payload, or a ``NexAPIError`` with code ``NexAPIError/Code/remoteFailure`` and the reason.
    public func get() throws(NexAPIError) -> Payload {
        switch outcome {
        case .success(let payload): return payload
        case .failure(let reason): throw NexAPIError(code: .remoteFailure, message: reason)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type, data, error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = NexResponseType(try container.goDecode(.type) as String)
        if container.contains(.error), try !container.decodeNil(forKey: .error) {
            // `error` is a Go `interface{}`: a string in practice, but show anything else too.
            let reason: String
            if let text = try? container.decode(String.self, forKey: .error) {
                reason = text
            } else if let value = try? container.decode(JSONScalarText.self, forKey: .error) {
                reason = value.text
            } else {
                reason = "unreadable error value"
            }
            outcome = .failure(reason: reason)
        } else {
            outcome = .success(try container.decode(Payload.self, forKey: .data))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch outcome {
        case .success(let payload):
            try container.encode(payload, forKey: .data)
        case .failure(let reason):
            try container.encode("", forKey: .data)
            try container.encode(reason, forKey: .error)
        }
    }
}

/// A non-string JSON scalar read as text, for error values that are not strings.
private struct JSONScalarText: Decodable {
    let text: String
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            text = String(bool)
        } else if let int = try? container.decode(Int64.self) {
            text = String(int)
        } else {
            text = String(try container.decode(Double.self))
        }
    }
}
