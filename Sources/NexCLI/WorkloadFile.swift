import NexAPI

/// What `nex devrun` learns from a file before uploading it: the workload type and, for native
/// executables, the OS and architecture the auction asks for (spec §8.4, `bin_validator.go`).
public struct WorkloadFileKind: Sendable, Hashable {
    public var type: WorkloadType
    /// Go's `GOOS` name (`linux`, `darwin`, `windows`) of a native executable; `nil` otherwise.
    public var os: String?
    /// Go's `GOARCH` name (`amd64`, `arm64`) of a native executable, `nil` when unknown or not native.
    public var arch: String?

    public init(type: WorkloadType, os: String? = nil, arch: String? = nil) {
        self.type = type
        self.os = os
        self.arch = arch
    }

    /// How many leading bytes ``detect(fileName:header:)`` needs at most (PE headers can sit further
    /// in, but their offset is read from the first 64 bytes; 4 KiB covers every linker's stub).
    public static let headerLength = 4096

    /// Detects the kind from the file name and its first bytes: ELF, Mach-O (64-bit) and PE executables
    /// are `native`; `.js` is `v8`; `.wasm` (or the `\0asm` magic) is `wasm`.
    /// - Throws: `… is not a workload: …` for anything else.
    public static func detect(fileName: String, header: [UInt8]) throws(CLIError) -> WorkloadFileKind {
        if header.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            return WorkloadFileKind(type: .native, os: "linux", arch: elfArch(header))
        }
        if header.starts(with: [0xCF, 0xFA, 0xED, 0xFE]) {
            let arch: String? = header.count > 4 ? (header[4] == 0x07 ? "amd64" : header[4] == 0x0C ? "arm64" : nil) : nil
            return WorkloadFileKind(type: .native, os: "darwin", arch: arch)
        }
        if header.starts(with: [0x4D, 0x5A]) {
            return WorkloadFileKind(type: .native, os: "windows", arch: peArch(header))
        }
        let lowered = fileName.lowercased()
        if lowered.hasSuffix(".wasm") || header.starts(with: [0x00, 0x61, 0x73, 0x6D]) {
            return WorkloadFileKind(type: .wasm)
        }
        if lowered.hasSuffix(".js") || lowered.hasSuffix(".mjs") {
            return WorkloadFileKind(type: .v8)
        }
        throw CLIError("\(fileName) is not a workload: it is neither an executable (ELF, Mach-O, PE) nor a .js or .wasm file; use --type to say what it is")
    }

    /// `e_machine` of an ELF header (little-endian files; big-endian ones are not Nex targets).
    static func elfArch(_ header: [UInt8]) -> String? {
        guard header.count >= 20, header[5] == 1 else { return nil }
        switch UInt16(header[18]) | UInt16(header[19]) << 8 {
        case 0x3E: return "amd64"
        case 0xB7: return "arm64"
        case 0x03: return "386"
        case 0x28: return "arm"
        default: return nil
        }
    }

    /// The COFF machine of a PE file, found through `e_lfanew`.
    static func peArch(_ header: [UInt8]) -> String? {
        guard header.count >= 0x40 else { return nil }
        let offset = Int(header[0x3C]) | Int(header[0x3D]) << 8 | Int(header[0x3E]) << 16 | Int(header[0x3F]) << 24
        guard offset >= 0, offset + 6 <= header.count, header[offset..<offset + 4].elementsEqual([0x50, 0x45, 0, 0]) else { return nil }
        switch UInt16(header[offset + 4]) | UInt16(header[offset + 5]) << 8 {
        case 0x8664: return "amd64"
        case 0xAA64: return "arm64"
        default: return nil
        }
    }

    /// The object store key `nex devrun` uploads to: the file's base name with every `.` removed, as 0.x
    /// (`echofunction.js` → `echofunctionjs`). It is also the workload name.
    public static func objectKey(forPath path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.replacingAll(".", with: "")
    }
}

extension String {
    fileprivate func replacingAll(_ character: Character, with replacement: String) -> String {
        var result = ""
        for element in self { if element == character { result += replacement } else { result.append(element) } }
        return result
    }
}
