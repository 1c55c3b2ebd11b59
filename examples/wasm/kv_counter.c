/* kv_counter.c: an example Nex WebAssembly function using host services.
 * Counts the triggers per subject in the key-value bucket "counters" and replies "<subject>=<count>".
 * Build: see docs/wasm-functions.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nex_host.h"

static const char bucket[] = "counters";

static int fail(const char *what, int32_t code) {
    char text[256];
    int32_t n = nex_last_error(text, sizeof text);
    fprintf(stderr, "%s failed (%d): %.*s\n", what, (int)code, (int)(n < (int32_t)sizeof text ? n : (int32_t)sizeof text), text);
    return 1;
}

int main(int argc, char **argv) {
    const char *key = argc > 1 ? argv[1] : "unknown";
    char value[32];
    uint32_t len = 0;
    long count = 0;
    int32_t rc = nex_kv_get(bucket, sizeof bucket - 1, key, strlen(key), value, sizeof value - 1, &len);
    if (rc == NEX_OK) {
        value[len] = 0;
        count = strtol(value, NULL, 10);
    } else if (rc != NEX_NOT_FOUND) {
        return fail("kv_get", rc);
    }
    count++;
    int n = snprintf(value, sizeof value, "%ld", count);
    rc = nex_kv_set(bucket, sizeof bucket - 1, key, strlen(key), value, (uint32_t)n);
    if (rc != NEX_OK) return fail("kv_set", rc);
    printf("%s=%ld", key, count);
    return 0;
}
