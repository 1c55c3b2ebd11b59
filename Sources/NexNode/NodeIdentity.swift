#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NKeys
import NexAPI

/// Who a node is: its server nkey (the node ID, "N…") and the curve key ("X…") that deploy requests
/// seal their environment to.
///
/// 0.x makes a fresh node ID on every start; we keep that as ``generate()`` and add
/// ``load(seedFile:)`` so a restarted node keeps its ID. The xkey is always fresh per start (0.x does
/// the same): it only has to live as long as the process that can open what was sealed to it.
public struct NodeIdentity: Sendable {
    /// The node's server nkey; its public key is the node ID.
    public let keyPair: KeyPair
    /// The node ID (the server public key).
    public let nodeID: NodeID
    /// The curve key environments are sealed to; published as `target_xkey` / `public_xkey`.
    public let xkey: CurveKeyPair

    /// An identity from a server key pair and an xkey (fresh unless given).
    public init(keyPair: KeyPair, xkey: CurveKeyPair = .generate()) throws(NexNodeError) {
        guard keyPair.prefix == .server else {
            throw NexNodeError(code: .invalidIdentity, message: "a node identity needs a server nkey (SN…), got a \(keyPair.prefix) key")
        }
        do {
            nodeID = try NodeID(keyPair: keyPair)
        } catch {
            throw NexNodeError(code: .invalidIdentity, message: "not a node ID: \(error.message)")
        }
        self.keyPair = keyPair
        self.xkey = xkey
    }

    /// A new random node ID and xkey (0.x behaviour: the ID changes on every start).
    public static func generate() -> NodeIdentity {
        // A freshly generated server key always makes a valid node ID.
        try! NodeIdentity(keyPair: .generate(.server))
    }

    /// The node ID kept in `path` (a server seed, "SN…"), with a fresh xkey.
    ///
    /// When the file does not exist, a new seed is generated and written there with mode 0600 (created
    /// exclusively, so two nodes starting at once cannot both write it); the next start reads it back.
    public static func load(seedFile path: String) throws(NexNodeError) -> NodeIdentity {
        if let text = try readFile(path) {
            let seed = text.trimmingASCIIWhitespaceAndNewlines
            let keyPair: KeyPair
            do {
                keyPair = try KeyPair(seed: seed)
            } catch {
                throw NexNodeError(code: .invalidIdentity, message: "\(path) does not hold an nkey seed: \(error)")
            }
            return try NodeIdentity(keyPair: keyPair)
        }
        let keyPair = KeyPair.generate(.server)
        switch try createExclusively(path, contents: keyPair.seed + "\n") {
        case .created:
            return try NodeIdentity(keyPair: keyPair)
        case .alreadyExists:
            // Another process created it between our read and our create: use theirs.
            return try load(seedFile: path)
        }
    }

    /// The file's text, or `nil` when it does not exist.
    private static func readFile(_ path: String) throws(NexNodeError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw NexNodeError(code: .identityFile, message: "cannot open \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw NexNodeError(code: .identityFile, message: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            // A seed is under 100 bytes; anything far larger is not an identity file.
            guard bytes.count <= 64 * 1024 else {
                throw NexNodeError(code: .invalidIdentity, message: "\(path) is too large to be a seed file")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private enum CreateOutcome { case created, alreadyExists }

    private static func createExclusively(_ path: String, contents: String) throws(NexNodeError) -> CreateOutcome {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            if code == EEXIST { return .alreadyExists }
            throw NexNodeError(code: .identityFile, message: "cannot create \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                unlink(path)
                throw NexNodeError(code: .identityFile, message: "cannot write \(path): \(message)")
            }
            written += count
        }
        return .created
    }
}

extension String {
    fileprivate var trimmingASCIIWhitespaceAndNewlines: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
