import Crypto
import Foundation
import NIOCore
import Testing

@testable import JetStream

/// The object store's wire forms without a server: names, subjects, digests, meta JSON, times.
@Suite struct ObjectStoreCodingTests {
    @Test func bucketNamesFollowNatsGo() {
        for valid in ["a", "files", "NEXCLIFILES", "my-bucket_2"] {
            #expect(ObjectStoreNaming(bucket: valid) != nil, "\(valid)")
        }
        for invalid in ["", "a.b", "a b", "a*", "a>", "ü", "a/b"] {
            #expect(ObjectStoreNaming(bucket: invalid) == nil, "\(invalid)")
        }
    }

    @Test func subjectsAndStreamName() throws {
        let naming = try #require(ObjectStoreNaming(bucket: "files"))
        #expect(naming.streamName == "OBJ_files")
        #expect(naming.allChunksSubject == "$O.files.C.>")
        #expect(naming.allMetaSubject == "$O.files.M.>")
        #expect(naming.chunkSubject(nuid: "abc") == "$O.files.C.abc")
        // URL-safe alphabet and '=' padding, as Go's base64.URLEncoding and Python's urlsafe_b64encode.
        #expect(naming.metaSubject(objectName: "?>>~") == "$O.files.M.Pz4-fg==")
        #expect(naming.metaSubject(objectName: "dir/file name.txt") == "$O.files.M.ZGlyL2ZpbGUgbmFtZS50eHQ=")
        #expect(naming.metaSubject(objectName: "ü") == "$O.files.M.w7w=")
        #expect(naming.objectName(metaSubject: "$O.files.M.Pz4-fg==") == "?>>~")
        #expect(naming.objectName(metaSubject: "$O.other.M.w7w=") == nil)
    }

