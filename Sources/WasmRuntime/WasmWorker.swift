// One worker: a thread that owns a JSC context group, its context and its own compiled copy of the module
// (a JSC `WebAssembly.Module` belongs to one VM). Everything in here runs on that thread only.

import CJavaScriptCore
import Foundation
import JetStream
import NexAPI
import NexHostServices

/// The outcome of one run of `_start`, as the shim reports it.
struct WasmRunOutcome {
    enum Status: Equatable { case exited(UInt32), trapped(String), timedOut, instantiationFailed(String) }
    var status: Status
    var stdout: [UInt8]
    var stderr: [UInt8]
    var memoryBytes: Int
    /// A `memory.grow` was refused (the memory cap reached).
    var growRefused: Bool
    /// The run used the worker's kept instance, restored from its snapshot (false: a fresh instance).
    var recycled: Bool
}

final class WasmWorker {
    let context: FunctionContext
    private let group: JSContextGroupRef
    private let ctx: JSGlobalContextRef
    private var runFunction: JSObjectRef?
    private var restoreFunction: JSObjectRef?
    private var timeoutSentinel: JSValueRef?
    /// The text of the last failed host call, for `nex.last_error`.
    fileprivate var lastError: [UInt8] = []
    /// The running invocation's deadline (host calls never block past it).
    fileprivate var deadline = ContinuousClock.now
    /// What `__nexInput()` hands the shim during `run`, and what `__nexDone` reported.
    fileprivate var input: (subject: String, payload: [UInt8], timeoutMs: Double)?
    fileprivate var outcome: WasmRunOutcome?

    init(context: FunctionContext) {
        _ = WasmWorker.configureJSC
        self.context = context
        group = JSContextGroupCreate()
        ctx = JSGlobalContextCreateInGroup(group, nil)
    }

    deinit {
        if let runFunction { JSValueUnprotect(ctx, runFunction) }
        if let restoreFunction { JSValueUnprotect(ctx, restoreFunction) }
        if let timeoutSentinel { JSValueUnprotect(ctx, timeoutSentinel) }
        JSGlobalContextRelease(ctx)
        JSContextGroupRelease(group)
    }

    /// Fast memories are limited to 8 per process and make instantiation bimodal (DESIGN.md §5): off.
    /// JSC reads `JSC_<option>` variables once, when the process's first VM is created, and freezes its
    /// options then (a later `jsc_options_set_*` writes to a read-only page and crashes). So the
    /// variable is set before any context exists — by every engine of this process (see the JS engine),
    /// whichever creates the first VM. An explicit setting in the environment wins.
    private static let configureJSC: Void = {
        setenv("JSC_useWasmFastMemory", "false", 0)
    }()

    /// The largest linear memory a recycled instance restores from its snapshot. Copying is linear in the
    /// memory's size while a fresh instance's memory starts out as untouched zero pages, so past a few MiB
    /// a fresh instance is likely the cheaper clean state. A chosen bound, not a measured crossover; a wasi-libc
    /// C module starts with 128 KiB (the echo's restore costs ≈1.4 µs), a Rust one with ~1.1 MiB.
    static let maxSnapshotBytes = 4 << 20

