import Foundation
import JavaScriptRuntime
import NexAPI
import NexHostServices
import Synchronization
import Testing

/// Log records a function wrote, collected for assertions.
final class LogCollector: Sendable {
    private let records = Mutex<[(NexLogLevel, String)]>([])
    var all: [(NexLogLevel, String)] { records.withLock { $0 } }
    var sink: @Sendable (NexLogLevel, String) -> Void { { level, text in self.records.withLock { $0.append((level, text)) } } }
}

func makeContext(limits: FunctionLimits = FunctionLimits(), hostServices: (any HostServices)? = nil,
                 log: LogCollector = LogCollector(), name: String = "echo") -> FunctionContext {
    FunctionContext(workloadID: "W1", workloadName: name, namespace: "default", limits: limits,
                    hostServices: hostServices, log: log.sink)
}

/// Compiles `source`, runs `body` with the engine, shuts it down whatever happens.
func withEngine<T>(_ source: String, context: FunctionContext = makeContext(), workerThreads: Int = 2,
                   _ body: (any FunctionEngine) async throws -> T) async throws -> T {
    let engine = try await JavaScriptEngineFactory(workerThreads: workerThreads).compile(Array(source.utf8), context: context)
    do {
        let result = try await body(engine)
        await engine.shutdown()
        return result
    } catch {
        await engine.shutdown()
        throw error
    }
}

let echoFunction = """
    (subject, payload) => JSON.stringify({triggered_on: subject, payload: String.fromCharCode(...payload)})
    """

@Suite struct JavaScriptEngineTests {
    @Test func echoRepliesLikeNex0x() async throws {
        let reply = try await withEngine(echoFunction) { engine in
            try await engine.invoke(subject: "helloworld", payload: Array("hello world".utf8))
        }
        #expect(String(decoding: reply, as: UTF8.self) == #"{"triggered_on":"helloworld","payload":"hello world"}"#)
    }

