// The `wasm` workload type: WASI preview1 command modules on JavaScriptCore's WebAssembly
// (DESIGN.md §5, spec §5.3), with the `nex` host-service imports. See docs/wasm-functions.md.

import Foundation
import NexAPI
import NexHostServices

/// Compiles WASI preview1 command modules into ``FunctionEngine``s.
///
/// At deploy the module is checked, its memory maximum capped at ``FunctionLimits/maxMemoryBytes`` and its
/// loops instrumented so that ``FunctionLimits/executionTimeout`` stops even a loop that never calls out;
/// then each worker thread compiles it once. Per trigger, `_start` runs on a clean instance: each worker
/// keeps its instance and restores it from a post-instantiation snapshot when the module is provably
/// recyclable (``Recyclability``), and instantiates afresh otherwise.
public struct WasmEngineFactory: FunctionEngineFactory {
    /// Worker threads per deployed function; each owns a JSC VM and its own compiled copy of the module.
    public var workerCount: Int
    /// Recycle instances of modules that allow it (on by default; off gives a fresh instance per trigger).
    public var recycleInstances: Bool

    public init() {
        self.init(workerCount: min(4, max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }

    public init(workerCount: Int, recycleInstances: Bool = true) {
        self.workerCount = max(1, workerCount)
        self.recycleInstances = recycleInstances
    }

    public func compile(_ artifact: [UInt8], context: FunctionContext) async throws(FunctionError) -> any FunctionEngine {
        guard artifact.count <= context.limits.maxArtifactBytes else {
            throw FunctionError(code: .invalidArtifact,
                                message: "the module is \(artifact.count) bytes, larger than the limit of \(context.limits.maxArtifactBytes)")
        }
        let pool = WorkerPool(count: workerCount, context: context)
        let maxPages = UInt64(max(1, context.limits.maxMemoryBytes / 65536))
        let recycleInstances = self.recycleInstances
        let result = await pool.start { workers in
            // The engine's own verdict first, on the module as written: its message is the clearest.
            if let error = workers.compile(artifact), error.code == .invalidArtifact { return .failure(error) }
            do throws(ModuleRewriteError) {
                let rewritten = try ModuleRewriter.rewrite(artifact, maxMemoryPages: maxPages)
                return .success(WorkerPool.PreparedModule(bytes: rewritten.bytes,
                                                          recycle: recycleInstances && rewritten.recyclability.isRecyclable))
            } catch {
                return .failure(FunctionError(code: .invalidArtifact, message: "cannot prepare the module: \(error)"))
            }
        }
        switch result {
        case .success:
            return WasmEngine(pool: pool, context: context)
        case .failure(let error):
            await pool.shutdown()
            throw error
        }
    }
}

/// One deployed Wasm function.
final class WasmEngine: FunctionEngine {
    private let pool: WorkerPool
    private let context: FunctionContext

    init(pool: WorkerPool, context: FunctionContext) {
        self.pool = pool
        self.context = context
    }

    func invoke(subject: String, payload: [UInt8], completion: @escaping @Sendable (Result<[UInt8], FunctionError>) -> Void) {
        let timeout = context.limits.executionTimeout
        pool.submit { [self] worker in
            guard let worker else {
                completion(.failure(FunctionError(code: .engine, message: "the function is shut down")))
                return
            }
            completion(worker.run(subject: subject, payload: payload, timeout: timeout).flatMap(reply))
            // After the reply went out: the snapshot copy stays off the next trigger's path.
            worker.restore()
        }
    }

    /// The reply for an outcome: stdout after exit code 0; stderr goes to the logs either way.
    private func reply(_ outcome: WasmRunOutcome) -> Result<[UInt8], FunctionError> {
        let limits = context.limits
        logStderr(outcome.stderr)
        // A failure after a refused `memory.grow` is the memory limit's doing (malloc returned NULL).
        let memoryCapReached = outcome.growRefused
        switch outcome.status {
        case .exited(0):
            return .success(outcome.stdout)
        case .exited(let code):
            if memoryCapReached {
                return .failure(FunctionError(code: .memory, message: "exited with code \(code) at the memory limit of \(limits.maxMemoryBytes) bytes"))
            }
            return .failure(FunctionError(code: .execution, message: "exited with code \(code)"))
        case .trapped(let reason):
            if memoryCapReached {
                return .failure(FunctionError(code: .memory, message: "trapped at the memory limit of \(limits.maxMemoryBytes) bytes: \(reason)"))
            }
            return .failure(FunctionError(code: .execution, message: "trapped: \(reason)"))
        case .timedOut:
            return .failure(FunctionError(code: .timeout, message: "ran longer than \(limits.executionTimeout)"))
        case .instantiationFailed(let reason):
            return .failure(FunctionError(code: .execution, message: "cannot instantiate: \(reason)"))
        }
    }

    func shutdown() async {
        await pool.shutdown()
    }

    /// Each stderr line is one log entry; a last line without a newline too.
    private func logStderr(_ stderr: [UInt8]) {
        guard !stderr.isEmpty else { return }
        var lines = stderr.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            context.log(.error, String(decoding: line, as: UTF8.self))
        }
    }
}

/// The threads of one function. JSC contexts must stay on one thread, and invocations block (a guest runs
/// to completion, host calls wait), so they run here and never on Swift's cooperative pool.
final class WorkerPool: @unchecked Sendable {
    typealias Job = @Sendable (WasmWorker?) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobsHead = 0
    private var stopped = false
    private var running = 0
    private let count: Int
    private let context: FunctionContext
    private var exited: [CheckedContinuation<Void, Never>] = []

