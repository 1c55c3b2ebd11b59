/// Where a workload artifact lives: an object store bucket and key (`nats://BUCKET/key`).
///
/// On the wire this is Go's `*url.URL`, which has no JSON methods and is therefore encoded as a struct
/// with exported fields (Go 1.22):
/// `{"Scheme":"nats","Opaque":"","User":null,"Host":"BUCKET","Path":"/key","RawPath":"","OmitHost":false,
/// "ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}`. Decoding accepts that object
/// (field names case-insensitive, as Go matches them) and also a plain URL string; encoding always
/// writes the object, with every field kept from decoding so a relayed request is unchanged.
public struct ArtifactLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `Scheme`, normally `nats`.
    public var scheme: String
    /// `Opaque`: the text after `scheme:` for URLs without `//` (never used by Nex).
    public var opaque: String
    /// `User`: user info is never used by Nex; Go writes `null` when absent. A non-null value is
    /// kept as `{}` — `url.Userinfo` has only unexported fields, so Go writes and reads it as an
    /// empty object and loses the credentials anyway.
    public var hasUser: Bool
    /// `Host`: the object store bucket.
    public var host: String
    /// `Path`: `/` followed by the object key.
    public var path: String
    /// `RawPath`, `ForceQuery`, `RawQuery`, `Fragment`, `RawFragment`, `OmitHost`: kept for fidelity.
    public var rawPath: String
    public var omitHost: Bool
    public var forceQuery: Bool
    public var rawQuery: String
    public var fragment: String
    public var rawFragment: String

    /// `nats://bucket/key`.
    public init(bucket: String, key: String) {
        self.init(scheme: "nats", host: bucket, path: "/" + key)
    }

    init(scheme: String, opaque: String = "", hasUser: Bool = false, host: String, path: String, rawPath: String = "",
         omitHost: Bool = false, forceQuery: Bool = false, rawQuery: String = "", fragment: String = "", rawFragment: String = "") {
        self.scheme = scheme
        self.opaque = opaque
        self.hasUser = hasUser
        self.host = host
        self.path = path
        self.rawPath = rawPath
        self.omitHost = omitHost
        self.forceQuery = forceQuery
        self.rawQuery = rawQuery
        self.fragment = fragment
        self.rawFragment = rawFragment
    }

    /// Parses `scheme://host/path[?query][#fragment]`, e.g. `nats://NEXCLIFILES/echoservice`.
    public init(string: String) throws(NexAPIError) {
        guard let schemeEnd = string.range(of: "://") else {
            throw NexAPIError(code: .invalidLocation, message: "location \"\(string)\" is not a URL of the form nats://BUCKET/key")
        }
        let scheme = string[..<schemeEnd.lowerBound]
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else {
            throw NexAPIError(code: .invalidLocation, message: "location \"\(string)\" has an invalid scheme")
        }
        var rest = string[schemeEnd.upperBound...]
        var fragment = ""
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        var rawQuery = ""
        var forceQuery = false
        if let question = rest.firstIndex(of: "?") {
            rawQuery = String(rest[rest.index(after: question)...])
            forceQuery = rawQuery.isEmpty
            rest = rest[..<question]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let host = String(rest[..<slash])
        if host.contains("@") {
            throw NexAPIError(code: .invalidLocation, message: "location \"\(string)\" must not carry user information")
        }
        guard let path = Self.percentDecode(rest[slash...]), let decodedFragment = Self.percentDecode(fragment[...]) else {
            throw NexAPIError(code: .invalidLocation, message: "location \"\(string)\" has a bad percent escape")
        }
        self.init(scheme: scheme.lowercased(), host: host, path: path, forceQuery: forceQuery, rawQuery: rawQuery,
                  fragment: decodedFragment, rawFragment: decodedFragment == fragment ? "" : fragment)
    }

    /// The object store bucket (`Host`).
    public var bucket: String { host }

    /// The object key: `Path` without its leading and trailing `/` (what the 0.x node uses).
    public var key: String {
        var key = Substring(path)
        while key.hasPrefix("/") { key = key.dropFirst() }
        while key.hasSuffix("/") { key = key.dropLast() }
        return String(key)
    }

    /// The URL text, e.g. `nats://NEXCLIFILES/echoservice`.
    public var description: String {
        var text = scheme + "://" + host + (rawPath.isEmpty ? path : rawPath)
        if forceQuery || !rawQuery.isEmpty { text += "?" + rawQuery }
        if !fragment.isEmpty { text += "#" + (rawFragment.isEmpty ? fragment : rawFragment) }
        return text
    }

    private static func percentDecode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2,
                      let high = hexValue(iterator.removeFirst()), let low = hexValue(iterator.removeFirst())
                else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: Codable

    /// Go 1.22 `url.URL` field order.
    private enum Field: String, CodingKey, CaseIterable {
        case scheme = "Scheme", opaque = "Opaque", user = "User", host = "Host", path = "Path", rawPath = "RawPath"
        case omitHost = "OmitHost", forceQuery = "ForceQuery", rawQuery = "RawQuery", fragment = "Fragment", rawFragment = "RawFragment"
    }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            do { try self.init(string: text) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message, underlyingError: error))
            }
            return
        }
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        // Go's decoder matches field names case-insensitively; the first match wins here.
        var byLowercased: [String: AnyCodingKey] = [:]
        for key in container.allKeys where byLowercased[key.stringValue.lowercased()] == nil {
            byLowercased[key.stringValue.lowercased()] = key
        }
        func string(_ field: Field) throws -> String {
            guard let key = byLowercased[field.rawValue.lowercased()] else { return "" }
            return try container.decodeIfPresent(String.self, forKey: key) ?? ""
        }
        func bool(_ field: Field) throws -> Bool {
            guard let key = byLowercased[field.rawValue.lowercased()] else { return false }
            return try container.decodeIfPresent(Bool.self, forKey: key) ?? false
        }
        var hasUser = false
        if let key = byLowercased["user"], try !container.decodeNil(forKey: key) {
            hasUser = true
        }
        self.init(scheme: try string(.scheme), opaque: try string(.opaque), hasUser: hasUser, host: try string(.host),
                  path: try string(.path), rawPath: try string(.rawPath), omitHost: try bool(.omitHost),
                  forceQuery: try bool(.forceQuery), rawQuery: try string(.rawQuery), fragment: try string(.fragment),
                  rawFragment: try string(.rawFragment))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Field.self)
        try container.encode(scheme, forKey: .scheme)
        try container.encode(opaque, forKey: .opaque)
        if hasUser {
            _ = container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .user)
        } else {
            try container.encodeNil(forKey: .user)
        }
        try container.encode(host, forKey: .host)
        try container.encode(path, forKey: .path)
        try container.encode(rawPath, forKey: .rawPath)
        try container.encode(omitHost, forKey: .omitHost)
        try container.encode(forceQuery, forKey: .forceQuery)
        try container.encode(rawQuery, forKey: .rawQuery)
        try container.encode(fragment, forKey: .fragment)
        try container.encode(rawFragment, forKey: .rawFragment)
    }
}
