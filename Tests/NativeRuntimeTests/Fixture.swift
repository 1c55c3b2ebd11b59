import Foundation
import Testing

@testable import NativeRuntime

/// A static C program with one mode per scenario, compiled once per test run into a private
/// temporary directory (static, so it needs no loader or libraries from an empty environment).
enum Fixture {
    static let source = #"""
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>

    extern char **environ;

    int main(int argc, char **argv) {
        if (argc < 2) return 64;
        const char *mode = argv[1];
        if (strcmp(mode, "args") == 0) {
            for (int i = 0; i < argc; i++) printf("arg %s\n", argv[i]);
            for (char **e = environ; *e; e++) printf("env %s\n", *e);
            char cwd[4096];
            if (getcwd(cwd, sizeof cwd)) printf("cwd %s\n", cwd);
            /* Descriptors beyond 2 must not be inherited. */
            for (int fd = 3; fd < 1024; fd++) {
                if (fcntl_probe(fd)) printf("fd %d\n", fd);
            }
            return 0;
        }
        if (strcmp(mode, "output") == 0) {
            printf("out one\n"); fflush(stdout);
            fprintf(stderr, "err one\n"); fflush(stderr);
            printf("out two\r\n"); fflush(stdout);
            size_t size = 1024 * 1024;
            char *big = malloc(size);
            for (size_t i = 0; i < size; i++) big[i] = 'a' + (char)(i % 26);
            fwrite(big, 1, size, stdout);
            printf("\n");
            fprintf(stderr, "err two\n"); fflush(stderr);
            printf("tail without newline");
            return 0;
        }
        if (strcmp(mode, "exit") == 0) return atoi(argv[2]);
        if (strcmp(mode, "signal") == 0) { raise(atoi(argv[2])); return 0; }
        if (strcmp(mode, "ignoreterm") == 0) {
            signal(SIGTERM, SIG_IGN);
            printf("ready\n"); fflush(stdout);
            for (;;) pause();
        }
        if (strcmp(mode, "sleep") == 0) {
            printf("ready\n"); fflush(stdout);
            for (;;) pause();
        }
        if (strcmp(mode, "grandchild") == 0) {
            pid_t child = fork();
            if (child == 0) {
                signal(SIGTERM, SIG_IGN);
                printf("grandchild %d\n", (int)getpid()); fflush(stdout);
                for (;;) pause();
            }
            for (;;) pause();
        }
        if (strcmp(mode, "grandchild-exit") == 0) {
            pid_t child = fork();
            if (child == 0) {
                printf("grandchild %d\n", (int)getpid()); fflush(stdout);
                for (;;) pause();
            }
            /* Give the grandchild time to report before the leader leaves. */
            usleep(200000);
            return 0;
        }
        if (strcmp(mode, "flood") == 0) {
            long count = atol(argv[2]);
            for (long i = 0; i < count; i++) printf("flood line %ld\n", i);
            return 0;
        }
        if (strcmp(mode, "floodwide") == 0) {
            long count = atol(argv[2]);
            char line[1001];
            memset(line, 'w', 1000);
            line[1000] = '\n';
            for (long i = 0; i < count; i++) fwrite(line, 1, sizeof line, stdout);
            return 0;
        }
        return 65;
    }
    """#

    /// The compiled program's path.
    static let path: String = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nex-native-fixture-\(getpid())-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sourceFile = directory.appendingPathComponent("fixture.c")
        let header = "#include <fcntl.h>\nstatic int fcntl_probe(int fd) { return fcntl(fd, F_GETFD) != -1; }\n"
        try! (header + source).write(to: sourceFile, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("fixture").path
        let compiler = try! Program.run("/usr/bin/gcc", ["-static", "-O1", "-o", binary, sourceFile.path])
        precondition(compiler.succeeded, "gcc failed to build the test fixture: \(compiler.standardError)")
        return binary
    }()

    static func configuration(
        _ arguments: [String], environment: [String: String] = [:], grace: Duration = .seconds(5),
        output: NativeProcessConfiguration.OutputOptions = .init()
    ) -> NativeProcessConfiguration {
        NativeProcessConfiguration(
            executable: path, arguments: arguments, environment: environment, stopGracePeriod: grace, output: output
        )
    }
}

/// Whether `pid` exists and is not a zombie (a zombie is dead; only its parent's bookkeeping remains).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let parsed = ProcStat(Array(stat.utf8))
    else { return false }
    return parsed.state != UInt8(ascii: "Z") && parsed.state != UInt8(ascii: "X")
}

/// This test process's resident memory in KiB, from /proc/self/status.
func residentKilobytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}
