@testable import NexAgent
import Testing

@Suite struct InFlightLimitTests {
    @Test func admitsUpToTheMaximumAndAgainAfterARelease() {
        let limit = InFlightLimit(maximum: 3)
        #expect((0..<5).map { _ in limit.tryAcquire() } == [true, true, true, false, false])
        limit.release()
        #expect(limit.tryAcquire())
        #expect(!limit.tryAcquire())
    }

    @Test func waitUntilIdleReturnsOnceTheLastInvocationEnded() async {
        let limit = InFlightLimit(maximum: 4)
        await limit.waitUntilIdle() // nothing in flight: at once
        #expect(limit.tryAcquire())
        #expect(limit.tryAcquire())
        let idle = Task { await limit.waitUntilIdle() }
        limit.release()
        limit.release()
        await idle.value
        #expect(limit.tryAcquire())
    }
}
