// Deploy-time rewriting of a Wasm module's bytes: caps the memory maximum and instruments every loop
// header with a budget check, because JavaScriptCore neither limits a Wasm memory from its C API nor
// interrupts a running Wasm loop (DESIGN.md §5).
//
// The instrumentation appends — it never inserts before existing entries — so no function, global, type
// or table index of the original module moves, and nothing but the loop bodies needs rewriting:
// - a type `() -> i32` at the end of the type section,
// - a mutable i32 global (the budget) at the end of the global section,
// - a one-entry funcref table at the end of the table section, exported as ``tickTableExport``; the host
//   puts its tick function there right after instantiation,
// - after every `loop` opcode: `budget -= 1; if budget == 0 { budget = call_indirect tick }`.
// The tick function checks the invocation's deadline and throws (unwinding the guest) once it has passed.
//
// It also decides whether an instance may be recycled (see ``Recyclability``) and, when it may, exports what
// the shim must save and restore: every mutable defined global as `__nex_global_<index>` and memory 0 as
// ``memoryExport``.

/// Why a module could not be rewritten.
struct ModuleRewriteError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The outcome of ``ModuleRewriter/rewrite(_:maxMemoryPages:)``.
struct RewrittenModule {
    var bytes: [UInt8]
    /// The loops that got a budget check.
    var instrumentedLoops: Int
    /// Whether a used instance can be restored to its post-instantiation state instead of instantiated again.
    var recyclability: Recyclability
}

/// Whether restoring an instance's linear memory and mutable globals to a snapshot taken right after
/// instantiation gives exactly the state of a fresh instance.
///
/// That holds when memory and globals are all the mutable state there is: nothing shared with the host
/// (no imported memory, table or global), one memory at most (not shared, not 64-bit), no instruction that
/// changes a table or drops a segment, every mutable global readable and writable from JS without losing
/// bits, and no start function that could capture a run's inputs (args, stdin, clocks) in the snapshot.
/// Anything the rewriter is unsure of makes a module not recyclable: it then gets a fresh instance per run.
enum Recyclability: Equatable, CustomStringConvertible {
    case recyclable
    case notRecyclable(String)

    var isRecyclable: Bool { self == .recyclable }

    var description: String {
        switch self {
        case .recyclable: "recyclable"
        case .notRecyclable(let reason): "not recyclable: \(reason)"
        }
    }
}

enum ModuleRewriter {
    /// The export name of the table that holds the host's tick function.
    static let tickTableExport = "__nex_tick_table"
    /// The export name of the global that is 1 once a `memory.grow` was refused.
    static let growFailedExport = "__nex_grow_failed"
    /// Loop iterations between two deadline checks.
    static let loopBudget: Int32 = 65536
    /// The export-name prefix of mutable globals (followed by the global's index), for a recyclable module.
    static let globalExportPrefix = "__nex_global_"
    /// The export name of memory 0, for a recyclable module (WASI's own `memory` export is not guaranteed).
    static let memoryExport = "__nex_memory"

