import NATS

extension JetStreamContext {
    /// Creates a stream. Creating an identical stream again succeeds; a different configuration under the same
    /// name throws `.streamNameInUse`.
    public func createStream(_ config: StreamConfig) async throws -> StreamInfo {
        try Self.validateName(config.name, what: "stream name")
        let info = try await request("STREAM.CREATE.\(config.name)", body: config, as: StreamInfo.self)
        rememberDirectGet(info)
        return info
    }

    /// Updates a stream's configuration (only some fields may change; the server says which).
    public func updateStream(_ config: StreamConfig) async throws -> StreamInfo {
        try Self.validateName(config.name, what: "stream name")
        let info = try await request("STREAM.UPDATE.\(config.name)", body: config, as: StreamInfo.self)
        rememberDirectGet(info)
        return info
    }

    /// The stream's configuration and state; with `subjectsFilter` (e.g. `">"`) also `state.subjects`, the
    /// message count per matching subject.
    public func streamInfo(_ name: String, subjectsFilter: String? = nil) async throws -> StreamInfo {
        try Self.validateName(name, what: "stream name")
        struct Body: Encodable {
            var subjectsFilter: String?
            enum CodingKeys: String, CodingKey { case subjectsFilter = "subjects_filter" }
        }
        let info: StreamInfo
        if let subjectsFilter {
            info = try await request("STREAM.INFO.\(name)", body: Body(subjectsFilter: subjectsFilter), as: StreamInfo.self)
        } else {
            info = try await request("STREAM.INFO.\(name)", as: StreamInfo.self)
        }
        rememberDirectGet(info)
        return info
    }

    /// Deletes a stream and everything in it.
    public func deleteStream(_ name: String) async throws {
        try Self.validateName(name, what: "stream name")
        _ = try await request("STREAM.DELETE.\(name)", as: APISuccess.self)
        shared.directGet.withLockedValue { $0[name] = nil }
    }

    /// Purges all messages, or only those on `subject`, optionally keeping the `keep` newest or removing only
    /// those below `sequence`. Returns how many were purged.
    @discardableResult
    public func purgeStream(_ name: String, subject: String? = nil, keep: UInt64? = nil, sequence: UInt64? = nil) async throws -> UInt64 {
        try Self.validateName(name, what: "stream name")
        if keep != nil && sequence != nil {
            throw JetStreamError(.invalidArgument, "purge takes either keep or sequence, not both")
        }
        struct Body: Encodable {
            var filter: String?
            var keep: UInt64?
            var sequence: UInt64?
            enum CodingKeys: String, CodingKey {
                case filter, keep
                case sequence = "seq"
            }
        }
        struct Reply: Decodable {
            var success: Bool
            var purged: UInt64?
        }
        let reply = try await request("STREAM.PURGE.\(name)", body: Body(filter: subject, keep: keep, sequence: sequence), as: Reply.self)
        return reply.purged ?? 0
    }

    /// The names of all streams, or of those that listen on `subject`; pages through the server's listing.
    public func streamNames(subject: String? = nil) async throws -> [String] {
        struct Body: Encodable {
            var offset: Int
            var subject: String?
        }
        struct Page: Decodable {
            var total: Int
            var offset: Int
            var limit: Int
            var streams: [String]?
        }
        var names: [String] = []
        while true {
            let page = try await request("STREAM.NAMES", body: Body(offset: names.count, subject: subject), as: Page.self)
            let streams = page.streams ?? []
            names += streams
            if streams.isEmpty || names.count >= page.total { return names }
        }
    }

    /// Information about every stream; pages through the server's listing.
    public func streams() async throws -> [StreamInfo] {
        struct Body: Encodable { var offset: Int }
        struct Page: Decodable {
            var total: Int
            var offset: Int
            var limit: Int
            var streams: [StreamInfo]?
        }
        var infos: [StreamInfo] = []
        while true {
            let page = try await request("STREAM.LIST", body: Body(offset: infos.count), as: Page.self)
            let streams = page.streams ?? []
            infos += streams
            if streams.isEmpty || infos.count >= page.total { break }
        }
        for info in infos { rememberDirectGet(info) }
        return infos
    }

    /// Deletes one message; `erase` overwrites its bytes on disk as well.
    public func deleteMessage(stream: String, sequence: UInt64, erase: Bool = false) async throws {
        try Self.validateName(stream, what: "stream name")
        struct Body: Encodable {
            var sequence: UInt64
            var noErase: Bool?
            enum CodingKeys: String, CodingKey {
                case sequence = "seq"
                case noErase = "no_erase"
            }
        }
        _ = try await request("STREAM.MSG.DELETE.\(stream)", body: Body(sequence: sequence, noErase: erase ? nil : true), as: APISuccess.self)
    }

    func rememberDirectGet(_ info: StreamInfo) {
        shared.directGet.withLockedValue { $0[info.config.name] = info.config.allowDirect }
    }

    /// Stream and consumer names become subject tokens: no dots, wildcards or blanks.
    static func validateName(_ name: String, what: String) throws {
        let invalid = name.isEmpty || name.utf8.contains { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "*") || byte == UInt8(ascii: ">")
                || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
        }
        if invalid { throw JetStreamError(.invalidArgument, "invalid \(what) '\(name)'") }
    }
}
