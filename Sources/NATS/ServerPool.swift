/// The servers a client may connect to, and when to try which: a pure state machine fed with instants,
/// so the backoff schedule is tested without sleeping.
///
/// Like nats.go: the pool is walked round-robin; a server is tried again only after `wait` (plus jitter)
/// since its last attempt; a server that failed `maxAttemptsPerServer` times in a row is dropped; servers
/// announced by the cluster (`connect_urls`) join the pool.
struct ServerPool<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    struct Entry: Sendable {
        var url: ServerURL
        var failedAttempts = 0
        var lastAttempt: Instant?
    }

    enum Next: Equatable {
        /// Connect to `server` once `delay` has passed.
        case connect(ServerURL, after: Duration)
        /// No server is left: every one exceeded its attempts.
        case exhausted
    }

    private(set) var entries: [Entry]
    private let wait: Duration
    private let jitter: Duration
    private let maxAttemptsPerServer: Int?
    /// Jitter source in 0...1, injected for tests.
    private var random: @Sendable () -> Double
    private var cursor = 0

    init(servers: [ServerURL], reconnect: NATSClient.Reconnect, shuffle: Bool,
         random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        var unique: [ServerURL] = []
        for server in servers where !unique.contains(where: { $0.endpoint == server.endpoint }) {
            unique.append(server)
        }
        if shuffle { unique.shuffle() }
        self.entries = unique.map { Entry(url: $0) }
        self.wait = reconnect.wait
        self.jitter = reconnect.jitter
        self.maxAttemptsPerServer = reconnect.maxAttemptsPerServer
        self.random = random
    }

    var servers: [ServerURL] { entries.map(\.url) }

    /// Picks the next server and how long to wait before dialling it.
    mutating func next(now: Instant) -> Next {
        guard !entries.isEmpty else { return .exhausted }
        if cursor >= entries.count { cursor = 0 }
        let index = cursor
        cursor = (cursor + 1) % entries.count
        var delay = Duration.zero
        if let last = entries[index].lastAttempt {
            let elapsed = last.duration(to: now)
            if elapsed < wait { delay = wait - elapsed }
            if jitter > .zero { delay += jitter * random() }
        }
        entries[index].lastAttempt = now.advanced(by: delay)
        return .connect(entries[index].url, after: delay)
    }

    /// The attempt on `server` failed; drops the server when it used up its attempts.
    mutating func failed(_ server: ServerURL) {
        guard let index = entries.firstIndex(where: { $0.url.endpoint == server.endpoint }) else { return }
        entries[index].failedAttempts += 1
        if let max = maxAttemptsPerServer, entries[index].failedAttempts >= max {
            entries.remove(at: index)
            if cursor > index { cursor -= 1 }
        }
    }

    /// Connected to `server`: its failure count resets.
    mutating func connected(_ server: ServerURL) {
        guard let index = entries.firstIndex(where: { $0.url.endpoint == server.endpoint }) else { return }
        entries[index].failedAttempts = 0
    }

    /// Adds the servers a cluster announced (`host:port` strings); credentials and scheme come from
    /// `template`, the server we are connected to. Returns the ones that were new.
    @discardableResult
    mutating func addDiscovered(_ connectURLs: [String], template: ServerURL) -> [ServerURL] {
        var added: [ServerURL] = []
        for text in connectURLs {
            guard var url = try? ServerURL(parsing: text) else { continue }
            url.scheme = template.scheme
            if url.user == nil {
                url.user = template.user
                url.password = template.password
            }
            guard !entries.contains(where: { $0.url.endpoint == url.endpoint }) else { continue }
            entries.append(Entry(url: url))
            added.append(url)
        }
        return added
    }
}
