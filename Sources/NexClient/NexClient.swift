import Logging
import NATS
import NexAPI

/// A typed client of the Nex 0.x control interface (`$NEX.*`), as the Go `control-api` client behaves.
///
/// Broadcast calls (``ping(timeout:)``, ``auction(_:timeout:)``, ``workloadPing(_:timeout:)``) scatter a
/// request on a fresh inbox and gather every reply until the timeout: nodes that have nothing to say stay
/// silent, so there is no "last reply" to wait for. Calls that address one node send a NATS request and take
/// the first reply; a failure envelope becomes ``NexClientError`` with code ``NexClientError/Code/remote``
/// and the node's text unchanged.
///
/// The client does not own the connection: run the `NATSClient` yourself (for example with `withNATSClient`).
public struct NexClient: Sendable {
    /// The NATS connection requests go out on.
    public let client: NATSClient
    /// The namespace of namespaced subjects (`DEPLOY`, `STOP`, `INFO`, `WPING`).
    public let namespace: Namespace
    /// How long broadcasts gather replies, and how long single-node requests wait.
    public let timeout: Duration
    private let logger: Logger

    public init(client: NATSClient, namespace: Namespace = .default, timeout: Duration = .seconds(2),
                logger: Logger = Logger(label: "nex.client")) {
        self.client = client
        self.namespace = namespace
        self.timeout = timeout
        self.logger = logger
    }

    // MARK: - Broadcasts

    /// Pings every node on `$NEX.PING` and returns the replies that arrived within `timeout`
    /// (default: the client's timeout). Unreadable or failed replies are logged and left out.
    public func ping(timeout: Duration? = nil) async throws(NexClientError) -> [PingResponse] {
        try await gather(PingResponse.self, .ping, payload: [], to: .ping, timeout: timeout)
    }

    /// Asks every node on `$NEX.AUCTION` to bid; nodes that do not match the request stay silent.
    public func auction(_ request: AuctionRequest, timeout: Duration? = nil) async throws(NexClientError) -> [AuctionResponse] {
        try await gather(AuctionResponse.self, .auction, payload: encode(request), to: .auction, timeout: timeout)
    }

    /// Pings the workloads of this client's namespace (`$NEX.WPING.{ns}`), or those matching
    /// `reference` by ID or name (`$NEX.WPING.{ns}.{idOrName}`). Only nodes running a match answer.
    public func workloadPing(_ reference: WorkloadReference? = nil, timeout: Duration? = nil) async throws(NexClientError) -> [WorkloadPingResponse] {
        try await gather(WorkloadPingResponse.self, .ping, payload: [], to: .workloadPing(namespace, reference), timeout: timeout)
    }

    // MARK: - One node

    /// Pings one node (`$NEX.PING.{node}`); `nil` when no such node is connected or it did not answer in time.
    public func ping(node: NodeID) async throws(NexClientError) -> PingResponse? {
        do {
            return try await request(PingResponse.self, .ping, payload: [], to: .pingNode(node), node: node)
        } catch where error.code == .noNode || error.code == .timeout {
            return nil
        }
    }

    /// The node's description, with the machines of this client's namespace (`$NEX.INFO.{ns}.{node}`).
    public func info(node: NodeID) async throws(NexClientError) -> InfoResponse {
        try await request(InfoResponse.self, .info, payload: [], to: .info(namespace, node), node: node)
    }

    /// Deploys a workload on `node` (`$NEX.DEPLOY.{ns}.{node}`). Build `request` with ``DeployRequestBuilder``.
    public func deploy(_ request: DeployRequest, to node: NodeID) async throws(NexClientError) -> RunResponse {
        try await self.request(RunResponse.self, .run, payload: encode(request), to: .deploy(namespace, node), node: node)
    }

    /// Stops (undeploys) a workload on `node` (`$NEX.STOP.{ns}.{node}`).
    public func stop(_ request: StopRequest, on node: NodeID) async throws(NexClientError) -> StopResponse {
        try await self.request(StopResponse.self, .stop, payload: encode(request), to: .stop(namespace, node), node: node)
    }

    /// Puts `node` into lame duck mode (`$NEX.LAMEDUCK.{node}`): it refuses new deploys from then on.
    public func lameDuck(node: NodeID) async throws(NexClientError) -> LameDuckResponse {
        try await request(LameDuckResponse.self, .lameDuck, payload: [], to: .lameDuck(node), node: node)
    }

    // MARK: - Streams

    /// Events on `$NEX.events.{ns|*}.{type|*}`: `namespace` `nil` means every namespace (including
    /// `system`, where node events go), `types` `nil` means every type. Undecodable events are skipped and
    /// counted in ``NexEventStream/skippedCount``. Call ``NexEventStream/close()`` when done.
    public func events(types: [NexEventType]? = nil, namespace: Namespace? = nil) async throws(NexClientError) -> NexEventStream {
        // One type fits in the subject; several need the wildcard and a filter on our side.
        let subjectType = types.flatMap { $0.count == 1 ? $0[0] : nil }
        let pattern = NexSubscriptions.events(namespace: namespace, type: subjectType)
        let subscription = try await subscribe(to: pattern)
        return NexEventStream(subscription: subscription, types: types.map(Set.init), logger: logger)
    }

    /// Workload log records on `$NEX.logs.{ns}.{node}.{workloadName}.{workloadId}`, each missing filter a
    /// wildcard. As the 0.x client, subjects of any other shape are dropped; undecodable records are skipped
    /// and counted in ``NexLogStream/skippedCount``. Call ``NexLogStream/close()`` when done.
    public func logs(node: NodeID? = nil, workloadName: WorkloadName? = nil, workloadID: WorkloadID? = nil,
                     namespace: Namespace? = nil) async throws(NexClientError) -> NexLogStream {
        let pattern = NexSubscriptions.logs(namespace: namespace, node: node, workloadName: workloadName, workloadID: workloadID)
        let subscription = try await subscribe(to: pattern)
        return NexLogStream(subscription: subscription, logger: logger)
    }

