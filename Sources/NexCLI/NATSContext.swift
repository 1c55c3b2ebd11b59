import Foundation

/// A nats CLI context (`~/.config/nats/context/<name>.json`): saved connection settings shared by the
/// `nats` tool and `nex`. Only the members `nex` uses are read; unknown members are ignored so files
/// written by newer nats CLIs still load.
public struct NATSContext: Sendable, Hashable, Decodable {
    public var description: String?
    public var url: String?
    public var token: String?
    public var user: String?
    public var password: String?
    /// A `.creds` file path.
    public var creds: String?
    /// A file holding a user nkey seed.
    public var nkey: String?
    /// Client certificate, key and CA (PEM file paths).
    public var cert: String?
    public var key: String?
    public var ca: String?
    /// Prefix of request inboxes (accounts that only allow certain reply subjects).
    public var inboxPrefix: String?
    /// JetStream domain for the artifact object store.
    public var jetStreamDomain: String?

    public init(url: String? = nil, token: String? = nil, user: String? = nil, password: String? = nil, creds: String? = nil,
                nkey: String? = nil, cert: String? = nil, key: String? = nil, ca: String? = nil, inboxPrefix: String? = nil,
                jetStreamDomain: String? = nil, description: String? = nil) {
        self.url = url
        self.token = token
        self.user = user
        self.password = password
        self.creds = creds
        self.nkey = nkey
        self.cert = cert
        self.key = key
        self.ca = ca
        self.inboxPrefix = inboxPrefix
        self.jetStreamDomain = jetStreamDomain
        self.description = description
    }

    private enum CodingKeys: String, CodingKey {
        case description, url, token, user, password, creds, nkey, cert, key, ca
        case inboxPrefix = "inbox_prefix", jetStreamDomain = "jetstream_domain"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // The nats CLI writes every member, empty strings included; empty means "not set".
        func text(_ key: CodingKeys) throws -> String? {
            guard let value = try c.decodeIfPresent(String.self, forKey: key), !value.isEmpty else { return nil }
            return value
        }
        description = try text(.description)
        url = try text(.url)
        token = try text(.token)
        user = try text(.user)
        password = try text(.password)
        creds = try text(.creds)
        nkey = try text(.nkey)
        cert = try text(.cert)
        key = try text(.key)
        ca = try text(.ca)
        inboxPrefix = try text(.inboxPrefix)
        jetStreamDomain = try text(.jetStreamDomain)
    }

    /// Parses a context file's JSON.
    public static func parse(_ bytes: some Collection<UInt8>, name: String) throws(CLIError) -> NATSContext {
        do {
            return try JSONDecoder().decode(NATSContext.self, from: Data(bytes))
        } catch {
            throw CLIError("NATS context \"\(name)\" is not valid JSON: \(error)")
        }
    }

    /// The nats CLI's configuration directory: `$XDG_CONFIG_HOME/nats`, else `~/.config/nats`.
    public static func configDirectory(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/nats" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/nats"
    }

    /// The context name to use: `explicit` (the `--context` flag or `$NATS_CONTEXT`), else the one selected
    /// with `nats context select` (`context.txt`), else none.
    public static func selectedName(explicit: String?, environment: [String: String],
                                    readFile: (String) -> [UInt8]?) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["NATS_CONTEXT"], !fromEnvironment.isEmpty { return fromEnvironment }
        guard let directory = configDirectory(environment: environment),
              let bytes = readFile(directory + "/context.txt") else { return nil }
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// Loads the context `name`. A name with a `/` is a path to a context file; otherwise the file is
    /// `<config>/context/<name>.json`. An explicitly named context that is missing is an error.
    public static func load(name: String, environment: [String: String],
                            readFile: (String) -> [UInt8]?) throws(CLIError) -> NATSContext {
        let path: String
        if name.contains("/") {
            path = name
        } else {
            guard let directory = configDirectory(environment: environment) else {
                throw CLIError("cannot find NATS context \"\(name)\": neither $XDG_CONFIG_HOME nor $HOME is set")
            }
            path = directory + "/context/\(name).json"
        }
        guard let bytes = readFile(path) else { throw CLIError("unknown NATS context \"\(name)\": cannot read \(path)") }
        return try parse(bytes, name: name)
    }
}
