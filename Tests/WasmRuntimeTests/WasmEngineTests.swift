import Foundation
import JetStream
import NATS
import NATSTestSupport
import NexAPI
import NexHostServices
import Testing
import WasmRuntime

@Suite("WasmEngine", .timeLimit(.minutes(5)))
struct WasmEngineTests {
    @Test func echoRepliesPayloadThenSubject() async throws {
        try await withEngine(try Guests.modes.get()) { engine async throws in
            let reply = try await engine.invoke(subject: "helloworld", payload: Array("hello world".utf8))
            #expect(String(decoding: reply, as: UTF8.self) == "hello worldhelloworld")
            // The next trigger starts from a clean instance.
            let again = try await engine.invoke(subject: "other.subject", payload: Array("second".utf8))
            #expect(String(decoding: again, as: UTF8.self) == "secondother.subject")
        }
    }

    @Test func everyWriteIsPartOfTheReply() async throws {
        try await withEngine(try Guests.modes.get()) { engine async throws in
            #expect(String(decoding: try await run(engine, subject: "writes", payload: []), as: UTF8.self) == "w0;w1;w2;w3;w4;")
            #expect(try await run(engine, subject: "empty", payload: Array("ignored".utf8)) == [])
        }
    }

    @Test func environmentIsTheWorkloadsVariables() async throws {
        let environment = ["GREETING": "hello there", "EMPTY": "", "UNICODE": "ünïcödé=x"]
        try await withEngine(try Guests.modes.get(), context: functionContext(environment: environment)) { engine async throws in
            let reply = String(decoding: try await engine.invoke(subject: "env", payload: []), as: UTF8.self)
            let lines = Set(reply.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
            #expect(lines == Set(environment.map { "\($0.key)=\($0.value)" }))
        }
    }

    @Test func nonZeroExitAndTrapFailWithoutReply() async throws {
        try await withEngine(try Guests.modes.get()) { engine async throws in
            let exit = await invocationError(engine, subject: "exit3")
            #expect(exit?.code == .execution)
            #expect(exit?.message.contains("exited with code 3") == true)
            let trap = await invocationError(engine, subject: "trap")
            #expect(trap?.code == .execution)
            #expect(trap?.message.contains("trapped") == true)
            // The function keeps serving.
            #expect(try await run(engine, subject: "after", payload: Array("x".utf8)) == Array("xafter".utf8))
        }
    }

    @Test func infiniteLoopTimesOutAndTheFunctionKeepsServing() async throws {
        let limits = FunctionLimits(executionTimeout: .milliseconds(500))
        try await withEngine(try Guests.modes.get(), context: functionContext(limits: limits), workers: 1) { engine async throws in
            for _ in 0..<2 {
                let error = await invocationError(engine, subject: "loop")
                #expect(error?.code == .timeout)
                let reply = try await engine.invoke(subject: "helloworld", payload: Array("hello world".utf8))
                #expect(reply == Array("hello worldhelloworld".utf8))
            }
        }
    }

    @Test func memoryGrowthStopsAtTheCap() async throws {
        let logs = LogCollector()
        let limits = FunctionLimits(maxMemoryBytes: 16 << 20)
        try await withEngine(try Guests.modes.get(), context: functionContext(limits: limits, logs: logs)) { engine async throws in
            let error = await invocationError(engine, subject: "grow")
            #expect(error?.code == .memory)
            let line = try #require(logs.lines.first { $0.1.hasPrefix("allocated ") })
            let mebibytes = Int(line.1.split(separator: " ")[1]) ?? -1
            #expect((8..<16).contains(mebibytes))
            #expect(try await run(engine, subject: "ok", payload: []) == Array("ok".utf8))
        }
    }

    @Test func eightMebibytesInManyWrites() async throws {
        try await withEngine(try Guests.modes.get()) { engine async throws in
            let reply = try await engine.invoke(subject: "large", payload: [])
            var expected = [UInt8]()
            expected.reserveCapacity(8 << 20)
            for i in 0..<8192 {
                for j in 0..<1024 { expected.append(UInt8(truncatingIfNeeded: i &* 31 &+ j)) }
            }
            #expect(reply.count == 8 << 20)
            #expect(reply == expected)
        }
    }

    @Test func allByteValuesRoundTrip() async throws {
        let payload = (0..<1024).map { UInt8(truncatingIfNeeded: $0) }
        try await withEngine(try Guests.modes.get()) { engine async throws in
            let reply = try await engine.invoke(subject: "bytes.ünï", payload: payload)
            #expect(reply == payload + Array("bytes.ünï".utf8))
        }
    }

    @Test func stderrLinesGoToTheLog() async throws {
        let logs = LogCollector()
        try await withEngine(try Guests.modes.get(), context: functionContext(logs: logs)) { engine async throws in
            #expect(try await run(engine, subject: "stderr", payload: []) == Array("ok".utf8))
            #expect(logs.lines.map(\.1) == ["first line", "second line", "partial"])
            #expect(logs.lines.allSatisfy { $0.0 == .error })
        }
    }

    @Test func thirtyTwoConcurrentInvocations() async throws {
        try await withEngine(try Guests.modes.get(), workers: 3) { engine async throws in
            let replies = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for i in 0..<32 {
                    group.addTask { (i, try await engine.invoke(subject: "c.\(i)", payload: Array("p\(i)-".utf8))) }
                }
                return try await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
            }
            #expect(replies.count == 32)
            for i in 0..<32 { #expect(replies[i] == Array("p\(i)-c.\(i)".utf8)) }
        }
    }

    @Test func bigModuleCompilesAndRuns() async throws {
        let module = try Guests.big.get()
        #expect(module.count > 500_000)
        try await withEngine(module) { engine async throws in
            let reply = try await engine.invoke(subject: "big.subject", payload: Array("in|".utf8))
            #expect(String(decoding: reply, as: UTF8.self) == "in|big.subject:\(Guests.bigChecksum())")
        }
    }

    /// Per-invocation p50 in-process (printed; the machine is shared, so nothing is asserted on time).
    @Test func latencyReport() async throws {
        func p50(_ engine: any FunctionEngine, runs: Int, subject: String, expected: [UInt8]) async throws -> Double {
            var samples: [Double] = []
            for _ in 0..<runs {
                let start = ContinuousClock.now
                let reply = try await engine.invoke(subject: subject, payload: Array("hello world".utf8))
                let elapsed = ContinuousClock.now - start
                #expect(reply == expected)
                samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
            }
            return samples.sorted()[samples.count / 2]
        }
        let echo = try await withEngine(try Guests.modes.get(), workers: 1) { engine async throws in
            try await p50(engine, runs: 500, subject: "helloworld", expected: Array("hello worldhelloworld".utf8))
        }
        let big = try await withEngine(try Guests.big.get(), workers: 1) { engine async throws in
            try await p50(engine, runs: 200, subject: "s", expected: Array("hello worlds:\(Guests.bigChecksum())".utf8))
        }
        print("BENCH wasm.echo.inprocess p50 \(Int(echo)) µs; wasm.big.inprocess p50 \(Int(big)) µs")
    }
}

@Suite("WasmEngine edge cases (WAT)", .timeLimit(.minutes(5)))
struct WasmEdgeCaseTests {
    @Test func missingStartIsAnInvalidArtifact() async throws {
        let error = await compileError(try Guests.wat(#"(module (memory (export "memory") 1) (func (export "main")))"#))
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.contains("_start") == true)
    }

    @Test func invalidModuleIsAnInvalidArtifact() async throws {
        let error = await compileError([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0xFF, 0x00])
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.isEmpty == false)
        let garbage = await compileError(Array("not wasm at all".utf8))
        #expect(garbage?.code == .invalidArtifact)
    }