    @Test(arguments: [
        ("'heya'", Array("heya".utf8)),
        ("'h\\u00e9\\u{1F600}'", Array("hé😀".utf8)),
        ("new Uint8Array([1, 2, 0, 255])", [1, 2, 0, 255]),
        ("new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)", [8, 7, 6]),
        ("new Uint16Array([0x0201, 0x0403]).buffer", [1, 2, 3, 4]),
        ("new DataView(new Uint8Array([5, 6, 7]).buffer, 1)", [6, 7]),
        ("undefined", []),
        ("null", []),
        ("({a: 1, b: [true, 'x']})", Array(#"{"a":1,"b":[true,"x"]}"#.utf8)),
        ("42", Array("42".utf8)),
        ("false", Array("false".utf8)),
        ("Promise.resolve('later')", Array("later".utf8)),
        ("(async () => { await null; await 1; return {n: 2}; })()", Array(#"{"n":2}"#.utf8)),
        ("({then(resolve) { resolve(new Uint8Array([3])); }})", [3]),
    ] as [(String, [UInt8])])
    func returnValues(expression: String, expected: [UInt8]) async throws {
        let reply = try await withEngine("(subject, payload) => \(expression)") { engine in
            try await engine.invoke(subject: "s", payload: [])
        }
        #expect(reply == expected, "\(expression)")
    }

    @Test func returningThePayloadGivesItsBytes() async throws {
        let payload = (0..<256).map { UInt8($0) }
        let reply = try await withEngine("(subject, payload) => payload") { engine in
            try await engine.invoke(subject: "bin", payload: payload)
        }
        #expect(reply == payload)
    }

    @Test func allByteValuesRoundTripThroughJS() async throws {
        let payload = (0..<256).map { UInt8($0) }.reversed() + (0..<256).map { UInt8($0) }
        let source = "(subject, payload) => { const out = new Uint8Array(payload.length); "
            + "for (let i = 0; i < payload.length; i++) out[i] = payload[i]; return out; }"
        let reply = try await withEngine(source) { engine in try await engine.invoke(subject: "bin", payload: payload) }
        #expect(reply == payload)
    }

    @Test func thrownErrorsBecomeExecutionFailures() async throws {
        try await withEngine("(s, p) => { throw new TypeError('bad input: ' + s) }") { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "x.y", payload: []) }
            #expect(error?.code == .execution)
            #expect(error?.message == "TypeError: bad input: x.y")
        }
        try await withEngine("async (s, p) => { await null; throw new Error('async boom') }") { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "s", payload: []) }
            #expect(error?.message == "Error: async boom")
        }
        try await withEngine("(s, p) => { throw 'plain string' }") { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "s", payload: []) }
            #expect(error?.message == "plain string")
        }
    }

    @Test func aPromiseThatNeverSettlesFails() async throws {
        try await withEngine("(s, p) => new Promise(() => {})") { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "s", payload: []) }
            #expect(error?.code == .execution)
        }
    }

    @Test func aScriptThatIsNotAFunctionFailsPerInvocation() async throws {
        try await withEngine("42;") { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "s", payload: []) }
            #expect(error?.code == .execution)
            #expect(error?.message.contains("not a function") == true)
        }
    }

    @Test func anInfiniteLoopTimesOutAndTheFunctionKeepsServing() async throws {
        let limits = FunctionLimits(executionTimeout: .milliseconds(300))
        let source = "(subject, payload) => { if (subject === 'loop') { for (;;) { try { while (true) {} } catch (e) {} } } return subject; }"
        try await withEngine(source, context: makeContext(limits: limits), workerThreads: 1) { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "loop", payload: []) }
            #expect(error?.code == .timeout)
            let reply = try await engine.invoke(subject: "after", payload: [])
            #expect(reply == Array("after".utf8))
        }
    }

    @Test func memoryGrowthPastTheLimitIsStopped() async throws {
        let limits = FunctionLimits(executionTimeout: .seconds(60), maxMemoryBytes: 64 << 20)
        let source = "(subject, payload) => { if (subject === 'hog') { const a = []; for (;;) a.push({i: a.length, s: 'x' + a.length}); } return 'ok'; }"
        try await withEngine(source, context: makeContext(limits: limits), workerThreads: 1) { engine in
            let error = await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "hog", payload: []) }
            #expect(error?.code == .memory)
            let fine = try await engine.invoke(subject: "fine", payload: [])
            #expect(fine == Array("ok".utf8))
        }
    }

    @Test func hugeReplies() async throws {
        let size = 8 << 20
        try await withEngine("(s, p) => { const b = new Uint8Array(\(size)); for (let i = 0; i < b.length; i++) b[i] = i & 255; return s === 'text' ? 'y'.repeat(\(size)) : b; }") { engine in
            let bytes = try await engine.invoke(subject: "bytes", payload: [])
            #expect(bytes.count == size)
            #expect(bytes.enumerated().allSatisfy { $0.element == UInt8($0.offset & 255) })
            let text = try await engine.invoke(subject: "text", payload: [])
            #expect(text.count == size)
            #expect(text.allSatisfy { $0 == UInt8(ascii: "y") })
        }
    }

    @Test func everyInvocationStartsWithFreshGlobals() async throws {
        // Globals added (implicitly, on globalThis, by indirect eval), top-level declarations and prototype
        // changes: nothing survives into the next invocation, whether the context is reused or replaced.
        let source = """
            globalThis.count = (globalThis.count || 0) + 1;
            var topLevel = (typeof topLevel === 'number' ? topLevel : 0) + 1;
            let lexical = 0;
            lexical += 1;
            (s, p) => {
              globalThis.seen = (globalThis.seen || 0) + 1;
              implicit = (typeof implicit === 'number' ? implicit : 0) + 1;
              (0, eval)('var viaEval = (typeof viaEval === "number" ? viaEval : 0) + 1');
              globalThis[Symbol.for('leak')] = (globalThis[Symbol.for('leak')] || 0) + 1;
              Array.prototype.leak = 1;
              try { Object.prototype.polluted = 1; } catch (e) {}
              /(sec)ret/.exec(String.fromCharCode(...p));
              return [count, topLevel, lexical, seen, implicit, viaEval, globalThis[Symbol.for('leak')],
                      [].leak === undefined ? 0 : 1, ({}).polluted === undefined ? 0 : 1, RegExp.$1 === '' ? 0 : 1].join();
            }
            """
        try await withEngine(source, workerThreads: 1) { engine in
            let first = try await engine.invoke(subject: "s", payload: Array("secret".utf8))
            #expect(first == Array("1,1,1,1,1,1,1,0,0,1".utf8))
            for _ in 0..<5 {
                let reply = try await engine.invoke(subject: "s", payload: [])
                #expect(reply == Array("1,1,1,1,1,1,1,0,0,0".utf8))
            }
        }
    }

    @Test func builtInsAreReadOnlyAndOwnPropertiesStillShadowThem() async throws {
        let source = """
            'use strict';
            function MyError(message) { this.message = message; }
            MyError.prototype = Object.create(Error.prototype);
            MyError.prototype.name = 'MyError';
            MyError.prototype.constructor = MyError;
            (s, p) => {
              const o = {};
              o.toString = () => 'custom';
              let threw = 'no';
              try { Array.prototype.push = null; } catch (e) { threw = e.constructor.name; }
              let frozen = 'no';
              try { JSON.parse = null; } catch (e) { frozen = e.constructor.name; }
              return [String(o), String(new MyError('boom')), threw, frozen, [1].concat([2]).length].join('|');
            }
            """
        try await withEngine(source, workerThreads: 1) { engine in
            for _ in 0..<3 {
                let reply = try await engine.invoke(subject: "s", payload: [])
                #expect(String(decoding: reply, as: UTF8.self) == "custom|MyError: boom|TypeError|TypeError|2")
            }
        }
    }

    @Test func aContextIsRetiredAfterAStoppedInvocationOrARetiringAPI() async throws {
        let limits = FunctionLimits(executionTimeout: .milliseconds(500))
        let source = """
            var local = 0;
            (s, p) => {
              if (s === 'loop') { globalThis.partial = 1; for (;;) {} }
              if (s === 'registry') { new FinalizationRegistry(() => {}); }
              if (s === 'readonly') { Object.defineProperty(globalThis, 'stuck', { value: 1, configurable: false }); }
              local += 1;
              return [typeof partial, typeof stuck, local].join();
            }
            """
        try await withEngine(source, context: makeContext(limits: limits), workerThreads: 1) { engine in
            await #expect(throws: FunctionError.self) { try await engine.invoke(subject: "loop", payload: []) }
            let expected = [("a", "undefined,undefined,1"), ("registry", "undefined,undefined,1"),
                            ("readonly", "undefined,number,1"), ("b", "undefined,undefined,1")]
            for (subject, reply) in expected {
                let actual = try await engine.invoke(subject: subject, payload: [])
                #expect(String(decoding: actual, as: UTF8.self) == reply, "after \(subject)")
            }
        }
    }

    @Test func sixtyFourConcurrentInvocations() async throws {
        let source = "(subject, payload) => subject + ':' + String.fromCharCode(...payload)"
        try await withEngine(source, workerThreads: 4) { engine in
            try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for index in 0..<64 {
                    group.addTask { (index, try await engine.invoke(subject: "s.\(index)", payload: Array("p\(index)".utf8))) }
                }
                var seen = Set<Int>()
                for try await (index, reply) in group {
                    #expect(String(decoding: reply, as: UTF8.self) == "s.\(index):p\(index)")
                    seen.insert(index)
                }
                #expect(seen.count == 64)
            }
        }
    }

    @Test func syntaxErrorsFailTheDeployWithTheLine() async throws {
        let source = "const x = 1;\n\n(subject, payload) => { return x +* 2 }"
        let error = await #expect(throws: FunctionError.self) {
            _ = try await JavaScriptEngineFactory(workerThreads: 1).compile(Array(source.utf8), context: makeContext())
        }
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.contains("SyntaxError") == true)
        #expect(error?.message.contains("line 3") == true, "\(String(describing: error))")
    }

    @Test func oversizeAndNonUTF8SourcesAreRejected() async throws {
        let limits = FunctionLimits(maxArtifactBytes: 100)
        let big = "(s, p) => '" + String(repeating: "a", count: 200) + "'"
        let error = await #expect(throws: FunctionError.self) {
            _ = try await JavaScriptEngineFactory().compile(Array(big.utf8), context: makeContext(limits: limits))
        }
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.contains("\(big.utf8.count) bytes") == true)
        let invalid = await #expect(throws: FunctionError.self) {
            _ = try await JavaScriptEngineFactory().compile([0x28, 0xFF, 0x29], context: makeContext())
        }
        #expect(invalid?.code == .invalidArtifact)
    }

    @Test func consoleGoesToTheLog() async throws {
        let log = LogCollector()
        let source = """
            (subject, payload) => {
              console.log('hello', subject, 42, {a: [1]});
              console.info('info');
              console.warn('careful');
              console.error(new Error('bad'));
              console.debug(null, undefined);
              return '';
            }
            """
        try await withEngine(source, context: makeContext(log: log)) { engine in
            _ = try await engine.invoke(subject: "log.me", payload: [])
        }
        let records = log.all
        #expect(records.map(\.0) == [.info, .info, .warn, .error, .debug])
        #expect(records.map(\.1) == [#"hello log.me 42 {"a":[1]}"#, "info", "careful", "Error: bad", "null undefined"])
    }

    @Test func textEncoderAndDecoder() async throws {
        let source = """
            (subject, payload) => {
              const text = new TextDecoder().decode(payload);
              const encoded = new TextEncoder().encode(text + '|é😀');
              let fatal = 'no';
              try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xff])); } catch (e) { fatal = e.name; }
              const lossy = new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62]));
              return JSON.stringify({text, len: encoded.length, fatal, lossy, enc: new TextEncoder().encoding});
            }
            """
        let reply = try await withEngine(source) { engine in
            try await engine.invoke(subject: "s", payload: Array("grüß".utf8))
        }
        #expect(String(decoding: reply, as: UTF8.self)
            == #"{"text":"grüß","len":\#(Array("grüß|é😀".utf8).count),"fatal":"TypeError","lossy":"a\#u{FFFD}b","enc":"utf-8"}"#)
    }

    @Test func hostServicesWithoutServicesThrowAJSError() async throws {
        let source = "(s, p) => { try { kv('b').get('k'); return 'no error'; } catch (e) { return e.message; } }"
        let reply = try await withEngine(source) { engine in try await engine.invoke(subject: "s", payload: []) }
        #expect(String(decoding: reply, as: UTF8.self) == "host services are not available")
    }
}