    static func rewrite(_ bytes: [UInt8], maxMemoryPages: UInt64) throws(ModuleRewriteError) -> RewrittenModule {
        var reader = ByteReader(bytes)
        guard bytes.count >= 8, Array(bytes[0..<4]) == [0x00, 0x61, 0x73, 0x6D] else {
            throw ModuleRewriteError("not a WebAssembly module (bad magic)")
        }
        guard Array(bytes[4..<8]) == [0x01, 0x00, 0x00, 0x00] else {
            throw ModuleRewriteError("unsupported WebAssembly binary version")
        }
        reader.position = 8
        var sections: [(id: UInt8, payload: [UInt8])] = []
        while !reader.atEnd {
            let id = try reader.byte()
            let size = Int(try reader.u32())
            sections.append((id, try reader.bytes(size)))
        }

        // Index spaces: imports come first in each.
        var importedFunctions = 0, importedTables = 0, importedGlobals = 0
        var memory64 = false, hasMemory = false
        var notRecyclable: String?
        func refuseRecycling(_ reason: String) { if notRecyclable == nil { notRecyclable = reason } }
        if let imports = sections.first(where: { $0.id == 2 }) {
            var r = ByteReader(imports.payload)
            for _ in 0..<(try r.u32()) {
                _ = try r.name()
                _ = try r.name()
                let kind = try r.byte()
                if kind != 0 { refuseRecycling("the module imports a table, memory, global or tag") }
                switch kind {
                case 0: _ = try r.u32(); importedFunctions += 1
                case 1: try r.skipRefType(); try r.skipLimits(); importedTables += 1
                case 2:
                    hasMemory = true
                    if try r.peek() & 0x04 != 0 { memory64 = true }
                    try r.skipLimits()
                case 3: try r.skipValType(); _ = try r.byte(); importedGlobals += 1
                case 4: _ = try r.byte(); _ = try r.u32()
                case let kind: throw ModuleRewriteError("unknown import kind \(kind)")
                }
            }
        }
        let typeCount = try countFunctionTypes(sections.first(where: { $0.id == 1 })?.payload)
        let definedTables = try sections.first(where: { $0.id == 4 }).map { s throws(ModuleRewriteError) in
            var r = ByteReader(s.payload); return Int(try r.u32())
        } ?? 0
        let globals = try definedGlobals(sections.first(where: { $0.id == 6 })?.payload)
        let definedGlobals = globals.count
        let definedFunctions = try sections.first(where: { $0.id == 3 }).map { s throws(ModuleRewriteError) in
            var r = ByteReader(s.payload); return Int(try r.u32())
        } ?? 0
        var definedMemories = 0
        if let memories = sections.first(where: { $0.id == 5 }) {
            var r = ByteReader(memories.payload)
            definedMemories = Int(try r.u32())
            if definedMemories > 0 {
                hasMemory = true
                let flags = try r.peek()
                if flags & 0x04 != 0 { memory64 = true }
                if flags & 0x04 != 0 || flags & 0x02 != 0 { refuseRecycling("a 64-bit or shared memory") }
            }
        }
        if definedMemories > 1 { refuseRecycling("more than one memory") }
        if sections.contains(where: { $0.id == 8 }) && importedFunctions > 0 {
            // The start function runs before the snapshot; through an import it could capture one run's
            // inputs (args, stdin, clock, randomness) in it.
            refuseRecycling("a start function in a module with imports")
        }
        for global in globals where global.mutable {
            if let reason = global.notRestorable { refuseRecycling(reason) }
        }
        let tickType = UInt32(typeCount)
        let growType = UInt32(typeCount + 1)
        let growFunction = UInt32(importedFunctions + definedFunctions)

        let tickTable = UInt32(importedTables + definedTables)
        let budgetGlobal = UInt32(importedGlobals + definedGlobals)
        let growFailedGlobal = budgetGlobal + 1

        // () -> i32
        appendEntry(to: &sections, id: 1, entry: [0x60, 0x00, 0x01, 0x7F])
        // funcref, min 1, max 1
        appendEntry(to: &sections, id: 4, entry: [0x70, 0x01, 0x01, 0x01])
        // (mut i32) = loopBudget
        appendEntry(to: &sections, id: 6, entry: [0x7F, 0x01, 0x41] + sleb(Int64(loopBudget)) + [0x0B])
        appendEntry(to: &sections, id: 7, entry: encodeName(tickTableExport) + [0x01] + uleb(UInt64(tickTable)))
        // Memory growth: `memory.grow` of memory 0 becomes a call to an appended function that records a
        // refused growth in an exported global, so the host can tell "failed at the memory cap" from other
        // failures. (i32) -> i32; skipped for 64-bit memories and modules without memory.
        let instrumentGrow = hasMemory && !memory64
        if instrumentGrow {
            appendEntry(to: &sections, id: 1, entry: [0x60, 0x01, 0x7F, 0x01, 0x7F])
            appendEntry(to: &sections, id: 6, entry: [0x7F, 0x01, 0x41, 0x00, 0x0B])
            appendEntry(to: &sections, id: 7, entry: encodeName(growFailedExport) + [0x03] + uleb(UInt64(growFailedGlobal)))
            appendEntry(to: &sections, id: 3, entry: uleb(UInt64(growType)))
            let g = uleb(UInt64(growFailedGlobal))
            let body: [UInt8] = [0x01, 0x01, 0x7F, 0x20, 0x00, 0x40, 0x00, 0x22, 0x01, 0x41, 0x7F, 0x46, 0x04, 0x40,
                                 0x41, 0x01, 0x24] + g + [0x0B, 0x20, 0x01, 0x0B]
            appendEntry(to: &sections, id: 10, entry: uleb(UInt64(body.count)) + body)
        }

        if let index = sections.firstIndex(where: { $0.id == 5 }) {
            sections[index].payload = try capMemories(sections[index].payload, maxPages: maxMemoryPages)
        }
        var loops = 0
        if let index = sections.firstIndex(where: { $0.id == 10 }) {
            let check = budgetCheck(global: budgetGlobal, type: tickType, table: tickTable)
            var stateChange: String?
            sections[index].payload = try instrumentCode(sections[index].payload, check: check,
                                                         growCall: instrumentGrow ? [0x10] + uleb(UInt64(growFunction)) : nil,
                                                         skipLast: instrumentGrow, loops: &loops, stateChange: &stateChange)
            if let stateChange { refuseRecycling("the code uses \(stateChange)") }
        }

        let recyclability: Recyclability = notRecyclable.map { .notRecyclable($0) } ?? .recyclable
        if recyclability.isRecyclable {
            // The original mutable globals, then ours (the budget, and the grow flag when appended): a
            // recycled instance starts with them as a fresh one would.
            var mutable = globals.indices.filter { globals[$0].mutable }.map { UInt32(importedGlobals + $0) }
            mutable.append(budgetGlobal)
            if instrumentGrow { mutable.append(growFailedGlobal) }
            for index in mutable {
                appendEntry(to: &sections, id: 7, entry: encodeName("\(globalExportPrefix)\(index)") + [0x03] + uleb(UInt64(index)))
            }
            if definedMemories == 1 {
                appendEntry(to: &sections, id: 7, entry: encodeName(memoryExport) + [0x02, 0x00])
            }
        }

        var out: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
        out.reserveCapacity(bytes.count + loops * 24 + 64)
        for section in sections {
            out.append(section.id)
            out += uleb(UInt64(section.payload.count))
            out += section.payload
        }
        return RewrittenModule(bytes: out, instrumentedLoops: loops, recyclability: recyclability)
    }

