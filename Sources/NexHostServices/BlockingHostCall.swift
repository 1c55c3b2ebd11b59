import Dispatch
import Foundation

/// Runs an async host-service call for guest code that runs on one of an engine's own threads (never Swift's
/// cooperative pool): the call runs as a task, the calling thread blocks until it finishes or `deadline`
/// passes. `nil` means the deadline passed first (before or during the call); the abandoned call is cancelled.
public func waitForHostCall<T: Sendable>(
    _ services: any HostServices, until deadline: ContinuousClock.Instant,
    _ operation: @escaping @Sendable (any HostServices) async throws(HostServiceError) -> T
) -> Result<T, HostServiceError>? {
    let remaining = ContinuousClock.now.duration(to: deadline)
    guard remaining > .zero else { return nil }
    let box = HostCallResultBox<T>()
    let task = Task {
        let result: Result<T, HostServiceError>
        do throws(HostServiceError) {
            result = .success(try await operation(services))
        } catch {
            result = .failure(error)
        }
        box.finish(result)
    }
    let (seconds, attoseconds) = remaining.components
    let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
    guard box.semaphore.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success, let result = box.result else {
        task.cancel()
        return nil
    }
    return result
}

/// A host call's result on its way from the task to the blocked thread.
private final class HostCallResultBox<T: Sendable>: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stored: Result<T, HostServiceError>?

    func finish(_ result: Result<T, HostServiceError>) {
        lock.withLock { stored = result }
        semaphore.signal()
    }

    var result: Result<T, HostServiceError>? { lock.withLock { stored } }
}
