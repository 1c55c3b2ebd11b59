// The contract between the agent and the function engines (JavaScript, WebAssembly): what an engine is
// given at deploy, what it does per trigger, and the host services it may offer its guest code.
//
// The agent owns the NATS side (trigger subscriptions, replies, events, logs); an engine only turns
// (subject, payload) into a reply. Engines never import each other; both import this target.

import JetStream
import NexAPI

/// Limits every engine enforces per workload.
public struct FunctionLimits: Sendable, Hashable {
    /// Wall-clock time one invocation may take; a longer one is stopped (an infinite loop included) and
    /// the function keeps serving later triggers.
    public var executionTimeout: Duration
    /// The largest artifact (JS source, Wasm module) accepted at deploy.
    public var maxArtifactBytes: Int
    /// Memory one invocation may use (JS heap growth, Wasm linear memory).
    public var maxMemoryBytes: Int

    public init(executionTimeout: Duration = .seconds(5), maxArtifactBytes: Int = 16 << 20, maxMemoryBytes: Int = 256 << 20) {
        self.executionTimeout = executionTimeout
        self.maxArtifactBytes = maxArtifactBytes
        self.maxMemoryBytes = maxMemoryBytes
    }
}

/// What an engine knows about the function it compiles.
public struct FunctionContext: Sendable {
    public var workloadID: String
    public var workloadName: String
    public var namespace: String
    /// The decrypted environment (keys as the issuer wrote them).
    public var environment: [String: String]
    public var limits: FunctionLimits
    /// The host services of this workload; `nil` when the node offers none.
    public var hostServices: (any HostServices)?
    /// Where the guest's own output goes (console.log, Wasm stderr): the workload's log stream.
    public var log: @Sendable (NexLogLevel, String) -> Void

    public init(workloadID: String, workloadName: String, namespace: String, environment: [String: String] = [:],
                limits: FunctionLimits = FunctionLimits(), hostServices: (any HostServices)? = nil,
                log: @escaping @Sendable (NexLogLevel, String) -> Void) {
        self.workloadID = workloadID
        self.workloadName = workloadName
        self.namespace = namespace
        self.environment = environment
        self.limits = limits
        self.hostServices = hostServices
        self.log = log
    }
}

/// Compiles function artifacts of one workload type. Compile once at deploy; a failure is the deploy's
/// failure, with the engine's message (and line, where there is one).
public protocol FunctionEngineFactory: Sendable {
    func compile(_ artifact: [UInt8], context: FunctionContext) async throws(FunctionError) -> any FunctionEngine
}

/// One deployed function. `invoke` may be called concurrently; each invocation starts from clean state.
public protocol FunctionEngine: Sendable {
    /// Runs the function for a message that arrived on `subject` (the concrete subject, not the trigger
    /// pattern) and calls `completion` once with the reply bytes (empty = an empty reply) or the failure.
    ///
    /// `completion` runs on the engine's own thread, right after the guest finished: the agent sends the reply
    /// from there, so a trigger's path has no hop back through Swift's cooperative pool. It must not block.
    func invoke(subject: String, payload: [UInt8], completion: @escaping @Sendable (Result<[UInt8], FunctionError>) -> Void)
    /// Releases the engine once the invocations already queued have run; no invocation follows.
    func shutdown() async
}

extension FunctionEngine {
    /// Runs the function once and returns its reply bytes.
    public func invoke(subject: String, payload: [UInt8]) async throws(FunctionError) -> [UInt8] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], FunctionError>, Never>) in
            invoke(subject: subject, payload: payload) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}

/// Why a compile or an invocation failed.
public struct FunctionError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public init(_ name: String) { self.name = name }
        /// The artifact is not a valid function (syntax error, invalid module, missing export, too large).
        public static let invalidArtifact = Code("invalidArtifact")
        /// The guest threw, trapped or exited non-zero.
        public static let execution = Code("execution")
        /// The invocation ran past ``FunctionLimits/executionTimeout``.
        public static let timeout = Code("timeout")
        /// The invocation went past ``FunctionLimits/maxMemoryBytes``.
        public static let memory = Code("memory")
        /// The engine itself failed.
        public static let engine = Code("engine")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

// MARK: - Host services

/// What guest code may do beyond computing: key-value, object store, messaging and HTTP, on the
/// workload's NATS connection, with bucket names scoped to the workload's namespace.
///
/// Byte values are copied exactly, in and out. Every method throws ``HostServiceError``; a disabled
/// service throws code ``HostServiceError/Code/disabled``.
public protocol HostServices: Sendable {
    func kvGet(bucket: String, key: String) async throws(HostServiceError) -> [UInt8]?
    /// Returns the new revision.
    func kvSet(bucket: String, key: String, value: [UInt8]) async throws(HostServiceError) -> UInt64
    func kvDelete(bucket: String, key: String) async throws(HostServiceError)
    func kvKeys(bucket: String) async throws(HostServiceError) -> [String]

    func objectGet(bucket: String, name: String) async throws(HostServiceError) -> [UInt8]?
    func objectPut(bucket: String, name: String, value: [UInt8]) async throws(HostServiceError) -> ObjectInfo
    func objectDelete(bucket: String, name: String) async throws(HostServiceError)
    func objectList(bucket: String) async throws(HostServiceError) -> [ObjectInfo]

    func publish(subject: String, payload: [UInt8]) async throws(HostServiceError)
    func request(subject: String, payload: [UInt8], timeout: Duration?) async throws(HostServiceError) -> [UInt8]
    /// Every reply that arrives within `timeout` (or until `maxReplies`).
    func requestMany(subject: String, payload: [UInt8], timeout: Duration?, maxReplies: Int?) async throws(HostServiceError) -> [[UInt8]]

    func http(_ method: HostHTTPMethod, url: String, body: [UInt8]?) async throws(HostServiceError) -> HostHTTPResponse
}

/// The HTTP methods guest code may use.
public enum HostHTTPMethod: String, Sendable, Hashable, CaseIterable {
    case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE", head = "HEAD"
}

/// An HTTP response as guest code sees it.
public struct HostHTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header values of the same name joined with ", ".
    public var headers: [String: String]
    /// `nil` for HEAD.
    public var body: [UInt8]?

    public init(status: Int, headers: [String: String], body: [UInt8]?) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A host service call that failed.
public struct HostServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public init(_ name: String) { self.name = name }
        /// The node's configuration switches this service off.
        public static let disabled = Code("disabled")
        /// A required argument is missing or malformed (empty key, invalid bucket name, bad URL).
        public static let invalidArgument = Code("invalidArgument")
        public static let timeout = Code("timeout")
        /// Nobody answered a request.
        public static let noResponders = Code("noResponders")
        /// Anything else (the message says what).
        public static let failed = Code("failed")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
