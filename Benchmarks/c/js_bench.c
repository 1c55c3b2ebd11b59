// Reference benchmark for swift-nex JetStream: the same measurements as our Swift client, made with nats.c
// (Debian libnats-dev 3.4.1). NexBench compiles and runs it and parses its RESULT line.
//
//   gcc -O2 -o js_bench js_bench.c $(pkg-config --cflags --libs libnats)
//   js_bench publish       <url> <count>   synchronous js_Publish round trips of 16 bytes: p50/p99 in µs
//   js_bench publish_async <url> <count>   js_PublishAsync of 16 bytes (4000 in flight), then
//                                          js_PublishAsyncComplete: msgs/s
//
// Each run creates its own file-storage stream on subject "cbench.<mode>" and deletes it afterwards.
// Output (stdout): RESULT mode=publish p50_us=<n> p99_us=<n> count=<n>
//                  RESULT mode=publish_async msgs_per_sec=<n> count=<n>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#define WARMUP 500

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, natsStatus s, jsErrCode jerr) {
    fprintf(stderr, "js_bench: %s: %s (jerr %d)\n", what, natsStatus_GetText(s), (int)jerr);
    nats_PrintLastErrorStack(stderr);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: js_bench publish|publish_async <url> <count>\n");
        return 2;
    }
    const char *mode = argv[1];
    const char *url = argv[2];
    long count = strtol(argv[3], NULL, 10);
    int async = strcmp(mode, "publish_async") == 0;
    if (!async && strcmp(mode, "publish") != 0) {
        fprintf(stderr, "js_bench: unknown mode %s\n", mode);
        return 2;
    }

    natsConnection *nc = NULL;
    natsOptions *opts = NULL;
    jsCtx *js = NULL;
    jsOptions jsOpts;
    jsErrCode jerr = 0;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url);
    if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    if (s != NATS_OK) return fail("connect", s, 0);
    jsOptions_Init(&jsOpts);
    jsOpts.PublishAsync.MaxPending = 4000;
    s = natsConnection_JetStream(&js, nc, &jsOpts);
    if (s != NATS_OK) return fail("jetstream context", s, 0);

    char subject[64];
    char stream[64];
    snprintf(subject, sizeof subject, "cbench.%s", mode);
    snprintf(stream, sizeof stream, "CBENCH_%s", async ? "ASYNC" : "SYNC");
    const char *subjects[1] = {subject};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo *si = NULL;
    s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK) return fail("add stream", s, jerr);
    jsStreamInfo_Destroy(si);

    const char payload[16] = "0123456789abcdef";
    int rc = 0;
    if (!async) {
        int64_t *samples = calloc((size_t)count, sizeof(int64_t));
        for (long i = 0; i < WARMUP + count; i++) {
            jsPubAck *pa = NULL;
            int64_t start = now_ns();
            s = js_Publish(&pa, js, subject, payload, (int)sizeof payload, NULL, &jerr);
            int64_t elapsed = now_ns() - start;
            if (s != NATS_OK) { rc = fail("publish", s, jerr); break; }
            jsPubAck_Destroy(pa);
            if (i >= WARMUP) samples[i - WARMUP] = elapsed;
        }
        if (rc == 0) {
            qsort(samples, (size_t)count, sizeof(int64_t), cmp_i64);
            long p50 = (long)((count * 50 + 99) / 100) - 1;
            long p99 = (long)((count * 99 + 99) / 100) - 1;
            printf("RESULT mode=publish p50_us=%.1f p99_us=%.1f count=%ld\n", samples[p50] / 1000.0,
                   samples[p99] / 1000.0, count);
        }
        free(samples);
    } else {
        int64_t start = now_ns();
        for (long i = 0; i < count && rc == 0; i++) {
            s = js_PublishAsync(js, subject, payload, (int)sizeof payload, NULL);
            if (s != NATS_OK) rc = fail("publish async", s, 0);
        }
        if (rc == 0) {
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MaxWait = 60000;
            s = js_PublishAsyncComplete(js, &po);
            if (s != NATS_OK) rc = fail("publish async complete", s, 0);
        }
        int64_t elapsed = now_ns() - start;
        natsMsgList pending;
        if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) {
            fprintf(stderr, "js_bench: %d publishes failed\n", pending.Count);
            natsMsgList_Destroy(&pending);
            rc = 1;
        }
        if (rc == 0) printf("RESULT mode=publish_async msgs_per_sec=%.0f count=%ld\n", count / (elapsed / 1e9), count);
    }
    js_DeleteStream(js, stream, NULL, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    nats_Close();
    return rc;
}
