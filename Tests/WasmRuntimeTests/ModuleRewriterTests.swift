import NativeRuntime
import Foundation
import Testing
@testable import WasmRuntime

@Suite("ModuleRewriter")
struct ModuleRewriterTests {
    /// The rewritten module is valid (wabt's validator), keeps its exports, caps memory and instruments loops.
    @Test func rewrittenModuleValidatesAndIsCapped() throws {
        let original = try Guests.modes.get()
        let rewritten = try ModuleRewriter.rewrite(original, maxMemoryPages: 32)
        #expect(rewritten.instrumentedLoops > 0)
        let directory = try Guests.scratchDirectory()
        let file = directory.appendingPathComponent("rewritten.wasm")
        try Data(rewritten.bytes).write(to: file)
        try Guests.run("wasm-validate", ["--enable-all", file.path])
        let text = try output("wasm2wat", ["--enable-all", file.path])
        #expect(text.contains(#"(export "_start""#))
        #expect(text.contains(#"(export "\#(ModuleRewriter.tickTableExport)" (table"#))
        #expect(text.contains(#"(export "\#(ModuleRewriter.growFailedExport)" (global"#))
        #expect(text.range(of: #"\(memory \(;0;\) \d+ 32\)"#, options: .regularExpression) != nil)
        // Exactly one memory.grow remains: the one inside the appended recording function.
        #expect(text.components(separatedBy: "memory.grow").count == 2)
    }

