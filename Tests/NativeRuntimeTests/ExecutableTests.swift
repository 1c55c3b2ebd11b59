import Foundation
import Logging
import Testing

@testable import NativeRuntime

@Suite struct ExecutableTests {
    private func bytes(of path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nex-\(UUID().uuidString)-\(name)").path
    }

    @Test func staticFixtureHasNoInterpreter() throws {
        let elf = try ELFExecutable(parsing: bytes(of: Fixture.path))
        #expect(elf.width == .bits64)
        #expect(elf.isLittleEndian)
        #expect(!elf.isDynamicallyLinked)
        #if arch(x86_64)
        #expect(elf.machine == 62)
        #elseif arch(arm64)
        #expect(elf.machine == 183)
        #endif
    }

    @Test func dynamicBinaryNamesItsLoader() throws {
        // Debian's /bin/sh (dash) is dynamically linked.
        let elf = try ELFExecutable(parsing: bytes(of: "/bin/sh"))
        #expect(elf.isDynamicallyLinked)
        #expect(elf.interpreter?.contains("ld-linux") == true)
    }

    @Test func malformedFilesAreRejected() throws {
        let fixture = try bytes(of: Fixture.path)
        let samples: [[UInt8]] = [
            [],
            Array("#!/bin/sh\necho hi\n".utf8),
            Array(fixture.prefix(40)),
            // A valid header whose program headers start beyond the end of the file.
            Array(fixture.prefix(64)),
        ]
        for sample in samples {
            #expect {
                try ELFExecutable(parsing: sample)
            } throws: { error in
                (error as? NativeRuntimeError)?.code == .invalidExecutable
            }
        }
    }

    @Test func writesAPrivateExecutableThatRuns() async throws {
        let path = temporaryPath("workload")
        defer { unlink(path) }
        try ExecutableFile.write(bytes(of: Fixture.path), to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)

        let process = try NativeProcess.start(
            NativeProcessConfiguration(executable: path, arguments: ["exit", "7"]),
            logger: Logger(label: "nex.native.test")
        )
        #expect(await process.wait() == .exited(7))
    }

    @Test func neverReplacesOrFollowsAnExistingPath() throws {
        let path = temporaryPath("existing")
        let target = temporaryPath("target")
        defer {
            unlink(path)
            unlink(target)
        }
        try ExecutableFile.write([1, 2, 3], to: path)
        #expect {
            try ExecutableFile.write([4, 5, 6], to: path)
        } throws: { error in
            (error as? NativeRuntimeError)?.code == .writeFailed
        }
        #expect(try bytes(of: path) == [1, 2, 3])

        let link = temporaryPath("link")
        defer { unlink(link) }
        #expect(symlink(target, link) == 0)
        #expect {
            try ExecutableFile.write([7], to: link)
        } throws: { error in
            (error as? NativeRuntimeError)?.code == .writeFailed
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}
