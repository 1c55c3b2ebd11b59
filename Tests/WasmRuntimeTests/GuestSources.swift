// C sources of the test guests, written to a scratch directory and built with clang in the tests
// (kept as Swift strings: a Swift test target may not contain C files).

enum GuestSources {
    /// A guest whose behaviour the trigger subject (argv[1]) selects; anything unknown echoes.
    static let modes = #"""
// A test guest whose behaviour the trigger subject (argv[1]) selects; anything unknown echoes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void echo(const char *subject) {
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    fputs(subject, stdout);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "env") == 0) {
        for (char **e = environ; *e; e++) printf("%s\n", *e);
    } else if (strcmp(mode, "exit3") == 0) {
        printf("not a reply");
        fflush(stdout);
        exit(3);
    } else if (strcmp(mode, "trap") == 0) {
        printf("not a reply");
        fflush(stdout);
        __builtin_trap();
    } else if (strcmp(mode, "loop") == 0) {
        volatile unsigned long x = 0;
        for (;;) x++;
    } else if (strcmp(mode, "grow") == 0) {
        void *keep[4096];
        int count = 0;
        while (count < 4096 && (keep[count] = malloc(1 << 20)) != NULL) {
            memset(keep[count], count, 1 << 20);
            count++;
        }
        fprintf(stderr, "allocated %d MiB\n", count);
        if (count < 4096) abort();
        printf("%p", keep[0]);
    } else if (strcmp(mode, "large") == 0) {
        // 8 MiB in 8192 separate writes; each block carries its own index.
        static unsigned char block[1024];
        for (int i = 0; i < 8192; i++) {
            for (int j = 0; j < 1024; j++) block[j] = (unsigned char)(i * 31 + j);
            if (write(1, block, sizeof block) != (ssize_t)sizeof block) return 1;
        }
    } else if (strcmp(mode, "stderr") == 0) {
        fputs("first line\nsecond line\n", stderr);
        fputs("partial", stderr);
        printf("ok");
    } else if (strcmp(mode, "writes") == 0) {
        for (int i = 0; i < 5; i++) { printf("w%d;", i); fflush(stdout); }
    } else if (strcmp(mode, "empty") == 0) {
        return 0;
    } else {
        echo(mode);
    }
    return 0;
}
"""#

    /// A guest that uses every `nex` host service and reports what it saw, one line per step.
    static let host = #"""
// A test guest that uses every `nex` host service and reports what it saw, one line per step.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nex_host.h"

#define S(x) x, (uint32_t)(sizeof(x) - 1)

static unsigned char in[65536];
static unsigned char out[65536];
static unsigned char out2[65536];

static void report(const char *step, int32_t rc) {
    char text[256];
    int32_t n = rc < 0 ? nex_last_error(text, sizeof text) : 0;
    if (n > (int32_t)sizeof text) n = sizeof text;
    printf("%s rc=%d%s%.*s\n", step, (int)rc, n > 0 ? " error=" : "", (int)n, text);
}

int main(void) {
    uint32_t in_len = 0, len = 0, len2 = 0, status = 0;
    ssize_t n;
    while ((n = read(0, in + in_len, sizeof in - in_len)) > 0) in_len += (uint32_t)n;

    report("kv_set", nex_kv_set(S("wasmkv"), S("k1"), in, in_len));
    report("kv_set2", nex_kv_set(S("wasmkv"), S("k2"), S("kept")));
    int32_t rc = nex_kv_get(S("wasmkv"), S("k1"), out, sizeof out, &len);
    printf("kv_get rc=%d same=%d\n", (int)rc, len == in_len && memcmp(out, in, in_len) == 0);
    rc = nex_kv_get(S("wasmkv"), S("k1"), out, 1, &len);
    printf("kv_get_small rc=%d len=%u\n", (int)rc, len);
    report("kv_get_missing", nex_kv_get(S("wasmkv"), S("nope"), out, sizeof out, &len));
    rc = nex_kv_keys(S("wasmkv"), out, sizeof out, &len);
    printf("kv_keys rc=%d %.*s\n", (int)rc, (int)len, out);
    report("kv_delete", nex_kv_delete(S("wasmkv"), S("k1")));
    report("kv_get_deleted", nex_kv_get(S("wasmkv"), S("k1"), out, sizeof out, &len));
    report("kv_get_bad_bucket", nex_kv_get(S("no such bucket!"), S("k1"), out, sizeof out, &len));

    report("object_put", nex_object_put(S("wasmobj"), S("o1"), in, in_len));
    rc = nex_object_get(S("wasmobj"), S("o1"), out, sizeof out, &len);
    printf("object_get rc=%d same=%d\n", (int)rc, len == in_len && memcmp(out, in, in_len) == 0);
    rc = nex_object_list(S("wasmobj"), out, sizeof out, &len);
    printf("object_list rc=%d has_o1=%d\n", (int)rc, rc == 0 && strstr((char *)out, "\"name\":\"o1\"") != NULL);
    report("object_delete", nex_object_delete(S("wasmobj"), S("o1")));
    report("object_get_deleted", nex_object_get(S("wasmobj"), S("o1"), out, sizeof out, &len));

    report("publish", nex_publish(S("wasm.events"), S("published")));
    rc = nex_request(S("wasm.svc"), S("ping"), 10000, out, sizeof out, &len);
    printf("request rc=%d %.*s\n", (int)rc, (int)len, out);
    report("request_nobody", nex_request(S("nobody.home"), S("ping"), 10000, out, sizeof out, &len));

    rc = nex_http(S("POST"), S("http://example.test/echo"), S("body!"), &status, out, sizeof out, &len, out2,
                  sizeof out2, &len2);
    printf("http rc=%d status=%u headers=%.*s body=%.*s\n", (int)rc, status, (int)len, out, (int)len2, out2);
    report("http_bad_method", nex_http(S("BREW"), S("http://example.test/"), "", 0, &status, out, sizeof out,
                                       &len, out2, sizeof out2, &len2));
    return 0;
}
"""#
}