    @Test func loopsWithoutOtherSectionsGetTheirOwn() throws {
        // No table, global or export section beyond _start: the rewriter creates them in section order.
        let module = try Guests.wat(#"(module (func (export "_start") (loop $l (br_if $l (i32.const 0)))))"#)
        let rewritten = try ModuleRewriter.rewrite(module, maxMemoryPages: 16)
        #expect(rewritten.instrumentedLoops == 1)
        let file = try Guests.scratchDirectory().appendingPathComponent("m.wasm")
        try Data(rewritten.bytes).write(to: file)
        try Guests.run("wasm-validate", ["--enable-all", file.path])
    }

    /// A recyclable module gets every mutable global (its own, unexported ones included, and the rewriter's
    /// budget and grow flag) and its memory exported under reserved names; immutable globals get nothing.
    @Test func recyclableModuleExportsItsMutableState() throws {
        let module = try Guests.wat(#"""
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (memory 1)
          (global $a (mut i32) (i32.const 1))
          (global $b i32 (i32.const 2))
          (global $c (mut i64) (i64.const 3))
          (global $d (mut f32) (f32.const 1.5))
          (global $v v128 (v128.const i32x4 0 0 0 0))
          (func (export "_start") (global.set $a (i32.const 5))))
        """#)
        let rewritten = try ModuleRewriter.rewrite(module, maxMemoryPages: 16)
        #expect(rewritten.recyclability == .recyclable)
        let text = try validatedText(rewritten.bytes)
        // Globals 0, 2, 3 are the module's mutable ones, 5 the budget, 6 the grow flag.
        for index in [0, 2, 3, 5, 6] {
            #expect(text.contains(#"(export "__nex_global_\#(index)" (global \#(index)))"#))
        }
        #expect(!text.contains(#""__nex_global_1""#))
        #expect(!text.contains(#""__nex_global_4""#))
        #expect(text.contains(#"(export "\#(ModuleRewriter.memoryExport)" (memory 0))"#))
    }

    @Test func instructionsThatChangeTablesOrSegmentsPreventRecycling() throws {
        let cases: [(code: String, expected: String?)] = [
            ("(table.set $t (i32.const 0) (ref.null func))", "table.set"),
            ("(drop (table.grow $t (ref.null func) (i32.const 1)))", "table.grow"),
            ("(table.fill $t (i32.const 0) (ref.null func) (i32.const 1))", "table.fill"),
            ("(table.copy $t $t (i32.const 0) (i32.const 0) (i32.const 1))", "table.copy"),
            ("(table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))", "table.init"),
            ("(elem.drop $e)", "elem.drop"),
            ("(data.drop $p)", "data.drop"),
            // Reading tables and segments, and bulk memory, change nothing a snapshot misses.
            ("(drop (table.get $t (i32.const 0))) (drop (table.size $t))", nil),
            ("(memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))", nil),
            ("(memory.copy (i32.const 0) (i32.const 8) (i32.const 4)) (memory.fill (i32.const 0) (i32.const 0) (i32.const 4))", nil),
        ]
        for (code, expected) in cases {
            let module = try Guests.wat("""
            (module
              (memory 1)
              (table $t 2 funcref)
              (func $f)
              (elem $e func $f)
              (data $p "x")
              (func (export "_start") \(code)))
            """)
            let rewritten = try ModuleRewriter.rewrite(module, maxMemoryPages: 16)
            #expect(rewritten.recyclability == (expected.map { .notRecyclable("the code uses \($0)") } ?? .recyclable), "\(code)")
            if expected != nil {
                #expect(!(try validatedText(rewritten.bytes)).contains("__nex_global_"), "no recycling exports: \(code)")
            }
        }
    }

    @Test func sharedOrImportedStateAndUnrestorableGlobalsPreventRecycling() throws {
        let cases: [(wat: String, features: [String], reason: String)] = [
            (#"(module (import "env" "m" (memory 1)) (func (export "_start")))"#, [], "imports a table, memory, global"),
            (#"(module (import "env" "g" (global (mut i32))) (func (export "_start")))"#, [], "imports a table, memory, global"),
            (#"(module (import "env" "t" (table 1 funcref)) (func (export "_start")))"#, [], "imports a table, memory, global"),
            (#"(module (memory 1) (memory 1) (func (export "_start")))"#, ["--enable-multi-memory"], "more than one memory"),
            (#"(module (memory 1 1 shared) (func (export "_start")))"#, ["--enable-threads"], "64-bit or shared memory"),
            (#"(module (memory i64 1) (func (export "_start")))"#, ["--enable-memory64"], "64-bit or shared memory"),
            (#"(module (memory 1) (func (export "_start") (drop (i32.atomic.load (i32.const 0)))))"#, ["--enable-threads"], "atomic instructions"),
            (#"(module (global (mut f64) (f64.const nan)) (func (export "_start")))"#, [], "float global starting as NaN"),
            (#"(module (global (mut f32) (f32.const nan:0x200000)) (func (export "_start")))"#, [], "float global starting as NaN"),
            (#"(module (global (mut v128) (v128.const i64x2 0 0)) (func (export "_start")))"#, [], "(v128 or reference)"),
            (#"(module (global (mut funcref) (ref.null func)) (func (export "_start")))"#, [], "(v128 or reference)"),
            (#"(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (func $s) (start $s) (func (export "_start")))"#,
             [], "start function in a module with imports"),
        ]
        for (wat, features, reason) in cases {
            let rewritten = try ModuleRewriter.rewrite(try Guests.wat(wat, features: features), maxMemoryPages: 16)
            guard case .notRecyclable(let text) = rewritten.recyclability else {
                Issue.record("expected not recyclable: \(wat)")
                continue
            }
            #expect(text.contains(reason), "\(wat): \(text)")
        }
        // A start function alone cannot see a run's inputs (no imports): fine.
        let start = try Guests.wat(#"(module (global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 1))) (start $s) (func (export "_start")))"#)
        #expect(try ModuleRewriter.rewrite(start, maxMemoryPages: 16).recyclability == .recyclable)
    }

    /// The C test guest (wasi-libc) is recyclable: its `__stack_pointer` is a mutable global it never exports.
    @Test func wasiLibcGuestIsRecyclable() throws {
        let rewritten = try ModuleRewriter.rewrite(try Guests.modes.get(), maxMemoryPages: 32)
        #expect(rewritten.recyclability == .recyclable)
        // (wasm2wat names the global from the name section.)
        #expect(try validatedText(rewritten.bytes).contains(#"(export "__nex_global_0" (global $__stack_pointer))"#))
    }

    @Test func leb128RoundTrips() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 65536, UInt64(UInt32.max), UInt64.max] {
            var reader = ByteReader(uleb(value))
            #expect(try reader.u64() == value)
            #expect(reader.atEnd)
        }
        #expect(sleb(-1) == [0x7F])
        #expect(sleb(65536) == [0x80, 0x80, 0x04])
        #expect(sleb(-65) == [0xBF, 0x7F])
    }

    /// Validates module bytes with wabt and returns their text form.
    private func validatedText(_ bytes: [UInt8]) throws -> String {
        let file = try Guests.scratchDirectory().appendingPathComponent("m.wasm")
        try Data(bytes).write(to: file)
        try Guests.run("wasm-validate", ["--enable-all", file.path])
        return try output("wasm2wat", ["--enable-all", file.path])
    }

    private func output(_ tool: String, _ arguments: [String]) throws -> String {
        try Program.run(tool, arguments).standardOutput
    }
}
