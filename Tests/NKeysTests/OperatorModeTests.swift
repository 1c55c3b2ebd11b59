import Foundation
import Testing
import NKeys
import NATSTestSupport

/// nats-server in operator mode trusts our JWTs, and nats-py connects with our `.creds` files.
@Suite struct OperatorModeTests {
    /// Connects with nats-py; prints "ok <subject> <payload>" after a publish/subscribe round trip,
    /// "js <max_streams>" when asked to check JetStream, and every error the client sees as "error …".
    static let client = #"""
    import asyncio, sys
    import nats

    async def main(url, creds, mode):
        async def on_error(e):
            print("error", repr(e), flush=True)
        try:
            nc = await nats.connect(url, user_credentials=creds, allow_reconnect=False,
                                    max_reconnect_attempts=0, connect_timeout=5, error_cb=on_error)
        except Exception as e:
            print("error", repr(e), flush=True)
            return
        if mode in ("pubsub", "jetstream"):
            sub = await nc.subscribe("greet.>")
            await nc.publish("greet.swift", b"hello operator mode")
            msg = await sub.next_msg(timeout=5)
            print("ok", msg.subject, msg.data.decode(), flush=True)
        if mode == "jetstream":
            info = await nc.jetstream().account_info()
            print("js", info.limits.max_streams, flush=True)
        if mode == "restricted":
            sub = await nc.subscribe("allowed.>")
            await nc.publish("denied.x", b"no")
            await nc.publish("allowed.x", b"yes")
            msg = await sub.next_msg(timeout=5)
            print("ok", msg.subject, msg.data.decode(), flush=True)
            await nc.flush(timeout=5)
            await asyncio.sleep(0.2)  # let the async -ERR for the denied publish arrive
        await nc.close()

    asyncio.run(main(*sys.argv[1:4]))
    """#

    func connect(_ url: String, credentials: String, mode: String, in dir: URL) async throws -> String {
        let path = dir.appendingPathComponent("user-\(UUID().uuidString).creds")
        try credentials.write(to: path, atomically: true, encoding: .utf8)
        let result = try await Python.run(Self.client, arguments: [url, path.path, mode])
        try #require(result.exitCode == 0, "nats-py client crashed: \(result.stderr)")
        return result.stdout
    }

    @Test func natsPyConnectsWithGeneratedCredentials() async throws {
        let mode = try OperatorMode.generate()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withNATSServer(.init(auth: .config(mode.serverConfig))) { server in
            let url = server.url
            let output = try await connect(url, credentials: mode.userCredentials, mode: "pubsub", in: dir)
            #expect(output.contains("ok greet.swift hello operator mode"), "\(output)")
            #expect(!output.contains("error"), "\(output)")

            // A user minted later, without touching the server.
            let late = try mode.credentials(forNewUser: "late")
            let lateOutput = try await connect(url, credentials: late, mode: "pubsub", in: dir)
            #expect(lateOutput.contains("ok greet.swift"), "\(lateOutput)")
        }
    }

    @Test func aUserWithTheWrongSeedIsRejected() async throws {
        let mode = try OperatorMode.generate()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withNATSServer(.init(auth: .config(mode.serverConfig))) { server in
            let url = server.url
            // The JWT is genuine, but the seed is not the JWT subject's: the nonce signature fails.
            let stolen = NATSCredentials.format(jwt: mode.userJWT, seed: KeyPair.generate(.user).seed)
            let output = try await connect(url, credentials: stolen, mode: "pubsub", in: dir)
            #expect(output.contains("Authorization Violation"), "\(output)")
            #expect(!output.contains("ok "), "\(output)")

            // A user signed by an account the server does not know.
            let strangerAccount = try OperatorMode.generate()
            let foreign = try await connect(url, credentials: strangerAccount.userCredentials, mode: "pubsub", in: dir)
            #expect(foreign.contains("Authorization Violation"), "\(foreign)")

            // An expired user.
            let expired = try mode.credentials(forNewUser: "expired", expires: Date(timeIntervalSinceNow: -3600))
            let expiredOutput = try await connect(url, credentials: expired, mode: "pubsub", in: dir)
            #expect(expiredOutput.contains("Authorization Violation"), "\(expiredOutput)")
        }
    }

    @Test func userPermissionsFromTheJWTAreEnforced() async throws {
        let mode = try OperatorMode.generate()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withNATSServer(.init(auth: .config(mode.serverConfig))) { server in
            let url = server.url
            let creds = try mode.credentials(forNewUser: "restricted", allowPublish: ["allowed.>"], allowSubscribe: ["allowed.>"])
            let output = try await connect(url, credentials: creds, mode: "restricted", in: dir)
            #expect(output.contains("ok allowed.x yes"), "\(output)")
            // nats-py lower-cases the server's "Permissions Violation for Publish to …".
            #expect(output.lowercased().contains("permissions violation for publish to \"denied.x\""), "\(output)")
        }
    }

    @Test func jetStreamAccountsCanUseJetStream() async throws {
        let mode = try OperatorMode.generate(jetStream: true)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withNATSServer(.init(jetStream: true, auth: .config(mode.serverConfig))) { server in
            let url = server.url
            let output = try await connect(url, credentials: mode.userCredentials, mode: "jetstream", in: dir)
            #expect(output.contains("ok greet.swift"), "\(output)")
            #expect(output.contains("js -1"), "\(output)")
        }
    }

    func makeTemporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nkeys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func generatedMaterialIsConsistent() throws {
        let mode = try OperatorMode.generate()
        let op = try JWT.decode(mode.operatorJWT, as: OperatorClaims.self)
        #expect(op.subject == mode.operatorKey.publicKey && op.issuer == mode.operatorKey.publicKey)
        #expect(op.nats.systemAccount == mode.systemAccountKey.publicKey)
        #expect(try JWT.decode(mode.accountJWT, as: AccountClaims.self).issuer == mode.operatorKey.publicKey)
        let user = try JWT.decode(mode.userJWT, as: UserClaims.self)
        #expect(user.issuer == mode.accountKey.publicKey)
        #expect(user.subject == mode.userKey.publicKey)
        let creds = try NATSCredentials(parsing: mode.userCredentials)
        #expect(creds.jwt == mode.userJWT)
        #expect(creds.seed == mode.userKey.seed)
        #expect(mode.serverConfig.contains("resolver: MEMORY"))
        #expect(mode.serverConfig.contains("system_account: \"\(mode.systemAccountKey.publicKey)\""))

        let none = try NATSCredentials(parsing: mode.credentials(forNewUser: "mute", allowPublish: []))
        let muted = try JWT.decode(none.jwt, as: UserClaims.self)
        #expect(muted.nats.permissions.publish.deny == [">"])
        #expect(muted.name == "mute")
    }
}