    /// The code run at every loop header; leaves the operand stack as it found it.
    static func budgetCheck(global: UInt32, type: UInt32, table: UInt32) -> [UInt8] {
        let g = uleb(UInt64(global))
        var code: [UInt8] = [0x23] + g + [0x41, 0x01, 0x6B, 0x24] + g // budget = budget - 1
        code += [0x23] + g + [0x45, 0x04, 0x40] // if budget == 0
        code += [0x41, 0x00, 0x11] + uleb(UInt64(type)) + uleb(UInt64(table)) // call_indirect tick
        code += [0x24] + g + [0x0B] // budget = result; end
        return code
    }

    // MARK: - Sections

    /// Section order of the binary format (custom sections excepted).
    private static let sectionRank: [UInt8: Int] = [1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13]

    /// Appends one entry to a vector section, creating the section in its place when missing.
    private static func appendEntry(to sections: inout [(id: UInt8, payload: [UInt8])], id: UInt8, entry: [UInt8]) {
        if let index = sections.firstIndex(where: { $0.id == id }) {
            var r = ByteReader(sections[index].payload)
            let count = (try? r.u32()) ?? 0
            sections[index].payload = uleb(UInt64(count) + 1) + Array(sections[index].payload[r.position...]) + entry
            return
        }
        let rank = sectionRank[id]!
        let insertAt = sections.firstIndex(where: { $0.id != 0 && (sectionRank[$0.id] ?? 0) > rank }) ?? sections.count
        sections.insert((id, [0x01] + entry), at: insertAt)
    }

