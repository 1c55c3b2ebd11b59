// Reference benchmark for swift-nex: the same measurements as our Swift client, made with nats.c
// (Debian libnats-dev 3.4.1). NexBench compiles and runs this program and parses its RESULT line.
//
//   gcc -O2 -o nats_bench nats_bench.c $(pkg-config --cflags --libs libnats)
//   nats_bench pubsub  <url> <count> <size>
//   nats_bench request <url> <count>
//
// Output (stdout, exactly one line on success):
//   RESULT mode=pubsub msgs_per_sec=<n> received=<n> dropped=<n>
//   RESULT mode=request p50_us=<n> p99_us=<n> count=<n>
// Diagnostics go to stderr. Exit status 0 only when every message / request completed.

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

// Requests answered before timing starts: lets both connections, the muxed reply subscription and
// the CPU caches settle, so the percentiles describe the steady state.
#define REQUEST_WARMUP 500
// Sequential requests on loopback answer in well under a millisecond; a request that takes this
// long means the responder or server is gone, not that the system is slow.
#define REQUEST_TIMEOUT_MS 5000
// The pubsub run fails when no new message arrives for this long (a stalled or dropped stream).
#define PUBSUB_STALL_NS (10LL * 1000 * 1000 * 1000)
#define REQUEST_PAYLOAD_SIZE 16

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die_status(const char *what, natsStatus s) {
    fprintf(stderr, "nats_bench: %s failed: %s\n", what, natsStatus_GetText(s));
    nats_PrintLastErrorStack(stderr);
    exit(1);
}

#define CHECK(what, call)                                                                          \
    do {                                                                                           \
        natsStatus check_status_ = (call);                                                         \
        if (check_status_ != NATS_OK) die_status(what, check_status_);                             \
    } while (0)

static long parse_positive(const char *text, const char *name) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value <= 0 || value > INT_MAX) {
        fprintf(stderr, "nats_bench: %s must be a positive integer, got '%s'\n", name, text);
        exit(2);
    }
    return value;
}

// Slow-consumer and other asynchronous errors would silently make the numbers meaningless, so they
// are counted and reported rather than ignored.
static atomic_long async_errors = 0;

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure) {
    (void)nc;
    (void)sub;
    (void)closure;
    atomic_fetch_add(&async_errors, 1);
    fprintf(stderr, "nats_bench: asynchronous error: %s\n", natsStatus_GetText(err));
}

static natsConnection *connect_to(const char *url, const char *name) {
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    CHECK("natsOptions_Create", natsOptions_Create(&opts));
    CHECK("natsOptions_SetURL", natsOptions_SetURL(opts, url));
    CHECK("natsOptions_SetName", natsOptions_SetName(opts, name));
    CHECK("natsOptions_SetErrorHandler", natsOptions_SetErrorHandler(opts, on_async_error, NULL));
    // The request benchmark compares round-trip latency, so neither side may sit on a buffered
    // write: the requester's PUB and the responder's reply must both leave immediately.
    if (strcmp(name, "bench-requester") == 0 || strcmp(name, "bench-responder") == 0) {
        CHECK("natsOptions_SetSendAsap", natsOptions_SetSendAsap(opts, true));
    }
    CHECK("natsConnection_Connect", natsConnection_Connect(&nc, opts));
    natsOptions_Destroy(opts);
    return nc;
}

// A subject unique to this process, so concurrent runs against one server never see each other.
static void unique_subject(char *buf, size_t len, const char *mode) {
    snprintf(buf, len, "bench.%s.c.%ld.%" PRId64, mode, (long)getpid(), now_ns());
}

// ---------------------------------------------------------------------------------------------
// pubsub

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done;
    long expected;
    atomic_long received;
    atomic_llong last_ns; // arrival time of the most recent message
} pubsub_state;

static void on_pubsub_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    pubsub_state *st = closure;
    natsMsg_Destroy(msg);
    long n = atomic_fetch_add(&st->received, 1) + 1;
    atomic_store(&st->last_ns, now_ns());
    if (n == st->expected) {
        pthread_mutex_lock(&st->lock);
        pthread_cond_signal(&st->done);
        pthread_mutex_unlock(&st->lock);
    }
}

