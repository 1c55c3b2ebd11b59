import Foundation

/// What a caller says about an object it puts: everything but the content.
public struct ObjectMeta: Sendable, Hashable {
    /// The object's name: any non-empty string (it is base64url-encoded into the meta subject).
    public var name: String
    /// Free text stored with the object.
    public var description: String?
    /// Headers stored with the object (not on the chunk messages).
    public var headers: NATSHeaders?
    /// Bytes per chunk message; `nil` means 128 KiB, the nats.go default.
    public var chunkSize: Int?
    /// Free-form key/value metadata (`metadata` in newer nats.go; clients that do not know it ignore it).
    public var metadata: [String: String]?

    /// Creates meta for `name`.
    public init(name: String, description: String? = nil, headers: NATSHeaders? = nil, chunkSize: Int? = nil,
                metadata: [String: String]? = nil) {
        self.name = name
        self.description = description
        self.headers = headers
        self.chunkSize = chunkSize
        self.metadata = metadata
    }
}

/// Where a link object points: another object (`name` set) or a whole bucket (`name` nil).
public struct ObjectLink: Codable, Sendable, Hashable {
    /// The bucket the link points into.
    public var bucket: String
    /// The linked object's name; `nil` for a link to the whole bucket.
    public var name: String?

    /// Creates a link.
    public init(bucket: String, name: String? = nil) {
        self.bucket = bucket
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case bucket
        case name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.bucket = try container.decodeIfPresent(String.self, forKey: .bucket) ?? ""
        let name = try container.decodeIfPresent(String.self, forKey: .name)
        self.name = (name?.isEmpty ?? true) ? nil : name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bucket, forKey: .bucket)
        if let name, !name.isEmpty { try container.encode(name, forKey: .name) }
    }
}

/// The `options` of object info: a link, and the chunk size the object was written with.
public struct ObjectMetaOptions: Codable, Sendable, Hashable {
    /// Set on link objects only.
    public var link: ObjectLink?
    /// The chunk size used by the writer (`max_chunk_size`).
    public var maxChunkSize: Int?

    /// Creates options.
    public init(link: ObjectLink? = nil, maxChunkSize: Int? = nil) {
        self.link = link
        self.maxChunkSize = maxChunkSize
    }

    /// True when neither field is set; such options are left off the wire.
    public var isEmpty: Bool { link == nil && maxChunkSize == nil }

    enum CodingKeys: String, CodingKey {
        case link
        case maxChunkSize = "max_chunk_size"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.link = try container.decodeIfPresent(ObjectLink.self, forKey: .link)
        let size = try container.decodeIfPresent(Int.self, forKey: .maxChunkSize)
        self.maxChunkSize = size == 0 ? nil : size
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(link, forKey: .link)
        if let maxChunkSize, maxChunkSize > 0 { try container.encode(maxChunkSize, forKey: .maxChunkSize) }
    }
}

/// Everything known about a stored object: its meta plus where and how it is stored. This is the JSON of the
/// meta message (ADR-20), readable by nats.go and nats-py and written like them.
public struct ObjectInfo: Codable, Sendable, Hashable {
    /// The object's name.
    public var name: String
    /// Free text stored with the object.
    public var description: String?
    /// Headers stored with the object.
    public var headers: NATSHeaders?
    /// Free-form key/value metadata, kept as written (also across delete).
    public var metadata: [String: String]?
    /// Link and chunk size.
    public var options: ObjectMetaOptions
    /// The bucket the meta lives in.
    public var bucket: String
    /// The nuid naming this version's chunk subject.
    public var nuid: String
    /// Total content bytes.
    public var size: UInt64
    /// When the meta was stored: the meta message's stream timestamp when read back (the `mtime` on the wire is
    /// not authoritative — nats.go stores the zero time there).
    public var modified: Date
    /// Number of chunk messages.
    public var chunks: Int
    /// `SHA-256=<base64url>` of the content; nil for links and deleted objects.
    public var digest: String?
    /// True for the delete marker left by `delete`.
    public var deleted: Bool

