import Testing

@testable import NATSProtocol

@Suite("Subjects and patterns")
struct SubjectTests {
    @Test(arguments: [
        ("foo", true),
        ("foo.bar.baz", true),
        ("_INBOX.abc123.1", true),
        ("$JS.API.STREAM.INFO.x", true),
        ("foo*.bar", true),  // `*` inside a token is an ordinary character
        ("a>b", true),
        ("ünïcode.subject", true),
        ("", false),
        (".", false),
        ("foo.", false),
        (".foo", false),
        ("foo..bar", false),
        ("foo bar", false),
        ("foo\tbar", false),
        ("foo\r\n", false),
        ("foo.*", false),
        ("*", false),
        ("foo.>", false),
        (">", false),
    ])
    func subjects(_ subject: String, _ valid: Bool) {
        #expect(SubjectValidation.isValidSubject(subject) == valid, "\(subject.debugDescription)")
    }

    @Test(arguments: [
        ("foo", true),
        ("foo.*", true),
        ("*.bar", true),
        ("*.*.*", true),
        ("foo.>", true),
        (">", true),
        ("*.>", true),
        ("foo.*.bar.>", true),
        ("foo*.bar", true),
        ("", false),
        ("foo.", false),
        ("foo..*", false),
        ("foo.>.bar", false),
        (">.foo", false),
        ("foo.>.>", false),
        ("foo .bar", false),
        ("foo.\t*", false),
    ])
    func patterns(_ pattern: String, _ valid: Bool) {
        #expect(SubjectValidation.isValidPattern(pattern) == valid, "\(pattern.debugDescription)")
        #expect((SubjectPattern(pattern) != nil) == valid)
    }

    @Test(arguments: [
        ("workers", true),
        ("q.with.dots", true),
        ("$SYS", true),
        ("", false),
        ("two words", false),
        ("tab\tq", false),
        ("line\n", false),
    ])
    func queueGroups(_ queue: String, _ valid: Bool) {
        #expect(SubjectValidation.isValidQueueGroup(queue) == valid)
    }

    @Test(arguments: [
        ("foo", "foo", true),
        ("foo", "bar", false),
        ("foo", "foo.bar", false),
        ("foo.bar", "foo", false),
        ("foo.bar", "foo.bar", true),
        ("foo.bar", "foo.baz", false),
        ("foo.bar", "foo.barx", false),
        ("foo.*", "foo.bar", true),
        ("foo.*", "foo", false),
        ("foo.*", "foo.bar.baz", false),
        ("foo.*", "foo.", false),
        ("*.bar", "foo.bar", true),
        ("*.bar", "bar", false),
        ("*", "x", true),
        ("*", "x.y", false),
        ("*", "", false),
        ("foo.>", "foo.bar", true),
        ("foo.>", "foo.bar.baz.qux", true),
        ("foo.>", "foo", false),
        ("foo.>", "foo.", false),
        ("foo.>", "bar.baz", false),
        (">", "anything.at.all", true),
        (">", "x", true),
        ("*.*.>", "a.b.c", true),
        ("*.*.>", "a.b", false),
        ("_INBOX.abc.*", "_INBOX.abc.17", true),
        ("_INBOX.abc.*", "_INBOX.abd.17", false),
        ("ü.*", "ü.x", true),
        ("foo*.bar", "foo*.bar", true),
        ("foo*.bar", "fooX.bar", false),
    ])
    func matching(_ pattern: String, _ subject: String, _ expected: Bool) throws {
        let compiled = try #require(SubjectPattern(pattern))
        #expect(compiled.matches(subject) == expected, "\(pattern) vs \(subject.debugDescription)")
    }

    @Test(arguments: [
        ("$NEX.>", "$NEX.PING", true),
        ("$NEX.>", "$NEX", false),
        ("$JS.>", "$JS.API.>", true),
        ("a.*", "a.b", true),
        ("a.*", "a.b.c", false),
        ("a.*.c", "a.b.*", true),
        ("a.b", "a.c", false),
        (">", "x", true),
        ("*", "a.b", false),
        ("a.b", "a.b", true),
        ("hello.>", "$SYS.>", false),
    ])
    func collisions(_ left: String, _ right: String, _ expected: Bool) throws {
        let a = try #require(SubjectPattern(left)), b = try #require(SubjectPattern(right))
        #expect(a.collides(with: b) == expected, "\(left) vs \(right)")
        #expect(b.collides(with: a) == expected, "\(right) vs \(left)")
    }

    @Test func patternProperties() throws {
        #expect(try #require(SubjectPattern("a.*")).hasWildcards)
        #expect(try #require(SubjectPattern("a.>")).hasWildcards)
        #expect(try !#require(SubjectPattern("a.b")).hasWildcards)
        #expect(SubjectPattern("a.*")?.description == "a.*")
        #expect(SubjectPattern("a.*") == SubjectPattern("a.*"))
        #expect(SubjectPattern("a.*") != SubjectPattern("a.>"))
    }
}
