import Foundation
import NexAPI
import Testing

@Suite("Go time.Time (RFC 3339 with nanoseconds)")
struct GoTimeTests {
    @Test("RFC3339Nano text round trips exactly", arguments: [
        "2024-10-16T12:01:02Z", "2024-10-16T12:01:02.123456789Z", "2024-10-16T12:01:02.1Z", "2024-10-16T12:01:02.000000001Z",
        "2024-10-16T14:01:02.5+02:00", "2024-10-16T06:31:02.25-05:30", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
        "2000-02-29T23:59:59Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
    ])
    func roundTrip(text: String) throws {
        #expect(try GoTime(rfc3339: text).rfc3339Nano == text)
    }

    @Test("known instants")
    func instants() throws {
        #expect(try GoTime(rfc3339: "1970-01-01T00:00:01Z").unixSeconds == 1)
        #expect(try GoTime(rfc3339: "2024-10-16T12:01:02Z").unixSeconds == 1_729_080_062)
        let offset = try GoTime(rfc3339: "2024-10-16T14:01:02+02:00")
        #expect(offset.unixSeconds == 1_729_080_062)
        #expect(offset.utc.rfc3339Nano == "2024-10-16T12:01:02Z")
        #expect(offset == offset)
        #expect(try GoTime(rfc3339: "2024-10-16T12:01:02.999999999Z") < GoTime(rfc3339: "2024-10-16T12:01:03Z"))
    }

    @Test("trailing fraction zeros are dropped and extra digits beyond nanoseconds are truncated")
    func normalisation() throws {
        #expect(try GoTime(rfc3339: "2024-10-16T12:01:02.500000000Z").rfc3339Nano == "2024-10-16T12:01:02.5Z")
        #expect(try GoTime(rfc3339: "2024-10-16T12:01:02.1234567891Z").rfc3339Nano == "2024-10-16T12:01:02.123456789Z")
        #expect(try GoTime(rfc3339: "2024-10-16t12:01:02z").rfc3339Nano == "2024-10-16T12:01:02Z")
    }

    @Test("invalid timestamps", arguments: [
        "", "2024-10-16", "2024-10-16T12:01:02", "2024-10-16 12:01:02Z", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-10-16T24:00:00Z", "2024-10-16T12:01:02.Z", "2024-10-16T12:01:02+0200", "2024-10-16T12:01:02Zjunk", "24-10-16T12:01:02Z",
    ])
    func invalid(text: String) {
        #expect(throws: NexAPIError.self) { try GoTime(rfc3339: text) }
    }

    @Test("Date conversion keeps microseconds")
    func dates() throws {
        let time = try GoTime(rfc3339: "2024-10-16T12:01:02.123456Z")
        #expect(GoTime(time.date) == time)
        #expect(GoTime(unixSeconds: 10, nanoseconds: -1).rfc3339Nano == "1970-01-01T00:00:09.999999999Z")
        #expect(GoTime.now().utcOffsetSeconds == 0)
    }

    @Test("JSON form is the RFC3339Nano string")
    func json() throws {
        let time = try GoTime(rfc3339: "2024-10-16T12:01:02.123Z")
        #expect(try encodeText([time]) == #"["2024-10-16T12:01:02.123Z"]"#)
        #expect(try NexJSON.decode(GoTime.self, from: Array(#""2024-10-16T12:01:02.123Z""#.utf8)) == time)
    }
}
