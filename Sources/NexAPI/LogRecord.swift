/// A Go `slog.Level`, which travels as its string form (`"INFO"`, `"ERROR+2"`, `"DEBUG-4"`).
public struct NexLogLevel: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The numeric slog level (DEBUG −4, INFO 0, WARN 4, ERROR 8).
    public var value: Int

    public init(_ value: Int) { self.value = value }

    public static let trace = NexLogLevel(-8)
    public static let debug = NexLogLevel(-4)
    public static let info = NexLogLevel(0)
    public static let warn = NexLogLevel(4)
    public static let error = NexLogLevel(8)
    /// 0.x's fatal level (`ERROR+2`).
    public static let fatal = NexLogLevel(10)
    /// 0.x's panic level (`ERROR+4`).
    public static let panic = NexLogLevel(12)

    /// slog's `Level.String()`: the nearest named level at or below, plus the signed offset.
    public var description: String {
        func named(_ base: String, _ offset: Int) -> String {
            offset == 0 ? base : base + (offset > 0 ? "+" : "") + String(offset)
        }
        switch value {
        case ..<0: return named("DEBUG", value + 4)
        case ..<4: return named("INFO", value)
        case ..<8: return named("WARN", value - 4)
        default: return named("ERROR", value - 8)
        }
    }

    /// Parses slog's text form (case-insensitive name, optional signed offset), like `Level.UnmarshalText`.
    public init?(text: String) {
        var name = Substring(text)
        var offset = 0
        if let signIndex = text.firstIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let parsed = Int(text[signIndex...]) else { return nil }
            offset = parsed
            name = text[..<signIndex]
        }
        switch name.uppercased() {
        case "DEBUG": value = -4 + offset
        case "INFO": value = offset
        case "WARN": value = 4 + offset
        case "ERROR": value = 8 + offset
        default: return nil
        }
    }

    public static func < (lhs: NexLogLevel, rhs: NexLogLevel) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let level = NexLogLevel(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a slog level"))
        }
        self = level
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One workload log record, published on `$NEX.logs.{ns}.{nodeId}.{workloadName}.{workloadId}`
/// (Go `emittedLog`): `{"text","level","id"}`.
///
/// Stdout writes are INFO, stderr writes ERROR.
public struct LogRecord: Hashable, Sendable, Codable {
    public var text: String
    public var level: NexLogLevel
    /// The workload ID.
    public var id: String

    public init(text: String, level: NexLogLevel, id: String) {
        self.text = text
        self.level = level
        self.id = id
    }

    private enum CodingKeys: String, CodingKey { case text, level, id }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.goDecode(.text)
        level = try c.decodeIfPresent(NexLogLevel.self, forKey: .level) ?? .info
        id = try c.goDecode(.id)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(level, forKey: .level)
        try c.encode(id, forKey: .id)
    }
}
