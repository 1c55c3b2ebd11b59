// Instance recycling: a kept instance restored from its post-instantiation snapshot must be
// indistinguishable from a fresh one, and modules the rewriter cannot vouch for get fresh instances.

import Foundation
import NexAPI
import NexHostServices
import Testing
@testable import WasmRuntime

/// A C guest whose every piece of static, heap and stack state shows in the reply: a fresh instance
/// replies `1 0 0 <heap address> <subject>` (and the same on every later clean run).
private let statefulGuest = #"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int counter;
static int table[256];
static char *kept;

static void dirty_and_exit(int code) {
    char deep[2048];
    memset(deep, 7, sizeof deep);
    exit(code + (deep[100] - 7)); // leaves from below main: the stack pointer global is not unwound
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    counter++;
    int sum = 0;
    for (int i = 0; i < 256; i++) { sum += table[i]; table[i] += i + 1; }
    char *heap = malloc(1000);
    printf("%d %d %d %p %s", counter, sum, kept != NULL, (void *)heap, mode);
    memset(heap, 'x', 1000);
    kept = heap; // never freed: a recycled heap that was not restored would hand out another address
    if (strcmp(mode, "exit0") == 0) { fflush(stdout); dirty_and_exit(0); }
    if (strcmp(mode, "exit5") == 0) { fflush(stdout); dirty_and_exit(5); }
    if (strcmp(mode, "trap") == 0) { fflush(stdout); __builtin_trap(); }
    if (strcmp(mode, "loop") == 0) { volatile unsigned long x = 0; for (;;) x++; }
    if (strcmp(mode, "grow") == 0) { // used, so that the compiler keeps the allocation
        char *volatile big = malloc(4 << 20);
        if (big != NULL) memset(big, 1, 4 << 20);
        printf(" %d", big != NULL && big[12345] == 1);
    }
    return 0;
}
"""#

private let stateful = Result { try Guests.buildC(source: statefulGuest, name: "stateful") }

/// Runs `body` with one worker that compiled `module` as the engine would (rewritten, recycling on when
/// the rewriter allows it). Synchronous, so every call into the worker's JSC context is on one thread.
private func withWorker<T>(_ module: [UInt8], limits: FunctionLimits = FunctionLimits(),
                           _ body: (WasmWorker, Recyclability) throws -> T) throws -> T {
    let rewritten = try ModuleRewriter.rewrite(module, maxMemoryPages: UInt64(limits.maxMemoryBytes / 65536))
    let worker = WasmWorker(context: functionContext(limits: limits))
    if let error = worker.compile(rewritten.bytes, recycle: rewritten.recyclability.isRecyclable) {
        throw error
    }
    return try body(worker, rewritten.recyclability)
}

private extension WasmWorker {
    /// One run with the engine's sequence: run, then restore eagerly (when `eager`).
    func runOnce(_ subject: String, payload: [UInt8] = [], timeout: Duration = .seconds(10), eager: Bool = true) throws -> WasmRunOutcome {
        let outcome = try run(subject: subject, payload: payload, timeout: timeout).get()
        if eager { restore() }
        return outcome
    }
}

private func text(_ outcome: WasmRunOutcome) -> String { String(decoding: outcome.stdout, as: UTF8.self) }

/// Runs `worker` `runs` times: each run exits 0 with `expected` on stdout from a fresh instance.
private func expectFreshInstances(_ worker: WasmWorker, runs: Int, reply expected: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    for _ in 0..<runs {
        let outcome = try worker.runOnce("s")
        #expect(outcome.status == .exited(0), sourceLocation: sourceLocation)
        #expect(text(outcome) == expected, sourceLocation: sourceLocation)
        #expect(!outcome.recycled, sourceLocation: sourceLocation)
    }
}

@Suite("Wasm instance recycling", .timeLimit(.minutes(5)))
struct RecyclingTests {
    @Test func cGuestSeesTheInitialStateOnEveryRun() throws {
        try withWorker(try stateful.get()) { worker, recyclability in
            #expect(recyclability == .recyclable)
            let first = try worker.runOnce("s")
            #expect(!first.recycled)
            #expect(first.status == .exited(0))
            #expect(text(first).hasPrefix("1 0 0 "))
            // Eager and lazy restores alternate; exits from deep in the stack (zero and non-zero) in between.
            for i in 0..<60 {
                let subject = ["s", "exit0", "s", "exit5"][i % 4]
                let outcome = try worker.runOnce(subject, eager: i % 3 != 0)
                #expect(outcome.recycled)
                #expect(outcome.status == .exited(subject == "exit5" ? 5 : 0))
                #expect(text(outcome) == String(text(first).dropLast()) + subject)
            }
        }
    }

    @Test func everyRunThroughTheEngineRepliesAsTheFirst() async throws {
        try await withEngine(try stateful.get(), workers: 1) { engine async throws in
            let first = String(decoding: try await engine.invoke(subject: "s", payload: []), as: UTF8.self)
            #expect(first.hasPrefix("1 0 0 "))
            for _ in 0..<30 {
                #expect(String(decoding: try await run(engine, subject: "s", payload: []), as: UTF8.self) == first)
            }
        }
    }

    @Test func aTrapOrATimeoutDropsTheInstance() throws {
        let limits = FunctionLimits(executionTimeout: .milliseconds(300))
        try withWorker(try stateful.get(), limits: limits) { worker, _ in
            let first = text(try worker.runOnce("s"))
            let trap = try worker.runOnce("trap")
            guard case .trapped = trap.status else { Issue.record("expected a trap, got \(trap.status)"); return }
            let afterTrap = try worker.runOnce("s")
            #expect(!afterTrap.recycled)
            #expect(text(afterTrap) == first)
            #expect(try worker.runOnce("loop", timeout: .milliseconds(300)).status == .timedOut)
            let afterTimeout = try worker.runOnce("s")
            #expect(!afterTimeout.recycled)
            #expect(text(afterTimeout) == first)
            #expect(try worker.runOnce("s").recycled)
        }
    }

    @Test func aGrownMemoryIsNotRecycled() throws {
        try withWorker(try stateful.get()) { worker, _ in
            let first = text(try worker.runOnce("s"))
            let grow = try worker.runOnce("grow")
            #expect(grow.recycled)
            #expect(text(grow).hasSuffix("grow 1"))
            #expect(grow.memoryBytes > 4 << 20)
            let after = try worker.runOnce("s")
            #expect(!after.recycled) // the grown instance was dropped
            #expect(text(after) == first)
            #expect(try worker.runOnce("s").recycled)
        }
    }

    /// A module that grows its memory on every run sees the same size every time.
    @Test func watMemoryGrowthOnEveryRun() throws {
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "A")
          (func (export "_start")
            (drop (memory.grow (i32.const 1)))
            (i32.store8 (i32.const 101) (i32.add (i32.const 48) (memory.size)))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 200)))
            (i32.store8 (i32.const 100) (i32.const 66))))
        """#)
        try withWorker(module) { worker, recyclability in
            #expect(recyclability == .recyclable)
            try expectFreshInstances(worker, runs: 5, reply: "A2")
        }
    }

    /// Mutable globals the module does not export (i32, i64, f64), and a data segment's bytes.
    @Test func unexportedMutableGlobalsAreRestored() throws {
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (global $g (mut i32) (i32.const 48))
          (global $h (mut i64) (i64.const 0x123456789abcdef))
          (global $f (mut f64) (f64.const -0.0))
          (data (i32.const 300) "A")
          (func (export "_start")
            (global.set $g (i32.add (global.get $g) (i32.const 1)))
            (i32.store8 (i32.const 100) (global.get $g))
            (i32.store8 (i32.const 101)
              (select (i32.const 107) (i32.const 88)
                (i32.and (i64.eq (global.get $h) (i64.const 0x123456789abcdef))
                         (i64.eq (i64.reinterpret_f64 (global.get $f)) (i64.const 0x8000000000000000)))))
            (i32.store8 (i32.const 102) (i32.load8_u (i32.const 300)))
            (global.set $h (i64.const -1))
            (global.set $f (f64.const 2.5))
            (i32.store8 (i32.const 300) (i32.const 66))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 3))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 200)))))
        """#)
        try withWorker(module) { worker, recyclability in
            #expect(recyclability == .recyclable)
            for run in 0..<10 {
                let outcome = try worker.runOnce("s", eager: run % 2 == 0)
                #expect(text(outcome) == "1kA")
                #expect(outcome.recycled == (run > 0))
            }
        }
    }

    @Test func tableSetModuleGetsFreshInstances() throws {
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (type $r (func (result i32)))
          (memory (export "memory") 1)
          (table $t 1 funcref)
          (func $a (result i32) (i32.const 65))
          (func $b (result i32) (i32.const 66))
          (elem (i32.const 0) $a)
          (elem declare func $b)
          (func (export "_start")
            (i32.store8 (i32.const 100) (call_indirect (type $r) (i32.const 0)))
            (table.set $t (i32.const 0) (ref.func $b))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 1))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 200)))))
        """#)
        try withWorker(module) { worker, recyclability in
            #expect(recyclability == .notRecyclable("the code uses table.set"))
            try expectFreshInstances(worker, runs: 3, reply: "A")
        }
    }

    @Test func dataDropModuleGetsFreshInstances() throws {
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data $p "P")
          (func (export "_start")
            (memory.init $p (i32.const 100) (i32.const 0) (i32.const 1))
            (data.drop $p)
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 1))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 200)))))
        """#)
        try withWorker(module) { worker, recyclability in
            #expect(recyclability == .notRecyclable("the code uses data.drop"))
            try expectFreshInstances(worker, runs: 3, reply: "P")
        }
    }

    /// Recycling off (the factory's switch) gives the same replies with a fresh instance each time.
    @Test func recyclingCanBeSwitchedOff() async throws {
        let engine = try await WasmEngineFactory(workerCount: 1, recycleInstances: false).compile(try stateful.get(), context: functionContext())
        let first = String(decoding: try await run(engine, subject: "s", payload: []), as: UTF8.self)
        #expect(String(decoding: try await run(engine, subject: "s", payload: []), as: UTF8.self) == first)
        await engine.shutdown()
    }

    /// The shim reuses its stdout and stderr buffers from run to run: each run's output is exactly its own,
    /// after a huge output, a failed run and output on both streams.
    @Test func eachRunGetsExactlyItsOwnOutput() throws {
        var large = [UInt8]()
        large.reserveCapacity(8 << 20)
        for i in 0..<8192 {
            for j in 0..<1024 { large.append(UInt8(truncatingIfNeeded: i &* 31 &+ j)) }
        }
        try withWorker(try Guests.modes.get()) { worker, _ in
            for round in 0..<2 {
                let big = try worker.runOnce("large")
                #expect(big.status == .exited(0))
                #expect(big.stdout.count == large.count)
                let sameBytes = big.stdout == large // not inside #expect: a failure would print both 8 MiB arrays
                #expect(sameBytes)
                #expect(big.stderr.isEmpty)
                let small = try worker.runOnce("writes")
                #expect(text(small) == "w0;w1;w2;w3;w4;")
                #expect(small.stderr.isEmpty)
                let both = try worker.runOnce("stderr")
                #expect(text(both) == "ok")
                #expect(String(decoding: both.stderr, as: UTF8.self) == "first line\nsecond line\npartial")
                let failed = try worker.runOnce("trap")
                #expect(text(failed) == "not a reply")
                let echo = try worker.runOnce("e\(round)", payload: Array("payload ".utf8))
                #expect(echo.status == .exited(0))
                #expect(text(echo) == "payload e\(round)")
                #expect(echo.stderr.isEmpty)
                #expect(try worker.runOnce("empty").stdout.isEmpty)
            }
        }
    }
}
