/// The rule that turns a bucket name chosen by guest code into the real Key-Value / object store bucket of its
/// namespace, so that one tenant cannot reach another's bucket by naming it.
///
/// - A namespace made only of `[A-Za-z0-9-]` (no `_`) gives `{namespace}_{bucket}`: `default` + `orders` →
///   `default_orders`.
/// - Any other namespace (with `_`, other characters, or empty) gives `_{hex(namespace UTF-8)}_{bucket}` in
///   lowercase hex: `team_a` + `orders` → `_7465616d5f61_orders`.
///
/// Why no two (namespace, bucket) pairs share a real name: the first form never starts with `_` (its namespace
/// is non-empty and has no `_`), the second always does, so the first byte says which form it is. Within the
/// first form the namespace is everything before the first `_`; within the second, the hex digits between the
/// leading `_` and the next `_`. Either way the namespace, and with it the bucket (the rest), is read back
/// unambiguously — see ``decode(_:)``, which the tests use to prove it. Both forms only contain
/// `[A-Za-z0-9_-]` when the bucket does, as JetStream requires.
enum ScopedBucketName {
    /// Real bucket names longer than this are refused: the stream (`KV_…`, `OBJ_…`) becomes a directory of
    /// nats-server's store, and file names end at 255 bytes.
    static let maxLength = 240

    static func make(bucket: String, namespace: String) -> String {
        if isPlainNamespace(namespace) {
            return namespace + "_" + bucket
        }
        return "_" + hex(Array(namespace.utf8)) + "_" + bucket
    }

    /// The (namespace, bucket) a real bucket name was made from; `nil` for a name this rule never makes.
    static func decode(_ name: String) -> (namespace: String, bucket: String)? {
        let bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "_") {
            guard let end = bytes.dropFirst().firstIndex(of: UInt8(ascii: "_")),
                  let namespace = unhex(bytes[1..<end])
            else { return nil }
            let plain = String(decoding: namespace, as: UTF8.self)
            // The second form is only made for namespaces the first cannot carry.
            guard Array(plain.utf8) == namespace, !isPlainNamespace(plain) else { return nil }
            return (plain, String(decoding: bytes[(end + 1)...], as: UTF8.self))
        }
        guard let separator = bytes.firstIndex(of: UInt8(ascii: "_")) else { return nil }
        let namespace = String(decoding: bytes[..<separator], as: UTF8.self)
        guard isPlainNamespace(namespace) else { return nil }
        return (namespace, String(decoding: bytes[(separator + 1)...], as: UTF8.self))
    }

    /// Bucket names guest code may use: `[A-Za-z0-9_-]+`, as NATS requires of bucket names.
    static func isValidBucket(_ bucket: String) -> Bool {
        !bucket.isEmpty && bucket.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isPlainNamespace(_ namespace: String) -> Bool {
        !namespace.isEmpty && namespace.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Only the lowercase form `hex` writes, so every namespace has exactly one encoding.
    private static func unhex(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            guard let high = digits.firstIndex(of: text[index]), let low = digits.firstIndex(of: text[index + 1]) else { return nil }
            out.append(UInt8(high << 4 | low))
            index += 2
        }
        return out
    }
}
