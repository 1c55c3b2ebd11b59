import Foundation
@testable import NexAPI
import Testing

@Suite("Go-compatible JSON writer")
struct GoJSONTests {
    private struct Ordered: Encodable {
        var zebra = 1
        var apple = "a"
        var map: [String: Int] = ["b": 2, "a": 1, "B": 3, "aa": 4]
        var nothing: String? = nil

        enum CodingKeys: String, CodingKey { case zebra, apple, map, nothing }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(zebra, forKey: .zebra)
            try c.encode(apple, forKey: .apple)
            try c.encode(map, forKey: .map)
            try c.encodeOrNull(nothing, forKey: .nothing)
        }
    }

    @Test("struct members keep encode order; map keys are sorted by bytes like Go")
    func memberOrder() throws {
        #expect(try encodeText(Ordered()) == #"{"zebra":1,"apple":"a","map":{"B":3,"a":1,"aa":4,"b":2},"nothing":null}"#)
    }

    @Test("string escaping matches Go 1.22 json.Marshal", arguments: [
        ("plain", #""plain""#),
        ("quote\" back\\slash /", #""quote\" back\\slash /""#),
        ("<a href=\"x\">&</a>", #""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#),
        ("tab\tnl\ncr\r", #""tab\tnl\ncr\r""#),
        ("\u{8}\u{c}", #""\b\f""#),
        ("\u{1}\u{1f}\u{7f}", "\"\\u0001\\u001f\u{7f}\""),
        ("line\u{2028}para\u{2029}", #""line\u2028para\u2029""#),
        ("héllo ✓ 🎉", "\"héllo ✓ 🎉\""),
    ])
    func escaping(input: String, expected: String) {
        var out: [UInt8] = []
        GoJSONValue.writeString(input, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test("arrays, nested objects, numbers and booleans")
    func nesting() throws {
        struct Inner: Encodable { var list: [Int64] = [1, -2, Int64.max]; var flag = true; var ratio = 2.0 }
        struct Outer: Encodable { var inner = Inner(); var names = ["x", "y"]; var empty: [String] = [] }
        #expect(try encodeText(Outer()) == #"{"inner":{"list":[1,-2,9223372036854775807],"flag":true,"ratio":2},"names":["x","y"],"empty":[]}"#)
    }

    @Test("large arrays and objects keep every member in order (built in place)")
    func largeContainers() throws {
        let numbers = Array(0..<20_000)
        #expect(try encodeText(numbers) == "[" + numbers.map(String.init).joined(separator: ",") + "]")
        let map = Dictionary(uniqueKeysWithValues: (0..<5_000).map { ("k\($0)", $0) })
        let decoded = try JSONSerialization.jsonObject(with: Data(NexJSON.encode(map))) as? [String: Int]
        #expect(decoded == map)
    }

    @Test("non-finite numbers are an encoding error, as in Go")
    func nonFinite() {
        struct Bad: Encodable { var value = Double.nan }
        #expect(throws: NexAPIError.self) { try NexJSON.encode(Bad()) }
    }

    @Test("decoding errors say what and where")
    func decodeErrors() {
        do {
            _ = try NexJSON.decode(RunResponse.self, from: Array(#"{"id":5}"#.utf8))
            Issue.record("decoding a number into a string field must fail")
        } catch {
            #expect(error.code == .invalidJSON)
            #expect(error.message.contains("id"))
        }
        #expect(throws: NexAPIError.self) { try NexJSON.decode(RunResponse.self, from: Array("not json".utf8)) }
    }
}
