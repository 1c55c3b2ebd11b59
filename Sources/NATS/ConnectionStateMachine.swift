import NATSProtocol

/// One connection's protocol life: handshake, pings, server errors. Pure: events in, actions out; the
/// channel handler interprets the actions. Messages bypass it (they are the hot path).
struct ConnectionStateMachine: Sendable {
    enum State: Sendable {
        case awaitingInfo
        case awaitingHandshakePong(ServerInfo)
        case connected(ServerInfo, pingsOutstanding: Int)
        case closed
    }

    enum Action: Equatable, Sendable {
        case none
        /// Upgrade to TLS first when `upgradeToTLS`, then send CONNECT and PING.
        case sendConnect(ServerInfo, upgradeToTLS: Bool)
        case handshakeComplete(ServerInfo)
        /// INFO while connected: new cluster URLs, lame duck mode.
        case infoUpdated(ServerInfo, enteredLameDuck: Bool)
        case sendPong
        case sendPing
        /// A PONG answering one of our pings (flush or keep-alive).
        case pongReceived
        case reportServerError(ServerError)
        case close(NATSError)
    }

    private(set) var state: State = .awaitingInfo
    let maxPingsOutstanding: Int
    /// The client insists on TLS (a `tls://` URL or TLS settings).
    let tlsWanted: Bool

    init(maxPingsOutstanding: Int, tlsWanted: Bool) {
        self.maxPingsOutstanding = maxPingsOutstanding
        self.tlsWanted = tlsWanted
    }

    mutating func infoReceived(_ info: ServerInfo) -> Action {
        switch state {
        case .awaitingInfo:
            let serverRequires = info.tlsRequired ?? false
            let serverOffers = serverRequires || (info.tlsAvailable ?? false)
            if tlsWanted && !serverOffers {
                state = .closed
                return .close(NATSError(.tls, "TLS is required by the client but the server does not offer it"))
            }
            state = .awaitingHandshakePong(info)
            return .sendConnect(info, upgradeToTLS: tlsWanted || serverRequires)
        case .awaitingHandshakePong:
            // INFO updates may arrive before the handshake PONG; keep the first, it carries the nonce we signed.
            return .none
        case .connected(let old, let pings):
            state = .connected(info, pingsOutstanding: pings)
            let enteredLameDuck = (info.lameDuckMode ?? false) && !(old.lameDuckMode ?? false)
            return .infoUpdated(info, enteredLameDuck: enteredLameDuck)
        case .closed:
            return .none
        }
    }

    mutating func pongReceived() -> Action {
        switch state {
        case .awaitingHandshakePong(let info):
            state = .connected(info, pingsOutstanding: 0)
            return .handshakeComplete(info)
        case .connected(let info, _):
            state = .connected(info, pingsOutstanding: 0)
            return .pongReceived
        case .awaitingInfo:
            state = .closed
            return .close(NATSError(.protocolViolation, "PONG before INFO"))
        case .closed:
            return .none
        }
    }

    mutating func pingReceived() -> Action {
        switch state {
        case .awaitingInfo:
            state = .closed
            return .close(NATSError(.protocolViolation, "PING before INFO"))
        case .awaitingHandshakePong, .connected:
            return .sendPong
        case .closed:
            return .none
        }
    }

    mutating func pingTimerFired() -> Action {
        switch state {
        case .connected(let info, let pings):
            if pings >= maxPingsOutstanding {
                state = .closed
                return .close(NATSError(.staleConnection, "no PONG for \(pings) pings: connection is stale"))
            }
            state = .connected(info, pingsOutstanding: pings + 1)
            return .sendPing
        case .awaitingInfo, .awaitingHandshakePong, .closed:
            return .none
        }
    }

    mutating func errorReceived(_ error: ServerError) -> Action {
        switch state {
        case .awaitingInfo, .awaitingHandshakePong:
            state = .closed
            return .close(NATSError.fromServer(error))
        case .connected:
            if error.isFatal {
                state = .closed
                return .close(NATSError.fromServer(error))
            }
            return .reportServerError(error)
        case .closed:
            return .none
        }
    }

    /// The handshake did not finish within the connect timeout.
    mutating func handshakeTimedOut() -> Action {
        switch state {
        case .awaitingInfo, .awaitingHandshakePong:
            state = .closed
            return .close(NATSError(.timeout, "handshake did not complete in time"))
        case .connected, .closed:
            return .none
        }
    }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }
}
