/// A classic-BPF seccomp program, generated here (no libseccomp), for `bwrap --seccomp <fd>`.
///
/// The program checks the architecture first (x86_64 or aarch64; anything else, including the x32 ABI,
/// is killed), then answers `EPERM` for system calls a workload has no business making: mounting,
/// tracing other processes, loading kernel code, keyrings, new namespaces, clock and host changes.
/// `socket` is allowed for Unix sockets and TCP only (UDP and raw sockets would bypass the Landlock
/// TCP rules), and `clone3` answers `ENOSYS` so that the C library falls back to `clone`, whose flags a
/// classic-BPF program can read (namespace flags are refused).
public struct SeccompFilter: Sendable, Hashable {
    /// One `struct sock_filter`.
    public struct Instruction: Sendable, Hashable {
        public var code: UInt16
        public var jumpIfTrue: UInt8
        public var jumpIfFalse: UInt8
        public var k: UInt32
    }

    /// An architecture the filter knows, with its `AUDIT_ARCH_*` value.
    public enum Architecture: String, Sendable, CaseIterable {
        case x86_64, aarch64

        public var auditArch: UInt32 {
            switch self {
            case .x86_64: return 0xC000_003E
            case .aarch64: return 0xC000_00B7
            }
        }

        /// The machine this code was compiled for.
        public static var current: Architecture {
            #if arch(arm64)
            return .aarch64
            #else
            return .x86_64
            #endif
        }
    }

    /// A system call by name, with its number on each architecture (`nil`: does not exist there).
    public struct Syscall: Sendable, Hashable {
        public var name: String
        public var x86_64: UInt32?
        public var aarch64: UInt32?

        public func number(on architecture: Architecture) -> UInt32? {
            switch architecture {
            case .x86_64: return x86_64
            case .aarch64: return aarch64
            }
        }
    }

    /// Answered with `EPERM`.
    public static let denied: [Syscall] = [
        .init(name: "mount", x86_64: 165, aarch64: 40),
        .init(name: "umount2", x86_64: 166, aarch64: 39),
        .init(name: "pivot_root", x86_64: 155, aarch64: 41),
        .init(name: "chroot", x86_64: 161, aarch64: 51),
        .init(name: "ptrace", x86_64: 101, aarch64: 117),
        .init(name: "process_vm_readv", x86_64: 310, aarch64: 270),
        .init(name: "process_vm_writev", x86_64: 311, aarch64: 271),
        .init(name: "kexec_load", x86_64: 246, aarch64: 104),
        .init(name: "kexec_file_load", x86_64: 320, aarch64: 294),
        .init(name: "init_module", x86_64: 175, aarch64: 105),
        .init(name: "finit_module", x86_64: 313, aarch64: 273),
        .init(name: "delete_module", x86_64: 176, aarch64: 106),
        .init(name: "bpf", x86_64: 321, aarch64: 280),
        .init(name: "perf_event_open", x86_64: 298, aarch64: 241),
        .init(name: "keyctl", x86_64: 250, aarch64: 219),
        .init(name: "add_key", x86_64: 248, aarch64: 217),
        .init(name: "request_key", x86_64: 249, aarch64: 218),
        .init(name: "unshare", x86_64: 272, aarch64: 97),
        .init(name: "setns", x86_64: 308, aarch64: 268),
        .init(name: "reboot", x86_64: 169, aarch64: 142),
        .init(name: "swapon", x86_64: 167, aarch64: 224),
        .init(name: "swapoff", x86_64: 168, aarch64: 225),
        .init(name: "acct", x86_64: 163, aarch64: 89),
        .init(name: "syslog", x86_64: 103, aarch64: 116),
        .init(name: "vhangup", x86_64: 153, aarch64: 58),
        .init(name: "quotactl", x86_64: 179, aarch64: 60),
        .init(name: "open_by_handle_at", x86_64: 304, aarch64: 265),
        .init(name: "name_to_handle_at", x86_64: 303, aarch64: 264),
        .init(name: "userfaultfd", x86_64: 323, aarch64: 282),
        .init(name: "settimeofday", x86_64: 164, aarch64: 170),
        .init(name: "clock_settime", x86_64: 227, aarch64: 112),
        .init(name: "clock_adjtime", x86_64: 305, aarch64: 266),
        .init(name: "adjtimex", x86_64: 159, aarch64: 171),
        .init(name: "sethostname", x86_64: 170, aarch64: 161),
        .init(name: "setdomainname", x86_64: 171, aarch64: 162),
        .init(name: "iopl", x86_64: 172, aarch64: nil),
        .init(name: "ioperm", x86_64: 173, aarch64: nil),
        // io_uring performs I/O outside the system calls this filter sees.
        .init(name: "io_uring_setup", x86_64: 425, aarch64: 425),
        .init(name: "io_uring_enter", x86_64: 426, aarch64: 426),
        .init(name: "io_uring_register", x86_64: 427, aarch64: 427),
        // The new mount API.
        .init(name: "open_tree", x86_64: 428, aarch64: 428),
        .init(name: "move_mount", x86_64: 429, aarch64: 429),
        .init(name: "fsopen", x86_64: 430, aarch64: 430),
        .init(name: "fsconfig", x86_64: 431, aarch64: 431),
        .init(name: "fsmount", x86_64: 432, aarch64: 432),
        .init(name: "fspick", x86_64: 433, aarch64: 433),
        .init(name: "mount_setattr", x86_64: 442, aarch64: 442),
    ]
    static let socketCall = Syscall(name: "socket", x86_64: 41, aarch64: 198)
    static let cloneCall = Syscall(name: "clone", x86_64: 56, aarch64: 220)
    static let clone3Call = Syscall(name: "clone3", x86_64: 435, aarch64: 435)

