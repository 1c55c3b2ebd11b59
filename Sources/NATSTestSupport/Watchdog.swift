import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A tiny `sh` process that kills a server and removes its directory when the test process dies.
///
/// Its stdin is one end of a socket pair whose other end only we hold (close-on-exec, so no other
/// child inherits it). The kernel closes our end when we exit, however we exit — `kill -9`
/// included — and the watchdog then sees EOF. Unlike `PR_SET_PDEATHSIG` this does not depend on
/// which thread spawned the server. We tell it the current server pid (`arm`), forget it before we
/// reap the server (`disarm`, so it can never signal a recycled pid), and say `done` on a normal
/// stop, after which it exits without touching anything.
final class Watchdog: Sendable {
    private let process: ChildProcess
    /// Our end of the socket pair; -1 once closed.
    private let socket: Mutex<Int32>

    private static let script = #"""
        trap '' INT HUP
        dir=$1
        pid=
        while IFS= read -r line; do
          case $line in
            arm\ *) pid=${line#arm } ;;
            disarm) pid= ;;
            done) exit 0 ;;
          esac
        done
        if [ -n "$pid" ]; then
          kill -KILL "$pid" 2>/dev/null
          # Wait (at most ~5 s) until it is gone or a zombie, so no write races the removal.
          i=0
          while [ $i -lt 50 ]; do
            stat=$(cat /proc/$pid/stat 2>/dev/null) || break
            case $stat in *") Z "*) break ;; esac
            sleep 0.1
            i=$((i + 1))
          done
        fi
        rm -rf -- "$dir"
        """#

    /// Starts a watchdog that removes `directory` when we die.
    init(directory: String) throws {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw NATSTestSupportError.systemCall("socketpair", errno: errno)
        }
        defer { close(pair[1]) }
        do {
            process = try ChildProcess.spawn(
                executable: "/bin/sh",
                arguments: ["-c", Self.script, "nats-test-watchdog", directory],
                input: .descriptor(pair[1]),
                newProcessGroup: true
            )
        } catch {
            close(pair[0])
            throw error
        }
        socket = Mutex(pair[0])
    }

    deinit {
        // Forgotten without `finish()`: closing our end makes the watchdog clean up right away.
        socket.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    var pid: pid_t { process.pid }

    /// From now on, our death kills `pid`.
    func arm(_ pid: pid_t) { send("arm \(pid)\n") }

    /// Forget the server pid; call before reaping it.
    func disarm() { send("disarm\n") }

    /// Normal end: the watchdog exits without killing or removing anything.
    func finish() async {
        send("done\n")
        socket.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
        if (try? await process.waitForExit(timeout: .seconds(5))) != true {
            process.send(SIGKILL)
        }
        process.reap()
    }

    private func send(_ line: String) {
        socket.withLock { fd in
            guard fd >= 0 else { return }
            var bytes = Array(line.utf8)[...]
            while !bytes.isEmpty {
                // MSG_NOSIGNAL: a dead watchdog must not take the test process down with SIGPIPE.
                let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                bytes = bytes.dropFirst(written)
            }
        }
    }
}
