import Foundation
@testable import JetStream
import NIOCore
import Testing

@Suite("JetStream core: pure parts")
struct JetStreamUnitTests {
    @Test func domainAndPrefixBuildSubjects() throws {
        let prefix = JetStreamContext.prefix(apiPrefix: "$JS.API", domain: nil)
        #expect(prefix == "$JS.API")
        #expect(JetStreamContext.prefix(apiPrefix: "$JS.API", domain: "hub") == "$JS.hub.API")
        #expect(JetStreamContext.prefix(apiPrefix: "imported.JS.API.", domain: nil) == "imported.JS.API")
        #expect(JetStreamContext.prefix(apiPrefix: "x", domain: "") == "x")
    }

    @Test func consumerCreateSubjects() throws {
        #expect(try JetStreamContext.consumerCreateSubject(stream: "S", config: .init()) == "CONSUMER.CREATE.S")
        #expect(try JetStreamContext.consumerCreateSubject(stream: "S", config: .init(durableName: "d")) == "CONSUMER.DURABLE.CREATE.S.d")
        #expect(try JetStreamContext.consumerCreateSubject(stream: "S", config: .init(name: "n", filterSubject: "a.*"))
            == "CONSUMER.CREATE.S.n.a.*")
        #expect(throws: JetStreamError.self) { try JetStreamContext.consumerCreateSubject(stream: "S.x", config: .init()) }
        #expect(throws: JetStreamError.self) {
            try JetStreamContext.consumerCreateSubject(stream: "S", config: .init(name: "a", durableName: "b"))
        }
    }

    @Test func parsesServerTimesWithNanoseconds() throws {
        let date = try #require(APITime.parse("2026-11-29T03:00:00.123456789Z"))
        let expected = Double(APITime.daysFromCivil(year: 2026, month: 11, day: 29) * 86_400 + 3 * 3600) + 0.123456789
        #expect(abs(date.timeIntervalSince1970 - expected) < 1e-6)
        #expect(APITime.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(APITime.parse("1970-01-01T01:00:00+01:00") == Date(timeIntervalSince1970: 0))
        #expect(APITime.parse("0001-01-01T00:00:00Z") != nil)  // Go's zero time
        #expect(APITime.parse("2026-11-29T03:00:00.1234567891234Z") != nil)  // more digits than nanoseconds
        #expect(APITime.parse("2026-11-29 nonsense") == nil)
        #expect(APITime.parse("2026-13-01T00:00:00Z") == nil)
        #expect(APITime.parse("2026-11-29T03:00:00.Z") == nil)
    }

    @Test func formatsTimesThatParseBack() throws {
        for seconds in [0.0, 1.5, 1_764_000_000.25, -86_400.5, 4_102_444_800.0] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = APITime.format(date)
            #expect(text.hasSuffix("Z"))
            let back = try #require(APITime.parse(text), "\(text)")
            #expect(abs(back.timeIntervalSince1970 - seconds) < 1e-6, "\(text)")
        }
        #expect(APITime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(APITime.civilFromDays(APITime.daysFromCivil(year: 2024, month: 2, day: 29)) == (2024, 2, 29))
    }

    @Test func parsesAckSubjects() throws {
        let short = try #require(JetStreamMessage.Metadata(ackSubject: "$JS.ACK.ORDERS.worker.2.17.5.1764385200123456789.42"))
        #expect(short.stream == "ORDERS")
        #expect(short.consumer == "worker")
        #expect(short.delivered == 2)
        #expect(short.streamSequence == 17)
        #expect(short.consumerSequence == 5)
        #expect(short.pending == 42)
        #expect(short.domain == nil)
        #expect(abs(short.timestamp.timeIntervalSince1970 - 1_764_385_200.123456789) < 1e-6)

        let long = try #require(JetStreamMessage.Metadata(ackSubject: "$JS.ACK.hub.ACCHASH.ORDERS.worker.1.3.3.1764385200000000000.0.rand"))
        #expect(long.domain == "hub")
        #expect(long.stream == "ORDERS")
        #expect(long.streamSequence == 3)
        let noDomain = try #require(JetStreamMessage.Metadata(ackSubject: "$JS.ACK._.ACCHASH.S.c.1.3.3.1764385200000000000.0"))
        #expect(noDomain.domain == nil)

        #expect(JetStreamMessage.Metadata(ackSubject: "_INBOX.abc.def") == nil)
        #expect(JetStreamMessage.Metadata(ackSubject: "$JS.ACK.S.c.x.1.1.1.0") == nil)
        #expect(JetStreamMessage.Metadata(ackSubject: "$JS.ACK.S.c.1.1.1.0") == nil)
    }

    @Test func streamConfigWireFormat() throws {
        var config = StreamConfig(name: "KV_x", subjects: ["$KV.x.>"])
        config.maxAge = .seconds(2)
        config.duplicateWindow = .milliseconds(1500)
        config.allowRollup = true
        config.allowDirect = true
        config.storage = .memory
        config.retention = .workQueue
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        #expect(json["name"] as? String == "KV_x")
        #expect(json["max_age"] as? Int == 2_000_000_000)
        #expect(json["duplicate_window"] as? Int == 1_500_000_000)
        #expect(json["allow_rollup_hdrs"] as? Bool == true)
        #expect(json["allow_direct"] as? Bool == true)
        #expect(json["storage"] as? String == "memory")
        #expect(json["retention"] as? String == "workqueue")
        #expect(json["num_replicas"] as? Int == 1)
        #expect(json["max_msgs"] as? Int == -1)
        #expect(json["mirror"] == nil)
        #expect(json["deny_delete"] == nil)
        let back = try APICoding.decoder.decode(StreamConfig.self, from: JSONEncoder().encode(config))
        #expect(back == config)
    }

    @Test func consumerConfigWireFormat() throws {
        var config = ConsumerConfig(durableName: "d", deliverPolicy: .byStartSequence(7), ackPolicy: .explicit, filterSubject: "a.>")
        config.ackWait = .seconds(30)
        config.idleHeartbeat = .seconds(5)
        config.memoryStorage = true
        config.replicas = 1
        let data = try APICoding.encoder.encode(config)
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(json["deliver_policy"] as? String == "by_start_sequence")
        #expect(json["opt_start_seq"] as? Int == 7)
        #expect(json["ack_wait"] as? Int == 30_000_000_000)
        #expect(json["idle_heartbeat"] as? Int == 5_000_000_000)
        #expect(json["mem_storage"] as? Bool == true)
        #expect(json["num_replicas"] as? Int == 1)
        #expect(json["durable_name"] as? String == "d")
        #expect(try APICoding.decoder.decode(ConsumerConfig.self, from: data) == config)

        let start = Date(timeIntervalSince1970: 1_764_385_200.5)
        let byTime = ConsumerConfig(deliverPolicy: .byStartTime(start))
        let timeJSON = try JSONSerialization.jsonObject(with: APICoding.encoder.encode(byTime)) as! [String: Any]
        #expect(timeJSON["opt_start_time"] as? String == APITime.format(start))
    }

    @Test func apiErrorsAreClassified() throws {
        let reply = ByteBuffer(string: #"{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":400,"err_code":10058,"description":"stream name already in use with a different configuration"}}"#)
        do {
            _ = try APICoding.decodeResponse(reply, as: StreamInfo.self, subject: "STREAM.CREATE.X")
            Issue.record("expected an error")
        } catch let error as JetStreamError {
            #expect(error.code == .streamNameInUse)
            #expect(error.errorCode == 10058)
            #expect(error.apiCode == 400)
            #expect(error.message == "stream name already in use with a different configuration")
        }
    }

    @Test func publishOptionsBecomeHeaders() throws {
        var base = NATSHeaders()
        base["X-App"] = "1"
        let options = PublishOptions(messageID: "m1", expectedStream: "S", expectedLastSequence: 4,
                                     expectedLastSubjectSequence: 0, expectedLastMessageID: "m0")
        let headers = try #require(options.apply(to: base))
        #expect(headers["X-App"] == "1")
        #expect(headers["Nats-Msg-Id"] == "m1")
        #expect(headers["Nats-Expected-Stream"] == "S")
        #expect(headers["Nats-Expected-Last-Sequence"] == "4")
        #expect(headers["Nats-Expected-Last-Subject-Sequence"] == "0")
        #expect(headers["Nats-Expected-Last-Msg-Id"] == "m0")
        #expect(PublishOptions().apply(to: nil) == nil)
    }
}
