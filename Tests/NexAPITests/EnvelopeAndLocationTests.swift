import Foundation
import NexAPI
import Testing

@Suite("Envelope (spec §2.2) and artifact location")
struct EnvelopeAndLocationTests {
    @Test("response type strings", arguments: [
        (NexResponseType.ping, "io.nats.nex.v1.ping_response"), (.auction, "io.nats.nex.v1.auction_response"),
        (.info, "io.nats.nex.v1.info_response"), (.run, "io.nats.nex.v1.run_response"),
        (.stop, "io.nats.nex.v1.stop_response"), (.lameDuck, "io.nats.nex.v1.lameduck_response"),
    ])
    func typeStrings(type: NexResponseType, expected: String) {
        #expect(type.rawValue == expected)
    }

    @Test("success envelope: type then data, no error member (byte-exact)")
    func success() throws {
        let golden = #"{"type":"io.nats.nex.v1.run_response","data":{"id":"w1","issuer":"ABJ5","name":"echoservice","started":true}}"#
        #expect(try reencode(golden, as: NexEnvelope<RunResponse>.self) == golden)
        let envelope = try NexJSON.decode(NexEnvelope<RunResponse>.self, from: Array(golden.utf8))
        #expect(envelope.type == .run)
        #expect(try envelope.get() == RunResponse(id: "w1", issuer: "ABJ5", name: "echoservice", started: true))
        #expect(try encodeText(NexEnvelope.success(.run, RunResponse(id: "w1", issuer: "ABJ5", name: "echoservice", started: true))) == golden)
    }

    @Test("failure envelope: data is Go's empty []byte (\"\") and error carries the reason (byte-exact)")
    func failure() throws {
        let golden = #"{"type":"io.nats.nex.v1.run_response","data":"","error":"Node is in lame duck mode. Workload deploy request denied"}"#
        let built = NexEnvelope<RunResponse>.failure(.run, reason: "Node is in lame duck mode. Workload deploy request denied")
        #expect(try encodeText(built) == golden)
        let decoded = try NexJSON.decode(NexEnvelope<RunResponse>.self, from: Array(golden.utf8))
        #expect(try reencode(golden, as: NexEnvelope<RunResponse>.self) == golden)
        do {
            _ = try decoded.get()
            Issue.record("a failure envelope must not yield a payload")
        } catch {
            #expect(error.code == .remoteFailure)
            #expect(error.message == "Node is in lame duck mode. Workload deploy request denied")
        }
    }

    @Test("an explicit null error is a success; a non-string error is still a failure")
    func errorShapes() throws {
        let nullError = #"{"type":"io.nats.nex.v1.lameduck_response","data":{"node_id":"N1","success":true},"error":null}"#
        let ok = try NexJSON.decode(NexEnvelope<LameDuckResponse>.self, from: Array(nullError.utf8))
        #expect(try ok.get().success)
        let numeric = #"{"type":"io.nats.nex.v1.stop_response","data":"","error":42}"#
        let failed = try NexJSON.decode(NexEnvelope<StopResponse>.self, from: Array(numeric.utf8))
        #expect(throws: NexAPIError(code: .remoteFailure, message: "42")) { try failed.get() }
    }

    @Test("a success envelope without data is rejected")
    func missingData() {
        #expect(throws: NexAPIError.self) {
            try NexJSON.decode(NexEnvelope<RunResponse>.self, from: Array(#"{"type":"io.nats.nex.v1.run_response"}"#.utf8))
        }
    }

    // MARK: url.URL

    static let goURL = #"{"Scheme":"nats","Opaque":"","User":null,"Host":"NEXCLIFILES","Path":"/echoservice","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}"#

    @Test("Go url.URL object: decode, byte-identical encode, bucket/key/description")
    func goURLObject() throws {
        #expect(try reencode(Self.goURL, as: ArtifactLocation.self) == Self.goURL)
        let location = try NexJSON.decode(ArtifactLocation.self, from: Array(Self.goURL.utf8))
        #expect(location.bucket == "NEXCLIFILES")
        #expect(location.key == "echoservice")
        #expect(location.description == "nats://NEXCLIFILES/echoservice")
        #expect(try encodeText(ArtifactLocation(bucket: "NEXCLIFILES", key: "echoservice")) == Self.goURL)
    }

    @Test("Go url.URL field names match case-insensitively, as Go's decoder does")
    func caseInsensitive() throws {
        let text = #"{"scheme":"nats","host":"BUCKET","PATH":"/dir/key","user":null}"#
        let location = try NexJSON.decode(ArtifactLocation.self, from: Array(text.utf8))
        #expect(location == ArtifactLocation(bucket: "BUCKET", key: "dir/key"))
    }

    @Test("a plain URL string decodes to the same value and encodes as the Go object")
    func plainString() throws {
        let location = try NexJSON.decode(ArtifactLocation.self, from: Array(#""nats://NEXCLIFILES/echoservice""#.utf8))
        #expect(location == (try NexJSON.decode(ArtifactLocation.self, from: Array(Self.goURL.utf8))))
        #expect(try encodeText(location) == Self.goURL)
    }

    @Test("URL strings: query, fragment, escapes and errors")
    func urlStrings() throws {
        let withQuery = try ArtifactLocation(string: "nats://B/k%20ey?x=1#frag")
        #expect(withQuery.key == "k ey")
        #expect(withQuery.rawQuery == "x=1")
        #expect(withQuery.fragment == "frag")
        #expect(withQuery.description == "nats://B/k ey?x=1#frag")
        #expect(throws: NexAPIError.self) { try ArtifactLocation(string: "NEXCLIFILES/echoservice") }
        #expect(throws: NexAPIError.self) { try ArtifactLocation(string: "nats://user:pw@B/key") }
        #expect(throws: NexAPIError.self) { try ArtifactLocation(string: "nats://B/bad%zz") }
        #expect(throws: NexAPIError.self) { try ArtifactLocation(string: "1ats://B/key") }
        #expect(throws: NexAPIError.self) { try NexJSON.decode(ArtifactLocation.self, from: Array("42".utf8)) }
    }

    @Test("a non-null User survives as {} (Go writes url.Userinfo that way)")
    func userInfo() throws {
        let text = #"{"Scheme":"nats","Opaque":"","User":{},"Host":"B","Path":"/k","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}"#
        #expect(try reencode(text, as: ArtifactLocation.self) == text)
    }
}
