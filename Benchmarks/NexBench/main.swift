import Foundation
import Logging

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}

// `make bench [ONLY=<prefix>]`: every comparison prints one BENCH line (see docs/benchmarks.md).
let comparators = Comparators()
let registry = BenchmarkRegistry(NATSBenchmarks.all(comparators: comparators) + JetStreamBenchmarks.all(comparators: comparators)
    + NodeBenchmarks.all() + FunctionBenchmarks.all() + SandboxBenchmarks.all())
exit(await registry.main(arguments: CommandLine.arguments.dropFirst()))
