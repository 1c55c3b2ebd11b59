import Foundation
import NATS
import NATSTestSupport
import NKeys
import Testing

@Suite("Authentication modes")
struct AuthTests {
    static func roundTrip(_ nats: NATSClient) async throws {
        let subscription = try await nats.subscribe(to: "auth.check")
        try await nats.flush()
        try await nats.publish("ok", to: "auth.check")
        #expect(try await collect(subscription, count: 1)[0].string == "ok")
    }

    static func expectAuthFailure(_ configuration: NATSClient.Configuration) async {
        do {
            try await withNATSClient(configuration) { _ in }
            Issue.record("connect with bad credentials succeeded")
        } catch let error as NATSError {
            #expect(error.code == .authentication, "\(error)")
            #expect(error.message.contains("Authorization Violation"), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func token() async throws {
        try await withNATSServer(.init(auth: .token("s3cret"))) { server in
            var good = try testConfiguration(server.url)
            good.authentication = .token("s3cret")
            try await withNATSClient(good) { try await Self.roundTrip($0) }
            // Token in the URL
            let inURL = try testConfiguration(server.url.replacingOccurrences(of: "nats://", with: "nats://s3cret@"))
            try await withNATSClient(inURL) { try await Self.roundTrip($0) }
            var bad = try testConfiguration(server.url)
            bad.authentication = .token("wrong")
            await Self.expectAuthFailure(bad)
        }
    }

    @Test func userPassword() async throws {
        try await withNATSServer(.init(auth: .userPassword(user: "alice", password: "p@ss:word"))) { server in
            var good = try testConfiguration(server.url)
            good.authentication = .userPassword(user: "alice", password: "p@ss:word")
            try await withNATSClient(good) { try await Self.roundTrip($0) }
            let inURL = try testConfiguration(server.url(user: "alice", password: "p@ss:word"))
            try await withNATSClient(inURL) { try await Self.roundTrip($0) }
            var bad = try testConfiguration(server.url)
            bad.authentication = .userPassword(user: "alice", password: "nope")
            await Self.expectAuthFailure(bad)
        }
    }

    @Test func nkey() async throws {
        let user = KeyPair.generate(.user)
        let stranger = KeyPair.generate(.user)
        try await withNATSServer(.init(auth: .nkeys([user.publicKey]))) { server in
            var good = try testConfiguration(server.url)
            good.authentication = .nkey(seed: user.seed)
            try await withNATSClient(good) { try await Self.roundTrip($0) }
            var bad = try testConfiguration(server.url)
            bad.authentication = .nkey(seed: stranger.seed)
            await Self.expectAuthFailure(bad)
        }
    }

    @Test func jwtOperatorModeWithCredentialsFile() async throws {
        let setup = try OperatorMode.generate()
        try await withNATSServer(.init(auth: .config(setup.serverConfig))) { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("user.creds").path
            try setup.userCredentials.write(toFile: path, atomically: true, encoding: .utf8)

            var good = try testConfiguration(server.url)
            good.authentication = .credentialsFile(path)
            try await withNATSClient(good) { try await Self.roundTrip($0) }

            // JWT + seed given directly.
            let credentials = try NATSCredentials(parsing: setup.userCredentials)
            var direct = try testConfiguration(server.url)
            direct.authentication = .jwt(credentials.jwt, seed: credentials.seed)
            try await withNATSClient(direct) { try await Self.roundTrip($0) }

            // The right JWT signed with somebody else's seed.
            var forged = try testConfiguration(server.url)
            forged.authentication = .jwt(credentials.jwt, seed: KeyPair.generate(.user).seed)
            await Self.expectAuthFailure(forged)

            // A missing file is a clear error, before any network traffic.
            var missing = try testConfiguration(server.url)
            missing.authentication = .credentialsFile(directory.appendingPathComponent("nope.creds").path)
            await #expect(throws: NATSError.self) { try await withNATSClient(missing) { _ in } }
        }
    }

    @Test func tlsWithServerVerificationAndClientCertificates() async throws {
        let certificates = try TestCertificates.generate()
        try await withNATSServer(.init(tls: .init(certificates: certificates, verifyClients: true))) { server in
            var good = try testConfiguration("tls://127.0.0.1:\(server.port)")
            good.tls = .init(trustRootsFile: certificates.caCertificatePath,
                             certificateFile: certificates.clientCertificatePath,
                             privateKeyFile: certificates.clientKeyPath)
            try await withNATSClient(good) { nats in
                try await Self.roundTrip(nats)
                #expect(nats.serverInfo?.tlsRequired == true)
            }
            // No client certificate: the server refuses.
            var noClientCert = try testConfiguration("tls://127.0.0.1:\(server.port)")
            noClientCert.tls = .init(trustRootsFile: certificates.caCertificatePath)
            await #expect(throws: NATSError.self) { try await withNATSClient(noClientCert) { _ in } }
            // Unknown CA: our verification refuses.
            var untrusted = try testConfiguration("tls://127.0.0.1:\(server.port)")
            untrusted.tls = .init(certificateFile: certificates.clientCertificatePath,
                                  privateKeyFile: certificates.clientKeyPath)
            do {
                try await withNATSClient(untrusted) { _ in }
                Issue.record("connected to a server with an untrusted certificate")
            } catch let error as NATSError {
                #expect(error.code == .tls, "\(error)")
            }
        }
    }

    @Test func tlsRequiredByServerIsUpgradedAutomatically() async throws {
        let certificates = try TestCertificates.generate()
        try await withNATSServer(.init(tls: .init(certificates: certificates, verifyClients: false))) { server in
            var configuration = try testConfiguration("nats://127.0.0.1:\(server.port)")
            configuration.tls = nil
            // Server requires TLS; the client follows with its defaults but must trust our test CA.
            configuration.tls = .init(trustRootsFile: certificates.caCertificatePath)
            try await withNATSClient(configuration) { try await Self.roundTrip($0) }
        }
    }
}
