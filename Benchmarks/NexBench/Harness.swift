// The benchmark harness: a registry of named benchmarks with `--only <prefix>` selection, the
// reference comparators (nats.c, nats-py) run as subprocesses, and the one-line BENCH report that
// `make bench` prints for every comparison.

import Dispatch
import Foundation

// MARK: - Errors

/// Why a benchmark could not produce a number.
struct BenchError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; a struct rather than an enum so new codes do not break callers.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// `gcc` is not on `PATH`, so the nats.c comparator cannot be built.
        static let compilerMissing = Code("compilerMissing")
        /// nats.c (Debian `libnats-dev`) is not installed.
        static let libraryMissing = Code("libraryMissing")
        /// The comparator source did not compile for another reason.
        static let compileFailed = Code("compileFailed")
        /// A program could not be started (not found, not executable).
        static let launchFailed = Code("launchFailed")
        /// A comparator ran but exited unsuccessfully or was killed by the timeout.
        static let comparatorFailed = Code("comparatorFailed")
        /// A comparator's output had no usable `RESULT` line.
        static let malformedResult = Code("malformedResult")
        /// The command line could not be understood.
        static let invalidArguments = Code("invalidArguments")

        var description: String { name }
    }

    /// The kind of failure.
    var code: Code
    /// A complete sentence saying what went wrong and, where there is one, how to fix it.
    var message: String

    var description: String { message }
}

// MARK: - Report line

/// The unit of a benchmark number, as printed in the `unit=` field.
struct BenchUnit: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The text printed after `unit=`; must not contain spaces.
    let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }
    init(stringLiteral value: String) { self.rawValue = value }

    /// Throughput: messages per second (higher is better).
    static let messagesPerSecond: BenchUnit = "msgs/s"
    /// Latency: microseconds (lower is better). ASCII `us` keeps the line trivially parseable.
    static let microseconds: BenchUnit = "us"

    var description: String { rawValue }
}

/// Formats and prints the single line each comparison produces:
/// `BENCH name=<name> ours=<n> ref=<n> unit=<unit> ref_name=<what> ratio=<ours/ref>`.
enum BenchReport {
    /// The BENCH line for one comparison. `ratio` is `ours / ref` with three decimals, `nan` when
    /// the reference is zero or not finite (there is nothing meaningful to divide by).
    static func line(name: String, ours: Double, ref: Double, unit: BenchUnit, refName: String) -> String {
        let ratio: String
        if ref != 0, ref.isFinite, ours.isFinite {
            ratio = String(format: "%.3f", ours / ref)
        } else {
            ratio = "nan"
        }
        return "BENCH name=\(token(name)) ours=\(format(ours)) ref=\(format(ref)) "
            + "unit=\(token(unit.rawValue)) ref_name=\(token(refName)) ratio=\(ratio)"
    }

    /// Prints ``line(name:ours:ref:unit:refName:)`` to standard output.
    static func print(name: String, ours: Double, ref: Double, unit: BenchUnit, refName: String) {
        Swift.print(line(name: name, ours: ours, ref: ref, unit: unit, refName: refName))
    }

    /// A number with as many decimals as its magnitude deserves: whole numbers from 1000 up
    /// (throughput), one decimal from 100, two from 1, three below (latencies in µs).
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let magnitude = abs(value)
        let decimals: Int
        switch magnitude {
        case 1000...: decimals = 0
        case 100..<1000: decimals = 1
        case 1..<100: decimals = 2
        default: decimals = 3
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// Fields are separated by spaces and split at `=`, so neither may appear inside a value.
    private static func token(_ text: String) -> String {
        let cleaned = String(text.map { $0.isWhitespace || $0 == "=" ? "_" : $0 })
        return cleaned.isEmpty ? "-" : cleaned
    }
}

// MARK: - Comparator output

/// Parses the `RESULT mode=<mode> key=<number> …` line the comparators print.
enum ComparatorResult {
    /// The numeric fields of the last `RESULT` line in `output` whose mode is `mode`.
    ///
    /// Every field other than `mode` must be a number; a comparator that prints anything else is
    /// out of step with this parser, and guessing would publish a wrong comparison.
    static func parse(_ output: String, mode: String) throws -> [String: Double] {
        let lines = output.split(whereSeparator: \.isNewline)
        guard let line = lines.last(where: { $0.hasPrefix("RESULT ") }) else {
            throw BenchError(code: .malformedResult, message: "no RESULT line in comparator output: \(quoted(output))")
        }
        var values: [String: Double] = [:]
        var foundMode: Substring?
        for field in line.split(separator: " ").dropFirst() {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                throw BenchError(code: .malformedResult, message: "RESULT field '\(field)' is not key=value in: \(line)")
            }
            let key = field[..<equals]
            let value = field[field.index(after: equals)...]
            if key == "mode" {
                foundMode = value
                continue
            }
            guard let number = Double(value), number.isFinite else {
                throw BenchError(code: .malformedResult, message: "RESULT field '\(key)' is not a number in: \(line)")
            }
            values[String(key)] = number
        }
        guard foundMode.map({ $0 == mode }) == true else {
            throw BenchError(
                code: .malformedResult,
                message: "expected a RESULT line for mode \(mode), got: \(line)"
            )
        }
        return values
    }

