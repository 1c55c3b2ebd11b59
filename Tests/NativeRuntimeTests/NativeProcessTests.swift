import Foundation
import Logging
import Synchronization
import Testing

@testable import NativeRuntime

/// Collects every output line, then the exit status.
private func runToEnd(_ process: NativeProcess) async -> (lines: [OutputLine], status: NativeRuntime.ExitStatus) {
    var lines: [OutputLine] = []
    for await line in process.output { lines.append(line) }
    return (lines, await process.wait())
}

/// Polls until `condition` holds or about ten seconds passed; for facts that become true shortly
/// after a signal (a SIGKILLed process disappears asynchronously). Never used to measure time.
private func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Reads lines until one satisfies `predicate`; returns it.
private func readUntil(
    _ iterator: inout OutputLines.AsyncIterator, _ predicate: (OutputLine) -> Bool
) async -> OutputLine? {
    while let line = await iterator.next() {
        if predicate(line) { return line }
    }
    return nil
}

@Suite struct NativeProcessTests {
    let logger = Logger(label: "nex.native.test")

    @Test func argvEnvironmentAndWorkingDirectoryArriveExactly() async throws {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        var configuration = Fixture.configuration(
            ["args", "two words", "", "ünï"],
            environment: ["GREETING": "hello world", "EMPTY": "", "WITH_EQUALS": "a=b"]
        )
        configuration.workingDirectory = directory
        // The test process has PATH and HOME and open descriptors; none of it may leak.
        #expect(ProcessInfo.processInfo.environment["PATH"] != nil)
        let process = try NativeProcess.start(configuration, logger: logger)
        let (lines, status) = await runToEnd(process)
        #expect(status == .exited(0))
        #expect(lines.allSatisfy { $0.stream == .stdout })
        #expect(lines.map(\.line) == [
            "arg \(Fixture.path)", "arg args", "arg two words", "arg ", "arg ünï",
            "env EMPTY=", "env GREETING=hello world", "env WITH_EQUALS=a=b",
            "cwd \(directory)",
        ])
    }

    @Test func emptyEnvironmentMeansNoEnvironment() async throws {
        let process = try NativeProcess.start(Fixture.configuration(["args"]), logger: logger)
        let (lines, _) = await runToEnd(process)
        #expect(!lines.contains { $0.line.hasPrefix("env ") })
        #expect(!lines.contains { $0.line.hasPrefix("fd ") })
    }

    @Test func stdoutAndStderrLinesInOrderWithLongAndUnterminatedLines() async throws {
        let maxLineLength = 16 * 1024
        let process = try NativeProcess.start(
            Fixture.configuration(["output"], output: .init(maxLineLength: maxLineLength)), logger: logger
        )
        let (lines, status) = await runToEnd(process)
        #expect(status == .exited(0))
        #expect(lines.allSatisfy { $0.droppedBefore == 0 })
        #expect(process.droppedOutputLines == 0)

        let errors = lines.filter { $0.stream == .stderr }.map(\.line)
        #expect(errors == ["err one", "err two"])

        let outputs = lines.filter { $0.stream == .stdout }.map(\.line)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        let big = String(decoding: (0..<(1024 * 1024)).map { alphabet[$0 % 26] }, as: UTF8.self)
        // The 1 MiB line arrives as 64 pieces of exactly the maximum, in order.
        let pieceCount = big.utf8.count / maxLineLength
        #expect(outputs.count == 2 + pieceCount + 1)
        guard outputs.count == 2 + pieceCount + 1 else { return }
        #expect(Array(outputs[0..<2]) == ["out one", "out two"])
        let pieces = outputs[2..<(2 + pieceCount)]
        #expect(pieces.allSatisfy { $0.utf8.count == maxLineLength })
        #expect(pieces.joined() == big)
        #expect(outputs.last == "tail without newline")
    }

    @Test(arguments: [0, 3, 255])
    func exitCodes(code: Int32) async throws {
        let process = try NativeProcess.start(Fixture.configuration(["exit", "\(code)"]), logger: logger)
        #expect(process.pid > 0)
        let status = await process.wait()
        #expect(status == .exited(code))
        #expect(status.isSuccess == (code == 0))
        // wait() is repeatable.
        #expect(await process.wait() == status)
    }

    @Test(arguments: [SIGKILL, SIGSEGV, SIGTERM])
    func deathBySignal(signal: Int32) async throws {
        let process = try NativeProcess.start(Fixture.configuration(["signal", "\(signal)"]), logger: logger)
        let status = await process.wait()
        #expect(status == .signaled(signal))
        #expect(status.reportedCode == 128 + signal)
    }

    @Test func startFailuresAreErrors() throws {
        let missing = Fixture.configuration([])
        var configuration = missing
        configuration.executable = "/nonexistent/nex-fixture"
        #expect {
            try NativeProcess.start(configuration, logger: logger)
        } throws: { error in
            (error as? NativeRuntimeError)?.code == .spawnFailed
        }

        configuration = Fixture.configuration([], environment: ["A=B": "c"])
        #expect {
            try NativeProcess.start(configuration, logger: logger)
        } throws: { error in
            (error as? NativeRuntimeError)?.code == .invalidConfiguration
        }

        configuration = Fixture.configuration(["nul\u{0}byte"])
        #expect {
            try NativeProcess.start(configuration, logger: logger)
        } throws: { error in
            (error as? NativeRuntimeError)?.code == .invalidConfiguration
        }
    }

    @Test func stopTerminatesWithSIGTERM() async throws {
        let process = try NativeProcess.start(Fixture.configuration(["sleep"], grace: .seconds(30)), logger: logger)
        var lines = process.output.makeAsyncIterator()
        #expect(await readUntil(&lines) { $0.line == "ready" } != nil)
        #expect(await process.stop() == .signaled(SIGTERM))
        #expect(await process.stop() == .signaled(SIGTERM))
        #expect(await process.wait() == .signaled(SIGTERM))
        #expect(!isAlive(process.pid))
    }

    @Test func stopKillsAProcessThatIgnoresSIGTERMAfterTheGracePeriod() async throws {
        let process = try NativeProcess.start(
            Fixture.configuration(["ignoreterm"], grace: .milliseconds(300)), logger: logger
        )
        var lines = process.output.makeAsyncIterator()
        #expect(await readUntil(&lines) { $0.line == "ready" } != nil)
        #expect(await process.stop() == .signaled(SIGKILL))
        #expect(!isAlive(process.pid))
    }

    @Test func stopLeavesNoGrandchildAlive() async throws {
        let process = try NativeProcess.start(
            Fixture.configuration(["grandchild"], grace: .milliseconds(300)), logger: logger
        )
        var lines = process.output.makeAsyncIterator()
        let report = await readUntil(&lines) { $0.line.hasPrefix("grandchild ") }
        let grandchild = try #require(report.flatMap { Int32($0.line.dropFirst("grandchild ".count)) })
        #expect(isAlive(grandchild))
        // The leader dies of SIGTERM; the grandchild ignores it and is killed at the deadline.
        #expect(await process.stop() == .signaled(SIGTERM))
        #expect(await eventually { !isAlive(grandchild) })
        #expect(await eventually { !SystemSupport.processGroupHasLiveMembers(process.pid) })
    }

    @Test func aLeaderThatExitsTakesItsGroupWithIt() async throws {
        let process = try NativeProcess.start(Fixture.configuration(["grandchild-exit"]), logger: logger)
        var lines = process.output.makeAsyncIterator()
        let report = await readUntil(&lines) { $0.line.hasPrefix("grandchild ") }
        let grandchild = try #require(report.flatMap { Int32($0.line.dropFirst("grandchild ".count)) })
        #expect(await process.wait() == .exited(0))
        #expect(await eventually { !isAlive(grandchild) })
    }

    @Test func aFloodingProcessIsBoundedAndEveryLineIsAccountedFor() async throws {
        let total = 200_000
        let buffered = 100
        let process = try NativeProcess.start(
            Fixture.configuration(["flood", "\(total)"], output: .init(bufferedLines: buffered)), logger: logger
        )
        // Nobody reads while it floods: the process must still finish (never blocked on a full
        // pipe), and only `buffered` lines may be held.
        #expect(await process.wait() == .exited(0))
        var received: [OutputLine] = []
        for await line in process.output { received.append(line) }
        #expect(received.count == buffered)
        #expect(received.map(\.line) == (0..<buffered).map { "flood line \($0)" })
        #expect(process.droppedOutputLines == total - buffered)
    }

    @Test func theScopedFormStopsTheProcessWhenTheBodyEnds() async throws {
        struct Expected: Error {}
        let pid = try await NativeProcess.withProcess(Fixture.configuration(["sleep"]), logger: logger) { process in
            var lines = process.output.makeAsyncIterator()
            #expect(await readUntil(&lines) { $0.line == "ready" } != nil)
            return process.pid
        }
        #expect(!isAlive(pid))

        let thrownPID = Mutex<Int32>(0)
        await #expect(throws: Expected.self) {
            try await NativeProcess.withProcess(Fixture.configuration(["sleep"]), logger: logger) { process in
                thrownPID.withLock { $0 = process.pid }
                throw Expected()
            }
        }
        let pidAfterThrow = thrownPID.withLock { $0 }
        #expect(pidAfterThrow > 0)
        #expect(!isAlive(pidAfterThrow))
    }

    @Test func memoryStaysBoundedWhileNobodyReads() async throws {
        // 200 MB of output with nobody reading: without the bound it would all be held in memory
        // (checked: with a buffer large enough to hold everything, the growth is about 215 MB).
        let lines = 200_000
        let before = try #require(residentKilobytes())
        let process = try NativeProcess.start(
            Fixture.configuration(["floodwide", "\(lines)"], output: .init(bufferedLines: 100)), logger: logger
        )
        #expect(await process.wait() == .exited(0))
        let after = try #require(residentKilobytes())
        // Whole-process RSS also moves with the other suites running in parallel (seen: +73 MB with the full
        // suite); 128 MB still fails clearly for the unbounded 200 MB, and the exact line accounting below
        // is the precise check of the bound.
        #expect(after - before < 128 * 1024)
        #expect(process.droppedOutputLines == lines - 100)
    }

    @Test func droppedLinesAreReportedOnTheNextDeliveredLine() async {
        let (stream, continuation) = AsyncStream.makeStream(of: OutputLine.self, bufferingPolicy: .bufferingOldest(2))
        var sink = OutputSink(continuation: continuation)
        var iterator = OutputLines(stream: stream).makeAsyncIterator()
        let accepted = [
            sink.deliver(OutputLine(stream: .stdout, line: "1")),
            sink.deliver(OutputLine(stream: .stderr, line: "2")),
            sink.deliver(OutputLine(stream: .stdout, line: "3")),
            sink.deliver(OutputLine(stream: .stdout, line: "4")),
        ]
        #expect(accepted == [true, true, false, false])
        #expect(sink.pendingDrops == 2)
        #expect(await iterator.next() == OutputLine(stream: .stdout, line: "1"))
        let fifth = sink.deliver(OutputLine(stream: .stdout, line: "5"))
        #expect(fifth)
        #expect(sink.pendingDrops == 0)
        sink.finish()
        #expect(await iterator.next() == OutputLine(stream: .stderr, line: "2"))
        #expect(await iterator.next() == OutputLine(stream: .stdout, line: "5", droppedBefore: 2))
        #expect(await iterator.next() == nil)
    }
}
