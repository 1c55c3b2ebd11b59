import Foundation
import NexHostServices

/// Work for a worker thread.
enum JSJob {
    /// Run the function once.
    case invoke(subject: String, payload: [UInt8], done: @Sendable (Result<[UInt8], FunctionError>) -> Void)
    /// Check the source's syntax (at deploy).
    case checkSyntax(done: CheckedContinuation<Result<Void, FunctionError>, Never>)
}

/// The queue between `invoke` (any thread, async) and the worker threads (blocking). Worker threads wait on a
/// condition variable: they are our own threads, never the cooperative pool's.
final class JSWorkQueue: @unchecked Sendable {
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [JSJob] = []
    private var head = 0
    private var closed = false
    private var liveWorkers = 0
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []

    /// Queues a job; false once the queue is closed.
    func enqueue(_ job: JSJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// What a worker does next.
    enum Next {
        case job(JSJob)
        /// Nothing queued: use the idle time (prepare the next fresh context), then ask again.
        case idle
        case exit
    }

    /// The next job, blocking while there is none. `wantsIdleWork` makes an empty queue return `.idle` instead of
    /// blocking, once.
    func next(wantsIdleWork: Bool) -> Next {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                } else if head > 64, head * 2 > jobs.count {
                    jobs.removeFirst(head)
                    head = 0
                }
                return .job(job)
            }
            if closed { return .exit }
            if wantsIdleWork { return .idle }
            condition.wait()
        }
    }

    func workerStarted() {
        condition.lock()
        liveWorkers += 1
        condition.unlock()
    }

    func workerExited() {
        condition.lock()
        liveWorkers -= 1
        let waiters = liveWorkers == 0 ? exitWaiters : []
        if liveWorkers == 0 { exitWaiters = [] }
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the queue (queued jobs still run) and waits until every worker has exited.
    func closeAndWait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            condition.broadcast()
            if liveWorkers == 0 {
                condition.unlock()
                continuation.resume()
            } else {
                exitWaiters.append(continuation)
                condition.unlock()
            }
        }
    }
}
