import CJavaScriptCore
import Foundation
import NexAPI
import NexHostServices

/// One worker thread: a JavaScriptCore VM (context group) of its own, used only from this thread.
///
/// Every invocation starts from the same clean global state, and nothing one invocation does is visible to the
/// next. Creating a context (with the prelude, and its built-ins frozen) costs a few milliseconds, far more than a
/// trigger's budget, so a context serves invocation after invocation as long as it is provably as prepared:
/// the guest's script runs as `eval` code inside a function (its top-level declarations are that call's locals), the
/// built-ins are frozen, and after each invocation the prelude's `check()` deletes the globals the invocation added,
/// clears RegExp's legacy statics and says whether anything else changed. A context that fails the check, or whose
/// invocation was stopped, is released and a fresh one takes its place (prepared while the worker idles). See
/// docs/javascript-functions.md, "Isolation".
///
/// Limits: JSC's execution time limit (CPU time of this thread) calls ``watchdogTick()`` every
/// ``watchdogSlice`` of JS execution; the tick stops the invocation past its wall-clock deadline, or when the
/// process's resident memory grew by more than the memory limit since the invocation began.
final class JSWorker: @unchecked Sendable {
    private let sourceText: String
    private let context: FunctionContext
    private let queue: JSWorkQueue

    // Thread-confined state (only the worker thread touches it once `run()` started).
    private var group: JSContextGroupRef?
    private var nativeClass: JSClassRef?
    private var source: JSStringRef?
    private var preludeSource: JSStringRef?
    private var evaluatorSource: JSStringRef?
    private var prepared: Prepared?
    /// The context of the invocation that just ran, checked (and kept or released) once its result is on its way.
    private var spent: Spent?
    private var invocation = InvocationState()
    private var idlePreparationFailed = false
    private var restingResidentBytes = ResidentMemory.bytes()

    /// How often (in CPU time of JS execution) the watchdog looks at the clock and the memory.
    static let watchdogSlice = 0.01
    /// How long preparing a context may take beyond the function's own time limit.
    static let preparationAllowance: Duration = .seconds(30)

    private struct Prepared {
        var ctx: JSGlobalContextRef
        /// `run(source, subject, payload)` → `[state, reply, error]`.
        var runner: JSObjectRef
        /// `check()` → whether the context is still exactly as prepared.
        var check: JSObjectRef
    }

    private struct Spent {
        var prepared: Prepared
        /// False when the invocation ended in a way that may have left work or state behind (stopped by the
        /// watchdog, a promise that never settled, an engine failure).
        var reusable: Bool
    }

    private struct InvocationState {
        var deadline: ContinuousClock.Instant = .now
        var residentBaseline = 0
        /// Why the watchdog stopped the invocation, or why a host call gave up.
        var stopped: FunctionError.Code?
        /// Running the prelude (our code, not the guest's): the guest's limits do not apply.
        var preparing = false
    }

    init(source: String, context: FunctionContext, queue: JSWorkQueue) {
        self.sourceText = source
        self.context = context
        self.queue = queue
    }

    // MARK: - Thread

    func run() {
        source = JSValues.jsString(sourceText)
        preludeSource = JSValues.jsString(JSPrelude.source)
        evaluatorSource = JSValues.jsString(JSPrelude.evaluatorSource)
        var definition = kJSClassDefinitionEmpty
        definition.callAsFunction = nativeCallback
        nativeClass = JSClassCreate(&definition)
        createGroup()
        loop: while true {
            switch queue.next(wantsIdleWork: prepared == nil && !idlePreparationFailed) {
            case .job(.invoke(let subject, let payload, let done)):
                idlePreparationFailed = false
                done(invoke(subject: subject, payload: payload))
                // Checking (or releasing) the spent context comes after the answer, off the trigger's path.
                settleSpent()
            case .job(.checkSyntax(let done)):
                done.resume(returning: checkSyntax())
            case .idle:
                prepared = prepare()
                // No retry until a trigger comes (which tries again and reports the failure).
                idlePreparationFailed = prepared == nil
            case .exit:
                break loop
            }
        }
        releaseGroup()
        JSClassRelease(nativeClass)
        JSStringRelease(source)
        JSStringRelease(preludeSource)
        JSStringRelease(evaluatorSource)
        queue.workerExited()
    }

    /// JSC's process-wide options are read from `JSC_<option>` variables when the first VM is created
    /// and frozen then; the WebAssembly engine needs fast memories off, and this process may host both
    /// engines, so whichever creates the first VM sets it (WasmWorker explains why).
    private static let configureJSC: Void = {
        setenv("JSC_useWasmFastMemory", "false", 0)
    }()