    /// The field `key` of a parsed result; a missing field is an error rather than a NaN that
    /// would print as a comparison.
    static func field(_ key: String, of values: [String: Double]) throws -> Double {
        guard let value = values[key] else {
            throw BenchError(code: .malformedResult, message: "RESULT has no field '\(key)' (fields: \(values.keys.sorted()))")
        }
        return value
    }

    private static func quoted(_ output: String) -> String {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "(empty)" : "'\(trimmed.prefix(300))'"
    }
}

// MARK: - Subprocesses

/// What a finished subprocess left behind. Its standard error is not captured: it goes straight
/// to ours, so a comparator's diagnostics appear where the person running `make bench` looks.
struct ProcessOutput: Sendable {
    /// The exit status, or the signal number when `terminatedBySignal` is set.
    var status: Int32
    /// Whether the process was killed by a signal (including by the harness's timeout).
    var terminatedBySignal: Bool
    /// Whether the harness killed it because it ran past its timeout.
    var timedOut: Bool
    /// Everything it wrote to standard output, decoded as UTF-8.
    var standardOutput: String

    /// Whether it exited normally with status 0.
    var succeeded: Bool { !terminatedBySignal && !timedOut && status == 0 }
}

/// Runs programs to completion without blocking Swift's cooperative thread pool.
enum ProcessRunner {
    /// Runs `executable` with `arguments`, killing it after `timeout`, and returns its output.
    static func run(_ executable: URL, _ arguments: [String], timeout: Duration) async throws -> ProcessOutput {
        // Foundation's Process offers only blocking waits. They get a thread of their own: on the
        // cooperative pool they would starve our client under test, and on Dispatch's global
        // queue (one thread per core) they would starve the watchdog that enforces the timeout.
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, timeout: timeout) })
            }
            thread.name = "nex-bench subprocess"
            thread.start()
        }
    }

    private static func runBlocking(_ executable: URL, _ arguments: [String], timeout: Duration) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchError(code: .launchFailed, message: "could not start \(executable.path): \(error)")
        }

        let watchdog = Watchdog(process)
        let seconds = min(max(timeout.inSeconds, 0), 86_400)
        watchdogQueue.asyncAfter(deadline: .now() + seconds) { watchdog.fire() }

        // Reading to end-of-file before waiting: a child blocked on a full pipe never exits.
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let timedOut = watchdog.disarm()
        return ProcessOutput(
            status: process.terminationStatus,
            terminatedBySignal: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut,
            standardOutput: String(decoding: data, as: UTF8.self)
        )
    }

    /// A private queue (with its own thread) so a timeout fires even when every global-queue
    /// thread is blocked.
    private static let watchdogQueue = DispatchQueue(label: "nex-bench.subprocess-watchdog")

    /// Kills a process that outlives its timeout. Process is not Sendable, but `isRunning` and
    /// `processIdentifier` are safe from any thread, and the lock orders firing against disarming.
    /// (Foundation reaps the child on its own thread, so a pid could in theory be reused between
    /// the `isRunning` check and the kill; the window is a few instructions long.)
    private final class Watchdog: @unchecked Sendable {
        private let process: Process
        private let lock = NSLock()
        private var armed = true
        private var fired = false

        init(_ process: Process) { self.process = process }

        func fire() {
            lock.lock()
            defer { lock.unlock() }
            guard armed, process.isRunning else { return }
            fired = true
            // SIGKILL, not Process.terminate()'s SIGTERM: a comparator past its timeout is hung,
            // and SIGTERM was seen not to end such a child when the harness ran under `swift test`.
            kill(process.processIdentifier, SIGKILL)
        }

        /// Stops the watchdog; returns whether it had already killed the process.
        func disarm() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            armed = false
            return fired
        }
    }

    /// The first executable file called `name` on `PATH`, or `nil`.
    static func find(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> URL? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}

