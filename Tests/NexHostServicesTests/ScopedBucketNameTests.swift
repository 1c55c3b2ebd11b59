@testable import NexHostServices
import Testing

/// The bucket scoping rule, without a server: its two forms, and that no two (namespace, bucket) pairs meet.
@Suite("Scoped bucket names")
struct ScopedBucketNameTests {
    @Test func plainNamespacesArePrefixed() {
        #expect(NATSHostServices.scopedBucketName("orders", namespace: "default") == "default_orders")
        #expect(NATSHostServices.scopedBucketName("a_b-c", namespace: "Team-7") == "Team-7_a_b-c")
    }

    @Test func otherNamespacesAreHexEncoded() {
        // "team_a" is 74 65 61 6d 5f 61.
        #expect(NATSHostServices.scopedBucketName("orders", namespace: "team_a") == "_7465616d5f61_orders")
        #expect(NATSHostServices.scopedBucketName("x", namespace: "") == "__x")
        #expect(NATSHostServices.scopedBucketName("x", namespace: "é") == "_c3a9_x")
    }

    /// Pairs built to collide under a naive `{ns}_{bucket}` join, or to look like the other form.
    static let trickyPairs: [(namespace: String, bucket: String)] = [
        ("a", "b_c"), ("a_b", "c"), ("a", "b"), ("a_", "b"), ("a", "_b"), ("", "a_b"), ("", "_a_b"),
        ("_61", "b"), ("61", "_b"), ("a", "61_b"), ("_", "x"), ("__", "x"), ("", "_x"), ("", "x"),
        ("team", "a_x"), ("team_a", "x"), ("5f", "x"), ("_5f", "x"), ("A", "x"), ("a", "x"),
        ("ns.with.dots", "b"), ("ns with space", "b"), ("ünï", "b"), ("-", "b"), ("-_", "b"), ("6162", "b"),
    ]

    @Test func trickyPairsGiveDistinctNamesThatDecodeBack() {
        var seen: [String: (String, String)] = [:]
        for pair in Self.trickyPairs {
            let name = NATSHostServices.scopedBucketName(pair.bucket, namespace: pair.namespace)
            if let other = seen[name] {
                Issue.record("\(pair) and \(other) both give \(name)")
            }
            seen[name] = (pair.namespace, pair.bucket)
            let decoded = ScopedBucketName.decode(name)
            #expect(decoded?.namespace == pair.namespace, "\(name)")
            #expect(decoded?.bucket == pair.bucket, "\(name)")
        }
        #expect(seen.count == Self.trickyPairs.count)
    }

    /// Every pair over a small alphabet that covers both forms' separators and digits: injective, and valid
    /// NATS bucket names whenever the bucket is one.
    @Test func exhaustiveSmallAlphabetIsCollisionFree() {
        let alphabet: [String] = ["", "a", "_", "-", "5", "f", "é"]
        var words: Set<String> = []
        for first in alphabet {
            for second in alphabet {
                for third in alphabet { words.insert(first + second + third) }
            }
        }
        var names = Set<String>()
        var count = 0
        for namespace in words {
            for bucket in words where ScopedBucketName.isValidBucket(bucket) {
                let name = NATSHostServices.scopedBucketName(bucket, namespace: namespace)
                names.insert(name)
                count += 1
                #expect(ScopedBucketName.isValidBucket(name), "\(name)")
                let decoded = ScopedBucketName.decode(name)
                #expect(decoded?.namespace == namespace && decoded?.bucket == bucket, "\(namespace) \(bucket) → \(name)")
            }
        }
        #expect(count > 1000)
        #expect(names.count == count)
    }

    @Test func namesTheRuleNeverMakesDoNotDecode() {
        // No separator; a namespace that has a plain form, encoded; uppercase, odd-length and non-hex digits.
        for name in ["orders", "_7465_x", "_7A_x", "_746_x", "_zz_x"] {
            #expect(ScopedBucketName.decode(name) == nil, "\(name)")
        }
    }

    @Test func bucketNameValidity() {
        #expect(ScopedBucketName.isValidBucket("Orders_2024-x"))
        for bad in ["", "a.b", "a b", "a*", "a>", "ä", "a/b"] {
            #expect(!ScopedBucketName.isValidBucket(bad), "\(bad)")
        }
    }
}
