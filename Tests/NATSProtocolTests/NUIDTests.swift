import Testing

@testable import NATSProtocol

@Suite("NUID")
struct NUIDTests {
    @Test func lengthCharsetAndUniquenessOver100kIDs() {
        var nuid = NUID()
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var seen = Set<String>()
        seen.reserveCapacity(100_000)
        var allValid = true
        for _ in 0..<100_000 {
            let id = nuid.next()
            if id.utf8.count != NUID.length || !id.utf8.allSatisfy(alphabet.contains) {
                allValid = false
                Issue.record("bad id \(id)")
                break
            }
            seen.insert(id)
        }
        #expect(allValid)
        #expect(seen.count == 100_000)
    }

    @Test func prefixIsSharedAndSequenceAdvances() {
        var nuid = NUID()
        let first = nuid.next()
        let second = nuid.next()
        #expect(first.prefix(12) == second.prefix(12))
        #expect(first.suffix(10) != second.suffix(10))
    }

    @Test func separateGeneratorsHaveDifferentPrefixes() {
        var a = NUID()
        var b = NUID()
        // 62^12 possible prefixes: a collision here means the prefix is not random.
        #expect(a.next().prefix(12) != b.next().prefix(12))
    }

    @Test func prefixRenewsWhenTheSequenceRunsOut() {
        var nuid = NUID()
        let before = nuid.next()
        nuid.sequence = NUID.maxSequence - 1
        let after = nuid.next()
        #expect(after.utf8.count == NUID.length)
        #expect(before.prefix(12) != after.prefix(12))
        #expect(nuid.sequence < NUID.maxSequence)
    }
}
