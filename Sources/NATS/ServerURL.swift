/// One server address as NATS URLs write it: `nats://user:pass@host:4222`, `tls://host`,
/// `nats://token@host`, or a bare `host:port`.
public struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case nats, tls
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    /// A token given as the user part of the URL with no password (`nats://token@host`).
    public var token: String? { password == nil ? user : nil }

    public init(scheme: Scheme = .nats, host: String, port: Int = 4222, user: String? = nil, password: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.user = user
        self.password = password
    }

    /// Parses one URL. Throws `invalidURL` with the reason.
    public init(parsing text: String) throws(NATSError) {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { throw NATSError(.invalidURL, "empty server URL") }
        var scheme = Scheme.nats
        if let range = rest.firstRange(of: "://") {
            let name = rest[..<range.lowerBound].lowercased()
            switch name {
            case "nats": scheme = .nats
            case "tls": scheme = .tls
            default: throw NATSError(.invalidURL, "unsupported scheme '\(name)' in '\(text)' (use nats:// or tls://)")
            }
            rest = rest[range.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = percentDecoded(info[..<colon])
                password = percentDecoded(info[info.index(after: colon)...])
            } else {
                user = percentDecoded(info)
            }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw NATSError(.invalidURL, "unterminated IPv6 address in '\(text)'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw NATSError(.invalidURL, "missing host in '\(text)'") }
        var port = 4222
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw NATSError(.invalidURL, "invalid port '\(portText)' in '\(text)'")
            }
            port = value
        }
        self.init(scheme: scheme, host: String(host), port: port, user: user, password: password)
    }

    /// Parses a comma-separated list, as `NATS_URL` and `--server` accept.
    public static func parseList(_ text: String) throws(NATSError) -> [ServerURL] {
        var urls: [ServerURL] = []
        for part in text.split(separator: ",") where !part.allSatisfy({ $0 == " " }) {
            urls.append(try ServerURL(parsing: String(part)))
        }
        guard !urls.isEmpty else { throw NATSError(.invalidURL, "no server URL in '\(text)'") }
        return urls
    }

    /// The URL without credentials (safe to log).
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(hostPart):\(port)"
    }

    /// Identity of the endpoint, ignoring credentials: the pool de-duplicates on this.
    var endpoint: String { "\(host.lowercased()):\(port)" }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

private func percentDecoded(_ text: Substring) -> String {
    guard text.contains("%") else { return String(text) }
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
            let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
        {
            bytes.append(value)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