// MARK: - Comparators

/// One run of a reference client, in the modes both comparators implement.
enum ComparatorMode: Sendable, Equatable {
    /// One connection subscribes, another publishes `count` messages of `size` bytes; reports
    /// `msgs_per_sec`, `received` and `dropped`.
    case pubsub(url: String, count: Int, size: Int)
    /// `count` sequential 16-byte requests to an echo responder after a warm-up of 500; reports
    /// `p50_us`, `p99_us` and `count`.
    case request(url: String, count: Int)

    /// The mode name, as the comparators take it on the command line and print it after `mode=`.
    var name: String {
        switch self {
        case .pubsub: "pubsub"
        case .request: "request"
        }
    }

    /// The comparator's command-line arguments.
    var arguments: [String] {
        switch self {
        case .pubsub(let url, let count, let size): [name, url, String(count), String(size)]
        case .request(let url, let count): [name, url, String(count)]
        }
    }
}

/// Locates, builds and runs the reference clients in `Benchmarks/c` and `Benchmarks/python`.
struct Comparators: Sendable {
    /// The package root (the directory holding `Package.swift`).
    let packageRoot: URL
    /// The Python interpreter with nats-py installed.
    let python: String
    /// The C compiler.
    let compiler: String
    /// How long one comparator run may take before it is killed.
    let timeout: Duration

    /// - Parameters:
    ///   - packageRoot: defaults to the checkout this file was compiled from.
    ///   - python: defaults to `$PYTHON`, as in `scripts/bootstrap.sh`, else `python3`.
    init(
        packageRoot: URL = PackageLocation.root,
        python: String = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3",
        compiler: String = "gcc",
        timeout: Duration = .seconds(300)
    ) {
        self.packageRoot = packageRoot
        self.python = python
        self.compiler = compiler
        self.timeout = timeout
    }

    /// `Benchmarks/c/<name>.c`.
    func cSource(_ name: String = "nats_bench") -> URL { packageRoot.appendingPathComponent("Benchmarks/c/\(name).c") }
    /// `.build/bench/<name>`, a compiled nats.c comparator.
    func cBinary(_ name: String = "nats_bench") -> URL { packageRoot.appendingPathComponent(".build/bench/\(name)") }
    /// `Benchmarks/python/<script>`.
    func pythonScript(_ script: String = "nats_bench.py") -> URL {
        packageRoot.appendingPathComponent("Benchmarks/python/\(script)")
    }

    /// Runs the nats.c comparator (building it first if needed) and returns its RESULT fields.
    func natsC(_ mode: ComparatorMode) async throws -> [String: Double] {
        try await runC("nats_bench", mode.arguments, mode: mode.name)
    }

    /// Runs the nats-py comparator and returns its RESULT fields.
    func natsPy(_ mode: ComparatorMode) async throws -> [String: Double] {
        try await runPython("nats_bench.py", mode.arguments, mode: mode.name)
    }

    /// Builds (if needed) and runs the C comparator `Benchmarks/c/<name>.c`; returns its RESULT fields.
    func runC(_ name: String, _ arguments: [String], mode: String) async throws -> [String: Double] {
        let binary = try await buildC(name)
        return try await run(binary, arguments, mode: mode, label: "nats.c comparator \(name)")
    }

    /// Runs the Python comparator `Benchmarks/python/<script>`; returns its RESULT fields.
    func runPython(_ script: String, _ arguments: [String], mode: String) async throws -> [String: Double] {
        guard let interpreter = ProcessRunner.find(python) else {
            throw BenchError(
                code: .launchFailed,
                message: "\(python) not found on PATH: the nats-py comparator needs Python 3 with nats-py (run `make bootstrap`)"
            )
        }
        return try await run(interpreter, [pythonScript(script).path] + arguments, mode: mode, label: "nats-py comparator \(script)")
    }