    private static func countFunctionTypes(_ payload: [UInt8]?) throws(ModuleRewriteError) -> Int {
        guard let payload else { return 0 }
        var r = ByteReader(payload)
        let count = try r.u32()
        for _ in 0..<count {
            let form = try r.byte()
            guard form == 0x60 else {
                throw ModuleRewriteError("type form 0x\(String(form, radix: 16)) (GC types) is not supported")
            }
            for _ in 0..<(try r.u32()) { try r.skipValType() }
            for _ in 0..<(try r.u32()) { try r.skipValType() }
        }
        return Int(count)
    }

    /// A global of the global section, as far as recycling cares.
    struct DefinedGlobal {
        var mutable: Bool
        /// Why the shim could not save and restore it exactly through JS, if it could not.
        var notRestorable: String?
    }

    static func definedGlobals(_ payload: [UInt8]?) throws(ModuleRewriteError) -> [DefinedGlobal] {
        guard let payload else { return [] }
        var r = ByteReader(payload)
        var globals: [DefinedGlobal] = []
        for _ in 0..<(try r.u32()) {
            let type = try r.peek()
            try r.skipValType()
            let mutable = try r.byte() & 0x01 != 0
            let initStart = r.position
            while true {
                let opcode = try r.byte()
                if opcode == 0x0B { break }
                try r.skipImmediates(of: opcode)
            }
            let initializer = Array(payload[initStart..<r.position])
            var notRestorable: String?
            switch type {
            case 0x7F, 0x7E: break // i32, i64 (a BigInt in JS): exact
            case 0x7D, 0x7C:
                // A JS number carries every f32/f64 bit pattern but a NaN's: writing a NaN back may change
                // its payload or sign. So only a constant, non-NaN initial value is accepted.
                if !isNonNaNConstant(initializer, f32: type == 0x7D) { notRestorable = "a mutable float global starting as NaN or non-constant" }
            default:
                notRestorable = "a mutable global of type 0x\(String(type, radix: 16)) (v128 or reference)"
            }
            globals.append(DefinedGlobal(mutable: mutable, notRestorable: notRestorable))
        }
        return globals
    }

    /// `f32.const x end` / `f64.const x end` with x not a NaN.
    private static func isNonNaNConstant(_ initializer: [UInt8], f32: Bool) -> Bool {
        if f32 {
            guard initializer.count == 6, initializer[0] == 0x43 else { return false }
            let bits = initializer[1..<5].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return !Float(bitPattern: bits).isNaN
        }
        guard initializer.count == 10, initializer[0] == 0x44 else { return false }
        let bits = initializer[1..<9].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return !Double(bitPattern: bits).isNaN
    }

    /// The name of an instruction that changes instance state other than memory and globals (tables,
    /// segments), or whose effect the rewriter does not vouch for (atomics); nil for any other.
    static func stateChangingInstruction(_ opcode: UInt8, sub: UInt32?) -> String? {
        switch (opcode, sub) {
        case (0x26, _): "table.set"
        case (0xFC, 9): "data.drop"
        case (0xFC, 12): "table.init"
        case (0xFC, 13): "elem.drop"
        case (0xFC, 14): "table.copy"
        case (0xFC, 15): "table.grow"
        case (0xFC, 17): "table.fill"
        case (0xFE, _): "atomic instructions"
        default: nil
        }
    }