    /// ``events(types:namespace:)`` for the duration of `body`; the stream is closed when `body` returns or throws.
    public func withEvents<T>(types: [NexEventType]? = nil, namespace: Namespace? = nil,
                              _ body: (NexEventStream) async throws -> T) async throws -> T {
        let stream = try await events(types: types, namespace: namespace)
        do {
            let result = try await body(stream)
            try? await stream.close()
            return result
        } catch {
            try? await stream.close()
            throw error
        }
    }

    /// ``logs(node:workloadName:workloadID:namespace:)`` for the duration of `body`; the stream is closed
    /// when `body` returns or throws.
    public func withLogs<T>(node: NodeID? = nil, workloadName: WorkloadName? = nil, workloadID: WorkloadID? = nil,
                            namespace: Namespace? = nil, _ body: (NexLogStream) async throws -> T) async throws -> T {
        let stream = try await logs(node: node, workloadName: workloadName, workloadID: workloadID, namespace: namespace)
        do {
            let result = try await body(stream)
            try? await stream.close()
            return result
        } catch {
            try? await stream.close()
            throw error
        }
    }

    // MARK: - Plumbing

    private func encode(_ value: some Encodable) throws(NexClientError) -> [UInt8] {
        do {
            return try NexJSON.encode(value)
        } catch {
            throw NexClientError(code: .invalidRequest, message: "cannot encode request: \(error.message)")
        }
    }

    private func subscribe(to subject: String) async throws(NexClientError) -> NATSSubscription {
        do {
            return try await client.subscribe(to: subject)
        } catch {
            throw NexClientError(code: .connection, message: "cannot subscribe to \(subject): \(error)")
        }
    }

    /// Publishes on a fresh inbox and collects replies until the deadline: 0.x nodes that do not match stay
    /// silent, so the whole timeout is always waited (spec §8.5).
    private func gather<Payload: Codable & Sendable>(_ type: Payload.Type, _ expected: NexResponseType, payload: [UInt8], to subject: NexSubject,
                                                     timeout: Duration?) async throws(NexClientError) -> [Payload] {
        let inbox = client.newInbox()
        let subscription = try await subscribe(to: inbox)
        let clock = ContinuousClock()
        let deadline = clock.now + (timeout ?? self.timeout)
        var replies: [Payload] = []
        do {
            try await client.publish(payload, to: subject.description, reply: inbox)
            var iterator = subscription.makeAsyncIterator()
            gathering: while true {
                let remaining = deadline - clock.now
                guard remaining > .zero else { break }
                switch try await iterator.next(timeout: remaining) {
                case .message(let message):
                    // The Go client ignores empty messages (status-only replies such as no-responders).
                    let bytes = message.bytes
                    guard !bytes.isEmpty else { continue }
                    do {
                        replies.append(try Self.decode(Payload.self, expected, from: bytes))
                    } catch {
                        logger.debug("Skipping unusable reply", metadata: [
                            "nats.subject": "\(subject)", "nex.error": "\(error.message)",
                        ])
                    }
                case .timedOut, .end:
                    break gathering
                }
            }
        } catch {
            try? await subscription.unsubscribe()
            throw NexClientError(code: .connection, message: "request on \(subject) failed: \(error)")
        }
        try? await subscription.unsubscribe()
        return replies
    }

    /// A NATS request to one node: the first reply counts.
    private func request<Payload: Codable & Sendable>(_ type: Payload.Type, _ expected: NexResponseType, payload: [UInt8], to subject: NexSubject,
                                                      node: NodeID) async throws(NexClientError) -> Payload {
        let reply: NATSMessage
        do {
            reply = try await client.request(payload, to: subject.description, timeout: timeout)
        } catch let error as NATSError where error.code == .noResponders {
            throw NexClientError(code: .noNode, message: "no Nex node \(node) is connected (nobody answers \(subject))")
        } catch let error as NATSError where error.code == .timeout {
            throw NexClientError(code: .timeout, message: "Nex node \(node) did not answer \(subject) within \(timeout)")
        } catch {
            throw NexClientError(code: .connection, message: "request on \(subject) failed: \(error)")
        }
        let bytes = reply.bytes
        guard !bytes.isEmpty else {
            throw NexClientError(code: .noResponse, message: "Nex node \(node) sent an empty reply on \(subject)")
        }
        return try Self.decode(Payload.self, expected, from: bytes)
    }

    /// An envelope's payload; a failure envelope's reason unchanged; anything else `.invalidResponse`.
    ///
    /// The Go client does not look at `type`, but every 0.x handler stamps its own (failures included), so
    /// a reply of another type is not an answer to this request.
    static func decode<Payload: Codable & Sendable>(_ type: Payload.Type, _ expected: NexResponseType,
                                                    from bytes: [UInt8]) throws(NexClientError) -> Payload {
        let envelope: NexEnvelope<Payload>
        do {
            envelope = try NexJSON.decode(NexEnvelope<Payload>.self, from: bytes)
        } catch {
            throw NexClientError(code: .invalidResponse, message: "reply is not a \(Payload.self) envelope: \(error.message)")
        }
        guard envelope.type == expected else {
            throw NexClientError(code: .invalidResponse, message: "reply has type \"\(envelope.type)\", expected \"\(expected)\"")
        }
        switch envelope.outcome {
        case .success(let payload): return payload
        case .failure(let reason): throw .remote(reason)
        }
    }
}