    init(count: Int, context: FunctionContext) {
        self.count = count
        self.context = context
    }

    /// The module every worker compiles: the rewritten bytes, and whether to recycle its instances.
    struct PreparedModule: Sendable {
        var bytes: [UInt8]
        var recycle: Bool
    }

    /// The compile step every worker runs once at start, given a way to compile module bytes.
    struct Compiler {
        fileprivate let worker: WasmWorker
        func compile(_ bytes: [UInt8]) -> FunctionError? { worker.compile(bytes) }
    }

    /// Starts the threads. The first one checks the artifact and prepares the bytes (`prepare`, which may
    /// compile with the worker it is given); then every worker compiles the prepared module.
    func start(prepare: @escaping @Sendable (Compiler) -> Result<PreparedModule, FunctionError>) async -> Result<Void, FunctionError> {
        let prepared: Result<PreparedModule, FunctionError> = await withCheckedContinuation { continuation in
            // A throwaway worker: its context saw the unprepared module.
            spawn { worker in
                continuation.resume(returning: prepare(Compiler(worker: worker)))
                return nil
            }
        }
        let module: PreparedModule
        switch prepared {
        case .success(let value): module = value
        case .failure(let error): return .failure(error)
        }
        let failures = FailureList()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
                        self.spawn { worker in
                            let error = worker.compile(module.bytes, recycle: module.recycle)
                            if let error { failures.append(error) }
                            started.resume()
                            return error == nil ? worker : nil
                        }
                    }
                }
            }
        }
        if let error = failures.first {
            return .failure(error.code == .invalidArtifact ? error : FunctionError(code: .invalidArtifact, message: error.message))
        }
        return .success(())
    }

    /// Runs `setup` on a new thread with a new worker; when it returns the worker, the thread serves jobs.
    private func spawn(_ setup: @escaping @Sendable (WasmWorker) -> WasmWorker?) {
        let context = self.context
        condition.withLock { running += 1 }
        let thread = Thread { [self] in
            if let worker = setup(WasmWorker(context: context)) {
                serve(worker)
            }
            let waiting: [CheckedContinuation<Void, Never>] = condition.withLock {
                running -= 1
                return running == 0 ? exited : []
            }
            for continuation in waiting { continuation.resume() }
        }
        thread.stackSize = 16 << 20
        thread.name = "nex-wasm"
        thread.start()
    }

    private func serve(_ worker: WasmWorker) {
        while true {
            let job: Job? = condition.withLock {
                while jobsHead == jobs.count && !stopped { condition.wait() }
                guard jobsHead < jobs.count else { return nil }
                let job = jobs[jobsHead]
                jobsHead += 1
                if jobsHead == jobs.count { jobs.removeAll(keepingCapacity: true); jobsHead = 0 }
                return job
            }
            guard let job else { return }
            job(worker)
        }
    }

    func submit(_ job: @escaping Job) {
        let accepted = condition.withLock {
            guard !stopped else { return false }
            jobs.append(job)
            condition.signal()
            return true
        }
        if !accepted { job(nil) }
    }

    /// Stops the threads once the queued jobs ran, and waits for them to exit.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = condition.withLock {
                stopped = true
                condition.broadcast()
                if running == 0 { return true }
                exited.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [FunctionError] = []
    func append(_ error: FunctionError) { lock.withLock { errors.append(error) } }
    var first: FunctionError? { lock.withLock { errors.first } }
}
