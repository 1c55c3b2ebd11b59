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

    private func output(_ tool: String, _ arguments: [String]) throws -> String {
        try Program.run(tool, arguments).standardOutput
    }
}
