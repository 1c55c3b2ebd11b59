// JavaScript functions (the `v8` workload type) on JavaScriptCore. See docs/javascript-functions.md for the API
// guest code sees, and FunctionContract.swift in NexHostServices for the contract with the agent.

import Foundation
import NexHostServices

/// Compiles JavaScript function sources into engines that run on JavaScriptCore.
///
/// A source is a script whose completion value is a function `(subject, payload) => reply`. Compiling checks its
/// size and syntax (the deploy fails with JavaScriptCore's message and the line); each engine then runs its
/// invocations on a few threads of its own, one JavaScriptCore VM (context group) per thread.
public struct JavaScriptEngineFactory: FunctionEngineFactory {
    /// Threads (and VMs) per deployed function: the number of invocations that run at the same time.
    public var workerThreads: Int

    /// The default worker count: the machine's cores, at least 2 (so a slow host-service call does not hold up
    /// every other trigger) and at most 8.
    public static var defaultWorkerThreads: Int {
        min(max(ProcessInfo.processInfo.activeProcessorCount, 2), 8)
    }

    /// Creates a factory whose engines run `workerThreads` invocations at a time.
    public init(workerThreads: Int = JavaScriptEngineFactory.defaultWorkerThreads) {
        self.workerThreads = max(1, workerThreads)
    }

    public func compile(_ artifact: [UInt8], context: FunctionContext) async throws(FunctionError) -> any FunctionEngine {
        guard artifact.count <= context.limits.maxArtifactBytes else {
            throw FunctionError(
                code: .invalidArtifact,
                message: "source file (\(artifact.count) bytes) exceeds maximum of \(context.limits.maxArtifactBytes) bytes")
        }
        guard let source = String(validating: artifact, as: UTF8.self) else {
            throw FunctionError(code: .invalidArtifact, message: "the source is not valid UTF-8")
        }
        let engine = JavaScriptEngine(source: source, context: context, workerThreads: workerThreads)
        do throws(FunctionError) {
            try await engine.checkSyntax()
        } catch {
            await engine.shutdown()
            throw error
        }
        return engine
    }
}

/// One deployed JavaScript function: a queue and the worker threads that drain it.
final class JavaScriptEngine: FunctionEngine {
    private let queue = JSWorkQueue()

    init(source: String, context: FunctionContext, workerThreads: Int) {
        for index in 0..<workerThreads {
            let worker = JSWorker(source: source, context: context, queue: queue)
            queue.workerStarted()
            let thread = Thread { worker.run() }
            thread.name = "nex-js-\(context.workloadName)-\(index)"
            // JSC measures its stack limit from the thread's real stack; give deep guest recursion room.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func checkSyntax() async throws(FunctionError) {
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<Void, FunctionError>, Never>) in
            if !queue.enqueue(.checkSyntax(done: done)) { done.resume(returning: .failure(Self.shutDown)) }
        }
        try result.get()
    }

    func invoke(subject: String, payload: [UInt8], completion: @escaping @Sendable (Result<[UInt8], FunctionError>) -> Void) {
        if !queue.enqueue(.invoke(subject: subject, payload: payload, done: completion)) {
            completion(.failure(Self.shutDown))
        }
    }

    func shutdown() async {
        await queue.closeAndWait()
    }

    private static let shutDown = FunctionError(code: .engine, message: "the function has been shut down")
}
