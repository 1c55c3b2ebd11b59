import Foundation

// `make bench [ONLY=<prefix>]`: every comparison prints one BENCH line (see docs/benchmarks.md).
let comparators = Comparators()
let registry = BenchmarkRegistry(NATSBenchmarks.all(comparators: comparators))
exit(await registry.main(arguments: CommandLine.arguments.dropFirst()))