    private static func capMemories(_ payload: [UInt8], maxPages: UInt64) throws(ModuleRewriteError) -> [UInt8] {
        var r = ByteReader(payload)
        let count = try r.u32()
        var out = uleb(UInt64(count))
        for _ in 0..<count {
            var flags = try r.byte()
            let minimum = try r.u64()
            var maximum = flags & 0x01 != 0 ? try r.u64() : nil
            if minimum > maxPages {
                throw ModuleRewriteError("the module's initial memory (\(minimum) pages of 64 KiB) exceeds the memory limit (\(maxPages) pages)")
            }
            if maximum.map({ $0 > maxPages }) ?? true {
                maximum = maxPages
                flags |= 0x01
            }
            out.append(flags)
            out += uleb(minimum)
            if let maximum { out += uleb(maximum) }
        }
        return out
    }

    private static func instrumentCode(_ payload: [UInt8], check: [UInt8], growCall: [UInt8]?, skipLast: Bool,
                                       loops: inout Int, stateChange: inout String?) throws(ModuleRewriteError) -> [UInt8] {
        var r = ByteReader(payload)
        let count = try r.u32()
        var out = uleb(UInt64(count))
        out.reserveCapacity(payload.count + 4096)
        for index in 0..<count {
            let size = Int(try r.u32())
            let body = try r.bytes(size)
            if skipLast && index == count - 1 { // our own grow function
                out += uleb(UInt64(size)) + body
                continue
            }
            let rewritten = try instrumentBody(body, check: check, growCall: growCall, loops: &loops, stateChange: &stateChange)
            out += uleb(UInt64(rewritten.count))
            out += rewritten
        }
        return out
    }

    private static func instrumentBody(_ body: [UInt8], check: [UInt8], growCall: [UInt8]?,
                                       loops: inout Int, stateChange: inout String?) throws(ModuleRewriteError) -> [UInt8] {
        var r = ByteReader(body)
        for _ in 0..<(try r.u32()) {
            _ = try r.u32()
            try r.skipValType()
        }
        var out = Array(body[0..<r.position])
        out.reserveCapacity(body.count + 64)
        var copied = r.position
        while !r.atEnd {
            let start = r.position
            let opcode = try r.byte()
            if stateChange == nil, opcode == 0x26 || opcode == 0xFC || opcode == 0xFE {
                var peek = r
                stateChange = stateChangingInstruction(opcode, sub: opcode == 0xFC ? try peek.u32() : nil)
            }
            try r.skipImmediates(of: opcode)
            if opcode == 0x40, let growCall, body[start + 1] == 0x00, r.position == start + 2 {
                out += body[copied..<start]
                out += growCall
                copied = r.position
            } else if opcode == 0x03 {
                out += body[copied..<r.position]
                out += check
                copied = r.position
                loops += 1
            }
        }
        out += body[copied...]
        return out
    }
}

// MARK: - LEB128

func uleb(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7F)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}

func sleb(_ value: Int64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while true {
        let byte = UInt8(value & 0x7F)
        value >>= 7
        if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
            out.append(byte)
            return out
        }
        out.append(byte | 0x80)
    }
}

func encodeName(_ name: String) -> [UInt8] {
    let utf8 = Array(name.utf8)
    return uleb(UInt64(utf8.count)) + utf8
}

