import Foundation

/// A Go `time.Time` as it travels in JSON: RFC 3339 with up to nanosecond precision
/// (`time.RFC3339Nano`, trailing zeros of the fraction dropped) and the writer's UTC offset.
///
/// Foundation's `Date` is a `Double` and loses nanoseconds, so the value keeps whole seconds,
/// nanoseconds and the offset separately; re-encoding a decoded time gives the same text.
public struct GoTime: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var unixSeconds: Int64
    /// Nanoseconds within the second, `0..<1_000_000_000`.
    public var nanoseconds: Int32
    /// The writer's offset from UTC in seconds (`Z` when 0).
    public var utcOffsetSeconds: Int32

    /// A time from its parts; `nanoseconds` outside one second carries into the seconds.
    public init(unixSeconds: Int64, nanoseconds: Int32 = 0, utcOffsetSeconds: Int32 = 0) {
        let carry = Int64(nanoseconds).quotientAndRemainder(dividingBy: 1_000_000_000)
        var seconds = unixSeconds + carry.quotient
        var nanos = carry.remainder
        if nanos < 0 { nanos += 1_000_000_000; seconds -= 1 }
        self.unixSeconds = seconds
        self.nanoseconds = Int32(nanos)
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// The time of a `Date`, in UTC, rounded to the microsecond (`Date` has no more precision
    /// for current dates).
    public init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let split = Int64(micros).quotientAndRemainder(dividingBy: 1_000_000)
        self.init(unixSeconds: split.quotient, nanoseconds: Int32(split.remainder * 1000))
    }

    /// The current wall-clock time in UTC, with nanoseconds.
    public static func now() -> GoTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return GoTime(unixSeconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// The instant as a `Date` (sub-microsecond precision is lost).
    public var date: Date {
        Date(timeIntervalSince1970: Double(unixSeconds) + Double(nanoseconds) / 1e9)
    }

    /// The same instant with a zero offset (what CloudEvents timestamps use).
    public var utc: GoTime { GoTime(unixSeconds: unixSeconds, nanoseconds: nanoseconds) }

    public static func < (lhs: GoTime, rhs: GoTime) -> Bool {
        (lhs.unixSeconds, lhs.nanoseconds) < (rhs.unixSeconds, rhs.nanoseconds)
    }

    // MARK: RFC 3339

    /// Parses RFC 3339 (`2024-10-16T12:01:02.123456789Z`, `…+02:00`), like Go's `time.Parse(time.RFC3339Nano, …)`.
    public init(rfc3339 text: String) throws(NexAPIError) {
        let bytes = Array(text.utf8)
        func fail(_ why: String) -> NexAPIError {
            NexAPIError(code: .invalidTimestamp, message: "\"\(text)\" is not an RFC 3339 time: \(why)")
        }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func expect(_ index: Int, _ chars: String) -> Bool {
            index < bytes.count && chars.utf8.contains(bytes[index])
        }
        guard let year = digits(0, 4), expect(4, "-"), let month = digits(5, 2), expect(7, "-"),
              let day = digits(8, 2), expect(10, "Tt"), let hour = digits(11, 2), expect(13, ":"),
              let minute = digits(14, 2), expect(16, ":"), let second = digits(17, 2)
        else { throw fail("expected YYYY-MM-DDTHH:MM:SS") }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { throw fail("a date or time field is out of range") }
        var index = 19
        var nanos = 0
        if expect(index, ".") {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if count < 9 { nanos = nanos * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { throw fail("empty fraction") }
            for _ in min(count, 9)..<9 { nanos *= 10 }
        }
        var offset = 0
        if expect(index, "Zz") {
            index += 1
        } else if expect(index, "+-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard let offHours = digits(index + 1, 2), expect(index + 3, ":"), let offMinutes = digits(index + 4, 2),
                  offHours < 24, offMinutes < 60
            else { throw fail("bad UTC offset") }
            offset = sign * (offHours * 3600 + offMinutes * 60)
            index += 6
        } else {
            throw fail("missing UTC offset")
        }
        guard index == bytes.count else { throw fail("trailing characters") }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let local = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(unixSeconds: local - Int64(offset), nanoseconds: Int32(nanos), utcOffsetSeconds: Int32(offset))
    }

    /// `time.RFC3339Nano` text: the fraction without trailing zeros (none when zero), `Z` or `±hh:mm`.
    public var rfc3339Nano: String {
        let local = unixSeconds + Int64(utcOffsetSeconds)
        let split = local.quotientAndRemainder(dividingBy: 86_400)
        var days = split.quotient
        var secondOfDay = split.remainder
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = Self.civilFromDays(days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(Int(secondOfDay / 3600), 2) + ":" + pad(Int(secondOfDay / 60 % 60), 2) + ":" + pad(Int(secondOfDay % 60), 2)
        if nanoseconds != 0 {
            var fraction = pad(Int(nanoseconds), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if utcOffsetSeconds == 0 {
            text += "Z"
        } else {
            let magnitude = Int(abs(utcOffsetSeconds))
            text += (utcOffsetSeconds < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
        }
        return text
    }

    public var description: String { rfc3339Nano }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(rfc3339: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339Nano)
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // Proleptic Gregorian calendar arithmetic (Howard Hinnant's civil-days algorithms): no
    // Calendar/TimeZone objects, so formatting stays allocation-light and independent of locale.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
