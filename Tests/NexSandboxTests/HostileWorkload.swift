import NativeRuntime
import Foundation

/// A hostile native service, statically linked: it tries to break out of its sandbox in every way the
/// issue lists and prints one `RESULT <name> <outcome> <detail>` line per attempt (read back from the
/// workload's log stream). `HOSTILE_MODE=probe` runs the attempts, then idles; `HOSTILE_MODE=oom`
/// allocates until something stops it.
enum HostileWorkload {
    static let source = #"""
    #define _GNU_SOURCE
    #include <dirent.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <sched.h>
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    #include <unistd.h>
    #include <arpa/inet.h>
    #include <netinet/in.h>
    #include <sys/mount.h>
    #include <sys/ptrace.h>
    #include <sys/resource.h>
    #include <sys/socket.h>
    #include <sys/wait.h>

    static void result(const char *name, int blocked, const char *detail) {
        printf("RESULT %s %s %s\n", name, blocked ? "blocked" : "ALLOWED", detail);
        fflush(stdout);
    }
    static const char *env(const char *name) { const char *v = getenv(name); return v ? v : ""; }
    static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

    static int tcp_connect(int port) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return -errno;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = connect(fd, (struct sockaddr *)&a, sizeof a);
        int e = errno;
        close(fd);
        return r == 0 ? 0 : -e;
    }

    static void probe(void) {
        char detail[512];
        /* Host processes: only the sandbox's own are visible. */
        DIR *proc = opendir("/proc");
        int count = 0; detail[0] = 0;
        struct dirent *entry;
        while (proc && (entry = readdir(proc))) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
            count++;
            char path[64], comm[64] = "";
            snprintf(path, sizeof path, "/proc/%s/comm", entry->d_name);
            FILE *f = fopen(path, "r");
            if (f) { if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0; fclose(f); }
            if (strlen(detail) + strlen(comm) + 2 < sizeof detail) { strcat(detail, comm); strcat(detail, ","); }
        }
        if (proc) closedir(proc);
        printf("PROCESSES %d %s\n", count, detail);
        result("processes", count <= 6, detail);

        /* Files of the host: the node's key, another agent's artifact, /etc. */
        const char *reads[] = { env("HOSTILE_SECRET"), env("HOSTILE_OTHER_ARTIFACT"), "/etc/passwd", "/root", NULL };
        const char *names[] = { "read_node_key", "read_other_artifact", "read_etc_passwd", "read_root_home" };
        for (int i = 0; reads[i]; i++) {
            int fd = open(reads[i], O_RDONLY);
            snprintf(detail, sizeof detail, "%s:%s", reads[i], fd < 0 ? strerror(errno) : "opened");
            result(names[i], fd < 0, detail);
            if (fd >= 0) close(fd);
        }

        /* Writes: only /tmp and the agent's directory. */
        const char *denied[] = { "/usr/bin/evil", "/evil", "/dev/evil", NULL };
        for (int i = 0; denied[i]; i++) {
            int fd = open(denied[i], O_WRONLY | O_CREAT, 0644);
            snprintf(detail, sizeof detail, "%s:%s", denied[i], fd < 0 ? strerror(errno) : "created");
            result("write_outside", fd < 0, detail);
            if (fd >= 0) close(fd);
        }
        int tmp = open("/tmp/scratch", O_WRONLY | O_CREAT, 0644);
        printf("WRITE_TMP %s\n", tmp >= 0 ? "ok" : strerror(errno));
        int own = open("./scratch", O_WRONLY | O_CREAT, 0644);
        printf("WRITE_OWN %s\n", own >= 0 ? "ok" : strerror(errno));

        /* Network: a host port that is not allowed, UDP; the allowed NATS port works. */
        int r = tcp_connect(atoi(env("HOSTILE_FORBIDDEN_PORT")));
        snprintf(detail, sizeof detail, "port %s: %s", env("HOSTILE_FORBIDDEN_PORT"), r == 0 ? "connected" : strerror(-r));
        result("connect_forbidden", r != 0, detail);
        r = tcp_connect(atoi(env("HOSTILE_ALLOWED_PORT")));
        printf("CONNECT_ALLOWED %s\n", r == 0 ? "ok" : strerror(-r));
        int udp = socket(AF_INET, SOCK_DGRAM, 0);
        snprintf(detail, sizeof detail, "%s", udp < 0 ? strerror(errno) : "created");
        result("udp_socket", udp < 0, detail);
        int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        snprintf(detail, sizeof detail, "%s", raw < 0 ? strerror(errno) : "created");
        result("raw_socket", raw < 0, detail);
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = 0 };
        r = bind(listener, (struct sockaddr *)&any, sizeof any);
        snprintf(detail, sizeof detail, "%s", r < 0 ? strerror(errno) : "bound");
        result("tcp_bind", r < 0, detail);

        /* Kernel surfaces. */
        r = mount("none", "/tmp", "tmpfs", 0, NULL);
        snprintf(detail, sizeof detail, "%s", r < 0 ? strerror(errno) : "mounted");
        result("mount", r < 0, detail);
        r = unshare(CLONE_NEWUSER);
        snprintf(detail, sizeof detail, "%s", r < 0 ? strerror(errno) : "unshared");
        result("unshare_user", r < 0, detail);
        pid_t victim = fork();
        if (victim == 0) { pause(); _exit(0); }
        long p = ptrace(PTRACE_ATTACH, victim, NULL, NULL);
        snprintf(detail, sizeof detail, "%s", p < 0 ? strerror(errno) : "attached");
        result("ptrace", p < 0, detail);
        kill(victim, SIGKILL); waitpid(victim, NULL, 0);

        /* Fork bomb: stopped by the pids limit. */
        int forks = 0, error = 0;
        pid_t kids[4096];
        while (forks < 4096) {
            pid_t kid = fork();
            if (kid < 0) { error = errno; break; }
            if (kid == 0) { pause(); _exit(0); }
            kids[forks++] = kid;
        }
        snprintf(detail, sizeof detail, "forks=%d error=%s", forks, error ? strerror(error) : "none");
        printf("FORKS %d\n", forks);
        result("fork_bomb", error != 0, detail);
        for (int i = 0; i < forks; i++) kill(kids[i], SIGKILL);
        for (int i = 0; i < forks; i++) waitpid(kids[i], NULL, 0);

        /* Spin on every CPU for a while: the CPU quota holds total CPU time per wall time. */
        int spinners = atoi(env("HOSTILE_SPINNERS"));
        double seconds = atof(env("HOSTILE_SPIN_SECONDS"));
        double start = now();
        for (int i = 0; i < spinners; i++) {
            if (fork() == 0) { volatile unsigned long x = 0; while (now() - start < seconds) x++; _exit(0); }
        }
        while (wait(NULL) > 0) {}
        double wall = now() - start;
        struct rusage usage; getrusage(RUSAGE_CHILDREN, &usage);
        double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
        printf("SPIN cpu=%.3f wall=%.3f\n", cpu, wall);
        printf("DONE\n");
        fflush(stdout);
        for (;;) pause();
    }

    static void oom(void) {
        size_t total = 0;
        for (;;) {
            char *block = malloc(1 << 20);
            if (!block) { printf("MALLOC_FAILED %zu\n", total >> 20); fflush(stdout); break; }
            memset(block, 1, 1 << 20);
            total += 1 << 20;
            if ((total >> 20) % 32 == 0) { printf("ALLOCATED %zu MiB\n", total >> 20); fflush(stdout); }
            if (total >= (size_t)4096 << 20) { printf("OOM_SURVIVED\n"); fflush(stdout); break; }
        }
        for (;;) pause();
    }

    int main(void) {
        printf("HOSTILE uid=%d pid=%d\n", getuid(), getpid());
        fflush(stdout);
        if (strcmp(env("HOSTILE_MODE"), "oom") == 0) oom(); else probe();
        return 0;
    }
    """#

    /// Compiled once per test run with `gcc -static`.
    static let path: String = {
        let directory = NSTemporaryDirectory() + "nex-hostile-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sourcePath = directory + "/hostile.c"
        try? source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let output = directory + "/hostile"
        let gcc = try? Program.run("/usr/bin/gcc", ["-O1", "-static", "-o", output, sourcePath])
        precondition(gcc?.succeeded == true, "gcc could not build the hostile workload: \(gcc?.standardError ?? "")")
        return output
    }()
}
