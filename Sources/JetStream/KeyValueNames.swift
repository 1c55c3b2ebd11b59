/// The naming rules of Key-Value buckets and keys, and the subjects built from them (ADR-8).
///
/// Pure functions, so they can be tested without a server. Subjects are built here and nowhere else.
enum KeyValueNames {
    static let streamPrefix = "KV_"
    static let subjectPrefix = "$KV."

    /// The stream backing `bucket`.
    static func streamName(bucket: String) -> String { streamPrefix + bucket }

    /// `$KV.<bucket>.` — every key's subject starts with it.
    static func keyPrefix(bucket: String) -> String { subjectPrefix + bucket + "." }

    /// The bucket a stream named `KV_<bucket>` backs, nil for other streams.
    static func bucket(ofStream stream: String) -> String? {
        guard stream.hasPrefix(streamPrefix), stream.utf8.count > streamPrefix.utf8.count else { return nil }
        return String(stream.dropFirst(streamPrefix.count))
    }

    /// Bucket names are `[a-zA-Z0-9_-]+`: they become part of a stream name and of subjects.
    static func isValidBucket(_ bucket: String) -> Bool {
        !bucket.isEmpty && bucket.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Keys are `[-/_=.a-zA-Z0-9]+` without a leading or trailing `.` (an empty subject token otherwise).
    static func isValidKey(_ key: String) -> Bool {
        let bytes = key.utf8
        guard let first = bytes.first, let last = bytes.last,
              first != UInt8(ascii: "."), last != UInt8(ascii: ".")
        else { return false }
        return bytes.allSatisfy(isKeyByte) && !containsEmptyToken(key)
    }

    /// Watch patterns may use `*` tokens and a final `>` token in addition to the key characters.
    ///
    /// Stricter than nats.go's regular expression on purpose: `a*` or `>a` would be rejected by the server as a
    /// filter anyway, so they are refused here with a clear error instead.
    static func isValidKeyPattern(_ pattern: String) -> Bool {
        let tokens = pattern.split(separator: ".", omittingEmptySubsequences: false)
        guard !pattern.isEmpty else { return false }
        for (index, token) in tokens.enumerated() {
            if token.isEmpty { return false }
            if token == "*" { continue }
            if token == ">" {
                if index != tokens.count - 1 { return false }
                continue
            }
            if !token.utf8.allSatisfy(isKeyByte) { return false }
        }
        return true
    }

    private static func containsEmptyToken(_ key: String) -> Bool {
        key.split(separator: ".", omittingEmptySubsequences: false).contains { $0.isEmpty }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ".")
    }
}