    /// Compiles the nats.c comparator `name` into `.build/bench/<name>` unless the binary is newer
    /// than its source, and returns the binary.
    @discardableResult
    func buildC(_ name: String = "nats_bench") async throws -> URL {
        let cSource = cSource(name)
        let cBinary = cBinary(name)
        let files = FileManager.default
        guard let sourceDate = modificationDate(cSource) else {
            throw BenchError(code: .compileFailed, message: "comparator source \(cSource.path) not found")
        }
        if let binaryDate = modificationDate(cBinary), binaryDate >= sourceDate, files.isExecutableFile(atPath: cBinary.path) {
            return cBinary
        }
        guard let gcc = ProcessRunner.find(compiler) else {
            throw BenchError(
                code: .compilerMissing,
                message: "\(compiler) not found on PATH: the nats.c comparator is compiled with it (apt-get install gcc)"
            )
        }
        let natsFlags = try await libnatsFlags()
        try files.createDirectory(at: cBinary.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Compile beside the target and rename: an interrupted build must not leave a binary that
        // looks newer than its source.
        let partial = cBinary.appendingPathExtension("partial")
        let arguments = ["-O2", "-o", partial.path, cSource.path] + natsFlags + ["-lpthread"]
        let output = try await ProcessRunner.run(gcc, arguments, timeout: .seconds(120))
        guard output.succeeded else {
            throw BenchError(
                code: .compileFailed,
                message: "\(compiler) failed to compile \(cSource.path) (its messages are above)"
            )
        }
        _ = try? files.removeItem(at: cBinary)
        try files.moveItem(at: partial, to: cBinary)
        return cBinary
    }

    /// Compiler flags for nats.c, asking pkg-config so a non-Debian layout works too; nats.c is
    /// required, so its absence is reported with the package that provides it.
    private func libnatsFlags() async throws -> [String] {
        let missing = BenchError(
            code: .libraryMissing,
            message: "nats.c is not installed (pkg-config has no libnats): apt-get install libnats-dev, or run `make bootstrap`"
        )
        guard let pkgConfig = ProcessRunner.find("pkg-config") else {
            // Without pkg-config, fall back to the Debian layout if the header is where it puts it.
            guard FileManager.default.fileExists(atPath: "/usr/include/nats/nats.h") else { throw missing }
            return ["-lnats"]
        }
        let output = try await ProcessRunner.run(pkgConfig, ["--cflags", "--libs", "libnats"], timeout: .seconds(30))
        guard output.succeeded else { throw missing }
        let flags = output.standardOutput.split(whereSeparator: \.isWhitespace).map(String.init)
        return flags.isEmpty ? ["-lnats"] : flags
    }

    private func run(_ executable: URL, _ arguments: [String], mode: String, label: String) async throws -> [String: Double] {
        let output = try await ProcessRunner.run(executable, arguments, timeout: timeout)
        guard output.succeeded else {
            let how: String
            if output.timedOut {
                how = "was killed after \(timeout)"
            } else if output.terminatedBySignal {
                how = "was killed by signal \(output.status)"
            } else {
                how = "exited with status \(output.status)"
            }
            throw BenchError(code: .comparatorFailed, message: "\(label) (\(mode)) \(how); its messages are above")
        }
        return try ComparatorResult.parse(output.standardOutput, mode: mode)
    }

    private func modificationDate(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }
}

/// Where the package lives, so the benchmark finds its comparator sources from any working
/// directory.
enum PackageLocation {
    /// The checkout this file was compiled from; the working directory when that checkout is gone
    /// (a binary copied elsewhere and run from a checkout).
    static var root: URL {
        let compiled = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // NexBench
            .deletingLastPathComponent() // Benchmarks
            .deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: compiled.appendingPathComponent("Benchmarks/c/nats_bench.c").path) {
            return compiled
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}

// MARK: - Selection and registry

/// Command-line options of `nex-bench`.
struct BenchOptions: Sendable, Equatable {
    /// Run only benchmarks with a name starting with this prefix (`make bench ONLY=<prefix>`).
    var only: String?
    /// List the benchmark names instead of running them.
    var list = false
    /// Print usage instead of running.
    var help = false
    /// Arguments the harness does not know, left for `main.swift` (e.g. a server URL).
    var extra: [String] = []

