/// What the runtime needs to know about an ELF file before running it: a pure parser over its bytes.
///
/// Nex 0.x rejects native workloads that need a dynamic loader (a `PT_INTERP` program header) when
/// they run in a sandbox, whose root file system has no shared libraries.
public struct ELFExecutable: Sendable, Hashable {
    /// 32- or 64-bit.
    public enum Width: Sendable, Hashable {
        case bits32
        case bits64
    }

    public var width: Width
    public var isLittleEndian: Bool
    /// `e_type`: 2 is an executable, 3 a shared object (also position-independent executables).
    public var fileType: UInt16
    /// `e_machine`: 62 is x86-64, 183 AArch64.
    public var machine: UInt16
    /// The requested program interpreter (dynamic loader), or nil for a statically linked file.
    public var interpreter: String?

    /// Needs a dynamic loader, hence shared libraries from the host.
    public var isDynamicallyLinked: Bool { interpreter != nil }

    /// The text Nex 0.x answers when a sandboxed deploy carries a dynamically linked binary.
    public static let dynamicallyLinkedMessage = "native binary contains at least one dynamically linked dependency"

    public init(parsing bytes: some Collection<UInt8>) throws(NativeRuntimeError) {
        let data = Array(bytes)
        func invalid(_ reason: String) -> NativeRuntimeError {
            NativeRuntimeError(code: .invalidExecutable, message: "not a usable ELF file: \(reason)")
        }
        guard data.count >= 52, data[0] == 0x7F, data[1] == UInt8(ascii: "E"), data[2] == UInt8(ascii: "L"),
            data[3] == UInt8(ascii: "F")
        else { throw invalid("missing ELF header") }
        switch data[4] {
        case 1: width = .bits32
        case 2: width = .bits64
        default: throw invalid("unknown class \(data[4])")
        }
        switch data[5] {
        case 1: isLittleEndian = true
        case 2: isLittleEndian = false
        default: throw invalid("unknown byte order \(data[5])")
        }
        let reader = Reader(data: data, littleEndian: isLittleEndian)
        let is64 = width == .bits64
        guard !is64 || data.count >= 64 else { throw invalid("truncated header") }
        guard let type = reader.integer(at: 16, size: 2), let machine = reader.integer(at: 18, size: 2),
            let headerTable = reader.integer(at: is64 ? 32 : 28, size: is64 ? 8 : 4),
            let entrySize = reader.integer(at: is64 ? 54 : 42, size: 2),
            let entryCount = reader.integer(at: is64 ? 56 : 44, size: 2)
        else { throw invalid("truncated header") }
        fileType = UInt16(type)
        self.machine = UInt16(machine)
        guard entryCount != 0xFFFF else { throw invalid("too many program headers") }

        interpreter = nil
        for index in 0..<entryCount {
            let (product, overflow) = index.multipliedReportingOverflow(by: entrySize)
            let (entry, overflow2) = headerTable.addingReportingOverflow(product)
            guard !overflow, !overflow2, let segmentType = reader.integer(at: entry, size: 4) else {
                throw invalid("program header \(index) lies outside the file")
            }
            let interpreterType = 3  // PT_INTERP
            guard segmentType == interpreterType else { continue }
            guard let offset = reader.integer(at: entry + (is64 ? 8 : 4), size: is64 ? 8 : 4),
                let size = reader.integer(at: entry + (is64 ? 32 : 16), size: is64 ? 8 : 4),
                offset <= data.count, size <= data.count - offset
            else { throw invalid("interpreter segment lies outside the file") }
            let path = data[offset..<(offset + size)].prefix { $0 != 0 }
            interpreter = String(decoding: path, as: UTF8.self)
        }
    }

    /// Bounds-checked fixed-width integers in either byte order.
    private struct Reader {
        let data: [UInt8]
        let littleEndian: Bool

        func integer(at offset: Int, size: Int) -> Int? {
            guard offset >= 0, offset <= data.count - size else { return nil }
            var value: UInt64 = 0
            for index in 0..<size {
                let byte = UInt64(data[offset + (littleEndian ? size - 1 - index : index)])
                value = value << 8 | byte
            }
            return value > UInt64(Int.max) ? nil : Int(value)
        }
    }
}
