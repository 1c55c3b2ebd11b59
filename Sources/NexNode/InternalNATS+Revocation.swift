import Foundation
import Logging
import NATS
import NKeys
import Synchronization

extension InternalNATS {
    /// Revokes every user minted for `agentID`: the server closes the agent's connections and refuses its
    /// JWTs from now on. Does nothing for an agent without credentials (or already revoked).
    ///
    /// The MEMORY resolver accepts new account claims from a system-account user
    /// (`$SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE`), so this re-signs the account with a `revocations`
    /// entry per user key and pushes it over a short-lived system connection: no reload, no restart.
    /// Each update carries every revocation so far, and updates are sent one at a time, so a late update
    /// never drops an earlier revocation.
    ///
    /// - Throws: ``NexNodeError`` with code ``NexNodeError/Code/internalNATS`` when the server did not accept
    ///   the update. The revocation is kept: it goes out with the next update, and calling this again retries.
    public func revoke(agentID: String, timeout: Duration = .seconds(10)) async throws(NexNodeError) {
        let keys = agentUsers.withLock { $0.removeValue(forKey: agentID) ?? [] }
        guard !keys.isEmpty else { return }
        do {
            try await pushRevocation(of: keys, agentID: agentID, timeout: timeout)
        } catch {
            agentUsers.withLock { $0[agentID, default: []].append(contentsOf: keys) }
            throw error
        }
    }

    private func pushRevocation(of keys: [String], agentID: String, timeout: Duration) async throws(NexNodeError) {
        await revocations.acquire()
        defer { revocations.release() }
        let revoked = revocations.add(keys, at: Date())
        let accountJWT: String
        let systemUser: NATSCredentials
        do {
            accountJWT = try trustChain.accountJWT(revocations: revoked)
            systemUser = try trustChain.mintSystemUser(name: "nex-node-system")
        } catch {
            throw NexNodeError(code: .internalNATS, message: "cannot sign the revocation of agent \(agentID): \(error)")
        }
        let answer: String
        do {
            var configuration = try NATSClient.Configuration(url: url)
            configuration.authentication = .jwt(systemUser.jwt, seed: systemUser.seed)
            configuration.connectTimeout = timeout
            configuration.reconnect.enabled = false
            configuration.name = "nex-node-revocation"
            let subject = trustChain.accountClaimsUpdateSubject
            answer = try await withNATSClient(configuration, logger: logger) { client in
                let reply = try await client.request(Array(accountJWT.utf8), to: subject, timeout: timeout)
                return String(decoding: reply.bytes, as: UTF8.self)
            }
        } catch {
            throw NexNodeError(code: .internalNATS, message: "cannot reach the internal NATS to revoke agent \(agentID): \(error)")
        }
        let outcome = ClaimsUpdateReply.parse(answer)
        guard outcome.accepted else {
            throw NexNodeError(code: .internalNATS, message: "the internal NATS refused the revocation of agent \(agentID): \(outcome.message)")
        }
        logger.debug("Revoked internal NATS credentials", metadata: ["nex.agent.id": "\(agentID)", "users": "\(keys.count)"])
    }
}

/// The revoked user keys (cumulative: each claims update replaces the account's claims) and a gate that
/// lets one claims update out at a time.
final class Revocations: Sendable {
    private struct State {
        var revoked: [String: Date] = [:]
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Waits until no other update is in flight, then holds the gate until ``release()``.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    /// Hands the gate to the next waiter, if any.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Adds `keys` revoked at `date` and returns every revocation so far.
    func add(_ keys: [String], at date: Date) -> [String: Date] {
        state.withLock { state in
            for key in keys { state.revoked[key] = date }
            return state.revoked
        }
    }
}

/// The server's answer to a claims update: `{"data":{"code":200,"message":"jwt updated"}}` or
/// `{"error":{"code":…,"description":…}}`.
struct ClaimsUpdateReply: Decodable {
    struct Body: Decodable {
        var code: Int?
        var message: String?
        var description: String?
    }

    var data: Body?
    var error: Body?

    static func parse(_ text: String) -> (accepted: Bool, message: String) {
        guard let reply = try? JSONDecoder().decode(ClaimsUpdateReply.self, from: Data(text.utf8)) else {
            return (false, "unreadable reply: \(text)")
        }
        if let error = reply.error {
            return (false, error.description ?? error.message ?? text)
        }
        guard let data = reply.data, data.code == nil || data.code == 200 else {
            return (false, text)
        }
        return (true, data.message ?? "")
    }
}
