import Foundation

/// A cluster of real `nats-server`s on loopback, every member routed to every other.
///
/// Cluster ports are reserved before the members start, because a JetStream cluster member refuses
/// to start without configured routes. The members get unique server names (JetStream needs them)
/// and an HTTP monitoring port, which `start` and `waitForJetStreamReady` use to check the routes
/// and the meta leader instead of guessing from log lines.
public final class NATSCluster: Sendable {
    /// The members, in start order.
    public let servers: [NATSServer]

    private init(servers: [NATSServer]) {
        self.servers = servers
    }

    /// The members' client URLs.
    public var urls: [String] { servers.map(\.url) }

    /// Starts `size` servers with `options` (the cluster name comes from `options.cluster`, a default
    /// name otherwise) and waits until every member has a route to every other.
    public static func start(size: Int = 3, options: Options = .init()) async throws -> NATSCluster {
        precondition(size >= 1, "a cluster needs at least one server")
        var lastError: (any Error)?
        // A reserved port can be taken by someone else before the member binds it; try again with
        // fresh ports then.
        for _ in 0..<3 {
            do {
                return try await attemptStart(size: size, options: options)
            } catch let error as NATSTestSupportError where error.code == .serverExited && error.message.contains("address already in use") {
                lastError = error
            }
        }
        throw lastError!
    }

    public typealias Options = NATSServer.Options

    private static func attemptStart(size: Int, options: Options) async throws -> NATSCluster {
        let clusterPorts = try LoopbackTCP.reservePorts(size)
        let routes = clusterPorts.map { "nats-route://127.0.0.1:\($0)" }
        let cluster = options.cluster ?? NATSServer.Cluster()
        let memberOptions: [Options] = (0..<size).map { index in
            var member = options
            member.serverName = "\(options.serverName ?? "n")\(index + 1)"
            member.cluster = NATSServer.Cluster(name: cluster.name, routes: cluster.routes)
            return member
        }
        var servers: [NATSServer] = []
        do {
            // Sequential starts: the two-core machines this runs on gain nothing from parallel ones,
            // and a failure is then attributable to one member.
            for index in 0..<size {
                let launch = NATSServer.Launch(
                    clusterPort: clusterPorts[index],
                    routes: cluster.routes + routes.enumerated().filter { $0.offset != index }.map(\.element),
                    monitoring: true
                )
                servers.append(try await NATSServer.start(memberOptions[index], launch: launch))
            }
            let result = NATSCluster(servers: servers)
            try await result.waitForRoutes()
            return result
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
    }

    /// Stops every member.
    public func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask { await server.stop() }
            }
        }
    }

    /// Waits until every running member has a route to every other running member.
    public func waitForRoutes(timeout: Duration = .seconds(30)) async throws {
        try await poll(timeout: timeout, what: "full route mesh") {
            let running = self.servers.filter(\.isRunning)
            for server in running {
                guard let port = server.monitoringPort,
                      let routez = try? LoopbackTCP.monitor(port: port, path: "/routez"),
                      let count = routez["num_routes"] as? Int, count >= running.count - 1
                else { return false }
            }
            return true
        }
    }

    /// Waits until every running member knows the JetStream meta leader (clusters started with
    /// `jetStream: true`), after which streams and consumers can be created.
    public func waitForJetStreamReady(timeout: Duration = .seconds(30)) async throws {
        try await poll(timeout: timeout, what: "a JetStream meta leader") {
            for server in self.servers where server.isRunning {
                guard let port = server.monitoringPort,
                      let jsz = try? LoopbackTCP.monitor(port: port, path: "/jsz"),
                      let meta = jsz["meta_cluster"] as? [String: Any],
                      let leader = meta["leader"] as? String, !leader.isEmpty
                else { return false }
            }
            return true
        }
    }

    private func poll(timeout: Duration, what: String, _ condition: @Sendable () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !condition() {
            if clock.now >= deadline {
                let logs = servers.map { "--- \($0.options.serverName ?? "?") (pid \($0.pid)):\n\(tail($0.log, lines: 10))" }
                throw NATSTestSupportError(
                    code: .timeout,
                    message: "cluster did not reach \(what) within \(timeout).\n\(logs.joined(separator: "\n"))"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Runs `body` with a started cluster and always stops it afterwards, also when `body` throws.
public func withNATSCluster<T>(
    size: Int = 3,
    options: NATSServer.Options = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (NATSCluster) async throws -> T
) async throws -> T {
    let cluster = try await NATSCluster.start(size: size, options: options)
    let result: T
    do {
        result = try await body(cluster)
    } catch {
        await cluster.stop()
        throw error
    }
    await cluster.stop()
    return result
}