    private func createGroup() {
        _ = Self.configureJSC
        let group = JSContextGroupCreate()
        self.group = group
        JSContextGroupSetExecutionTimeLimit(group, Self.watchdogSlice, watchdogCallback,
                                            Unmanaged.passUnretained(self).toOpaque())
    }

    private func releaseGroup() {
        if let prepared {
            Self.release(prepared)
            self.prepared = nil
        }
        if let spent { Self.release(spent.prepared) }
        spent = nil
        if let group { JSContextGroupRelease(group) }
        group = nil
    }

    // MARK: - Deploy

    private func checkSyntax() -> Result<Void, FunctionError> {
        let ctx = JSGlobalContextCreateInGroup(group, nil)!
        defer { JSGlobalContextRelease(ctx) }
        var exception: JSValueRef?
        if JSCheckScriptSyntax(ctx, source, nil, 1, &exception) { return .success(()) }
        var message = JSValues.toString(ctx, exception) ?? "syntax error"
        if let exception, let object = JSValueToObject(ctx, exception, nil),
           let line = JSValues.number(ctx, JSValues.property(ctx, object, "line")) {
            message += " (line \(Int(line)))"
        }
        return .failure(FunctionError(code: .invalidArtifact, message: message))
    }

    // MARK: - Invocation

    /// A fresh context with the prelude run (globals installed, built-ins frozen) and its runner and check kept;
    /// `nil` if JSC cannot make one.
    private func prepare() -> Prepared? {
        guard let ctx = JSGlobalContextCreateInGroup(group, nil) else { return nil }
        beginInvocation()
        invocation.preparing = true
        defer { invocation.preparing = false }
        var exception: JSValueRef?
        let native = JSObjectMake(ctx, nativeClass, Unmanaged.passUnretained(self).toOpaque())
        guard let preludeValue = JSEvaluateScript(ctx, preludeSource, nil, nil, 1, &exception),
              let prelude = JSValueToObject(ctx, preludeValue, nil),
              let evaluatorValue = JSEvaluateScript(ctx, evaluatorSource, nil, nil, 1, &exception) else {
            JSGlobalContextRelease(ctx)
            return nil
        }
        var arguments: [JSValueRef?] = [native, JSValues.string(ctx, context.workloadName), evaluatorValue]
        let pairValue = arguments.withUnsafeMutableBufferPointer {
            JSObjectCallAsFunction(ctx, prelude, nil, 3, $0.baseAddress, &exception)
        }
        guard let pairValue, let pair = JSValueToObject(ctx, pairValue, nil),
              let runner = JSValueToObject(ctx, JSObjectGetPropertyAtIndex(ctx, pair, 0, nil), nil),
              let check = JSValueToObject(ctx, JSObjectGetPropertyAtIndex(ctx, pair, 1, nil), nil) else {
            JSGlobalContextRelease(ctx)
            return nil
        }
        JSValueProtect(ctx, runner)
        JSValueProtect(ctx, check)
        noteRestingMemory()
        return Prepared(ctx: ctx, runner: runner, check: check)
    }

    /// Keeps the spent context for the next invocation when it was reusable and passes the check; releases it
    /// otherwise.
    private func settleSpent() {
        guard let spent else { return }
        self.spent = nil
        if spent.reusable, prepared == nil {
            let ctx = spent.prepared.ctx
            var exception: JSValueRef?
            beginInvocation()
            let clean = JSObjectCallAsFunction(ctx, spent.prepared.check, nil, 0, nil, &exception)
            if let clean, exception == nil, invocation.stopped == nil, JSValueIsBoolean(ctx, clean), JSValueToBoolean(ctx, clean) {
                prepared = spent.prepared
                noteRestingMemory()
                return
            }
        }
        Self.release(spent.prepared)
    }

    private static func release(_ prepared: Prepared) {
        JSValueUnprotect(prepared.ctx, prepared.runner)
        JSValueUnprotect(prepared.ctx, prepared.check)
        JSGlobalContextRelease(prepared.ctx)
    }

    /// Starts the watchdog's clock. The memory baseline is the resident size measured when the context was last
    /// readied (``noteRestingMemory()``), not now: reading it costs a system call on the trigger's path.
    private func beginInvocation() {
        invocation = InvocationState(
            deadline: .now + context.limits.executionTimeout, residentBaseline: restingResidentBytes, stopped: nil)
    }

