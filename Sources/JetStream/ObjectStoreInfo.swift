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
        self.modified = mtime.flatMap(ObjectStoreTime.parse) ?? Self.zeroTime
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
        try container.encode(ObjectStoreTime.format(modified), forKey: .mtime)
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

/// RFC 3339 times as Go writes them (`time.RFC3339Nano`, UTC, proleptic Gregorian — so the zero time is
/// `0001-01-01T00:00:00Z`, which calendar-based formatters get wrong).
enum ObjectStoreTime {
    static func format(_ date: Date) -> String {
        let totalNanos = (date.timeIntervalSince1970 * 1_000_000_000).rounded()
        var seconds = Int64((totalNanos / 1_000_000_000).rounded(.down))
        var nanos = Int64(totalNanos - Double(seconds) * 1_000_000_000)
        if nanos < 0 { nanos += 1_000_000_000; seconds -= 1 }
        if nanos >= 1_000_000_000 { nanos -= 1_000_000_000; seconds += 1 }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if nanos > 0 {
            var fraction = pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `nil` for anything else.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10]),
            let hour = number(bytes[11..<13]), let minute = number(bytes[14..<16]), let second = number(bytes[17..<19]),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, let digit = digitValue(bytes[index]) {
                if digits < 9 { nanos = nanos * 10 + digit }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let hours = number(bytes[(index + 1)..<(index + 3)]),
                let minutes = number(bytes[(index + 4)..<(index + 6)])
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1_000_000_000)
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func digitValue(_ byte: UInt8) -> Int64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int64(byte - UInt8(ascii: "0")) : nil
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for byte in bytes {
            guard let digit = digitValue(byte) else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
