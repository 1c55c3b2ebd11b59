#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A NATS user credentials (`.creds`) file: the user JWT and the user's nkey seed, each in a
/// decorated block:
///
/// ```text
/// -----BEGIN NATS USER JWT-----
/// eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...
/// ------END NATS USER JWT------
///
/// -----BEGIN USER NKEY SEED-----
/// SUAB...
/// ------END USER NKEY SEED------
/// ```
///
/// Parsing accepts CRLF line endings, indentation, and the free text nsc puts between blocks.
public struct NATSCredentials: Sendable, Hashable {
    /// The user JWT, undecorated.
    public var jwt: String
    /// The user's nkey seed ("SU…"), undecorated. Secret.
    public var seed: String

    public init(jwt: String, seed: String) {
        self.jwt = jwt
        self.seed = seed
    }

    /// Parses the text of a `.creds` file.
    ///
    /// Checks the structure (both blocks present and terminated), that the JWT has three parts and
    /// that the seed decodes; it does not verify the JWT's signature (the server does that).
    public init(parsing text: String) throws(NKeyError) {
        let blocks = try Self.blocks(in: text)
        guard let jwt = blocks.first(where: { $0.label.contains("JWT") })?.content else {
            throw NKeyError(code: .invalidCredentials, message: "credentials have no \"-----BEGIN NATS USER JWT-----\" block")
        }
        guard let seed = blocks.first(where: { $0.label.contains("SEED") })?.content else {
            throw NKeyError(code: .invalidCredentials, message: "credentials have no \"-----BEGIN USER NKEY SEED-----\" block")
        }
        guard jwt.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            throw NKeyError(code: .invalidCredentials, message: "the JWT block does not hold a JWT (expected header.claims.signature)")
        }
        do {
            _ = try NKeyCodec.decodeSeed(seed)
        } catch {
            throw NKeyError(code: error.code, message: "the seed block is invalid: \(error.message)")
        }
        self.init(jwt: jwt, seed: seed)
    }

    /// Reads and parses a `.creds` file.
    public init(contentsOfFile path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try self.init(parsing: String(decoding: data, as: UTF8.self))
    }

    /// The key pair for ``seed``, used to sign the server's nonce.
    public func keyPair() throws(NKeyError) -> KeyPair {
        try KeyPair(seed: seed)
    }

    /// Renders the `.creds` text exactly as nats-io/jwt `FormatUserConfig` does, so files we write
    /// are indistinguishable from nsc's.
    public static func format(jwt: String, seed: String) -> String {
        let kind = switch seed.trimmingASCIIWhitespace().prefix(2) {
        case "SA": "ACCOUNT"
        case "SO": "OPERATOR"
        default: "USER"
        }
        return """
        -----BEGIN NATS USER JWT-----
        \(jwt)
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN \(kind) NKEY SEED-----
        \(seed.trimmingASCIIWhitespace())
        ------END \(kind) NKEY SEED------

        *************************************************************

        """
    }

    /// The text rendered by ``format(jwt:seed:)`` for these credentials.
    public var formatted: String { Self.format(jwt: jwt, seed: seed) }

    private struct Block {
        var label: String
        var content: String
    }

    /// Splits the text into `-----BEGIN X-----` … `------END X------` blocks.
    private static func blocks(in text: String) throws(NKeyError) -> [Block] {
        var blocks: [Block] = []
        var open: Block?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = rawLine.trimmingASCIIWhitespace()
            if line.isEmpty { continue }
            let isMarker = line.hasPrefix("---") && line.hasSuffix("---")
            let label = isMarker ? String(line.drop(while: { $0 == "-" }).reversed().drop(while: { $0 == "-" }).reversed()) : ""
            switch (open, isMarker) {
            case (nil, false):
                continue  // commentary between blocks, e.g. the "IMPORTANT" banner
            case (nil, true):
                guard label.hasPrefix("BEGIN ") else {
                    throw NKeyError(code: .invalidCredentials, message: "found \"\(label)\" without a matching BEGIN line")
                }
                open = Block(label: String(label.dropFirst("BEGIN ".count)), content: "")
            case (var block?, false):
                block.content += line
                open = block
            case (let block?, true):
                guard label == "END " + block.label else {
                    throw NKeyError(code: .invalidCredentials, message: "block \"\(block.label)\" is not terminated before \"\(label)\"")
                }
                guard !block.content.isEmpty else {
                    throw NKeyError(code: .invalidCredentials, message: "block \"\(block.label)\" is empty")
                }
                blocks.append(block)
                open = nil
            }
        }
        if let open {
            throw NKeyError(code: .invalidCredentials, message: "block \"\(open.label)\" is not terminated (missing \"------END \(open.label)------\")")
        }
        return blocks
    }
}