    /// The resident size while no invocation runs on this worker, for the next invocation's memory limit.
    private func noteRestingMemory() {
        restingResidentBytes = ResidentMemory.bytes()
    }

    private func invoke(subject: String, payload: [UInt8]) -> Result<[UInt8], FunctionError> {
        guard let current = prepared ?? prepare() else {
            return .failure(FunctionError(code: .engine, message: "JavaScriptCore could not create a context"))
        }
        prepared = nil
        let ctx = current.ctx
        beginInvocation()
        let (result, reusable) = call(ctx: ctx, runner: current.runner, subject: subject, payload: payload)
        spent = Spent(prepared: current, reusable: reusable)
        if case .failure(let error) = result, error.code == .memory {
            // Give the memory back now: a new VM instead of waiting for the old one's collector.
            releaseGroup()
            createGroup()
        }
        return result
    }

    /// Runs one invocation in `ctx`; whether the context may be reused (subject to its check) goes with the result.
    private func call(ctx: JSGlobalContextRef, runner: JSObjectRef, subject: String, payload: [UInt8])
        -> (Result<[UInt8], FunctionError>, reusable: Bool)
    {
        guard let payloadValue = JSValues.uint8Array(ctx, payload) else {
            return (.failure(FunctionError(code: .memory, message: "the payload (\(payload.count) bytes) does not fit")), false)
        }
        var exception: JSValueRef?
        var arguments: [JSValueRef?] = [JSValueMakeString(ctx, source), JSValues.string(ctx, subject), payloadValue]
        let stateValue = arguments.withUnsafeMutableBufferPointer {
            JSObjectCallAsFunction(ctx, runner, nil, 3, $0.baseAddress, &exception)
        }
        // The API call returned: JSC drained the microtask queue when it released its lock, so a promise that can
        // settle has settled.
        if let stopped = stoppedError() { return (.failure(stopped), false) }
        guard let stateValue, let state = JSValueToObject(ctx, stateValue, nil) else {
            let message = JSValues.toString(ctx, exception) ?? "the function threw"
            return (.failure(FunctionError(code: .execution, message: message)), false)
        }
        switch JSValues.number(ctx, JSObjectGetPropertyAtIndex(ctx, state, 0, nil)) {
        case 1:
            let value = JSObjectGetPropertyAtIndex(ctx, state, 1, nil)
            if let text = JSValues.stringValue(ctx, value) { return (.success(Array(text.utf8)), true) }
            if let bytes = JSValues.bytes(ctx, value) { return (.success(bytes), true) }
            return (.success([]), true)
        case 2:
            let message = JSValues.stringValue(ctx, JSObjectGetPropertyAtIndex(ctx, state, 2, nil)) ?? "the function threw"
            return (.failure(FunctionError(code: .execution, message: message)), true)
        default:
            if let stopped = stoppedError() { return (.failure(stopped), false) }
            return (.failure(FunctionError(
                code: .execution,
                message: "the promise returned by the function never settled (no timers or I/O can resolve it)")), false)
        }
    }

