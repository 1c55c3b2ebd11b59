import Testing

@testable import NativeRuntime

@Suite struct RestartScheduleTests {
    @Test func backoffGrowsByTheMultiplierUpToTheCap() {
        let policy = RestartPolicy(
            maxRestarts: 10, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), multiplier: 2
        )
        let delays = (1...6).map { policy.backoff(forAttempt: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        // Huge attempt numbers neither overflow nor exceed the cap.
        #expect(policy.backoff(forAttempt: 10_000) == .seconds(1))
    }

    @Test func fractionalMultiplier() {
        let policy = RestartPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(10), multiplier: 1.5)
        #expect(policy.backoff(forAttempt: 3) == .milliseconds(2250))
    }

    @Test func givesUpAfterTheLimitOfConsecutiveFailures() {
        var schedule = RestartSchedule(
            policy: RestartPolicy(maxRestarts: 3, initialBackoff: .seconds(1), maxBackoff: .seconds(60), resetAfter: nil)
        )
        #expect(schedule.processExited(.exited(1), after: .seconds(1)) == .restart(attempt: 1, after: .seconds(1)))
        #expect(schedule.processExited(.signaled(11), after: .seconds(1)) == .restart(attempt: 2, after: .seconds(2)))
        #expect(schedule.startFailed() == .restart(attempt: 3, after: .seconds(4)))
        #expect(schedule.processExited(.exited(1), after: .seconds(1)) == .giveUp)
        #expect(schedule.processExited(.exited(1), after: .seconds(1)) == .giveUp)
    }

    @Test func cleanExitFinishes() {
        var schedule = RestartSchedule(policy: RestartPolicy(maxRestarts: 3))
        #expect(schedule.processExited(.exited(1), after: .zero) == .restart(attempt: 1, after: .milliseconds(500)))
        #expect(schedule.processExited(.exited(0), after: .zero) == .finish)
    }

    @Test func aLongHealthyRunResetsTheCount() {
        var schedule = RestartSchedule(
            policy: RestartPolicy(maxRestarts: 2, initialBackoff: .seconds(1), maxBackoff: .seconds(60), resetAfter: .seconds(30))
        )
        #expect(schedule.processExited(.exited(2), after: .seconds(5)) == .restart(attempt: 1, after: .seconds(1)))
        #expect(schedule.processExited(.exited(2), after: .seconds(29)) == .restart(attempt: 2, after: .seconds(2)))
        // Ran for 30 s: healthy, so this failure is the first of a new series, not the third.
        #expect(schedule.processExited(.exited(2), after: .seconds(30)) == .restart(attempt: 1, after: .seconds(1)))
        #expect(schedule.consecutiveRestarts == 1)
    }

    @Test func zeroRestartsGivesUpAtOnce() {
        var schedule = RestartSchedule(policy: RestartPolicy(maxRestarts: 0))
        #expect(schedule.processExited(.signaled(9), after: .zero) == .giveUp)
    }
}