static int run_pubsub(const char *url, long count, long size) {
    char subject[128];
    unique_subject(subject, sizeof subject, "pubsub");

    pubsub_state st;
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.done, NULL);
    st.expected = count;
    atomic_init(&st.received, 0);
    atomic_init(&st.last_ns, 0);

    natsConnection *sub_nc = connect_to(url, "bench-subscriber");
    natsConnection *pub_nc = connect_to(url, "bench-publisher");

    natsSubscription *sub = NULL;
    CHECK("natsConnection_Subscribe", natsConnection_Subscribe(&sub, sub_nc, subject, on_pubsub_msg, &st));
    // The default limit (65536 messages) drops messages whenever the publisher outruns the
    // callback for a moment; the benchmark measures delivery of all of them, so lift the limit.
    if (natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK) {
        CHECK("natsSubscription_SetPendingLimits", natsSubscription_SetPendingLimits(sub, INT_MAX, INT_MAX));
    }
    // The server must know the subscription before the first publish, or early messages vanish.
    CHECK("natsConnection_Flush(subscriber)", natsConnection_Flush(sub_nc));

    char *payload = malloc((size_t)size);
    if (payload == NULL) {
        fprintf(stderr, "nats_bench: out of memory\n");
        return 1;
    }
    memset(payload, 'x', (size_t)size);

    int64_t start = now_ns();
    atomic_store(&st.last_ns, start);
    for (long i = 0; i < count; i++) {
        natsStatus s = natsConnection_Publish(pub_nc, subject, payload, (int)size);
        if (s != NATS_OK) die_status("natsConnection_Publish", s);
    }
    CHECK("natsConnection_Flush(publisher)", natsConnection_FlushTimeout(pub_nc, 60000));

    // Wait for the last message, failing only when the stream stops making progress.
    pthread_mutex_lock(&st.lock);
    while (atomic_load(&st.received) < count) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 200 * 1000 * 1000;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st.done, &st.lock, &deadline);
        if (now_ns() - atomic_load(&st.last_ns) > PUBSUB_STALL_NS) break;
    }
    pthread_mutex_unlock(&st.lock);

    long received = atomic_load(&st.received);
    int64_t end = atomic_load(&st.last_ns);
    int64_t dropped = 0;
    natsSubscription_GetDropped(sub, &dropped);

    double seconds = (double)(end - start) / 1e9;
    double rate = seconds > 0 ? (double)received / seconds : 0;
    printf("RESULT mode=pubsub msgs_per_sec=%.0f received=%ld dropped=%" PRId64 "\n", rate, received, dropped);
    fflush(stdout);

    int failed = received != count || dropped != 0 || atomic_load(&async_errors) != 0;
    if (failed) {
        fprintf(stderr, "nats_bench: pubsub incomplete: received %ld of %ld, dropped %" PRId64 ", async errors %ld\n",
                received, count, dropped, atomic_load(&async_errors));
    }

    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub_nc);
    natsConnection_Destroy(sub_nc);
    free(payload);
    return failed ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// request

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)sub;
    (void)closure;
    const char *reply = natsMsg_GetReply(msg);
    if (reply != NULL) {
        natsStatus s = natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
        if (s != NATS_OK) fprintf(stderr, "nats_bench: reply failed: %s\n", natsStatus_GetText(s));
    }
    natsMsg_Destroy(msg);
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

// Nearest-rank percentile over sorted samples: the smallest sample with at least p% of the samples
// at or below it. The same definition as NexBench's Stats.swift, so the two sides compare exactly.
static int64_t percentile(const int64_t *sorted, long n, double p) {
    // p * n first: exact for whole percentages, where p / 100 * n can round up past an integer.
    double exact = p * (double)n / 100.0;
    long rank = (long)exact;
    if ((double)rank < exact) rank++;
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

static int run_request(const char *url, long count) {
    char subject[128];
    unique_subject(subject, sizeof subject, "request");

    natsConnection *responder = connect_to(url, "bench-responder");
    natsConnection *requester = connect_to(url, "bench-requester");

    natsSubscription *sub = NULL;
    CHECK("natsConnection_Subscribe", natsConnection_Subscribe(&sub, responder, subject, on_request, NULL));
    CHECK("natsConnection_Flush(responder)", natsConnection_Flush(responder));

    char payload[REQUEST_PAYLOAD_SIZE];
    memset(payload, 'r', sizeof payload);

    int64_t *samples = malloc(sizeof(int64_t) * (size_t)count);
    if (samples == NULL) {
        fprintf(stderr, "nats_bench: out of memory\n");
        return 1;
    }

    for (long i = 0; i < REQUEST_WARMUP + count; i++) {
        natsMsg *reply = NULL;
        int64_t t0 = now_ns();
        natsStatus s = natsConnection_Request(&reply, requester, subject, payload, (int)sizeof payload, REQUEST_TIMEOUT_MS);
        int64_t t1 = now_ns();
        if (s != NATS_OK) die_status("natsConnection_Request", s);
        if (natsMsg_GetDataLength(reply) != (int)sizeof payload ||
            memcmp(natsMsg_GetData(reply), payload, sizeof payload) != 0) {
            fprintf(stderr, "nats_bench: reply payload does not echo the request\n");
            return 1;
        }
        natsMsg_Destroy(reply);
        if (i >= REQUEST_WARMUP) samples[i - REQUEST_WARMUP] = t1 - t0;
    }

    qsort(samples, (size_t)count, sizeof samples[0], compare_i64);
    double p50 = (double)percentile(samples, count, 50) / 1000.0;
    double p99 = (double)percentile(samples, count, 99) / 1000.0;
    printf("RESULT mode=request p50_us=%.1f p99_us=%.1f count=%ld\n", p50, p99, count);
    fflush(stdout);

    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(requester);
    natsConnection_Destroy(responder);
    free(samples);
    return atomic_load(&async_errors) != 0;
}

// ---------------------------------------------------------------------------------------------

static void usage(void) {
    fprintf(stderr,
            "usage: nats_bench pubsub <url> <count> <size>\n"
            "       nats_bench request <url> <count>\n");
}

int main(int argc, char **argv) {
    int rc;
    if (argc == 5 && strcmp(argv[1], "pubsub") == 0) {
        long count = parse_positive(argv[3], "count");
        long size = parse_positive(argv[4], "size");
        rc = run_pubsub(argv[2], count, size);
    } else if (argc == 4 && strcmp(argv[1], "request") == 0) {
        long count = parse_positive(argv[3], "count");
        rc = run_request(argv[2], count);
    } else {
        usage();
        return 2;
    }
    nats_CloseAndWait(2000);
    return rc;
}
