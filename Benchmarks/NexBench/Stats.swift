// Statistics for benchmark samples. The definitions here are mirrored in the comparators
// (Benchmarks/c/nats_bench.c, Benchmarks/python/nats_bench.py) so both sides of a comparison are
// computed the same way.

/// Nearest-rank percentiles over a set of samples, sorted once.
///
/// The nearest-rank percentile `p` is the smallest sample such that at least `p`% of all samples
/// are less than or equal to it: rank `ceil(p × n / 100)`, clamped to `1...n`. It always returns an
/// observed sample (no interpolation), which is what a latency bar should compare.
struct Percentiles<Sample: Comparable & Sendable>: Sendable {
    /// The samples in ascending order.
    let sorted: [Sample]

    /// Sorts `samples` once so that any number of percentiles can be read cheaply.
    init(_ samples: [Sample]) {
        self.sorted = samples.sorted()
    }

    /// The number of samples.
    var count: Int { sorted.count }

    /// The nearest-rank percentile `percent` (in `0...100`), or `nil` when there are no samples.
    func value(at percent: Double) -> Sample? {
        guard let index = Self.index(of: percent, count: sorted.count) else { return nil }
        return sorted[index]
    }

    /// The median (nearest rank).
    var p50: Sample? { value(at: 50) }

    /// The 99th percentile (nearest rank).
    var p99: Sample? { value(at: 99) }

    /// The zero-based index of the nearest-rank percentile in a sorted array of `count` samples.
    static func index(of percent: Double, count: Int) -> Int? {
        guard count > 0, percent.isFinite else { return nil }
        let clamped = min(max(percent, 0), 100)
        // p × n before dividing: exact for whole percentages, whereas p / 100 × n can land just
        // above an integer (99.9 / 100 × 1000 = 999.0000000000001) and pick the next rank.
        let rank = Int((clamped * Double(count) / 100).rounded(.up))
        return min(max(rank, 1), count) - 1
    }
}

extension Duration {
    /// This duration in microseconds, the unit every latency benchmark reports.
    var inMicroseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1_000_000 + Double(parts.attoseconds) / 1_000_000_000_000
    }

    /// This duration in seconds.
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1_000_000_000_000_000_000
    }
}

/// The two latency percentiles every request benchmark reports, in microseconds.
struct LatencySummary: Sendable, Equatable {
    /// Median latency in microseconds.
    var p50Microseconds: Double
    /// 99th-percentile latency in microseconds.
    var p99Microseconds: Double
    /// How many samples the percentiles were taken over.
    var count: Int

    /// Summarises round-trip times; `nil` when there are none (a run that measured nothing must
    /// not produce a number).
    init?(_ samples: [Duration]) {
        let percentiles = Percentiles(samples)
        guard let p50 = percentiles.p50, let p99 = percentiles.p99 else { return nil }
        self.p50Microseconds = p50.inMicroseconds
        self.p99Microseconds = p99.inMicroseconds
        self.count = percentiles.count
    }
}

/// Messages per second for `count` messages over `elapsed`; `nil` when no time elapsed, which
/// only happens when the clock was read wrongly.
func messagesPerSecond(count: Int, elapsed: Duration) -> Double? {
    let seconds = elapsed.inSeconds
    guard seconds > 0 else { return nil }
    return Double(count) / seconds
}