    @Test func base64RoundTripsAndRejectsGarbage() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
            let text = ObjectStoreBase64.encode(bytes)
            #expect(!text.contains("+") && !text.contains("/"))
            #expect(text.utf8.count % 4 == 0)
            #expect(ObjectStoreBase64.decode(text) == bytes)
        }
        #expect(ObjectStoreBase64.decode("Pz4-fg") == Array("?>>~".utf8))  // unpadded accepted
        #expect(ObjectStoreBase64.decode("a") == nil)
        #expect(ObjectStoreBase64.decode("!!!!") == nil)
    }

    @Test func digestFormatMatchesPython() throws {
        #expect(ObjectStoreDigest.format(SHA256.hash(data: Array("hello".utf8))) == "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        #expect(ObjectStoreDigest.format(SHA256.hash(data: [UInt8]())) == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=")
        let parsed = try #require(ObjectStoreDigest.parse("SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="))
        #expect(parsed == Array(SHA256.hash(data: Array("hello".utf8))))
        #expect(ObjectStoreDigest.parse("sha-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=") == parsed)
        #expect(ObjectStoreDigest.parse("MD5=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=") == nil)
        #expect(ObjectStoreDigest.parse("SHA-256=aGVsbG8=") == nil)  // not 32 bytes
        #expect(ObjectStoreDigest.parse("LPJNul") == nil)
    }

    @Test func timesAreFormattedAsGoDoes() throws {
        #expect(APITime.format(ObjectInfo.zeroTime) == "0001-01-01T00:00:00Z")
        #expect(APITime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(APITime.format(Date(timeIntervalSince1970: 1_709_210_096.5)) == "2024-02-29T12:34:56.5Z")
        #expect(APITime.parse("0001-01-01T00:00:00Z") == ObjectInfo.zeroTime)
        let go = try #require(APITime.parse("2024-02-29T12:34:56.123456789Z"))
        #expect(abs(go.timeIntervalSince1970 - 1_709_210_096.123456789) < 0.000_001)
        let python = try #require(APITime.parse("2024-02-29T12:34:56.123456+00:00"))
        #expect(abs(python.timeIntervalSince1970 - 1_709_210_096.123456) < 0.000_001)
        let offset = try #require(APITime.parse("2024-02-29T14:34:56+02:00"))
        #expect(offset.timeIntervalSince1970 == 1_709_210_096)
        for bad in ["", "2024-02-29", "2024-02-29T12:34:56", "2024-13-01T00:00:00Z", "2024-02-29T12:34:56.Z", "2024-02-29T12:34:56Zx"] {
            #expect(APITime.parse(bad) == nil, "\(bad)")
        }
        for seconds in stride(from: -62_135_596_800.0, to: 4_000_000_000.0, by: 86_400.0 * 3_652.5 + 0.25) {
            let date = Date(timeIntervalSince1970: seconds)
            let parsed = try #require(APITime.parse(APITime.format(date)))
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.000_01)
        }
    }

    @Test func metaJSONUsesNatsGoFieldsAndOmitsEmpty() throws {
        var headers = NATSHeaders()
        headers.append("a", for: "X-Tag")
        headers.append("b", for: "X-Tag")
        let info = ObjectInfo(
            name: "report.pdf", description: "quarterly", headers: headers, metadata: ["owner": "ops"],
            options: ObjectMetaOptions(maxChunkSize: 131_072), bucket: "files", nuid: "NUID123", size: 5,
            chunks: 1, digest: "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(info)) as? [String: Any])
        #expect(object["name"] as? String == "report.pdf")
        #expect(object["description"] as? String == "quarterly")
        #expect(object["headers"] as? [String: [String]] == ["X-Tag": ["a", "b"]])
        #expect(object["metadata"] as? [String: String] == ["owner": "ops"])
        #expect((object["options"] as? [String: Any])?["max_chunk_size"] as? Int == 131_072)
        #expect((object["options"] as? [String: Any])?["link"] == nil)
        #expect(object["bucket"] as? String == "files")
        #expect(object["nuid"] as? String == "NUID123")
        #expect(object["size"] as? Int == 5)
        #expect(object["chunks"] as? Int == 1)
        #expect(object["mtime"] as? String == "0001-01-01T00:00:00Z")
        #expect(object["digest"] as? String == "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        #expect(object["deleted"] == nil)

        let marker = ObjectInfo(name: "gone", bucket: "files", nuid: "N", deleted: true)
        let markerObject = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(marker)) as? [String: Any])
        #expect(markerObject["deleted"] as? Bool == true)
        for absent in ["description", "headers", "metadata", "options", "digest"] {
            #expect(markerObject[absent] == nil, "\(absent)")
        }
        #expect(markerObject["size"] as? Int == 0)
    }

    @Test func decodesWhatNatsGoAndNatsPyWrite() throws {
        let go = """
            {"name":"a/b","headers":{"X-One":["1"]},"metadata":{"k":"v"},"options":{"link":{"bucket":"other","name":"target"}},\
            "bucket":"files","nuid":"N1","size":0,"mtime":"0001-01-01T00:00:00Z","chunks":0}
            """
        let link = try JSONDecoder().decode(ObjectInfo.self, from: Data(go.utf8))
        #expect(link.name == "a/b")
        #expect(link.headers?["X-One"] == "1")
        #expect(link.metadata == ["k": "v"])
        #expect(link.link == ObjectLink(bucket: "other", name: "target"))
        #expect(link.isLink)
        #expect(link.digest == nil)
        #expect(!link.deleted)

        let python = """
            {"name": "big", "bucket": "files", "nuid": "N2", "size": 10, "mtime": "2024-02-29T12:34:56.123456+00:00",
             "chunks": 1, "digest": "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=", "deleted": false,
             "options": {"max_chunk_size": 131072}}
            """
        let info = try JSONDecoder().decode(ObjectInfo.self, from: Data(python.utf8))
        #expect(info.size == 10 && info.chunks == 1 && info.options.maxChunkSize == 131_072)
        #expect(info.description == nil && info.headers == nil && info.link == nil)
        #expect(abs(info.modified.timeIntervalSince1970 - 1_709_210_096.123456) < 0.000_001)

        let bucketLink = try JSONDecoder().decode(
            ObjectInfo.self, from: Data(#"{"name":"dir","bucket":"files","nuid":"N3","options":{"link":{"bucket":"other"}}}"#.utf8))
        #expect(bucketLink.link == ObjectLink(bucket: "other", name: nil))
    }

    @Test func configBuildsTheStreamNatsGoBuilds() throws {
        var config = ObjectStoreConfig(bucket: "files")
        config.description = "artifacts"
        config.ttl = .seconds(3600)
        config.storage = .memory
        let stream = config.streamConfig(try #require(ObjectStoreNaming(bucket: "files")))
        #expect(stream.name == "OBJ_files")
        #expect(stream.subjects == ["$O.files.C.>", "$O.files.M.>"])
        #expect(stream.discard == .new)
        #expect(stream.allowRollup)
        #expect(stream.allowDirect)
        #expect(stream.maxBytes == -1)
        #expect(stream.maxAge == .seconds(3600))
        #expect(stream.storage == .memory)
        #expect(stream.replicas == 1)
        #expect(stream.description == "artifacts")
    }
}