/// A cursor over module bytes that decodes what the rewriter needs to skip.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    func peek() throws(ModuleRewriteError) -> UInt8 {
        guard position < bytes.count else { throw ModuleRewriteError("unexpected end of module") }
        return bytes[position]
    }

    mutating func byte() throws(ModuleRewriteError) -> UInt8 {
        guard position < bytes.count else { throw ModuleRewriteError("unexpected end of module") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func bytes(_ count: Int) throws(ModuleRewriteError) -> [UInt8] {
        guard count >= 0, position + count <= bytes.count else { throw ModuleRewriteError("unexpected end of module") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func skip(_ count: Int) throws(ModuleRewriteError) {
        guard position + count <= bytes.count else { throw ModuleRewriteError("unexpected end of module") }
        position += count
    }

    mutating func u64() throws(ModuleRewriteError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ModuleRewriteError("LEB128 too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func u32() throws(ModuleRewriteError) -> UInt32 {
        let value = try u64()
        guard value <= UInt64(UInt32.max) else { throw ModuleRewriteError("u32 out of range") }
        return UInt32(value)
    }

    /// Skips a signed LEB128 of any width.
    mutating func skipSigned() throws(ModuleRewriteError) {
        while try byte() & 0x80 != 0 {}
    }

    mutating func name() throws(ModuleRewriteError) -> [UInt8] {
        try bytes(Int(try u32()))
    }

    mutating func skipValType() throws(ModuleRewriteError) {
        let b = try byte()
        if b == 0x63 || b == 0x64 { try skipSigned() } // (ref null? heaptype)
    }

    mutating func skipRefType() throws(ModuleRewriteError) { try skipValType() }

    mutating func skipLimits() throws(ModuleRewriteError) {
        let flags = try byte()
        _ = try u64()
        if flags & 0x01 != 0 { _ = try u64() }
    }

    mutating func skipBlockType() throws(ModuleRewriteError) {
        let b = try byte()
        if b == 0x63 || b == 0x64 { try skipSigned(); return }
        if b & 0x80 != 0 { try skipSigned() } // a type index (s33), first byte already read
    }

    mutating func skipMemArg() throws(ModuleRewriteError) {
        let align = try u32()
        if align & 0x40 != 0 { _ = try u32() } // multi-memory: memory index
        _ = try u64()
    }

    /// Skips the immediates of one instruction (core, exceptions, tail calls, typed function references,
    /// bulk memory, reference types, SIMD, threads). GC instructions are refused.
    mutating func skipImmediates(of opcode: UInt8) throws(ModuleRewriteError) {
        switch opcode {
        case 0x02, 0x03, 0x04, 0x06: try skipBlockType()
        case 0x07, 0x08, 0x09, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x18, 0xD2, 0xD5, 0xD6: _ = try u32()
        case 0x11, 0x13: _ = try u32(); _ = try u32()
        case 0x0E:
            for _ in 0..<(try u32()) { _ = try u32() }
            _ = try u32()
        case 0x1C:
            for _ in 0..<(try u32()) { try skipValType() }
        case 0x1F:
            try skipBlockType()
            for _ in 0..<(try u32()) {
                switch try byte() {
                case 0x00, 0x01: _ = try u32(); _ = try u32()
                case 0x02, 0x03: _ = try u32()
                case let kind: throw ModuleRewriteError("unknown catch clause \(kind)")
                }
            }
        case 0x20...0x26: _ = try u32()
        case 0x28...0x3E: try skipMemArg()
        case 0x3F, 0x40: _ = try u32()
        case 0x41, 0x42: try skipSigned()
        case 0x43: try skip(4)
        case 0x44: try skip(8)
        case 0xD0: try skipSigned()
        case 0xFC:
            switch try u32() {
            case 0...7: break
            case 8: _ = try u32(); _ = try u32()
            case 9, 11, 13, 15, 16, 17: _ = try u32()
            case 10, 12, 14: _ = try u32(); _ = try u32()
            case let sub: throw ModuleRewriteError("unknown instruction 0xFC \(sub)")
            }
        case 0xFD:
            switch try u32() {
            case 0...11, 92, 93: try skipMemArg()
            case 12, 13: try skip(16)
            case 21...34: try skip(1)
            case 84...91: try skipMemArg(); try skip(1)
            default: break
            }
        case 0xFE:
            if try u32() == 0x03 { try skip(1) } else { try skipMemArg() }
        case 0xFB:
            throw ModuleRewriteError("GC instructions are not supported")
        default:
            break // no immediates
        }
    }
}
