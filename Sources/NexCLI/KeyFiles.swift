import Foundation
import NKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The developer keys of `nex devrun` in `~/.nex`: the issuer account seed that signs workloads and
/// the curve seed that seals their environment (spec §8.4). Created on first use, reused afterwards.
///
/// 0.x wrote them with mode 0770; they are secrets, so the files are 0600 and `~/.nex` is 0700.
public enum KeyFiles {
    /// A key file that was read or just written.
    public struct Loaded<Key: Sendable>: Sendable {
        public var key: Key
        public var path: String
        /// Whether the file was created by this call.
        public var created: Bool
    }

    /// `~/.nex/issuer.nk`.
    public static func issuerPath(home: String) -> String { home + "/.nex/issuer.nk" }
    /// `~/.nex/publisher.xk`.
    public static func publisherPath(home: String) -> String { home + "/.nex/publisher.xk" }

    /// The issuer account key at `path`, created (with its directory) when missing.
    public static func issuer(at path: String) throws(CLIError) -> Loaded<KeyPair> {
        if let existing = try readSeed(path) {
            guard let key = try? KeyPair(seed: existing), key.prefix == .account else {
                throw CLIError("\(path) does not hold a valid account seed (SA…)")
            }
            return Loaded(key: key, path: path, created: false)
        }
        let key = KeyPair.generate(.account)
        try writeNew(path, key.seed)
        return Loaded(key: key, path: path, created: true)
    }

    /// The publisher curve key at `path`, created (with its directory) when missing.
    public static func publisher(at path: String) throws(CLIError) -> Loaded<CurveKeyPair> {
        if let existing = try readSeed(path) {
            do {
                return Loaded(key: try CurveKeyPair(seed: existing), path: path, created: false)
            } catch {
                throw CLIError("\(path) does not hold a valid curve seed (SX…): \(error.message)")
            }
        }
        let key = CurveKeyPair.generate()
        try writeNew(path, key.seed)
        return Loaded(key: key, path: path, created: true)
    }

    /// The issuer key at an explicit path (`--issuer`); never created.
    public static func existingIssuer(at path: String) throws(CLIError) -> KeyPair {
        guard let seed = try readSeed(path) else { throw CLIError("issuer key file \(path) does not exist") }
        do {
            return try KeyPair(seed: seed)
        } catch {
            throw CLIError("\(path) does not hold a valid nkey seed: \(error.message)")
        }
    }

    /// The curve key at an explicit path (`--xkey`); never created.
    public static func existingXKey(at path: String) throws(CLIError) -> CurveKeyPair {
        guard let seed = try readSeed(path) else { throw CLIError("xkey file \(path) does not exist") }
        do {
            return try CurveKeyPair(seed: seed)
        } catch {
            throw CLIError("\(path) does not hold a valid curve seed (SX…): \(error.message)")
        }
    }

    /// The 0.x line for the issuer key.
    public static func issuerMessage(_ loaded: Loaded<KeyPair>) -> String {
        (loaded.created ? "Wrote new issuer account key: " : "Reusing existing issuer account key: ") + loaded.path
    }

    /// The 0.x line for the publisher xkey.
    public static func publisherMessage(_ loaded: Loaded<CurveKeyPair>) -> String {
        (loaded.created ? "Wrote new publisher xkey: " : "Reusing existing publisher xkey: ") + loaded.path
    }

    // MARK: - Files

    /// The trimmed content of `path`, `nil` when it does not exist.
    static func readSeed(_ path: String) throws(CLIError) -> String? {
        guard access(path, F_OK) == 0 else { return nil }
        guard let bytes = readWholeFile(path) else { throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))") }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `text` to a new file with mode 0600, creating the parent directory with mode 0700.
    /// `O_EXCL` makes a concurrent second `nex` fail instead of silently replacing the first one's key.
    static func writeNew(_ path: String, _ text: String) throws(CLIError) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let directory = String(path[..<slash])
            if mkdir(directory, 0o700) != 0, errno != EEXIST {
                throw CLIError("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
    }
}