    /// Parses `--only <prefix>` / `--only=<prefix>`, `--list` and `--help`; anything else is
    /// kept in ``extra``.
    static func parse<Arguments: Collection<String>>(_ arguments: Arguments) throws -> BenchOptions {
        var options = BenchOptions()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--only":
                guard let prefix = iterator.next(), !prefix.isEmpty else {
                    throw BenchError(code: .invalidArguments, message: "--only needs a benchmark name prefix")
                }
                options.only = prefix
            case _ where argument.hasPrefix("--only="):
                let prefix = String(argument.dropFirst("--only=".count))
                guard !prefix.isEmpty else {
                    throw BenchError(code: .invalidArguments, message: "--only needs a benchmark name prefix")
                }
                options.only = prefix
            case "--list":
                options.list = true
            case "--help", "-h":
                options.help = true
            default:
                options.extra.append(argument)
            }
        }
        return options
    }

    /// Whether a comparison called `name` is selected.
    func selects(_ name: String) -> Bool {
        only.map { name.hasPrefix($0) } ?? true
    }
}

/// What a running benchmark gets from the harness.
struct BenchContext: Sendable {
    /// The options the harness was started with.
    let options: BenchOptions

    /// Whether the comparison `name` was selected; a benchmark measuring several comparisons can
    /// skip the work for the unselected ones.
    func isSelected(_ name: String) -> Bool { options.selects(name) }

    /// Prints the BENCH line for `name` if it is selected (`--only nats.request_p99` prints just
    /// that line even though the benchmark measures p50 too).
    func report(name: String, ours: Double, ref: Double, unit: BenchUnit, refName: String) {
        guard isSelected(name) else { return }
        BenchReport.print(name: name, ours: ours, ref: ref, unit: unit, refName: refName)
    }
}

/// A benchmark: the comparisons it reports and the code that measures them.
struct Benchmark: Sendable {
    /// The names of the comparisons it reports (one BENCH line each), e.g. `nats.request` and
    /// `nats.request_p99` from one set of samples.
    let names: [String]
    /// Measures and reports through ``BenchContext/report(name:ours:ref:unit:refName:)``.
    let run: @Sendable (BenchContext) async throws -> Void

    init(names: [String], run: @escaping @Sendable (BenchContext) async throws -> Void) {
        precondition(!names.isEmpty, "a benchmark reports at least one comparison")
        self.names = names
        self.run = run
    }

    init(name: String, run: @escaping @Sendable (BenchContext) async throws -> Void) {
        self.init(names: [name], run: run)
    }
}

/// The benchmarks `nex-bench` knows, run in registration order.
struct BenchmarkRegistry: Sendable {
    /// All benchmarks, in the order they run.
    let benchmarks: [Benchmark]

    init(_ benchmarks: [Benchmark]) {
        let names = benchmarks.flatMap(\.names)
        precondition(Set(names).count == names.count, "benchmark names must be unique: \(names)")
        self.benchmarks = benchmarks
    }

    /// The benchmarks with at least one comparison selected by `options`, in order.
    func selected(by options: BenchOptions) -> [Benchmark] {
        benchmarks.filter { $0.names.contains(where: options.selects) }
    }

    /// Runs the selected benchmarks one after another (they would disturb each other's numbers
    /// if run together) and returns the process exit status: 0 when all succeeded, 1 when any
    /// failed (each failure is printed as one `error:` line on standard error and the rest still
    /// run), 2 when nothing was selected.
    func run(options: BenchOptions) async -> Int32 {
        if options.help {
            print("usage: nex-bench [--only <name prefix>] [--list]")
            print("benchmarks: \(benchmarks.flatMap(\.names).joined(separator: " "))")
            return 0
        }
        if options.list {
            for name in benchmarks.flatMap(\.names) where options.selects(name) { print(name) }
            return 0
        }
        let chosen = selected(by: options)
        guard !chosen.isEmpty else {
            printError("no benchmark name starts with '\(options.only ?? "")'; known: \(benchmarks.flatMap(\.names).joined(separator: " "))")
            return 2
        }
        let context = BenchContext(options: options)
        var failed = false
        for benchmark in chosen {
            do {
                try await benchmark.run(context)
            } catch {
                failed = true
                printError("\(benchmark.names.joined(separator: ",")): \(error)")
            }
        }
        return failed ? 1 : 0
    }

    /// Parses `arguments` (without the program name) and runs; the exit status for `main.swift`.
    func main<Arguments: Collection<String>>(arguments: Arguments) async -> Int32 {
        do {
            return await run(options: try BenchOptions.parse(arguments))
        } catch {
            printError("\(error)")
            return 2
        }
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
