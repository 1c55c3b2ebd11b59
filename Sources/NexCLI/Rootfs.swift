import NativeRuntime
import ArgumentParser
import Foundation
import NexNode

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `nex rootfs`: builds the sandbox's root file system from a `nex-agent` binary.
public struct Rootfs: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rootfs", abstract: "Build the sandbox root file system (the agent and the libraries it loads).",
        discussion: """
        Copies nex-agent to /usr/bin/nex-agent and every shared library it loads (found from the binary \
        with the dynamic loader) into a directory, with the mount points the sandbox needs. Point \
        rootfs_filepath at the directory. With --ext4, also packs it into an ext4 image (needs mkfs.ext4).

        Examples:
          nex rootfs --output /var/lib/nex/rootfs
          nex rootfs --agent ./nex-agent --output ./rootfs --ext4 ./rootfs.ext4
        """)

    @Option(help: "The nex-agent binary (default: next to nex, else on PATH).")
    public var agent: String?

    @Option(help: "The directory to build (replaced if it exists).")
    public var output: String

    @Option(help: "Also write an ext4 image of the directory here (needs mkfs.ext4).")
    public var ext4: String?

    @Option(name: .customLong("size-mib"), help: "Size of the ext4 image in MiB (default: the directory's size plus a quarter).")
    public var sizeMiB: Int?

    public init() {}

    public func run() async throws {
        guard let agent = agent ?? NexNode.defaultAgentExecutable() else {
            throw CLIError("cannot find nex-agent next to nex or on PATH; pass --agent")
        }
        let libraries: [String]
        do {
            libraries = try NexNode.buildSandboxRootfs(agentExecutable: agent, into: output)
        } catch {
            throw CLIError("cannot build the rootfs: \(error)")
        }
        print("Built \(output) from \(agent): nex-agent and \(libraries.count) shared libraries")
        guard let ext4 else { return }
        let mkfs = ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].first { (path: String) in access(path, X_OK) == 0 }
        guard let mkfs else { throw CLIError("mkfs.ext4 is missing (apt install e2fsprogs); the directory \(output) is usable as it is") }
        let bytes = Self.size(of: output)
        let mebibytes = sizeMiB ?? max(16, Int(bytes / 1_048_576) * 5 / 4 + 8)
        guard FileManager.default.createFile(atPath: ext4, contents: nil),
              let handle = FileHandle(forWritingAtPath: ext4) else { throw CLIError("cannot create \(ext4)") }
        try handle.truncate(atOffset: UInt64(mebibytes) * 1_048_576)
        try handle.close()
        let result = try Program.run(mkfs, ["-q", "-F", "-d", output, ext4])
        guard result.succeeded else { throw CLIError("mkfs.ext4 failed (\(result.status)): \(result.standardError)") }
        print("Wrote \(ext4) (\(mebibytes) MiB)")
    }

    static func size(of directory: String) -> UInt64 {
        var total: UInt64 = 0
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let item = enumerator?.nextObject() as? String {
            if let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + item))?[.size] as? NSNumber {
                total += size.uint64Value
            }
        }
        return total
    }
}
