import Foundation

/// Encodes and decodes Nex wire values exactly as the Go 0.x implementation does.
///
/// ``encode(_:)`` writes members in Go's struct-field order with Go's escaping, so bytes compare equal
/// to what a Go node or client sends; ``decode(_:from:)`` accepts anything Go would produce.
public enum NexJSON {
    /// The Go-compatible JSON bytes of `value`.
    public static func encode(_ value: some Encodable) throws(NexAPIError) -> [UInt8] {
        do {
            return try GoJSONEncoder().encode(value)
        } catch {
            throw NexAPIError(code: .encodingFailed, message: "cannot encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes `type` from JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(NexAPIError) -> T {
        try decode(type, from: bytes, userInfo: [:])
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>, userInfo: [CodingUserInfoKey: any Sendable]) throws(NexAPIError) -> T {
        do {
            let decoder = JSONDecoder()
            decoder.userInfo = userInfo
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as NexAPIError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw NexAPIError(code: .invalidJSON, message: "invalid \(T.self) JSON at \(pathText(context.codingPath)): \(underlyingText(context))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw NexAPIError(code: .invalidJSON, message: "invalid \(T.self) JSON: missing \"\(key.stringValue)\" at \(pathText(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw NexAPIError(code: .invalidJSON, message: "invalid \(T.self) JSON at \(pathText(context.codingPath + [])): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw NexAPIError(code: .invalidJSON, message: "invalid \(T.self) JSON at \(pathText(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw NexAPIError(code: .invalidJSON, message: "invalid \(T.self) JSON: \(error)")
        }
    }

    private static func pathText(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func underlyingText(_ context: DecodingError.Context) -> String {
        if let nex = context.underlyingError as? NexAPIError { return nex.message }
        return context.debugDescription
    }
}

/// A coding key made at run time, for Go's case-insensitive field matching and flattened extensions.
struct AnyCodingKey: CodingKey, Hashable {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Types with a Go zero value: what `encoding/json` leaves in a field that is absent or `null`.
protocol GoZeroValue {
    static var goZero: Self { get }
}

extension String: GoZeroValue { static var goZero: String { "" } }
extension Bool: GoZeroValue { static var goZero: Bool { false } }
extension Int: GoZeroValue { static var goZero: Int { 0 } }
extension Int64: GoZeroValue { static var goZero: Int64 { 0 } }
extension Array: GoZeroValue { static var goZero: [Element] { [] } }
extension Dictionary: GoZeroValue { static var goZero: [Key: Value] { [:] } }

extension KeyedDecodingContainer {
    /// Go semantics for a non-pointer field: absent or `null` leaves the zero value.
    func goDecode<T: Decodable & GoZeroValue>(_ key: Key) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? T.goZero
    }
}

extension KeyedEncodingContainer {
    /// Go `omitempty` for strings, numbers, bools, slices and maps: skip the member when it is empty.
    mutating func encodeOmitEmpty(_ value: String, forKey key: Key) throws {
        if !value.isEmpty { try encode(value, forKey: key) }
    }
    mutating func encodeOmitEmpty(_ value: Bool, forKey key: Key) throws {
        if value { try encode(value, forKey: key) }
    }
    mutating func encodeOmitEmpty<T: BinaryInteger & Encodable>(_ value: T, forKey key: Key) throws {
        if value != 0 { try encode(value, forKey: key) }
    }
    mutating func encodeOmitEmpty<T: Encodable>(_ value: [T], forKey key: Key) throws {
        if !value.isEmpty { try encode(value, forKey: key) }
    }
    mutating func encodeOmitEmpty<T: Encodable>(_ value: [String: T], forKey key: Key) throws {
        if !value.isEmpty { try encode(value, forKey: key) }
    }
    /// A Go pointer or interface with `omitempty`: skipped only when nil.
    mutating func encodeOmitNil<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    /// A Go pointer, slice or map without `omitempty`: nil is written as `null`.
    mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