    /// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET.
    public static let namespaceCloneFlags: UInt32 = 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000
        | 0x1000_0000 | 0x2000_0000 | 0x4000_0000

    public static let allow: UInt32 = 0x7FFF_0000
    public static let killProcess: UInt32 = 0x8000_0000
    public static func errno(_ value: Int32) -> UInt32 { 0x0005_0000 | (UInt32(value) & 0xFFFF) }
    static let eperm: Int32 = 1
    static let enosys: Int32 = 38
    static let afInet: UInt32 = 2, afInet6: UInt32 = 10, afPacket: UInt32 = 17
    static let sockStream: UInt32 = 1

    public let instructions: [Instruction]

    /// The program for both architectures.
    public init() {
        var assembler = Assembler()
        assembler.load(offset: 4)  // seccomp_data.arch
        assembler.jumpIfEqual(Architecture.x86_64.auditArch, to: "x86_64")
        assembler.jumpIfEqual(Architecture.aarch64.auditArch, to: "aarch64")
        assembler.ret(Self.killProcess)
        for architecture in Architecture.allCases {
            let p = architecture.rawValue
            assembler.label(p)
            assembler.load(offset: 0)  // seccomp_data.nr
            if architecture == .x86_64 {
                // x32 system calls carry bit 30; refuse them all rather than list them twice.
                assembler.jumpIfGreaterOrEqual(0x4000_0000, to: "\(p).eperm")
            }
            for call in Self.denied {
                guard let number = call.number(on: architecture) else { continue }
                assembler.jumpIfEqual(number, to: "\(p).eperm")
            }
            assembler.jumpIfEqual(Self.clone3Call.number(on: architecture)!, to: "\(p).enosys")
            assembler.jumpIfEqual(Self.cloneCall.number(on: architecture)!, to: "\(p).clone")
            assembler.jumpIfEqual(Self.socketCall.number(on: architecture)!, to: "\(p).socket")
            assembler.ret(Self.allow)

            assembler.label("\(p).clone")
            assembler.load(offset: 16)  // args[0], low 32 bits: the flags
            assembler.jumpIfAnySet(Self.namespaceCloneFlags, to: "\(p).eperm")
            assembler.ret(Self.allow)

            assembler.label("\(p).socket")
            assembler.load(offset: 16)  // args[0]: domain
            assembler.jumpIfEqual(Self.afPacket, to: "\(p).eperm")
            assembler.jumpIfEqual(Self.afInet, to: "\(p).inet")
            assembler.jumpIfEqual(Self.afInet6, to: "\(p).inet")
            assembler.ret(Self.allow)
            assembler.label("\(p).inet")
            assembler.load(offset: 24)  // args[1]: type, with SOCK_NONBLOCK/SOCK_CLOEXEC in the high bits
            assembler.and(0xF)
            assembler.jumpIfEqual(Self.sockStream, to: "\(p).allow")
            assembler.label("\(p).eperm")
            assembler.ret(Self.errno(Self.eperm))
            assembler.label("\(p).enosys")
            assembler.ret(Self.errno(Self.enosys))
            assembler.label("\(p).allow")
            assembler.ret(Self.allow)
        }
        instructions = assembler.assemble()
    }

