import Foundation
import NexSandbox
import Testing

/// The generated seccomp program, run through its own evaluator (pure; the hostile-workload test runs it for real).
@Suite struct SeccompFilterTests {
    let filter = SeccompFilter()
    let eperm = SeccompFilter.errno(1)

    @Test(arguments: SeccompFilter.Architecture.allCases)
    func deniedCallsAnswerEPERMAndOthersPass(architecture: SeccompFilter.Architecture) {
        for call in SeccompFilter.denied {
            guard let number = call.number(on: architecture) else { continue }
            #expect(filter.evaluate(architecture: architecture.auditArch, number: number) == eperm, "\(call.name) on \(architecture)")
        }
        // read, write, openat, mmap, futex, epoll_pwait (x86_64 numbers, then aarch64's).
        let harmless: [UInt32] = architecture == .x86_64 ? [0, 1, 257, 9, 202, 281] : [63, 64, 56, 222, 98, 22]
        for number in harmless {
            #expect(filter.evaluate(architecture: architecture.auditArch, number: number) == SeccompFilter.allow)
        }
    }

    @Test func unknownArchitecturesAndX32AreKilled() {
        #expect(filter.evaluate(architecture: 0x4000_0003, number: 0) == SeccompFilter.killProcess)  // i386
        #expect(filter.evaluate(architecture: SeccompFilter.Architecture.x86_64.auditArch, number: 0x4000_0000 | 1) == eperm)
    }

    @Test func socketsAreUnixAndTCPOnly() {
        let x86 = SeccompFilter.Architecture.x86_64.auditArch
        let socket: UInt32 = 41
        let cloexecNonblock: UInt64 = 0o2_000_000 | 0o4_000
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [2, 1 | cloexecNonblock]) == SeccompFilter.allow)  // TCP
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [10, 1]) == SeccompFilter.allow)  // TCP6
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [1, 2]) == SeccompFilter.allow)  // unix datagram
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [2, 2]) == eperm)  // UDP
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [10, 3 | cloexecNonblock]) == eperm)  // raw
        #expect(filter.evaluate(architecture: x86, number: socket, arguments: [17, 3]) == eperm)  // packet
    }

    @Test func cloneWithNamespacesIsRefusedAndClone3FallsBack() {
        let arm = SeccompFilter.Architecture.aarch64.auditArch
        let threadFlags: UInt64 = 0x3D0F00  // what pthread_create passes
        #expect(filter.evaluate(architecture: arm, number: 220, arguments: [threadFlags]) == SeccompFilter.allow)
        #expect(filter.evaluate(architecture: arm, number: 220, arguments: [17]) == SeccompFilter.allow)  // fork: SIGCHLD
        #expect(filter.evaluate(architecture: arm, number: 220, arguments: [0x1000_0000 | 17]) == eperm)  // CLONE_NEWUSER
        #expect(filter.evaluate(architecture: arm, number: 435) == SeccompFilter.errno(38))
    }

    @Test func bytesAreSockFilterRecordsInLittleEndian() {
        let bytes = filter.bytes
        #expect(bytes.count == filter.instructions.count * 8)
        // First: load the architecture word (BPF_LD|BPF_W|BPF_ABS, k = 4).
        #expect(Array(bytes[0..<8]) == [0x20, 0x00, 0, 0, 4, 0, 0, 0])
        // Second: compare with AUDIT_ARCH_X86_64.
        #expect(Array(bytes[8..<16]) == [0x15, 0x00, 2, 0, 0x3E, 0x00, 0x00, 0xC0])
        // Last: allow.
        #expect(Array(bytes.suffix(8)) == [0x06, 0x00, 0, 0, 0x00, 0x00, 0xFF, 0x7F])
        // The kernel's limit is 4096 instructions; stay far below it.
        #expect(filter.instructions.count < 512)
    }
}

@Suite struct RootFileSystemTests {
    @Test func lddOutputParses() {
        let text = """
        \tlinux-vdso.so.1 (0x00007ffd)
        \tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x00007f59)
        \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f59)
        \tlibmissing.so => not found
        \t/lib64/ld-linux-x86-64.so.2 (0x00007f59)
        """
        #expect(RootFileSystem.parseLDD(text) == [
            "/opt/swift/usr/lib/swift/linux/libswiftCore.so", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
        ])
    }

    @Test func buildsFromADynamicBinaryWithItsLibraries() throws {
        let directory = NSTemporaryDirectory() + "nex-rootfs-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let libraries = try RootFileSystem.sharedLibraries(of: "/usr/bin/true")
        #expect(libraries.contains { $0.hasSuffix("/libc.so.6") })
        let root = try RootFileSystem.build(agent: "/usr/bin/true", into: directory + "/rootfs")
        #expect(root.problems().isEmpty)
        for library in libraries { #expect(FileManager.default.fileExists(atPath: root.path + library), "\(library)") }
        // Nothing else of the host.
        #expect(!FileManager.default.fileExists(atPath: root.path + "/etc"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/bin/sh"))
        // The cache reuses it; an empty directory is no root.
        #expect(try RootFileSystem.cached(for: "/usr/bin/true", in: directory).path == root.path)
        try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: true)
        #expect(!RootFileSystem(path: directory + "/empty").problems().isEmpty)
    }

    @Test func cgroupDiscoveryReadsV1AndV2Mounts() {
        let v1 = """
        30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
        31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
        32 25 0:28 / /sys/fs/cgroup/pids rw,relatime shared:11 - cgroup cgroup rw,pids
        """
        let own = "4:memory:/process_api/abc\n3:cpu,cpuacct:/\n2:pids:/\n"
        let hierarchy = CgroupHierarchy.discover(mountInfo: v1, ownCgroups: own)
        #expect(hierarchy?.version == .v1)
        #expect(hierarchy?.parents["memory"] == "/sys/fs/cgroup/memory/process_api/abc")
        #expect(hierarchy?.parents["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(hierarchy?.parents["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        let v2 = "29 25 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
        #expect(CgroupHierarchy.discover(mountInfo: v2, ownCgroups: "0::/user.slice\n")
            == CgroupHierarchy(version: .v2, parents: ["unified": "/sys/fs/cgroup/nex"]))
        #expect(CgroupHierarchy.discover(mountInfo: "", ownCgroups: "") == nil)
    }
}