    /// Creates info (for tests and for hand-written metas such as links).
    public init(
        name: String, description: String? = nil, headers: NATSHeaders? = nil, metadata: [String: String]? = nil,
        options: ObjectMetaOptions = .init(),
        bucket: String, nuid: String, size: UInt64 = 0, modified: Date = ObjectInfo.zeroTime, chunks: Int = 0,
        digest: String? = nil, deleted: Bool = false
    ) {
        self.name = name
        self.description = description
        self.headers = headers
        self.metadata = metadata
        self.options = options
        self.bucket = bucket
        self.nuid = nuid
        self.size = size
        self.modified = modified
        self.chunks = chunks
        self.digest = digest
        self.deleted = deleted
    }

    /// The link this object is, if it is one.
    public var link: ObjectLink? { options.link }
    /// True for link objects.
    public var isLink: Bool { options.link != nil }

    /// Go's zero `time.Time` (0001-01-01T00:00:00Z), which nats.go writes as `mtime`.
    public static let zeroTime = Date(timeIntervalSince1970: -62_135_596_800)

    enum CodingKeys: String, CodingKey {
        case name, description, headers, metadata, options, bucket, nuid, size, mtime, chunks, digest, deleted
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        let description = try container.decodeIfPresent(String.self, forKey: .description)
        self.description = (description?.isEmpty ?? true) ? nil : description
        self.headers = try Self.decodeHeaders(container)
        let metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata)
        self.metadata = (metadata?.isEmpty ?? true) ? nil : metadata
        self.options = try container.decodeIfPresent(ObjectMetaOptions.self, forKey: .options) ?? .init()
        self.bucket = try container.decodeIfPresent(String.self, forKey: .bucket) ?? ""
        self.nuid = try container.decodeIfPresent(String.self, forKey: .nuid) ?? ""
        self.size = try container.decodeIfPresent(UInt64.self, forKey: .size) ?? 0
        let mtime = try container.decodeIfPresent(String.self, forKey: .mtime)
        self.modified = mtime.flatMap(APITime.parse) ?? Self.zeroTime
        self.chunks = try container.decodeIfPresent(Int.self, forKey: .chunks) ?? 0
        let digest = try container.decodeIfPresent(String.self, forKey: .digest)
        self.digest = (digest?.isEmpty ?? true) ? nil : digest
        self.deleted = try container.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
    }

    /// Writes the fields in nats.go's order with its `omitempty` choices.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        if let description, !description.isEmpty { try container.encode(description, forKey: .description) }
        if let headers, !headers.isEmpty {
            // Go's nats.Header is map[string][]string.
            var map: [String: [String]] = [:]
            for field in headers { map[field.name, default: []].append(field.value) }
            try container.encode(map, forKey: .headers)
        }
        if let metadata, !metadata.isEmpty { try container.encode(metadata, forKey: .metadata) }
        if !options.isEmpty { try container.encode(options, forKey: .options) }
        try container.encode(bucket, forKey: .bucket)
        try container.encode(nuid, forKey: .nuid)
        try container.encode(size, forKey: .size)
        try container.encode(APITime.format(modified), forKey: .mtime)
        try container.encode(chunks, forKey: .chunks)
        if let digest, !digest.isEmpty { try container.encode(digest, forKey: .digest) }
        if deleted { try container.encode(true, forKey: .deleted) }
    }

    /// nats.go writes `{"Name":["v"]}`; be lenient about `{"Name":"v"}` from hand-written metas.
    private static func decodeHeaders(_ container: KeyedDecodingContainer<CodingKeys>) throws -> NATSHeaders? {
        guard container.contains(.headers), try !container.decodeNil(forKey: .headers) else { return nil }
        var headers = NATSHeaders()
        if let multi = try? container.decode([String: [String]].self, forKey: .headers) {
            for name in multi.keys.sorted() {
                for value in multi[name] ?? [] { headers.append(value, for: name) }
            }
        } else {
            let single = try container.decode([String: String].self, forKey: .headers)
            for name in single.keys.sorted() { headers.append(single[name] ?? "", for: name) }
        }
        return headers.isEmpty ? nil : headers
    }
}
