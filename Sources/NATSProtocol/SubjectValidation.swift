/// Checks for subjects, subscription patterns and queue group names, done on bytes.
///
/// The rules are nats-server's: tokens are separated by `.` and may not be empty; whitespace (which would split
/// the control line) is never allowed; a token that is exactly `*` or `>` is a wildcard, while `*` or `>` inside a
/// longer token is an ordinary character.
public enum SubjectValidation {
    /// A subject to publish to: non-empty tokens, no whitespace, no wildcard tokens.
    public static func isValidSubject(_ subject: String) -> Bool {
        Self.check(subject, allowWildcards: false)
    }

    /// A subject pattern to subscribe to: like a subject, but `*` tokens may appear anywhere and a `>` token
    /// only as the last token.
    public static func isValidPattern(_ pattern: String) -> Bool {
        Self.check(pattern, allowWildcards: true)
    }

    /// A queue group name: non-empty, no whitespace.
    public static func isValidQueueGroup(_ queue: String) -> Bool {
        !queue.isEmpty && !queue.utf8.contains(where: Self.isWhitespace)
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n") || byte == 0x0B || byte == 0x0C
    }

    private static func check(_ subject: String, allowWildcards: Bool) -> Bool {
        var tokenLength = 0
        var tokenByte: UInt8 = 0  // the token's byte when it has exactly one
        var sawFullWildcard = false
        for byte in subject.utf8 {
            if byte == UInt8(ascii: ".") {
                guard Self.acceptToken(tokenLength, tokenByte, allowWildcards, &sawFullWildcard) else {
                    return false
                }
                tokenLength = 0
                continue
            }
            guard !Self.isWhitespace(byte) else {
                return false
            }
            tokenLength += 1
            tokenByte = byte
        }
        return Self.acceptToken(tokenLength, tokenByte, allowWildcards, &sawFullWildcard)
    }

    /// Called at the end of each token; `sawFullWildcard` rejects any token after a `>`.
    private static func acceptToken(
        _ length: Int,
        _ byte: UInt8,
        _ allowWildcards: Bool,
        _ sawFullWildcard: inout Bool
    ) -> Bool {
        guard length > 0, !sawFullWildcard else {
            return false
        }
        guard length == 1, byte == UInt8(ascii: "*") || byte == UInt8(ascii: ">") else {
            return true
        }
        guard allowWildcards else {
            return false
        }
        if byte == UInt8(ascii: ">") {
            sawFullWildcard = true
        }
        return true
    }
}

/// A validated subscription pattern that can match subjects, e.g. `_INBOX.abc.*` or `orders.>`.
public struct SubjectPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Token: Sendable, Hashable {
        case literal([UInt8])
        case anyOne
        case anyRest
    }

    /// The pattern as written.
    public let string: String
    private let tokens: [Token]

    /// Creates a pattern, or `nil` when `string` is not valid (see `SubjectValidation.isValidPattern`).
    public init?(_ string: String) {
        guard SubjectValidation.isValidPattern(string) else {
            return nil
        }
        self.string = string
        self.tokens = string.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map {
            switch Array($0) {
            case [UInt8(ascii: "*")]: return .anyOne
            case [UInt8(ascii: ">")]: return .anyRest
            case let bytes: return .literal(bytes)
            }
        }
    }

    /// True when the pattern has a `*` or `>` token.
    public var hasWildcards: Bool {
        self.tokens.contains { $0 == .anyOne || $0 == .anyRest }
    }

    /// Whether `subject` matches: literal tokens equal, `*` matches exactly one non-empty token,
    /// `>` one or more remaining tokens.
    public func matches(_ subject: String) -> Bool {
        var subject = subject
        return subject.withUTF8 { self.matches(bytes: $0) }
    }

    private func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0
        let count = bytes.count
        for token in self.tokens {
            guard position <= count else {
                return false  // the subject ran out of tokens
            }
            var end = position
            while end < count, bytes[end] != UInt8(ascii: ".") {
                end += 1
            }
            let length = end - position
            switch token {
            case .anyRest:
                // `>` is last (validated); it needs at least one non-empty token.
                return position < count && length > 0
            case .anyOne:
                guard length > 0 else {
                    return false
                }
            case .literal(let literal):
                guard length == literal.count,
                    literal.withUnsafeBufferPointer({ literalBytes in
                        (0..<length).allSatisfy { literalBytes[$0] == bytes[position + $0] }
                    })
                else {
                    return false
                }
            }
            position = end + 1  // past the dot, or count + 1 when the subject ended
        }
        // Every pattern token matched; the subject must have no tokens left.
        return position == count + 1
    }

    /// Whether some subject matches both patterns (nats-server `SubjectsCollide`): token by token,
    /// literals must be equal unless either side is `*`; a `>` on either side covers the rest, but
    /// still needs at least one token on the other side.
    public func collides(with other: SubjectPattern) -> Bool {
        for index in 0..<max(tokens.count, other.tokens.count) {
            guard index < tokens.count, index < other.tokens.count else { return false }
            switch (tokens[index], other.tokens[index]) {
            case (.anyRest, _), (_, .anyRest): return true
            case (.anyOne, _), (_, .anyOne): continue
            case (.literal(let left), .literal(let right)):
                guard left == right else { return false }
            }
        }
        return true
    }

    public var description: String {
        self.string
    }
}