    /// The program as `bwrap --seccomp` reads it: `struct sock_filter`s in the machine's byte order (little endian).
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(instructions.count * 8)
        for instruction in instructions {
            bytes.append(UInt8(truncatingIfNeeded: instruction.code))
            bytes.append(UInt8(truncatingIfNeeded: instruction.code >> 8))
            bytes.append(instruction.jumpIfTrue)
            bytes.append(instruction.jumpIfFalse)
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: instruction.k >> UInt32(shift))) }
        }
        return bytes
    }

    /// Runs the program on one system call, as the kernel would: the action it returns.
    /// (For tests and for explaining decisions; the kernel runs its own copy.)
    public func evaluate(architecture: UInt32, number: UInt32, arguments: [UInt64] = []) -> UInt32 {
        var data = [UInt32](repeating: 0, count: 16)
        data[0] = number
        data[1] = architecture
        for (index, argument) in arguments.prefix(6).enumerated() {
            data[4 + index * 2] = UInt32(truncatingIfNeeded: argument)
            data[5 + index * 2] = UInt32(truncatingIfNeeded: argument >> 32)
        }
        var accumulator: UInt32 = 0
        var pc = 0
        while pc < instructions.count {
            let instruction = instructions[pc]
            pc += 1
            switch instruction.code {
            case Assembler.loadWord: accumulator = data[Int(instruction.k) / 4]
            case Assembler.andConstant: accumulator &= instruction.k
            case Assembler.jumpEqual:
                pc += Int(accumulator == instruction.k ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case Assembler.jumpGreaterOrEqual:
                pc += Int(accumulator >= instruction.k ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case Assembler.jumpSet:
                pc += Int(accumulator & instruction.k != 0 ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case Assembler.returnConstant: return instruction.k
            default: return Self.killProcess
            }
        }
        return Self.killProcess
    }

    /// A little assembler: forward jumps to named labels, resolved to the 8-bit offsets of classic BPF.
    struct Assembler {
        static let loadWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
        static let andConstant: UInt16 = 0x54  // BPF_ALU | BPF_AND | BPF_K
        static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
        static let jumpGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
        static let jumpSet: UInt16 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
        static let returnConstant: UInt16 = 0x06  // BPF_RET | BPF_K

        private enum Item {
            case instruction(code: UInt16, k: UInt32, ifTrue: String?)
            case label(String)
        }
        private var items: [Item] = []

        mutating func load(offset: UInt32) { items.append(.instruction(code: Self.loadWord, k: offset, ifTrue: nil)) }
        mutating func and(_ mask: UInt32) { items.append(.instruction(code: Self.andConstant, k: mask, ifTrue: nil)) }
        mutating func jumpIfEqual(_ value: UInt32, to label: String) { items.append(.instruction(code: Self.jumpEqual, k: value, ifTrue: label)) }
        mutating func jumpIfGreaterOrEqual(_ value: UInt32, to label: String) {
            items.append(.instruction(code: Self.jumpGreaterOrEqual, k: value, ifTrue: label))
        }
        mutating func jumpIfAnySet(_ mask: UInt32, to label: String) { items.append(.instruction(code: Self.jumpSet, k: mask, ifTrue: label)) }
        mutating func ret(_ action: UInt32) { items.append(.instruction(code: Self.returnConstant, k: action, ifTrue: nil)) }
        mutating func label(_ name: String) { items.append(.label(name)) }

        func assemble() -> [Instruction] {
            var positions: [String: Int] = [:]
            var count = 0
            for item in items {
                switch item {
                case .label(let name): positions[name] = count
                case .instruction: count += 1
                }
            }
            var result: [Instruction] = []
            for item in items {
                guard case .instruction(let code, let k, let target) = item else { continue }
                var jumpIfTrue: UInt8 = 0
                if let target {
                    // Labels are ours and always ahead; a violation is a bug in the program above.
                    let distance = positions[target]! - (result.count + 1)
                    precondition(distance >= 0 && distance <= 255, "seccomp jump to \(target) out of range")
                    jumpIfTrue = UInt8(distance)
                }
                result.append(Instruction(code: code, jumpIfTrue: jumpIfTrue, jumpIfFalse: 0, k: k))
            }
            return result
        }
    }
}
