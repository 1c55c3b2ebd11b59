extension NATSServer {
    /// Where one run of the server listens; fixed ports are used for restarts and pre-planned
    /// cluster routes, `nil` lets the server pick (`-1`).
    struct Launch: Sendable {
        var clientPort: Int?
        var clusterPort: Int?
        /// Routes used instead of `options.cluster.routes` when set (a cluster's full mesh).
        var routes: [String]?
        /// Enables the HTTP monitoring endpoint (clusters use it to check routes and the meta leader).
        var monitoring: Bool
    }

    /// Renders the nats-server configuration file for one run.
    static func configuration(options: Options, launch: Launch, directory: String) -> String {
        var lines: [String] = []
        lines.append("listen: \"127.0.0.1:\(launch.clientPort ?? -1)\"")
        if launch.monitoring {
            lines.append("http: \"127.0.0.1:-1\"")
        }
        if let name = options.serverName {
            lines.append("server_name: \(quoted(name))")
        }
        if let maxPayload = options.maxPayload {
            lines.append("max_payload: \(maxPayload)")
        }
        if let interval = options.pingInterval {
            lines.append("ping_interval: \(quoted(durationString(interval)))")
        }
        if options.jetStream {
            // Modest limits: many servers run at once and nats-server would otherwise reserve a share
            // of the whole machine's memory and disk for each.
            lines.append("""
                jetstream {
                  store_dir: \(quoted(directory + "/jetstream"))
                  max_mem_store: 256MB
                  max_file_store: 1GB
                }
                """)
        }
        switch options.auth {
        case .none:
            break
        case .token(let token):
            lines.append("authorization { token: \(quoted(token)) }")
        case .userPassword(let user, let password):
            lines.append("authorization { user: \(quoted(user)), password: \(quoted(password)) }")
        case .nkeys(let keys):
            let users = keys.map { "{ nkey: \(quoted($0)) }" }.joined(separator: ", ")
            lines.append("authorization { users: [ \(users) ] }")
        case .config(let block):
            lines.append(block)
        }
        if let tls = options.tls {
            lines.append("""
                tls {
                  cert_file: \(quoted(tls.certificates.serverCertificatePath))
                  key_file: \(quoted(tls.certificates.serverKeyPath))
                  ca_file: \(quoted(tls.certificates.caCertificatePath))
                  verify: \(tls.verifyClients)
                  timeout: 5
                }
                """)
        }
        if let cluster = options.cluster {
            let routes = (launch.routes ?? cluster.routes).map(quoted).joined(separator: ", ")
            lines.append("""
                cluster {
                  name: \(quoted(cluster.name))
                  listen: "127.0.0.1:\(launch.clusterPort ?? -1)"
                  routes: [ \(routes) ]
                }
                """)
        }
        if !options.extraConfig.isEmpty {
            lines.append(options.extraConfig)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A double-quoted configuration string (the format accepts JSON-style escapes).
    static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// A Go duration string in whole milliseconds (at least 1 ms).
    static func durationString(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        return "\(milliseconds)ms"
    }
}