    @Test func tooLargeArtifactIsRefused() async throws {
        let module = try Guests.modes.get()
        let error = await compileError(module, context: functionContext(limits: FunctionLimits(maxArtifactBytes: module.count - 1)))
        #expect(error?.code == .invalidArtifact)
    }

    @Test func initialMemoryAboveTheCapIsRefused() async throws {
        let module = try Guests.wat(#"(module (memory (export "memory") 64) (func (export "_start")))"#)
        let error = await compileError(module, context: functionContext(limits: FunctionLimits(maxMemoryBytes: 1 << 20)))
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.contains("memory") == true)
    }

    @Test func unresolvedNonWasiImportIsRefused() async throws {
        let module = try Guests.wat(#"(module (import "env" "foo" (func)) (func (export "_start")))"#)
        let error = await compileError(module)
        #expect(error?.code == .invalidArtifact)
        #expect(error?.message.contains("env.foo") == true)
    }

    @Test func unknownWasiImportAnswersENOSYS() async throws {
        // Calls an import the shim lacks and exits with its result: 52 (ENOSYS).
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start") (call $exit (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))))
        """#)
        try await withEngine(module) { engine async throws in
            let error = await invocationError(engine, subject: "s")
            #expect(error?.code == .execution)
            #expect(error?.message.contains("exited with code 52") == true)
        }
    }

    @Test func moduleWithoutMemoryExport() async throws {
        let returns = try Guests.wat(#"(module (func (export "_start")))"#)
        try await withEngine(returns) { engine async throws in
            #expect(try await run(engine, subject: "s", payload: Array("in".utf8)) == [])
        }
        let exits = try Guests.wat(#"""
        (module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (func (export "_start") (call $exit (i32.const 0))))
        """#)
        try await withEngine(exits) { engine async throws in
            #expect(try await run(engine, subject: "s", payload: []) == [])
        }
        // A WASI call that needs memory fails the invocation instead of crashing the worker.
        let writes = try Guests.wat(#"""
        (module (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (func (export "_start") (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0)))))
        """#)
        try await withEngine(writes) { engine async throws in
            #expect(await invocationError(engine, subject: "s")?.code == .execution)
        }
    }

    @Test func pureWasmLoopTimesOut() async throws {
        let module = try Guests.wat(#"""
        (module (memory (export "memory") 1)
          (func (export "_start") (loop $l (br $l))))
        """#)
        let limits = FunctionLimits(executionTimeout: .milliseconds(300))
        try await withEngine(module, context: functionContext(limits: limits), workers: 1) { engine async throws in
            #expect(await invocationError(engine, subject: "s")?.code == .timeout)
            #expect(await invocationError(engine, subject: "s")?.code == .timeout)
        }
    }

    @Test func unboundedRecursionTrapsAndTheWorkerSurvives() async throws {
        let module = try Guests.wat(#"""
        (module (memory (export "memory") 1)
          (func $f (param i32) (result i32) (i32.add (call $f (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
          (func (export "_start") (drop (call $f (i32.const 0)))))
        """#)
        try await withEngine(module, workers: 1) { engine async throws in
            for _ in 0..<2 {
                let error = await invocationError(engine, subject: "s")
                #expect(error?.code == .execution)
                #expect(error?.message.contains("trapped") == true)
            }
        }
    }

    @Test func pollOneoffSleepsOnClockSubscriptions() async throws {
        // One relative clock subscription of 20 ms (userdata 7), then exit with the number of events.
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (i64.store (i32.const 0) (i64.const 7))
            (i32.store8 (i32.const 8) (i32.const 0))
            (i32.store (i32.const 16) (i32.const 1))
            (i64.store (i32.const 24) (i64.const 20000000))
            (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
            (if (i64.ne (i64.load (i32.const 100)) (i64.const 7)) (then (call $exit (i32.const 99))))
            (call $exit (i32.add (i32.const 10) (i32.load (i32.const 200))))))
        """#)
        try await withEngine(module) { engine async throws in
            let start = ContinuousClock.now
            let error = await invocationError(engine, subject: "s")
            #expect(error?.message.contains("exited with code 11") == true)
            #expect(ContinuousClock.now - start >= .milliseconds(20))
        }
    }
}

@Suite("WasmEngine host services", .timeLimit(.minutes(5)))
struct WasmHostServiceTests {
    @Test func everyHostServiceThroughRealNATS() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
                let jetStream = JetStreamContext(client: client)
                _ = try await jetStream.createKeyValue(KeyValueConfig(bucket: "wasmkv"))
                _ = try await jetStream.createObjectStore(ObjectStoreConfig(bucket: "wasmobj"))
                let events = try await client.subscribe(to: "wasm.events")
                let service = try await client.subscribe(to: "wasm.svc")
                let http = try await client.subscribe(to: "http.POST")
                let responders = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in service {
                                try await client.publish(Array("pong:".utf8) + Array(message.payload.readableBytesView), to: message.replyTo!)
                            }
                        }
                        group.addTask {
                            for try await message in http {
                                let request = Array(message.payload.readableBytesView).map { $0 == 10 ? UInt8(ascii: "|") : $0 }
                                try await client.publish(Array("got ".utf8) + request, to: message.replyTo!)
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                defer { responders.cancel() }

                let services = NATSBackedHostServices(client: client, jetStream: jetStream)
                let context = functionContext(limits: FunctionLimits(executionTimeout: .seconds(60)), hostServices: services)
                let payload = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
                let transcript = try await withEngine(try Guests.host.get(), context: context) { engine async throws in
                    String(decoding: try await engine.invoke(subject: "host", payload: payload), as: UTF8.self)
                }
                let lines = transcript.split(separator: "\n").map(String.init)
                #expect(lines.contains("kv_set rc=0"))
                #expect(lines.contains("kv_get rc=0 same=1"))
                #expect(lines.contains("kv_get_small rc=-2 len=512"))
                #expect(lines.contains("kv_get_missing rc=1"))
                #expect(lines.contains(#"kv_keys rc=0 ["k1","k2"]"#))
                #expect(lines.contains("kv_delete rc=0"))
                #expect(lines.contains("kv_get_deleted rc=1"))
                #expect(lines.contains { $0.hasPrefix("kv_get_bad_bucket rc=-") && $0.contains("error=") })
                #expect(lines.contains("object_put rc=0"))
                #expect(lines.contains("object_get rc=0 same=1"))
                #expect(lines.contains("object_list rc=0 has_o1=1"))
                #expect(lines.contains("object_delete rc=0"))
                #expect(lines.contains("object_get_deleted rc=1"))
                #expect(lines.contains("publish rc=0"))
                #expect(lines.contains("request rc=0 pong:ping"))
                #expect(lines.contains { $0.hasPrefix("request_nobody rc=-6 error=") })
                #expect(lines.contains(#"http rc=0 status=201 headers={"content-type":"text/plain","x-test":"a, b"} body=got http://example.test/echo|body!"#))
                #expect(lines.contains { $0.hasPrefix("http_bad_method rc=-3 error=") })

                // Side effects are real: the published message arrived, the bucket holds what the guest left.
                var iterator = events.makeAsyncIterator()
                let published = try await iterator.next()
                #expect(published.map { Array($0.payload.readableBytesView) } == Array("published".utf8))
                let kv = try await jetStream.keyValue("wasmkv")
                #expect(try await kv.get("k2").map { Array($0.value.readableBytesView) } == Array("kept".utf8))
                #expect(try await kv.get("k1") == nil)
            }
        }
    }

    @Test func kvCounterExample() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
                let jetStream = JetStreamContext(client: client)
                _ = try await jetStream.createKeyValue(KeyValueConfig(bucket: "counters"))
                let context = functionContext(hostServices: NATSBackedHostServices(client: client, jetStream: jetStream))
                try await withEngine(try Guests.kvCounter.get(), context: context) { engine async throws in
                    #expect(try await run(engine, subject: "count.me", payload: []) == Array("count.me=1".utf8))
                    #expect(try await run(engine, subject: "count.me", payload: []) == Array("count.me=2".utf8))
                    #expect(try await run(engine, subject: "other", payload: []) == Array("other=1".utf8))
                }
                let stored = try await jetStream.keyValue("counters").get("count.me")
                #expect(stored.map { Array($0.value.readableBytesView) } == Array("2".utf8))
            }
        }
    }

