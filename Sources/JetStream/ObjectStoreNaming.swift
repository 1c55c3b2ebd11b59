import Crypto
import Foundation

/// The names an object store bucket lives under (ADR-20), built in one place.
///
/// Stream `OBJ_<bucket>`; chunks on `$O.<bucket>.C.<nuid>` (a fresh nuid per put, so a new version never
/// mixes with the old one's chunks); meta on `$O.<bucket>.M.<base64url(name)>`, so any name — dots, spaces,
/// slashes, unicode — is a single subject token.
struct ObjectStoreNaming: Sendable, Hashable {
    let bucket: String

    /// `nil` when `bucket` is not `[A-Za-z0-9_-]+` (nats.go's `validBucketRe`).
    init?(bucket: String) {
        guard Self.isValidBucketName(bucket) else { return nil }
        self.bucket = bucket
    }

    static func isValidBucketName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    var streamName: String { "OBJ_\(bucket)" }
    var allChunksSubject: String { "$O.\(bucket).C.>" }
    var allMetaSubject: String { "$O.\(bucket).M.>" }

    func chunkSubject(nuid: String) -> String { "$O.\(bucket).C.\(nuid)" }
    func metaSubject(objectName: String) -> String { "$O.\(bucket).M.\(ObjectStoreBase64.encode(Array(objectName.utf8)))" }

    /// The object name a meta subject stands for; `nil` for a subject of another bucket or a bad token.
    func objectName(metaSubject: String) -> String? {
        let prefix = "$O.\(bucket).M."
        guard metaSubject.hasPrefix(prefix) else { return nil }
        guard let bytes = ObjectStoreBase64.decode(String(metaSubject.dropFirst(prefix.count))) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Base64 with the URL-safe alphabet and `=` padding, as Go's `base64.URLEncoding` (and Python's
/// `urlsafe_b64encode`) write it — the form object names and digests take on the wire.
enum ObjectStoreBase64 {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return text
    }

    /// Decodes padded or unpadded URL-safe base64; `nil` when the text is not base64.
    static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = standard.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder != 0 { standard += String(repeating: "=", count: 4 - remainder) }
        guard let data = Data(base64Encoded: standard) else { return nil }
        return Array(data)
    }
}

/// The `digest` field of object info: `SHA-256=<base64url(sha256) with padding>`.
enum ObjectStoreDigest {
    static let prefix = "SHA-256="

    static func format(_ digest: SHA256.Digest) -> String {
        prefix + ObjectStoreBase64.encode(digest)
    }

    /// The 32 digest bytes; `nil` unless the text is `SHA-256=` (either case, as nats-py accepts) plus valid base64.
    static func parse(_ text: String) -> [UInt8]? {
        guard let separator = text.firstIndex(of: "=") else { return nil }
        let type = text[..<separator]
        guard type.uppercased() == "SHA-256" else { return nil }
        guard let bytes = ObjectStoreBase64.decode(String(text[text.index(after: separator)...])), bytes.count == 32 else {
            return nil
        }
        return bytes
    }
}