    /// Installs the shim and compiles the module; returns the engine's reason when it is not a usable
    /// WASI command. `recycle`: keep an instance between runs and restore it from a snapshot (only for a
    /// module ``ModuleRewriter`` found recyclable and prepared for it).
    func compile(_ module: [UInt8], recycle: Bool = false) -> FunctionError? {
        let global = JSContextGetGlobalObject(ctx)
        setGlobal(global, "__nexModuleBytes", makeBytes(module))
        let env = context.environment.sorted { $0.key < $1.key }.map { makeBytes(Array("\($0.key)=\($0.value)".utf8)) }
        var envValues: [JSValueRef?] = env
        setGlobal(global, "__nexEnv", JSObjectMakeArray(ctx, envValues.count, &envValues, nil))
        installNative(global, "__nexClock", nativeClock)
        installNative(global, "__nexRandom", nativeRandom)
        installNative(global, "__nexSleep", nativeSleep)
        installNative(global, "__nexHost", nativeHost)
        installNative(global, "__nexInput", nativeInput)
        installNative(global, "__nexDone", nativeDone)

        var exception: JSValueRef?
        _ = evaluate(WasiShim.source, exception: &exception)
        if let exception { return FunctionError(code: .engine, message: "WASI shim: \(string(exception))") }
        let result = evaluate("__nexCompile(\(recycle), \(WasmWorker.maxSnapshotBytes))", exception: &exception)
        if let exception { return FunctionError(code: .engine, message: "compile: \(string(exception))") }
        if let result, !JSValueIsNull(ctx, result) {
            return FunctionError(code: .invalidArtifact, message: string(result))
        }
        setGlobal(global, "__nexModuleBytes", JSValueMakeUndefined(ctx))
        runFunction = JSValueToObject(ctx, property(global, "__nexRun"), nil)
        timeoutSentinel = property(global, "__nexTimeout")
        JSValueProtect(ctx, runFunction)
        if recycle {
            restoreFunction = JSValueToObject(ctx, property(global, "__nexRestore"), nil)
            JSValueProtect(ctx, restoreFunction)
        }
        JSValueProtect(ctx, timeoutSentinel)
        return nil
    }

    /// Restores a kept instance from its snapshot now, so that the copy is not on the next trigger's path
    /// (the next run would restore it otherwise). Nothing to do for a fresh-instance module.
    func restore() {
        guard let restoreFunction else { return }
        JSObjectCallAsFunction(ctx, restoreFunction, nil, 0, nil, nil)
    }

    /// Runs `_start` once on a clean instance: fresh, or the kept one restored to its snapshot.
    func run(subject: String, payload: [UInt8], timeout: Duration) -> Result<WasmRunOutcome, FunctionError> {
        guard let runFunction else { return .failure(FunctionError(code: .engine, message: "the module is not compiled")) }
        deadline = .now + timeout
        lastError = []
        let (seconds, attoseconds) = timeout.components
        let timeoutMs = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        input = (subject, payload, timeoutMs)
        outcome = nil
        defer { input = nil; outcome = nil }
        // One call into the context; the shim fetches its input and reports the outcome through native calls.
        var exception: JSValueRef?
        JSObjectCallAsFunction(ctx, runFunction, nil, 0, nil, &exception)
        if let exception { return .failure(FunctionError(code: .engine, message: string(exception))) }
        guard let outcome else { return .failure(FunctionError(code: .engine, message: "the shim reported no outcome")) }
        // Dead instances hold linear memory until collected; collect at our pace, not at the next trigger's.
        if outcome.memoryBytes > 32 << 20 { JSGarbageCollect(ctx) }
        return .success(outcome)
    }

    // MARK: - Native functions

