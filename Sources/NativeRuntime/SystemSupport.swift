#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small POSIX helpers shared by the runtime; nothing here knows about workloads.
enum SystemSupport {
    /// The text of an errno value, for error messages.
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Runs `body` on a new detached OS thread. Used for the blocking `waitid` and `poll` loops, so
    /// they never occupy a thread of Swift's cooperative pool.
    static func startThread(_ body: @escaping @Sendable () -> Void) throws(NativeRuntimeError) {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        guard result == 0 else {
            box.release()
            throw NativeRuntimeError(code: .systemCall, message: "pthread_create failed: \(errorText(result))")
        }
        pthread_detach(thread)
    }

    /// Whether any process other than a zombie belongs to process group `pgid`, read from `/proc`.
    ///
    /// `kill(-pgid, 0)` cannot answer this: it also succeeds for zombies, and the group leader stays
    /// a zombie on purpose while we stop the group (so its pid, hence the group id, cannot be reused).
    /// Without a readable `/proc` this answers false, so a stop escalates instead of waiting blind.
    static func processGroupHasLiveMembers(_ pgid: pid_t) -> Bool {
        guard let directory = opendir("/proc") else { return false }
        defer { closedir(directory) }
        var buffer = [UInt8](repeating: 0, count: 512)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { continue }
            let fd = open("/proc/\(name)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard count > 0, let stat = ProcStat(buffer[..<count]) else { continue }
            if stat.processGroup == pgid && stat.state != UInt8(ascii: "Z") && stat.state != UInt8(ascii: "X") {
                return true
            }
        }
        return false
    }
}

/// The fields we need from `/proc/<pid>/stat`: `pid (comm) state ppid pgrp ...`. The command name
/// may contain spaces and parentheses, so parsing starts after the last `)`.
struct ProcStat: Equatable {
    var state: UInt8
    var processGroup: pid_t

    init?(_ bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard let close = array.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = array[(close + 1)...].split(separator: UInt8(ascii: " "), maxSplits: 4)
        guard fields.count >= 3, fields[0].count == 1, let state = fields[0].first,
            let group = pid_t(String(decoding: fields[2], as: UTF8.self))
        else {
            return nil
        }
        self.state = state
        self.processGroup = group
    }
}