    private func stoppedError() -> FunctionError? {
        switch invocation.stopped {
        case .timeout?:
            let timeout = context.limits.executionTimeout
            return FunctionError(code: .timeout, message: "execution timed out after \(Self.milliseconds(timeout))ms")
        case .memory?:
            return FunctionError(
                code: .memory, message: "execution used more than \(context.limits.maxMemoryBytes) bytes of memory")
        case let code?:
            return FunctionError(code: code, message: "execution stopped")
        case nil:
            return nil
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    // MARK: - Watchdog

    /// Called by JSC on this thread during JS execution; true stops the script with an uncatchable exception.
    fileprivate func watchdogTick() -> Bool {
        if invocation.preparing {
            // Preparing a context takes milliseconds; only a wedged engine runs past a generous bound.
            if ContinuousClock.now >= invocation.deadline + Self.preparationAllowance {
                invocation.stopped = .engine
                return true
            }
        } else if ContinuousClock.now >= invocation.deadline {
            invocation.stopped = .timeout
            return true
        }
        if !invocation.preparing, ResidentMemory.bytes() - invocation.residentBaseline > context.limits.maxMemoryBytes {
            invocation.stopped = .memory
            return true
        }
        // This JSC only calls back once per limit: set it again for the next slice.
        JSContextGroupSetExecutionTimeLimit(group, Self.watchdogSlice, watchdogCallback,
                                            Unmanaged.passUnretained(self).toOpaque())
        return false
    }

    // MARK: - Native operations

    fileprivate func native(_ ctx: JSContextRef, _ arguments: [JSValueRef?], _ exception: UnsafeMutablePointer<JSValueRef?>?)
        -> JSValueRef?
    {
        let undefined = JSValueMakeUndefined(ctx)
        guard let code = JSValues.number(ctx, arguments.first ?? nil), let operation = NativeOperation(rawValue: Int(code)) else {
            exception?.pointee = JSValues.error(ctx, "unknown native operation")
            return undefined
        }
        func argument(_ index: Int) -> JSValueRef? { index < arguments.count ? arguments[index] : nil }
        func string(_ index: Int) -> String { JSValues.stringValue(ctx, argument(index)) ?? "" }
        func bytes(_ index: Int) -> [UInt8] { JSValues.bytes(ctx, argument(index)) ?? [] }
        func duration(_ index: Int) -> Duration? {
            guard let ms = JSValues.number(ctx, argument(index)), ms.isFinite, ms > 0 else { return nil }
            return .milliseconds(Int64(ms))
        }

        switch operation {
        case .log:
            let level = NexLogLevel(Int(JSValues.number(ctx, argument(1)) ?? 0))
            context.log(level, string(2))
            return undefined
        case .utf8Encode:
            return JSValues.uint8Array(ctx, Array(string(1).utf8)) ?? undefined
        case .utf8Decode:
            var input = bytes(1)
            let fatal = JSValueToBoolean(ctx, argument(2))
            let ignoreBOM = JSValueToBoolean(ctx, argument(3))
            if !ignoreBOM, input.starts(with: [0xEF, 0xBB, 0xBF]) { input.removeFirst(3) }
            if fatal {
                guard let text = String(validating: input, as: UTF8.self) else {
                    exception?.pointee = JSValues.error(ctx, "The encoded data was not valid for encoding utf-8")
                    return undefined
                }
                return JSValues.string(ctx, text)
            }
            return JSValues.string(ctx, String(decoding: input, as: UTF8.self))
        default:
            break
        }

        // Host services: the worker thread blocks until the async call finishes (bounded by the deadline).
        guard context.hostServices != nil else {
            exception?.pointee = JSValues.error(ctx, "host services are not available", code: "disabled")
            return undefined
        }
        let outcome: Result<HostValue, HostServiceError>
        switch operation {
        case .kvGet:
            let (bucket, key) = (string(1), string(2))
            outcome = hostCall { s throws(HostServiceError) in .bytes(try await s.kvGet(bucket: bucket, key: key)) }
        case .kvSet:
            let (bucket, key, value) = (string(1), string(2), bytes(3))
            outcome = hostCall { s throws(HostServiceError) in
                .number(Double(try await s.kvSet(bucket: bucket, key: key, value: value)))
            }
        case .kvDelete:
            let (bucket, key) = (string(1), string(2))
            outcome = hostCall { s throws(HostServiceError) in try await s.kvDelete(bucket: bucket, key: key); return .none }
        case .kvKeys:
            let bucket = string(1)
            outcome = hostCall { s throws(HostServiceError) in .json(try Self.json(try await s.kvKeys(bucket: bucket))) }
        case .objectGet:
            let (bucket, name) = (string(1), string(2))
            outcome = hostCall { s throws(HostServiceError) in .bytes(try await s.objectGet(bucket: bucket, name: name)) }
        case .objectPut:
            let (bucket, name, value) = (string(1), string(2), bytes(3))
            outcome = hostCall { s throws(HostServiceError) in
                .json(try Self.json(try await s.objectPut(bucket: bucket, name: name, value: value)))
            }
        case .objectDelete:
            let (bucket, name) = (string(1), string(2))
            outcome = hostCall { s throws(HostServiceError) in
                try await s.objectDelete(bucket: bucket, name: name)
                return .none
            }
        case .objectList:
            let bucket = string(1)
            outcome = hostCall { s throws(HostServiceError) in .json(try Self.json(try await s.objectList(bucket: bucket))) }
        case .publish:
            let (subject, payload) = (string(1), bytes(2))
            outcome = hostCall { s throws(HostServiceError) in
                try await s.publish(subject: subject, payload: payload)
                return .none
            }
        case .request:
            let (subject, payload, timeout) = (string(1), bytes(2), duration(3))
            outcome = hostCall { s throws(HostServiceError) in
                .bytes(try await s.request(subject: subject, payload: payload, timeout: timeout))
            }
        case .requestMany:
            let (subject, payload, timeout) = (string(1), bytes(2), duration(3))
            let maxReplies = JSValues.number(ctx, argument(4)).flatMap { $0.isFinite && $0 >= 1 ? Int($0) : nil }
            outcome = hostCall { s throws(HostServiceError) in
                .list(try await s.requestMany(subject: subject, payload: payload, timeout: timeout, maxReplies: maxReplies))
            }
        case .http:
            guard let method = HostHTTPMethod(rawValue: string(1)) else {
                exception?.pointee = JSValues.error(ctx, "unsupported HTTP method", code: "invalidArgument")
                return undefined
            }
            let url = string(2)
            let body = JSValues.bytes(ctx, argument(3))
            outcome = hostCall { s throws(HostServiceError) in
                .http(try await s.http(method, url: url, body: body))
            }
        case .log, .utf8Encode, .utf8Decode:
            return undefined
        }

        switch outcome {
        case .success(let value):
            return value.jsValue(ctx) ?? undefined
        case .failure(let error):
            exception?.pointee = JSValues.error(ctx, error.message, code: error.code.description)
            return undefined
        }
    }

    private static func json(_ value: some Encodable) throws(HostServiceError) -> String {
        do {
            return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw HostServiceError(code: .failed, message: "could not encode the result: \(error)")
        }
    }

    /// Runs an async host-service call and blocks this (worker) thread until it finishes or the invocation's
    /// deadline passes.
    private func hostCall(_ body: @escaping @Sendable (any HostServices) async throws(HostServiceError) -> HostValue)
        -> Result<HostValue, HostServiceError>
    {
        guard let services = context.hostServices else {
            return .failure(HostServiceError(code: .disabled, message: "host services are not available"))
        }
        guard let result = waitForHostCall(services, until: invocation.deadline, body) else {
            invocation.stopped = .timeout
            return .failure(HostServiceError(code: .timeout, message: "execution timed out"))
        }
        return result
    }
}

/// A host-service result on its way from the async call to the worker thread.
private enum HostValue: Sendable {
    case none
    case number(Double)
    case bytes([UInt8]?)
    case list([[UInt8]])
    case json(String)
    case http(HostHTTPResponse)

    func jsValue(_ ctx: JSContextRef) -> JSValueRef? {
        switch self {
        case .none:
            return JSValueMakeUndefined(ctx)
        case .number(let number):
            return JSValueMakeNumber(ctx, number)
        case .bytes(let bytes?):
            return JSValues.uint8Array(ctx, bytes)
        case .bytes(nil):
            return JSValueMakeNull(ctx)
        case .list(let items):
            return JSValues.array(ctx, items.map { JSValues.uint8Array(ctx, $0) })
        case .json(let text):
            return JSValues.string(ctx, text)
        case .http(let response):
            // [status, headers as JSON, body bytes or null]; the prelude shapes the object.
            let headers = (try? JSONEncoder().encode(response.headers)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            let body = response.body.map { JSValues.uint8Array(ctx, $0) } ?? JSValueMakeNull(ctx)
            return JSValues.array(ctx, [JSValueMakeNumber(ctx, Double(response.status)), JSValues.string(ctx, headers), body])
        }
    }
}

/// The process's resident set size, read from /proc/self/statm (a few microseconds; no allocation).
enum ResidentMemory {
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    private static let statm: Int32 = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)

    static func bytes() -> Int {
        guard statm >= 0 else { return 0 }
        var buffer = (0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64)
        let count = withUnsafeMutableBytes(of: &buffer) { pread(statm, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return 0 }
        // "size resident shared …": the second field, in pages.
        return withUnsafeBytes(of: &buffer) { raw -> Int in
            var field = 0, value = 0
            for byte in raw.prefix(count) {
                if byte == UInt8(ascii: " ") {
                    field += 1
                    if field == 2 { break }
                    continue
                }
                if field == 1, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                }
            }
            return value * pageSize
        }
    }
}

// MARK: - C callbacks (no captures: the worker comes through the opaque pointer / the object's private data)

private let watchdogCallback: JSShouldTerminateCallback = { _, opaque in
    guard let opaque else { return true }
    return Unmanaged<JSWorker>.fromOpaque(opaque).takeUnretainedValue().watchdogTick()
}

private let nativeCallback: JSObjectCallAsFunctionCallback = { ctx, function, _, count, arguments, exception in
    guard let ctx, let function, let opaque = JSObjectGetPrivate(function) else { return nil }
    let worker = Unmanaged<JSWorker>.fromOpaque(opaque).takeUnretainedValue()
    let values = (0..<count).map { arguments?[$0] }
    return worker.native(ctx, values, exception)
}