    private typealias Native = @convention(c) (JSContextRef?, JSObjectRef?, JSObjectRef?, Int, UnsafePointer<JSValueRef?>?, UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef?

    private func installNative(_ global: JSObjectRef?, _ name: String, _ callback: Native) {
        var definition = kJSClassDefinitionEmpty
        definition.callAsFunction = callback
        let jsClass = JSClassCreate(&definition)
        defer { JSClassRelease(jsClass) }
        let function = JSObjectMake(ctx, jsClass, Unmanaged.passUnretained(self).toOpaque())
        setGlobal(global, name, function)
    }

    fileprivate static func from(_ function: JSObjectRef?) -> WasmWorker {
        Unmanaged<WasmWorker>.fromOpaque(JSObjectGetPrivate(function)!).takeUnretainedValue()
    }

    fileprivate func argument(_ index: Int, _ count: Int, _ arguments: UnsafePointer<JSValueRef?>?) -> JSValueRef? {
        index < count ? arguments?[index] : nil
    }

    fileprivate func throwTimeout(_ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
        exception?.pointee = timeoutSentinel
        return nil
    }

    /// Blocks this worker thread on an async host call, never past the invocation's deadline. The call
    /// itself runs on Swift's pool; only this (our own) thread waits.
    fileprivate func blocking<T: Sendable>(
        _ operation: @escaping @Sendable (any HostServices) async throws(HostServiceError) -> T
    ) -> HostCallResult<T> {
        guard let services = context.hostServices else {
            return .failed(HostServiceError(code: .disabled, message: "this node offers no host services"))
        }
        switch waitForHostCall(services, until: deadline, operation) {
        case .success(let value)?: return .value(value)
        case .failure(let error)?: return .failed(error)
        case nil: return .timedOut
        }
    }

    // MARK: - JS values

    func makeBytes(_ bytes: [UInt8]) -> JSObjectRef? {
        let array = JSObjectMakeTypedArray(ctx, kJSTypedArrayTypeUint8Array, bytes.count, nil)
        if !bytes.isEmpty, let pointer = JSObjectGetTypedArrayBytesPtr(ctx, array, nil) {
            bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        return array
    }

    func makeBytes(_ text: String.UTF8View) -> JSObjectRef? {
        if let array = text.withContiguousStorageIfAvailable({ utf8 -> JSObjectRef? in
            let array = JSObjectMakeTypedArray(ctx, kJSTypedArrayTypeUint8Array, utf8.count, nil)
            if !utf8.isEmpty, let pointer = JSObjectGetTypedArrayBytesPtr(ctx, array, nil) {
                pointer.copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
            }
            return array
        }) {
            return array
        }
        return makeBytes(Array(text))
    }

    /// The bytes of a Uint8Array. The shim passes only arrays that start at offset 0 of their buffer.
    func bytes(_ value: JSValueRef?) -> [UInt8]? {
        guard let value, JSValueGetTypedArrayType(ctx, value, nil) == kJSTypedArrayTypeUint8Array,
              let object = JSValueToObject(ctx, value, nil) else { return nil }
        let length = JSObjectGetTypedArrayByteLength(ctx, object, nil)
        guard length > 0, let pointer = JSObjectGetTypedArrayBytesPtr(ctx, object, nil) else { return [] }
        let offset = JSObjectGetTypedArrayByteOffset(ctx, object, nil)
        return Array(UnsafeRawBufferPointer(start: pointer + offset, count: length))
    }

    func string(_ value: JSValueRef?) -> String {
        guard let value, let js = JSValueToStringCopy(ctx, value, nil) else { return "" }
        defer { JSStringRelease(js) }
        let size = JSStringGetMaximumUTF8CStringSize(js)
        var buffer = [CChar](repeating: 0, count: size)
        JSStringGetUTF8CString(js, &buffer, size)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func number(_ value: JSValueRef?) -> Double {
        guard let value else { return 0 }
        return JSValueToNumber(ctx, value, nil)
    }

    fileprivate var jsContext: JSGlobalContextRef { ctx }

    private func evaluate(_ script: String, exception: inout JSValueRef?) -> JSValueRef? {
        let source = JSStringCreateWithUTF8CString(script)
        defer { JSStringRelease(source) }
        return JSEvaluateScript(ctx, source, nil, nil, 1, &exception)
    }

    private func property(_ object: JSObjectRef?, _ name: String) -> JSValueRef? {
        let key = JSStringCreateWithUTF8CString(name)
        defer { JSStringRelease(key) }
        return JSObjectGetProperty(ctx, object, key, nil)
    }

    private func setGlobal(_ object: JSObjectRef?, _ name: String, _ value: JSValueRef?) {
        let key = JSStringCreateWithUTF8CString(name)
        defer { JSStringRelease(key) }
        JSObjectSetProperty(ctx, object, key, value, JSPropertyAttributes(kJSPropertyAttributeNone), nil)
    }
}

enum HostCallResult<T> {
    case value(T)
    case failed(HostServiceError)
    case timedOut
}

// MARK: - Callbacks (C function pointers: they find their worker through the function object's private data)

private func nativeClock(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                         _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    let id: clockid_t
    switch Int(worker.number(worker.argument(0, count, arguments))) {
    case 0: id = CLOCK_REALTIME
    case 1: id = CLOCK_MONOTONIC
    case 2: id = CLOCK_PROCESS_CPUTIME_ID
    case 3: id = CLOCK_THREAD_CPUTIME_ID
    default: return JSValueMakeNull(ctx)
    }
    var now = timespec()
    clock_gettime(id, &now)
    var parts: [JSValueRef?] = [JSValueMakeNumber(ctx, Double(now.tv_sec)), JSValueMakeNumber(ctx, Double(now.tv_nsec))]
    return JSObjectMakeArray(ctx, 2, &parts, nil)
}

private func nativeRandom(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                          _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    let length = max(0, Int(worker.number(worker.argument(0, count, arguments))))
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: length)
    var index = 0
    while index < length {
        var word = generator.next()
        for _ in 0..<min(8, length - index) {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return worker.makeBytes(bytes)
}

private func nativeSleep(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                         _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    let nanoseconds = max(0, worker.number(worker.argument(0, count, arguments)))
    var request = timespec(tv_sec: Int(nanoseconds / 1e9), tv_nsec: Int(nanoseconds.truncatingRemainder(dividingBy: 1e9)))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    return JSValueMakeUndefined(ctx)
}

/// `__nexInput()`: the running invocation's `[subject, stdin, timeoutMs]`.
private func nativeInput(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                         _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    guard let input = worker.input else { return JSValueMakeNull(ctx) }
    var parts: [JSValueRef?] = [worker.makeBytes(input.subject.utf8), worker.makeBytes(input.payload),
                                JSValueMakeNumber(ctx, input.timeoutMs)]
    return JSObjectMakeArray(ctx, parts.count, &parts, nil)
}

/// `__nexDone(status, detail, stdout, stderr, memoryBytes, growRefused, recycled)`: the run's outcome (see the shim).
/// The bytes are copied out here: the shim reuses its output buffers.
private func nativeDone(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                        _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    func argument(_ index: Int) -> JSValueRef? { worker.argument(index, count, arguments) }
    let detail = argument(1)
    let status: WasmRunOutcome.Status = switch Int(worker.number(argument(0))) {
    case 0: .exited(UInt32(truncatingIfNeeded: Int64(worker.number(detail))))
    case 1: .trapped(worker.string(detail))
    case 2: .timedOut
    default: .instantiationFailed(worker.string(detail))
    }
    worker.outcome = WasmRunOutcome(
        status: status,
        stdout: worker.bytes(argument(2)) ?? [],
        stderr: worker.bytes(argument(3)) ?? [],
        memoryBytes: Int(worker.number(argument(4))),
        growRefused: JSValueToBoolean(ctx, argument(5)),
        recycled: JSValueToBoolean(ctx, argument(6))
    )
    return JSValueMakeUndefined(ctx)
}

/// Error codes of the `nex` import module (see examples/wasm/nex_host.h).
enum NexHostCode {
    static let failed: Int32 = -1
    static let bufferTooSmall: Int32 = -2
    static let invalidArgument: Int32 = -3
    static let disabled: Int32 = -4
    static let timeout: Int32 = -5
    static let noResponders: Int32 = -6
    static let memory: Int32 = -8
    static let unsupported: Int32 = -9

    static func code(for error: HostServiceError) -> Int32 {
        switch error.code {
        case .disabled: disabled
        case .invalidArgument: invalidArgument
        case .timeout: timeout
        case .noResponders: noResponders
        default: failed
        }
    }
}

private struct ObjectSummary: Encodable {
    var name: String
    var size: UInt64
    var modified: String
    var nuid: String
}

private func nativeHost(_ ctx: JSContextRef?, _ function: JSObjectRef?, _ this: JSObjectRef?, _ count: Int,
                        _ arguments: UnsafePointer<JSValueRef?>?, _ exception: UnsafeMutablePointer<JSValueRef?>?) -> JSValueRef? {
    let worker = WasmWorker.from(function)
    let op = worker.string(worker.argument(0, count, arguments))
    func bytes(_ index: Int) -> [UInt8] { worker.bytes(worker.argument(index, count, arguments)) ?? [] }
    func text(_ index: Int) -> String { String(decoding: bytes(index), as: UTF8.self) }
    func code(_ value: Int32) -> JSValueRef? { JSValueMakeNumber(ctx, Double(value)) }

    /// Runs a host call and turns its outcome into what the shim expects.
    func call<T: Sendable>(_ operation: @escaping @Sendable (any HostServices) async throws(HostServiceError) -> T,
                           _ convert: (T) -> JSValueRef?) -> JSValueRef? {
        switch worker.blocking(operation) {
        case .value(let value):
            return convert(value)
        case .failed(let error):
            worker.lastError = Array(error.message.utf8)
            return code(NexHostCode.code(for: error))
        case .timedOut:
            return worker.throwTimeout(exception)
        }
    }
    func optionalBytes(_ value: [UInt8]?) -> JSValueRef? { value.map { worker.makeBytes($0) } ?? JSValueMakeNull(ctx) }
    func json(_ value: some Encodable) -> JSValueRef? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return worker.makeBytes(Array((try? encoder.encode(value)) ?? Data("[]".utf8)))
    }

    switch op {
    case "last_error":
        return worker.makeBytes(worker.lastError)
    case "kv_get":
        let (bucket, key) = (text(1), text(2))
        return call({ services async throws(HostServiceError) in try await services.kvGet(bucket: bucket, key: key) }, optionalBytes)
    case "kv_set":
        let (bucket, key, value) = (text(1), text(2), bytes(3))
        return call({ services async throws(HostServiceError) in try await services.kvSet(bucket: bucket, key: key, value: value) }) { _ in code(0) }
    case "kv_delete":
        let (bucket, key) = (text(1), text(2))
        return call({ services async throws(HostServiceError) in try await services.kvDelete(bucket: bucket, key: key) }) { code(0) }
    case "kv_keys":
        let bucket = text(1)
        return call({ services async throws(HostServiceError) in try await services.kvKeys(bucket: bucket) }) { json($0.sorted()) }
    case "object_get":
        let (bucket, name) = (text(1), text(2))
        return call({ services async throws(HostServiceError) in try await services.objectGet(bucket: bucket, name: name) }, optionalBytes)
    case "object_put":
        let (bucket, name, value) = (text(1), text(2), bytes(3))
        return call({ services async throws(HostServiceError) in try await services.objectPut(bucket: bucket, name: name, value: value) }) { _ in code(0) }
    case "object_delete":
        let (bucket, name) = (text(1), text(2))
        return call({ services async throws(HostServiceError) in try await services.objectDelete(bucket: bucket, name: name) }) { code(0) }
    case "object_list":
        let bucket = text(1)
        return call({ services async throws(HostServiceError) in try await services.objectList(bucket: bucket) }) { infos in
            let formatter = ISO8601DateFormatter()
            return json(infos.map { ObjectSummary(name: $0.name, size: $0.size, modified: formatter.string(from: $0.modified), nuid: $0.nuid) })
        }
    case "publish":
        let (subject, payload) = (text(1), bytes(2))
        return call({ services async throws(HostServiceError) in try await services.publish(subject: subject, payload: payload) }) { code(0) }
    case "request":
        let (subject, payload) = (text(1), bytes(2))
        let milliseconds = Int(worker.number(worker.argument(3, count, arguments)))
        let remaining = ContinuousClock.now.duration(to: worker.deadline)
        let timeout: Duration? = milliseconds > 0 ? min(.milliseconds(milliseconds), remaining) : nil
        return call({ services async throws(HostServiceError) in try await services.request(subject: subject, payload: payload, timeout: timeout) }) {
            worker.makeBytes($0)
        }
    case "http":
        guard let method = HostHTTPMethod(rawValue: text(1).uppercased()) else {
            worker.lastError = Array("unsupported HTTP method \(text(1))".utf8)
            return code(NexHostCode.invalidArgument)
        }
        let (url, body) = (text(2), bytes(3))
        let requestBody: [UInt8]? = body.isEmpty ? nil : body
        return call({ services async throws(HostServiceError) in try await services.http(method, url: url, body: requestBody) }) { response in
            var parts: [JSValueRef?] = [JSValueMakeNumber(ctx, Double(response.status)), json(response.headers),
                                        worker.makeBytes(response.body ?? [])]
            return JSObjectMakeArray(ctx, parts.count, &parts, nil)
        }
    default:
        worker.lastError = Array("unknown host function \(op)".utf8)
        return code(NexHostCode.unsupported)
    }
}
