// Harness exercise until the Swift client exists: the lead replaces this file with the real
// benchmarks (our client against a NATSTestSupport server). Until then it compares the two
// reference clients with each other on a server given with `--url`, which runs every part of the
// harness: building the nats.c comparator, both subprocesses, parsing, selection and the BENCH line.

import Foundation

let comparators = Comparators()

/// The `--url <url>` the harness left in `extra`, or nil.
func serverURL(_ options: BenchOptions) -> String? {
    guard let index = options.extra.firstIndex(of: "--url"), options.extra.index(after: index) < options.extra.endIndex
    else { return nil }
    return options.extra[options.extra.index(after: index)]
}

func requireURL(_ context: BenchContext) throws -> String {
    guard let url = serverURL(context.options) else {
        throw BenchError(code: .invalidArguments, message: "pass --url nats://127.0.0.1:<port> of a running nats-server")
    }
    return url
}

let registry = BenchmarkRegistry([
    Benchmark(name: "ref.pubsub_py_vs_c") { context in
        let mode = ComparatorMode.pubsub(url: try requireURL(context), count: 1_000_000, size: 16)
        let python = try await comparators.natsPy(mode)
        let c = try await comparators.natsC(mode)
        context.report(
            name: "ref.pubsub_py_vs_c",
            ours: try ComparatorResult.field("msgs_per_sec", of: python),
            ref: try ComparatorResult.field("msgs_per_sec", of: c),
            unit: .messagesPerSecond, refName: "nats.c"
        )
    },
    Benchmark(names: ["ref.request_py_vs_c", "ref.request_p99_py_vs_c"]) { context in
        let mode = ComparatorMode.request(url: try requireURL(context), count: 10_000)
        let python = try await comparators.natsPy(mode)
        let c = try await comparators.natsC(mode)
        context.report(
            name: "ref.request_py_vs_c",
            ours: try ComparatorResult.field("p50_us", of: python),
            ref: try ComparatorResult.field("p50_us", of: c),
            unit: .microseconds, refName: "nats.c"
        )
        context.report(
            name: "ref.request_p99_py_vs_c",
            ours: try ComparatorResult.field("p99_us", of: python),
            ref: try ComparatorResult.field("p99_us", of: c),
            unit: .microseconds, refName: "nats.c"
        )
    },
])

exit(await registry.main(arguments: CommandLine.arguments.dropFirst()))
