import NATS

extension JetStreamContext {
    /// Creates (or, with an identical configuration, looks up) a consumer on `stream`.
    ///
    /// Durable when `config.durableName` is set (`CONSUMER.DURABLE.CREATE`), named when only `config.name` is
    /// set (`CONSUMER.CREATE.<stream>.<name>[.<filter>]`), else ephemeral (`CONSUMER.CREATE.<stream>`).
    public func createConsumer(stream: String, config: ConsumerConfig) async throws -> ConsumerInfo {
        try await request(Self.consumerCreateSubject(stream: stream, config: config),
                          body: ConsumerCreateRequest(stream: stream, config: config), as: ConsumerInfo.self)
    }

    /// The API subject (without prefix) that creates this consumer.
    static func consumerCreateSubject(stream: String, config: ConsumerConfig) throws -> String {
        try validateName(stream, what: "stream name")
        if let durable = config.durableName {
            try validateName(durable, what: "durable name")
            if let name = config.name, name != durable {
                throw JetStreamError(.invalidArgument, "consumer name '\(name)' differs from durable name '\(durable)'")
            }
            return "CONSUMER.DURABLE.CREATE.\(stream).\(durable)"
        }
        if let name = config.name {
            try validateName(name, what: "consumer name")
            if let filter = config.filterSubject, !filter.isEmpty, filter != ">" {
                return "CONSUMER.CREATE.\(stream).\(name).\(filter)"
            }
            return "CONSUMER.CREATE.\(stream).\(name)"
        }
        return "CONSUMER.CREATE.\(stream)"
    }

    /// A consumer's configuration and progress.
    public func consumerInfo(stream: String, name: String) async throws -> ConsumerInfo {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(name, what: "consumer name")
        return try await request("CONSUMER.INFO.\(stream).\(name)", as: ConsumerInfo.self)
    }

    /// Deletes a consumer.
    public func deleteConsumer(stream: String, name: String) async throws {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(name, what: "consumer name")
        _ = try await request("CONSUMER.DELETE.\(stream).\(name)", as: APISuccess.self)
    }

    /// The names of the consumers of `stream`; pages through the server's listing.
    public func consumerNames(stream: String) async throws -> [String] {
        try Self.validateName(stream, what: "stream name")
        struct Body: Encodable { var offset: Int }
        struct Page: Decodable {
            var total: Int
            var consumers: [String]?
        }
        var names: [String] = []
        while true {
            let page = try await request("CONSUMER.NAMES.\(stream)", body: Body(offset: names.count), as: Page.self)
            let consumers = page.consumers ?? []
            names += consumers
            if consumers.isEmpty || names.count >= page.total { return names }
        }
    }

    /// A handle for pulling from an existing pull consumer (nothing is sent until you fetch).
    public func pullConsumer(stream: String, name: String) -> PullConsumer {
        PullConsumer(context: self, stream: stream, name: name)
    }
}

/// The body of `CONSUMER.CREATE`: `{"stream_name": …, "config": {…}}`.
struct ConsumerCreateRequest: Encodable {
    var stream: String
    var config: ConsumerConfig
    enum CodingKeys: String, CodingKey {
        case stream = "stream_name"
        case config
    }
}
