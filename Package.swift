// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-nex",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "NATS", targets: ["NATS"]),
        .library(name: "JetStream", targets: ["JetStream"]),
        .library(name: "NKeys", targets: ["NKeys"]),
        .library(name: "NexAPI", targets: ["NexAPI"]),
        .library(name: "NexClient", targets: ["NexClient"]),
        .library(name: "NexNode", targets: ["NexNode"]),
        .library(name: "NativeRuntime", targets: ["NativeRuntime"]),
        .library(name: "NATSProtocol", targets: ["NATSProtocol"]),
        .library(name: "NATSTestSupport", targets: ["NATSTestSupport"]),
        .executable(name: "nex", targets: ["nex"]),
        .executable(name: "nex-agent", targets: ["nex-agent"]),
        .executable(name: "nex-demo", targets: ["nex-demo"]),
        .executable(name: "nex-bench", targets: ["NexBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Pure layer: bytes in, values out. No sockets, no clocks.
        .target(
            name: "NATSProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "NKeys",
            dependencies: [
                "CSodium",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Nex wire contract: control messages, envelopes, events, log records, subjects.
        .target(
            name: "NexAPI",
            dependencies: ["NKeys"]
        ),
        // Typed client of the Nex control interface (used by the CLI and the tests).
        .target(
            name: "NexClient",
            dependencies: [
                "NexAPI",
                "NATS",
                "NKeys",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The node daemon: control interface, identity, events (agents and workloads come next).
        .target(
            name: "NexNode",
            dependencies: [
                "NexAPI",
                "NATS",
                "JetStream",
                "NKeys",
                "NativeRuntime",
                "NexSandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The `nex` command tree (testable), and its thin executable.
        .target(
            name: "NexCLI",
            dependencies: [
                "NexNode",
                "NexClient",
                "NexAPI",
                "NATS",
                "JetStream",
                "NKeys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "nex",
            dependencies: [
                "NexCLI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // JavaScriptCore's C API (Debian libjavascriptcoregtk-4.1-dev), for JS and Wasm functions.
        .systemLibrary(
            name: "CJavaScriptCore",
            pkgConfig: "javascriptcoregtk-4.1",
            providers: [.apt(["libjavascriptcoregtk-4.1-dev"])]
        ),
        // What functions may call (KV, object store, messaging, HTTP), scoped to the workload's namespace,
        // and the contract every function engine implements.
        .target(
            name: "NexHostServices",
            dependencies: [
                "NexAPI",
                "NATS",
                "JetStream",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `v8` workload type: JavaScript functions on JavaScriptCore.
        .target(
            name: "JavaScriptRuntime",
            dependencies: [
                "CJavaScriptCore",
                "NexHostServices",
                "NexAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `wasm` workload type: WASI preview1 command modules on JavaScriptCore's WebAssembly.
        .target(
            name: "WasmRuntime",
            dependencies: [
                "CJavaScriptCore",
                "NexHostServices",
                "NexAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Isolation backends for agents (bubblewrap namespaces, cgroups, seccomp, network limits).
        .target(
            name: "NexSandbox",
            dependencies: [
                "NexAPI",
                "NativeRuntime",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent: runs workloads for a node, speaking the agent protocol of NexAPI on the internal NATS.
        .target(
            name: "NexAgent",
            dependencies: [
                "NexAPI",
                "NATS",
                "NKeys",
                "NativeRuntime",
                "NexHostServices",
                "JavaScriptRuntime",
                "WasmRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "nex-agent",
            dependencies: [
                "NexAgent",
                "NexAPI",
                "NATS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Runs native workload processes: process groups, environment, output lines, graceful stop.
        .target(
            name: "NativeRuntime",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The NATS client on SwiftNIO.
        .target(
            name: "NATS",
            dependencies: [
                "NATSProtocol",
                "NKeys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // JetStream, Key-Value and Object Store over the NATS client. Never imports anything Nex.
        .target(
            name: "JetStream",
            dependencies: [
                "NATS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Starts real nats-server processes for tests and benchmarks.
        .target(
            name: "NATSTestSupport",
            dependencies: ["NKeys"]
        ),
        // Real nodes, agents and workloads for the Nex end-to-end tests.
        .target(
            name: "NexTestSupport",
            dependencies: [
                "NexNode",
                "NexClient",
                "NexAPI",
                "NKeys",
                "JetStream",
                "NativeRuntime",
                "NATSTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "nex-demo",
            dependencies: [
                "NATS",
                "NATSTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "NexBench",
            dependencies: [
                "NATS",
                "JetStream",
                "NATSTestSupport",
                "NexNode",
                "NexClient",
                "NexTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/NexBench"
        ),
        .testTarget(
            name: "NATSProtocolTests",
            dependencies: [
                "NATSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "JetStreamTests",
            dependencies: [
                "JetStream",
                "NATSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NexAPITests",
            dependencies: ["NexAPI"]
        ),
        .testTarget(
            name: "NexClientTests",
            dependencies: ["NexClient", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NexNodeTests",
            dependencies: ["NexTestSupport", "NativeRuntime", 
                "NexNode",
                "NexClient",
                "NexHostServices",
                "JetStream",
                "NATSTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "NexHostServicesTests",
            dependencies: ["NexHostServices", "NATSTestSupport"]
        ),
        .testTarget(
            name: "JavaScriptRuntimeTests",
            dependencies: ["JavaScriptRuntime", "NexHostServices", "NATSTestSupport"]
        ),
        .testTarget(
            name: "WasmRuntimeTests",
            dependencies: ["NativeRuntime", "WasmRuntime", "NexHostServices", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NexSandboxTests",
            dependencies: ["NexHostServices", "JetStream", "NexTestSupport", "NativeRuntime", "NexSandbox", "NexNode", "NexClient", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NexAgentTests",
            dependencies: ["NativeRuntime", "NexAgent", "NexClient", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NexCLITests",
            dependencies: ["NexTestSupport", "NativeRuntime", "NexCLI", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NativeRuntimeTests",
            dependencies: ["NativeRuntime"]
        ),
        .testTarget(
            name: "NKeysTests",
            dependencies: ["NKeys", "NATSTestSupport"]
        ),
        .testTarget(
            name: "NATSTestSupportTests",
            dependencies: ["NATSTestSupport"]
        ),
        .testTarget(
            name: "NATSTests",
            dependencies: [
                "NATS",
                "NATSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
