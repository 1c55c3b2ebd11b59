import ArgumentParser
import NATS
import NexAPI
import NexClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The global NATS options of spec §8.1 that this version supports.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(name: [.short, .long], help: "NATS server URL (default: $NATS_URL, else nats://127.0.0.1:4222).")
    public var server: String?

    @Option(help: "Request timeout, e.g. 2s or 500ms (default: $NATS_TIMEOUT, else 2s).")
    public var timeout: RequestTimeout?

    @Option(help: "Namespace of workloads (default: $NEX_NAMESPACE, else default).")
    public var namespace: String?

    public init() {}

    /// The URL `nex` connects to: the flag, then `$NATS_URL`, else `nil` (the caller picks the default).
    public func explicitServer(environment: [String: String]) -> String? {
        if let server, !server.isEmpty { return server }
        if let url = environment["NATS_URL"], !url.isEmpty { return url }
        return nil
    }

    /// The URL for client commands: explicit or the 0.x default.
    public func serverURL(environment: [String: String]) -> String {
        explicitServer(environment: environment) ?? ConnectionOptions.defaultServer
    }

    /// The request timeout: the flag, then `$NATS_TIMEOUT`, else 2 s (0.x default).
    public func requestTimeout(environment: [String: String]) throws -> Duration {
        if let timeout { return timeout.duration }
        if let text = environment["NATS_TIMEOUT"], !text.isEmpty {
            guard let parsed = RequestTimeout(argument: text) else { throw CLIError("NATS_TIMEOUT \"\(text)\" is not a duration like 2s or 500ms") }
            return parsed.duration
        }
        return .seconds(2)
    }

    /// The namespace: the flag, then `$NEX_NAMESPACE`, else `default`.
    public func resolvedNamespace(environment: [String: String]) throws -> Namespace {
        let text = namespace ?? environment["NEX_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        do {
            return try Namespace(text)
        } catch {
            throw CLIError("invalid namespace \"\(text)\": \(error.message)")
        }
    }

    /// The client configuration for `url`, named after this program.
    func clientConfiguration(url: String) throws -> NATSClient.Configuration {
        var configuration: NATSClient.Configuration
        do {
            configuration = try NATSClient.Configuration(url: url)
        } catch {
            throw CLIError("invalid server URL \"\(url)\": \(error)")
        }
        configuration.name = "nex-\(Nex.version)"
        return configuration
    }

    /// 0.x's default server.
    public static let defaultServer = "nats://127.0.0.1:4222"
}

/// A duration given as `2s`, `500ms`, `1m` or a plain number of seconds (`1.5`).
public struct RequestTimeout: ExpressibleByArgument, Sendable, Hashable {
    public var duration: Duration

    public init(duration: Duration) {
        self.duration = duration
    }

    public init?(argument: String) {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(argument)
        var scale = 1.0
        for unit in units where argument.hasSuffix(unit.suffix) {
            number = argument.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let milliseconds = (value * scale * 1000).rounded()
        guard milliseconds >= 1, milliseconds < Double(Int64.max / 2) else { return nil }
        duration = .milliseconds(Int64(milliseconds))
    }
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}
