import NATSProtocol
import NKeys

extension ClientCore {
    /// The CONNECT for `server`: auth from the configuration, or from the URL's user info.
    func makeConnectInfo(info: ServerInfo, server: ServerURL) throws -> ConnectInfo {
        var connect = ConnectInfo()
        connect.name = configuration.name
        connect.echo = configuration.echo
        connect.tlsRequired = server.scheme == .tls || configuration.tls != nil || (info.tlsRequired ?? false)
        switch configuration.authentication {
        case .none:
            if let token = server.token {
                connect.authToken = token
            } else if let user = server.user {
                connect.user = user
                connect.password = server.password
            }
        case .token(let token):
            connect.authToken = token
        case .userPassword(let user, let password):
            connect.user = user
            connect.password = password
        case .nkey(let seed):
            let keyPair = try keyPair(seed)
            connect.nkey = keyPair.publicKey
            connect.signature = try signNonce(info, with: keyPair)
        case .jwt(let jwt, let seed):
            connect.jwt = jwt
            connect.signature = try signNonce(info, with: try keyPair(seed))
        case .credentialsFile(let path):
            let credentials: NATSCredentials
            do {
                credentials = try NATSCredentials(contentsOfFile: path)
            } catch {
                throw NATSError(.authentication, "cannot read credentials file '\(path)': \(error)")
            }
            connect.jwt = credentials.jwt
            connect.signature = try signNonce(info, with: try keyPair(credentials.seed))
        }
        return connect
    }

    private func keyPair(_ seed: String) throws(NATSError) -> KeyPair {
        do {
            return try KeyPair(seed: seed)
        } catch {
            throw NATSError(.authentication, "invalid nkey seed: \(error)")
        }
    }

    private func signNonce(_ info: ServerInfo, with keyPair: KeyPair) throws(NATSError) -> String {
        guard let nonce = info.nonce else {
            throw NATSError(.authentication, "the server sent no nonce to sign (is nkey/JWT auth enabled on it?)")
        }
        return Base64URL.encode(keyPair.sign(Array(nonce.utf8)))
    }
}
