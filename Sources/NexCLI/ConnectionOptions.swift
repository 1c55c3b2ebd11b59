import ArgumentParser
import Foundation
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

/// The global NATS options (spec §8.1), as the nats CLI has them.
///
/// Every setting is taken from, in order: its flag, its environment variable, the selected nats CLI
/// context (`--context`, `$NATS_CONTEXT`, or the one `nats context select` chose), then the default.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(name: [.short, .long], help: "NATS server URL(s), comma-separated ($NATS_URL; default nats://127.0.0.1:4222).")
    public var server: String?

    @Option(help: "User name; without --password it is sent as a token ($NATS_USER).")
    public var user: String?

    @Option(help: "Password ($NATS_PASSWORD).")
    public var password: String?

    @Option(help: "User credentials file (JWT and seed) ($NATS_CREDS).")
    public var creds: String?

    @Option(help: "File with a user nkey seed ($NATS_NKEY).")
    public var nkey: String?

    @Option(help: "TLS client certificate file ($NATS_CERT).")
    public var tlscert: String?

    @Option(help: "TLS client private key file ($NATS_KEY).")
    public var tlskey: String?

    @Option(help: "TLS CA certificate file to verify the server with ($NATS_CA).")
    public var tlsca: String?

    @Option(help: "Request timeout, e.g. 2s or 500ms ($NATS_TIMEOUT; default 2s).")
    public var timeout: RequestTimeout?

    @Option(help: "nats CLI context to connect with ($NATS_CONTEXT; default the selected context).")
    public var context: String?

    @Option(help: "Namespace of workloads ($NEX_NAMESPACE; default default).")
    public var namespace: String?

    public init() {}

    /// The URL `nex` connects to: the flag, `$NATS_URL`, the context's `url`, else `nil` (the caller picks
    /// the default). Reads the context files of `environment`'s `HOME`/`XDG_CONFIG_HOME`.
    public func explicitServer(environment: [String: String]) -> String? {
        (try? resolve(environment: environment, readFile: readWholeFile))?.url
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

    /// The connection settings after applying flags, environment and context (pure apart from `readFile`).
    public func resolve(environment: [String: String], readFile: (String) -> [UInt8]?) throws(CLIError) -> ResolvedConnection {
        var context = NATSContext()
        if let name = NATSContext.selectedName(explicit: self.context, environment: environment, readFile: readFile) {
            do {
                context = try NATSContext.load(name: name, environment: environment, readFile: readFile)
            } catch where self.context == nil && environment["NATS_CONTEXT"] == nil {
                // A stale selection in context.txt must not break nex; a context asked for by name must exist.
                context = NATSContext()
            }
        }
        func pick(_ flag: String?, _ variable: String, _ fromContext: String?) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            return fromContext
        }
        var resolved = ResolvedConnection()
        resolved.url = pick(server, "NATS_URL", context.url)
        let user = pick(self.user, "NATS_USER", context.user)
        let password = pick(self.password, "NATS_PASSWORD", context.password)
        if let creds = pick(self.creds, "NATS_CREDS", context.creds) {
            resolved.credentials = .credentialsFile(creds)
        } else if let nkey = pick(self.nkey, "NATS_NKEY", context.nkey) {
            resolved.credentials = .nkeyFile(nkey)
        } else if let user, let password {
            resolved.credentials = .userPassword(user: user, password: password)
        } else if let user {
            // 0.x (and nats.go through the CLI) sends a user without a password as a token.
            resolved.credentials = .token(user)
        } else if let token = context.token {
            resolved.credentials = .token(token)
        }
        resolved.tlsCertificate = pick(tlscert, "NATS_CERT", context.cert)
        resolved.tlsKey = pick(tlskey, "NATS_KEY", context.key)
        resolved.tlsCA = pick(tlsca, "NATS_CA", context.ca)
        if (resolved.tlsCertificate == nil) != (resolved.tlsKey == nil) {
            throw CLIError("a TLS client certificate needs both --tlscert and --tlskey")
        }
        resolved.inboxPrefix = context.inboxPrefix
        resolved.jetStreamDomain = context.jetStreamDomain
        return resolved
    }

    /// The client configuration for `url` with the resolved credentials and TLS, named after this program.
    func clientConfiguration(url: String) throws -> NATSClient.Configuration {
        let resolved = try resolve(environment: processEnvironment(), readFile: readWholeFile)
        var configuration: NATSClient.Configuration
        do {
            configuration = try NATSClient.Configuration(url: url)
        } catch {
            throw CLIError("invalid server URL \"\(url)\": \(error)")
        }
        configuration.name = "nex-\(Nex.version)"
        switch resolved.credentials {
        case nil:
            break
        case .token(let token):
            configuration.authentication = .token(token)
        case .userPassword(let user, let password):
            configuration.authentication = .userPassword(user: user, password: password)
        case .credentialsFile(let path):
            guard readWholeFile(path) != nil else { throw CLIError("cannot read the credentials file \(path)") }
            configuration.authentication = .credentialsFile(path)
        case .nkeyFile(let path):
            guard let bytes = readWholeFile(path) else { throw CLIError("cannot read the nkey file \(path)") }
            // The file may hold comments or a decorated block; the seed is the first line that looks like one.
            let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard let seed = lines.first(where: { $0.hasPrefix("SU") }) else {
                throw CLIError("\(path) holds no user nkey seed (SU…)")
            }
            configuration.authentication = .nkey(seed: seed)
        }
        if resolved.tlsCA != nil || resolved.tlsCertificate != nil {
            for path in [resolved.tlsCA, resolved.tlsCertificate, resolved.tlsKey].compactMap({ $0 }) where readWholeFile(path) == nil {
                throw CLIError("cannot read the TLS file \(path)")
            }
            configuration.tls = NATSClient.TLS(trustRootsFile: resolved.tlsCA, certificateFile: resolved.tlsCertificate,
                                               privateKeyFile: resolved.tlsKey)
        }
        if let prefix = resolved.inboxPrefix { configuration.inboxPrefix = prefix }
        return configuration
    }

    /// 0.x's default server.
    public static let defaultServer = "nats://127.0.0.1:4222"
}

/// Connection settings after flags, environment and context are applied; file paths are not read yet.
public struct ResolvedConnection: Sendable, Hashable {
    /// How the client proves who it is.
    public enum Credentials: Sendable, Hashable {
        case token(String)
        case userPassword(user: String, password: String)
        case credentialsFile(String)
        case nkeyFile(String)
    }

    public var url: String?
    public var credentials: Credentials?
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var tlsCA: String?
    public var inboxPrefix: String?
    public var jetStreamDomain: String?

    public init() {}
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

/// The whole file at `path`, or `nil` when it cannot be read.
func readWholeFile(_ path: String) -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return Array(data)
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
