/// How an essential service is restarted after it fails.
///
/// The delay before restart `n` (1-based) is `initialBackoff * multiplier^(n-1)`, capped at
/// `maxBackoff`. After `maxRestarts` consecutive failures the supervisor gives up. A run that lasted
/// at least `resetAfter` counts as healthy: the next failure starts the schedule again from the
/// first delay.
public struct RestartPolicy: Sendable, Hashable {
    /// Restarts allowed in a row before giving up; 0 disables restarting.
    public var maxRestarts: Int
    /// Delay before the first restart.
    public var initialBackoff: Duration
    /// Upper bound of any delay.
    public var maxBackoff: Duration
    /// Growth factor between consecutive delays (1 keeps them constant).
    public var multiplier: Double
    /// A run at least this long resets the failure count; `nil` never resets it.
    public var resetAfter: Duration?

    public init(
        maxRestarts: Int = 5,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30),
        multiplier: Double = 2,
        resetAfter: Duration? = .seconds(60)
    ) {
        self.maxRestarts = max(0, maxRestarts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxBackoff = max(self.initialBackoff, maxBackoff)
        self.multiplier = multiplier.isFinite ? max(1, multiplier) : 1
        self.resetAfter = resetAfter
    }

    /// The delay before restart number `attempt` (1-based).
    public func backoff(forAttempt attempt: Int) -> Duration {
        let initial = Self.nanoseconds(initialBackoff)
        let cap = Self.nanoseconds(maxBackoff)
        let grown = initial * integralPower(multiplier, max(0, attempt - 1))
        // Compare in floating point first: the product may overflow Int64 long before the cap bites.
        guard grown.isFinite, grown < cap else { return maxBackoff }
        return .nanoseconds(Int64(grown.rounded()))
    }

    private static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds / 1_000_000_000)
    }
}

/// `base^exponent` for a whole exponent by repeated squaring (exact for the small powers of two
/// that typical multipliers produce, so schedules compare equal to hand-written durations).
private func integralPower(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    var factor = base
    var remaining = exponent
    while remaining > 0 {
        if remaining & 1 == 1 { result *= factor }
        factor *= factor
        remaining >>= 1
        if !result.isFinite { return .infinity }
    }
    return result
}

/// The restart decisions for one service: a pure value, fed each outcome and how long the run
/// lasted (time is an input, so the schedule is tested without sleeping).
public struct RestartSchedule: Sendable, Hashable {
    /// What to do after a run ended.
    public enum Decision: Sendable, Hashable {
        /// Start the service again after `delay`; `attempt` counts restarts in a row from 1.
        case restart(attempt: Int, after: Duration)
        /// Too many failures in a row: leave the service stopped.
        case giveUp
        /// The service exited cleanly (code 0): nothing to restart.
        case finish
    }

    public let policy: RestartPolicy
    /// Restarts already made since the last healthy run.
    public private(set) var consecutiveRestarts = 0

    public init(policy: RestartPolicy) {
        self.policy = policy
    }

    /// The service ended with `status` after running for `runTime`.
    public mutating func processExited(_ status: ExitStatus, after runTime: Duration) -> Decision {
        if let resetAfter = policy.resetAfter, runTime >= resetAfter {
            consecutiveRestarts = 0
        }
        if status.isSuccess { return .finish }
        return nextRestart()
    }

    /// The service could not even be started (spawn failed): a failure like a crash at once.
    public mutating func startFailed() -> Decision {
        nextRestart()
    }

    private mutating func nextRestart() -> Decision {
        guard consecutiveRestarts < policy.maxRestarts else { return .giveUp }
        consecutiveRestarts += 1
        return .restart(attempt: consecutiveRestarts, after: policy.backoff(forAttempt: consecutiveRestarts))
    }
}
