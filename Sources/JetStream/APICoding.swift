import Foundation
import NIOCore

/// The error object of a JetStream API reply: `{"code":400,"err_code":10058,"description":"…"}`.
struct APIError: Decodable, Sendable {
    var code: Int?
    var errorCode: Int?
    var description: String?

    enum CodingKeys: String, CodingKey {
        case code
        case errorCode = "err_code"
        case description
    }
}

/// Every API reply may carry `error` instead of its payload; this looks only at that.
struct APIErrorEnvelope: Decodable {
    var error: APIError?
}

/// JSON coding as the JetStream API wants it: times as RFC 3339 with nanoseconds, durations as nanoseconds.
enum APICoding {
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(APITime.format(date))
        }
        return encoder
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = APITime.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// Shared: JSONEncoder/Decoder are thread-safe once configured.
    static let encoder = makeEncoder()
    static let decoder = makeDecoder()

    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try encoder.encode(value))
    }

    /// Decodes `Response` from `payload`, throwing the API's error object as `JetStreamError` first.
    static func decodeResponse<Response: Decodable>(_ payload: ByteBuffer, as type: Response.Type, subject: String) throws -> Response {
        let data = Data(payload.readableBytesView)
        let envelope: APIErrorEnvelope
        do {
            envelope = try decoder.decode(APIErrorEnvelope.self, from: data)
        } catch {
            throw JetStreamError(.invalidResponse, "\(subject): reply is not JSON: \(String(buffer: payload).prefix(200))")
        }
        if let apiError = envelope.error { throw JetStreamError(api: apiError) }
        do {
            return try decoder.decode(Response.self, from: data)
        } catch {
            throw JetStreamError(.invalidResponse, "\(subject): cannot decode \(Response.self): \(error)")
        }
    }
}

/// Durations travel as integer nanoseconds.
extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    static func nanoseconds(_ value: Int64) -> Duration { .nanoseconds(Int(value)) }
}

extension KeyedDecodingContainer {
    func decodeNanoseconds(forKey key: Key) throws -> Duration? {
        try decodeIfPresent(Int64.self, forKey: key).map { Duration.nanoseconds(Int($0)) }
    }
}

extension KeyedEncodingContainer {
    mutating func encodeNanoseconds(_ duration: Duration?, forKey key: Key) throws {
        if let duration { try encode(duration.nanoseconds, forKey: key) }
    }
}

/// RFC 3339 times with up to nine fractional digits, as nats-server writes them
/// ("2026-11-29T03:00:00.123456789Z", or with a "+01:00" offset). Foundation's ISO 8601 formatter stops at
/// milliseconds, so this is done by hand with the civil-calendar arithmetic (proleptic Gregorian, UTC).
enum APITime {
    /// Parses a time; nil when `text` is not RFC 3339.
    static func parse(_ text: String) -> Date? {
        var bytes = Array(text.utf8)[...]
        func number(_ digits: Int) -> Int? {
            guard bytes.count >= digits else { return nil }
            var value = 0
            for byte in bytes.prefix(digits) {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            bytes = bytes.dropFirst(digits)
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard let first = bytes.first, characters.utf8.contains(first) else { return false }
            bytes = bytes.dropFirst()
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        var nanos = 0
        if expect(".") {
            var digits = 0
            while let byte = bytes.first, byte >= 48, byte <= 57 {
                if digits < 9 {
                    nanos = nanos * 10 + Int(byte - 48)
                    digits += 1
                }
                bytes = bytes.dropFirst()
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { nanos *= 10 }
        }
        var offsetSeconds = 0
        if expect("Zz") {
            offsetSeconds = 0
        } else if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard bytes.isEmpty, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let unixSeconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(unixSeconds) + Double(nanos) / 1e9)
    }

    /// Formats in UTC as Go's `time.RFC3339Nano` does: nanoseconds (as precise as `Date` holds them) with
    /// trailing zeros dropped, no fraction for whole seconds; proleptic Gregorian, so Go's zero time is
    /// `0001-01-01T00:00:00Z` (which calendar-based formatters get wrong).
    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var nanos = Int(((interval - Double(seconds)) * 1e9).rounded())
        if nanos >= 1_000_000_000 {
            seconds += 1
            nanos -= 1_000_000_000
        }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if nanos > 0 {
            var fraction = pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
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
}
