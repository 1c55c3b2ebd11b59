import Foundation

/// A throwaway PKI made with the `openssl` CLI: a CA, a server certificate for
/// `IP:127.0.0.1` and `DNS:localhost`, and a client certificate, both signed by the CA.
/// Keys are ECDSA P-256 (fast to generate, accepted by nats-server, Python and BoringSSL).
///
/// The files live in `directory` under the temporary directory; call `remove()` when done.
public struct TestCertificates: Sendable {
    public var directory: String
    public var caCertificatePath: String
    public var serverCertificatePath: String
    public var serverKeyPath: String
    public var clientCertificatePath: String
    public var clientKeyPath: String

    /// Generates a fresh CA, server and client certificate. Blocks for the few `openssl` runs.
    public static func generate() throws -> TestCertificates {
        guard let openssl = findExecutable("openssl") else {
            throw NATSTestSupportError(code: .toolNotFound, message: "openssl not found; run scripts/bootstrap.sh")
        }
        let directory = try makeTemporaryDirectory(prefix: "nats-test-certs")
        do {
            let certificates = TestCertificates(
                directory: directory,
                caCertificatePath: directory + "/ca.pem",
                serverCertificatePath: directory + "/server.pem",
                serverKeyPath: directory + "/server-key.pem",
                clientCertificatePath: directory + "/client.pem",
                clientKeyPath: directory + "/client-key.pem"
            )
            try certificates.create(openssl: openssl)
            return certificates
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Deletes the certificate directory.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Our own config, so the extensions are exactly these and not the distribution's defaults.
    private static let opensslConfig = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca_ext]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [server_ext]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1,DNS:localhost
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [client_ext]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """

    private func create(openssl: String) throws {
        let config = directory + "/openssl.cnf"
        try Self.opensslConfig.write(toFile: config, atomically: true, encoding: .utf8)
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(openssl, ["req", "-x509", "-new", "-config", config, "-extensions", "ca_ext"] + newKey
            + ["-keyout", directory + "/ca-key.pem", "-out", caCertificatePath, "-days", "3650", "-subj", "/CN=swift-nex test CA"])
        for (name, certificate, key, extensions, subject) in [
            ("server", serverCertificatePath, serverKeyPath, "server_ext", "/CN=localhost"),
            ("client", clientCertificatePath, clientKeyPath, "client_ext", "/CN=swift-nex test client"),
        ] {
            let request = directory + "/\(name).csr"
            try run(openssl, ["req", "-new", "-config", config] + newKey + ["-keyout", key, "-out", request, "-subj", subject])
            try run(openssl, [
                "x509", "-req", "-in", request, "-CA", caCertificatePath, "-CAkey", directory + "/ca-key.pem",
                "-set_serial", "0x" + randomSerial(), "-days", "3650", "-extfile", config, "-extensions", extensions,
                "-out", certificate,
            ])
        }
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let output = directory + "/openssl.log"
        let process = try ChildProcess.spawn(executable: executable, arguments: arguments, outputPath: output)
        process.reap()
        guard process.exitCode == 0 else {
            throw NATSTestSupportError(
                code: .commandFailed,
                message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed (exit \(process.exitCode ?? -1)):\n\(tail(readTextFile(output)))"
            )
        }
    }

    private func randomSerial() -> String {
        (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}
