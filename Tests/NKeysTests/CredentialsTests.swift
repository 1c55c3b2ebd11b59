import Foundation
import Testing
import NKeys

@Suite struct CredentialsTests {
    static let seed = Vectors.shared.keys.first { $0.role == "user" }!.seed
    static let jwt = Vectors.shared.userJWT.token

    @Test func formatIsNSCs() {
        let text = NATSCredentials.format(jwt: Self.jwt, seed: Self.seed)
        #expect(text == """
        -----BEGIN NATS USER JWT-----
        \(Self.jwt)
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        \(Self.seed)
        ------END USER NKEY SEED------

        *************************************************************

        """)
    }

    @Test func parsesWhatItFormats() throws {
        let creds = try NATSCredentials(parsing: NATSCredentials.format(jwt: Self.jwt, seed: Self.seed))
        #expect(creds.jwt == Self.jwt)
        #expect(creds.seed == Self.seed)
        #expect(try creds.keyPair().publicKey == Vectors.shared.userJWT.subject)
    }

    @Test func toleratesCRLFIndentationAndMissingBanner() throws {
        let text = "\r\n   -----BEGIN NATS USER JWT-----\r\n\t\(Self.jwt)  \r\n  ------END NATS USER JWT------\r\n\r\n-----BEGIN USER NKEY SEED-----\r\n\(Self.seed)\r\n------END USER NKEY SEED------"
        let creds = try NATSCredentials(parsing: text)
        #expect(creds.jwt == Self.jwt)
        #expect(creds.seed == Self.seed)
    }

    @Test func readsFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nkeys-\(UUID().uuidString).creds").path
        try NATSCredentials.format(jwt: Self.jwt, seed: Self.seed).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try NATSCredentials(contentsOfFile: path).seed == Self.seed)
        #expect(throws: (any Error).self) { try NATSCredentials(contentsOfFile: path + ".missing") }
    }

    @Test(arguments: [
        ("no blocks at all", "just some text"),
        ("missing seed block", "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END NATS USER JWT------\n"),
        ("missing JWT block", "-----BEGIN USER NKEY SEED-----\n\(seed)\n------END USER NKEY SEED------\n"),
        ("unterminated seed", "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\n\(seed)\n"),
        ("END without BEGIN", "------END NATS USER JWT------\n"),
        ("empty block", "-----BEGIN NATS USER JWT-----\n------END NATS USER JWT------\n"),
        ("mismatched END", "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END USER NKEY SEED------\n"),
        ("JWT is not a JWT", NATSCredentials.format(jwt: "notajwt", seed: seed)),
    ])
    func malformedFilesAreRejected(_ why: String, _ text: String) throws {
        let error = try #require(throws: NKeyError.self) { try NATSCredentials(parsing: text) }
        #expect(error.code == .invalidCredentials, "\(why): \(error)")
    }

    @Test func badSeedInCredentialsSaysSo() throws {
        var broken = Array(Self.seed)
        broken[20] = broken[20] == "A" ? "B" : "A"
        let text = NATSCredentials.format(jwt: Self.jwt, seed: String(broken))
        let error = try #require(throws: NKeyError.self) { try NATSCredentials(parsing: text) }
        #expect(error.code == .invalidChecksum)
        #expect(error.message.contains("seed"))
    }
}