    /// A host call that does not answer never holds the invocation past its time limit.
    @Test func hostCallEndsAtTheDeadline() async throws {
        let module = try Guests.wat(#"""
        (module
          (import "nex" "request" (func $request (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "silent")
          (func (export "_start")
            (drop (call $request (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0)
                                 (i32.const 100) (i32.const 16) (i32.const 200)))))
        """#)
        try await withNATSServer { server in
            try await withNATSClient(try NATSClient.Configuration(url: server.url)) { client in
                let silent = try await client.subscribe(to: "silent") // receives, never replies
                let services = NATSBackedHostServices(client: client, jetStream: JetStreamContext(client: client))
                let limits = FunctionLimits(executionTimeout: .milliseconds(500))
                try await withEngine(module, context: functionContext(limits: limits, hostServices: services)) { engine async throws in
                    #expect(await invocationError(engine, subject: "s")?.code == .timeout)
                }
                try await silent.unsubscribe()
            }
        }
    }

    @Test func withoutHostServicesCallsFailWithDisabled() async throws {
        let logs = LogCollector()
        try await withEngine(try Guests.kvCounter.get(), context: functionContext(logs: logs)) { engine async throws in
            let error = await invocationError(engine, subject: "count.me")
            #expect(error?.code == .execution)
            #expect(logs.lines.contains { $0.1.hasPrefix("kv_get failed (-4)") })
        }
    }
}
