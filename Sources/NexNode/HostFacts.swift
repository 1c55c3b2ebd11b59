import Foundation
import NexAPI

/// Facts about the machine the node runs on, named as the 0.x node (Go) names them, because clients
/// auction on these strings (`nex.os=linux`, `nex.arch=amd64`).
public struct HostFacts: Hashable, Sendable {
    /// Go's `GOOS`: `linux`, `darwin`, …
    public var os: String
    /// Go's `GOARCH`: `amd64`, `arm64`, …
    public var arch: String
    /// Processors this process may use (0.x: `GOMAXPROCS(0)`).
    public var cpuCount: Int

    public init(os: String, arch: String, cpuCount: Int) {
        self.os = os
        self.arch = arch
        self.cpuCount = cpuCount
    }

    /// This machine.
    public static var current: HostFacts {
        HostFacts(os: goOS, arch: goArch, cpuCount: ProcessInfo.processInfo.activeProcessorCount)
    }

    private static var goOS: String {
        #if os(Linux)
        return "linux"
        #elseif os(macOS)
        return "darwin"
        #elseif os(Windows)
        return "windows"
        #else
        return "unknown"
        #endif
    }

    private static var goArch: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #elseif arch(i386)
        return "386"
        #elseif arch(arm)
        return "arm"
        #else
        return "unknown"
        #endif
    }
}

extension MemoryStat {
    /// Parses the text of `/proc/meminfo` (values in kB, as 0.x reports them); `nil` unless `MemTotal`,
    /// `MemFree` and `MemAvailable` are all present.
    public init?(meminfo text: some StringProtocol) {
        var total: Int?, free: Int?, available: Int?
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            guard key == "MemTotal" || key == "MemFree" || key == "MemAvailable" else { continue }
            // "MemTotal:       16315092 kB": the first number after the colon.
            let value = line[line.index(after: colon)...].split(separator: " ").first.flatMap { Int($0) }
            switch key {
            case "MemTotal": total = value
            case "MemFree": free = value
            default: available = value
            }
        }
        guard let total, let free, let available else { return nil }
        self.init(total: total, free: free, available: available)
    }

    /// The current `/proc/meminfo`, or `nil` where there is none (macOS): INFO then omits `memory`.
    static func readProcMeminfo() -> MemoryStat? {
        guard let data = FileManager.default.contents(atPath: "/proc/meminfo") else { return nil }
        return MemoryStat(meminfo: String(decoding: data, as: UTF8.self))
    }
}
