import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Minimal blocking TCP on 127.0.0.1 for probing servers (INFO line, monitoring endpoint) and for
/// reserving ports. Loopback only and with short timeouts, so the blocking is brief.
enum LoopbackTCP {
    /// Connects to 127.0.0.1:`port`, optionally writes `request`, and reads until `isComplete`
    /// accepts what was read, the peer closes, or `timeout` passes.
    static func exchange(
        port: Int,
        request: [UInt8] = [],
        timeout: Duration = .seconds(2),
        isComplete: ([UInt8]) -> Bool = { _ in false }
    ) throws -> [UInt8] {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NATSTestSupportError.systemCall("socket", errno: errno) }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw NATSTestSupportError.systemCall("connect to 127.0.0.1:\(port)", errno: errno) }
        var remaining = request[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw NATSTestSupportError.systemCall("send", errno: errno)
            }
            remaining = remaining.dropFirst(written)
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !isComplete(received) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw NATSTestSupportError.systemCall("recv from 127.0.0.1:\(port)", errno: errno)
            }
            received.append(contentsOf: chunk[0..<count])
        }
        return received
    }

    /// Reads the `INFO {...}` line a NATS server sends first (in plain text, also with TLS) and
    /// returns its JSON object.
    static func serverInfo(port: Int) throws -> [String: Any] {
        let bytes = try exchange(port: port) { $0.contains(UInt8(ascii: "\n")) }
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").first ?? ""
        guard line.hasPrefix("INFO ") else {
            throw NATSTestSupportError(code: .commandFailed, message: "expected INFO from 127.0.0.1:\(port), got \(line.prefix(200))")
        }
        return try jsonObject(Data(line.dropFirst(5).utf8))
    }

    /// GETs a monitoring endpoint (`/routez`, `/jsz`) and returns its JSON object.
    static func monitor(port: Int, path: String) throws -> [String: Any] {
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        let bytes = try exchange(port: port, request: request)
        let response = String(decoding: bytes, as: UTF8.self)
        guard let split = response.range(of: "\r\n\r\n") else {
            throw NATSTestSupportError(code: .commandFailed, message: "incomplete HTTP response from 127.0.0.1:\(port)\(path)")
        }
        return try jsonObject(Data(response[split.upperBound...].utf8))
    }

    /// Asks the kernel for `count` distinct free loopback ports by binding them all at once.
    ///
    /// Only for ports a server must know before it starts (cluster routes of a JetStream cluster,
    /// where every member needs its peers' addresses up front). Another process could take a port
    /// between our release and the server's bind; callers retry when that happens.
    static func reservePorts(_ count: Int) throws -> [Int] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw NATSTestSupportError.systemCall("socket", errno: errno) }
            descriptors.append(fd)
            var address = loopbackAddress(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw NATSTestSupportError.systemCall("bind", errno: errno) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func jsonObject(_ data: Data) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NATSTestSupportError(code: .commandFailed, message: "expected a JSON object")
        }
        return object
    }
}
