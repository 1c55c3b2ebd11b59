/// Generates unique 22-character base62 identifiers (inbox names, request ids), in the scheme of nats.go's nuid.
///
/// Twelve prefix characters come from the system CSPRNG and ten sequential characters follow, advanced by a
/// random increment each time; when the sequence runs out a fresh random prefix is drawn. This gives ids that are
/// unique across processes without coordination and cost a few arithmetic operations each.
///
/// A value type with no internal locking: share one behind a lock, or keep one per task.
public struct NUID: Sendable {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static let base: UInt64 = 62
    static let prefixLength = 12
    static let sequenceLength = 10
    /// 62^10: the number of distinct sequential parts.
    static let maxSequence: UInt64 = 839_299_365_868_340_224
    static let minIncrement: UInt64 = 33
    static let maxIncrement: UInt64 = 333
    /// The total length of every id.
    public static let length = 22

    private var prefix: [UInt8]
    var sequence: UInt64  // internal so tests can drive it to the wrap-around
    private var increment: UInt64
    private var random = SystemRandomNumberGenerator()

    /// Creates a generator with a random prefix and a random starting point.
    public init() {
        self.prefix = []
        self.sequence = 0
        self.increment = 0
        self.randomizePrefix()
        self.resetSequence()
    }

    /// The next id: 22 characters from `[0-9A-Za-z]`.
    public mutating func next() -> String {
        self.sequence += self.increment
        if self.sequence >= Self.maxSequence {
            self.randomizePrefix()
            self.resetSequence()
        }
        let prefix = self.prefix
        let sequence = self.sequence
        return String(unsafeUninitializedCapacity: Self.length) { buffer in
            for index in 0..<Self.prefixLength {
                buffer[index] = prefix[index]
            }
            var rest = sequence
            var index = Self.length - 1
            while index >= Self.prefixLength {
                buffer[index] = Self.alphabet[Int(rest % Self.base)]
                rest /= Self.base
                index -= 1
            }
            return Self.length
        }
    }

    private mutating func randomizePrefix() {
        self.prefix = (0..<Self.prefixLength).map { _ in
            Self.alphabet[Int(self.random.next(upperBound: Self.base))]
        }
    }

    private mutating func resetSequence() {
        self.sequence = self.random.next(upperBound: Self.maxSequence)
        self.increment = Self.minIncrement + self.random.next(upperBound: Self.maxIncrement - Self.minIncrement)
    }
}
