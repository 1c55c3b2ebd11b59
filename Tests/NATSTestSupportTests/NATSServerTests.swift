import Foundation
import Testing
@testable import NATSTestSupport

@Suite("NATSServer")
struct NATSServerTests {
    @Test("a plain server is reachable by raw TCP and by nats-py")
    func plainServer() async throws {
        try await withNATSServer { server in
            #expect(server.url == "nats://127.0.0.1:\(server.port)")
            let info = try rawInfo(server)
            #expect(info["port"] as? Int == server.port)
            #expect(info["auth_required"] == nil)
            #expect(info["tls_required"] == nil)
            #expect(info["jetstream"] == nil)
            #expect(try await python(roundTripScript, [server.url]) == "hello")
        }
    }

    @Test("options reach the server: name, max payload, ping interval, extra config")
    func optionsAreApplied() async throws {
        let options = NATSServer.Options(
            maxPayload: 2048,
            serverName: "named-test-server",
            extraConfig: "max_connections: 7",
            pingInterval: .milliseconds(1500)
        )
        try await withNATSServer(options) { server in
            let info = try rawInfo(server)
            #expect(info["server_name"] as? String == "named-test-server")
            #expect(info["max_payload"] as? Int == 2048)
            #expect(server.log.contains("Server is ready"))
        }
    }

    @Test("token auth: INFO requires auth, nats-py gets in with the token and not without")
    func tokenAuth() async throws {
        try await withNATSServer(.init(auth: .token("s3cret-token"))) { server in
            #expect(try rawInfo(server)["auth_required"] as? Bool == true)
            #expect(try await python(connectOutcomeScript, [server.url, "{'token': 's3cret-token'}"]) == "connected")
            let wrong = try await python(connectOutcomeScript, [server.url, "{'token': 'wrong'}"])
            #expect(wrong.hasPrefix("refused"))
        }
    }

    @Test("user/password auth: good credentials connect, bad ones are refused")
    func userPasswordAuth() async throws {
        try await withNATSServer(.init(auth: .userPassword(user: "alice", password: "s3cret-pw"))) { server in
            #expect(try rawInfo(server)["auth_required"] as? Bool == true)
            let good = server.url(user: "alice", password: "s3cret-pw")
            #expect(good == "nats://alice:s3cret-pw@127.0.0.1:\(server.port)")
            #expect(try await python(roundTripScript, [good]) == "hello")
            // nats-py does not percent-decode URL credentials, so special characters go as options.
            #expect(server.url(user: "alice", password: "p@ss:w").hasPrefix("nats://alice:p%40ss%3Aw@"))
            let bad = try await python(connectOutcomeScript, [server.url(user: "alice", password: "nope")])
            #expect(bad.hasPrefix("refused"))
            let anonymous = try await python(connectOutcomeScript, [server.url])
            #expect(anonymous.hasPrefix("refused"))
        }
    }

    @Test("nkey auth: a listed user key connects, an unlisted one is refused")
    func nkeyAuth() async throws {
        // nats-py's nkeys package makes the keys, so this does not depend on our own NKeys target.
        let keys = try await python("""
            import os, nkeys
            for _ in range(2):
                seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
                print(seed.decode(), nkeys.from_seed(bytearray(seed)).public_key.decode())
            """).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(keys.count == 2 && keys.allSatisfy { $0.count == 2 })
        try await withNATSServer(.init(auth: .nkeys([keys[0][1]]))) { server in
            let info = try rawInfo(server)
            #expect(info["auth_required"] as? Bool == true)
            #expect((info["nonce"] as? String)?.isEmpty == false)
            #expect(try await python(connectOutcomeScript, [server.url, "{'nkeys_seed_str': '\(keys[0][0])'}"]) == "connected")
            let unlisted = try await python(connectOutcomeScript, [server.url, "{'nkeys_seed_str': '\(keys[1][0])'}"])
            #expect(unlisted.hasPrefix("refused"))
        }
    }

    @Test("TLS: INFO requires TLS, nats-py connects when it trusts the generated CA")
    func tls() async throws {
        let certificates = try TestCertificates.generate()
        defer { certificates.remove() }
        try await withNATSServer(.init(tls: .init(certificates: certificates))) { (server: NATSServer) async throws in
            #expect(server.url == "tls://127.0.0.1:\(server.port)")
            #expect(try rawInfo(server)["tls_required"] as? Bool == true)
            let script = """
                import asyncio, ssl, sys, nats
                async def main():
                    context = ssl.create_default_context(cafile=sys.argv[2])
                    nc = await nats.connect(sys.argv[1], tls=context, allow_reconnect=False, connect_timeout=5)
                    sub = await nc.subscribe("tls.test")
                    await nc.publish("tls.test", b"over tls")
                    print((await sub.next_msg(timeout=5)).data.decode())
                    await nc.close()
                asyncio.run(main())
                """
            #expect(try await python(script, [server.url, certificates.caCertificatePath]) == "over tls")
            // The certificate names 127.0.0.1 and localhost; a client checks the name it dialled.
            #expect(try await python(script, ["tls://localhost:\(server.port)", certificates.caCertificatePath]) == "over tls")
        }
    }

    @Test("mutual TLS: the client certificate is required and accepted")
    func mutualTLS() async throws {
        let certificates = try TestCertificates.generate()
        defer { certificates.remove() }
        try await withNATSServer(.init(tls: .init(certificates: certificates, verifyClients: true))) { (server: NATSServer) async throws in
            let info = try rawInfo(server)
            #expect(info["tls_required"] as? Bool == true)
            #expect(info["tls_verify"] as? Bool == true)
            let script = """
                import asyncio, ssl, sys, nats
                async def main():
                    context = ssl.create_default_context(cafile=sys.argv[2])
                    if len(sys.argv) > 3:
                        context.load_cert_chain(sys.argv[3], sys.argv[4])
                    try:
                        nc = await nats.connect(sys.argv[1], tls=context, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)
                        await nc.flush(timeout=5)
                        await nc.close()
                        print("connected")
                    except Exception as error:
                        print("refused:", type(error).__name__)
                asyncio.run(main())
                """
            let withCertificate = try await python(script, [
                server.url, certificates.caCertificatePath, certificates.clientCertificatePath, certificates.clientKeyPath,
            ])
            #expect(withCertificate == "connected")
            let without = try await python(script, [server.url, certificates.caCertificatePath])
            #expect(without.hasPrefix("refused"))
        }
    }

    @Test("JetStream: INFO advertises it and nats-py can add a stream")
    func jetStream() async throws {
        try await withNATSServer(.init(jetStream: true)) { server in
            #expect(try rawInfo(server)["jetstream"] as? Bool == true)
            let output = try await python("""
                import asyncio, sys, nats
                async def main():
                    nc = await nats.connect(sys.argv[1], allow_reconnect=False)
                    js = nc.jetstream()
                    await js.add_stream(name="ORDERS", subjects=["orders.>"])
                    await js.publish("orders.new", b"1")
                    info = await js.stream_info("ORDERS")
                    print(info.state.messages)
                    await nc.close()
                asyncio.run(main())
                """, [server.url])
            #expect(output == "1")
        }
    }
}
