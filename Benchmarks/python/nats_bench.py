#!/usr/bin/env python3
"""Reference benchmark for swift-nex with nats-py (asyncio): the same measurements as
Benchmarks/c/nats_bench.c, so NexBench can put our client next to the Python one.

    python3 nats_bench.py pubsub  <url> <count> <size>
    python3 nats_bench.py request <url> <count>

Output (stdout, exactly one line on success):
    RESULT mode=pubsub msgs_per_sec=<n> received=<n> dropped=<n>
    RESULT mode=request p50_us=<n> p99_us=<n> count=<n>
Diagnostics go to stderr. Exit status 0 only when every message / request completed.
"""

import asyncio
import math
import os
import sys
import time

try:
    import nats
    from nats.errors import SlowConsumerError
except ImportError as missing:
    print(f"nats_bench.py: nats-py is not installed for {sys.executable} ({missing}): "
          "pip install nats-py, or run `make bootstrap`", file=sys.stderr)
    sys.exit(1)

# Requests answered before timing starts, as in the C comparator.
REQUEST_WARMUP = 500
# A loopback request that takes this long means the responder is gone, not that it is slow.
REQUEST_TIMEOUT_S = 5.0
# The pubsub run fails when no new message arrives for this long.
PUBSUB_STALL_S = 10.0
REQUEST_PAYLOAD_SIZE = 16


def log(text):
    print(f"nats_bench.py: {text}", file=sys.stderr, flush=True)


def unique_subject(mode):
    # Unique per process so concurrent runs against one server never see each other.
    return f"bench.{mode}.py.{os.getpid()}.{time.monotonic_ns()}"


def percentile(sorted_samples, p):
    """Nearest rank: the smallest sample with at least p% of the samples at or below it.
    The same definition as NexBench's Stats.swift and the C comparator."""
    n = len(sorted_samples)
    # p * n first: exact for whole percentages, where p / 100 * n can round past an integer.
    rank = min(max(math.ceil(p * n / 100), 1), n)
    return sorted_samples[rank - 1]


class AsyncErrors:
    """Counts asynchronous errors; slow-consumer errors mean dropped messages."""

    def __init__(self):
        self.errors = 0
        self.dropped = 0

    async def callback(self, error):
        # nats-py insists on a coroutine function here, so this is a method, not __call__.
        if isinstance(error, SlowConsumerError):
            self.dropped += 1
        else:
            self.errors += 1
            log(f"asynchronous error: {error!r}")


async def connect(url, name, errors):
    # A benchmark against a server that is not there should fail in seconds, not retry for
    # minutes: max_reconnect_attempts=0 means "forever" to nats-py, so it is 1.
    return await nats.connect(url, name=name, error_cb=errors.callback,
                              allow_reconnect=False, max_reconnect_attempts=1)


async def run_pubsub(url, count, size):
    subject = unique_subject("pubsub")
    errors = AsyncErrors()
    sub_nc = await connect(url, "bench-subscriber", errors)
    pub_nc = await connect(url, "bench-publisher", errors)

    loop = asyncio.get_running_loop()
    done = loop.create_future()
    received = 0
    last = 0

    async def on_msg(msg):
        nonlocal received, last
        received += 1
        last = time.perf_counter_ns()
        if received == count and not done.done():
            done.set_result(None)

    # The default pending limits drop messages whenever the publisher outruns the callback for a
    # moment; the benchmark measures delivery of all of them, so size the limits to the run.
    await sub_nc.subscribe(
        subject,
        cb=on_msg,
        pending_msgs_limit=count + 1,
        pending_bytes_limit=max(count * (size + 64), 64 * 1024 * 1024),
    )
    # The server must know the subscription before the first publish.
    await sub_nc.flush()

    payload = b"x" * size
    start = time.perf_counter_ns()
    last = start
    for _ in range(count):
        await pub_nc.publish(subject, payload)
    await pub_nc.flush(timeout=60)

    # Wait for the last message, failing only when the stream stops making progress.
    while not done.done():
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout=0.2)
        except asyncio.TimeoutError:
            if time.perf_counter_ns() - last > PUBSUB_STALL_S * 1e9:
                break

    seconds = (last - start) / 1e9
    rate = received / seconds if seconds > 0 else 0.0
    print(f"RESULT mode=pubsub msgs_per_sec={rate:.0f} received={received} dropped={errors.dropped}", flush=True)

    await pub_nc.close()
    await sub_nc.close()
    failed = received != count or errors.dropped or errors.errors
    if failed:
        log(f"pubsub incomplete: received {received} of {count}, "
            f"slow-consumer events {errors.dropped}, async errors {errors.errors}")
    return 1 if failed else 0


async def run_request(url, count):
    subject = unique_subject("request")
    errors = AsyncErrors()
    responder = await connect(url, "bench-responder", errors)
    requester = await connect(url, "bench-requester", errors)

    async def on_request(msg):
        await responder.publish(msg.reply, msg.data)

    await responder.subscribe(subject, cb=on_request)
    await responder.flush()

    payload = b"r" * REQUEST_PAYLOAD_SIZE
    samples = []
    for i in range(REQUEST_WARMUP + count):
        t0 = time.perf_counter_ns()
        reply = await requester.request(subject, payload, timeout=REQUEST_TIMEOUT_S)
        t1 = time.perf_counter_ns()
        if reply.data != payload:
            log("reply payload does not echo the request")
            return 1
        if i >= REQUEST_WARMUP:
            samples.append(t1 - t0)

    samples.sort()
    p50 = percentile(samples, 50) / 1000.0
    p99 = percentile(samples, 99) / 1000.0
    print(f"RESULT mode=request p50_us={p50:.1f} p99_us={p99:.1f} count={count}", flush=True)

    await requester.close()
    await responder.close()
    return 1 if errors.errors or errors.dropped else 0


def positive(text, name):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        log(f"{name} must be a positive integer, got '{text}'")
        sys.exit(2)
    return value


def main(argv):
    if len(argv) == 5 and argv[1] == "pubsub":
        coro = run_pubsub(argv[2], positive(argv[3], "count"), positive(argv[4], "size"))
    elif len(argv) == 4 and argv[1] == "request":
        coro = run_request(argv[2], positive(argv[3], "count"))
    else:
        print("usage: nats_bench.py pubsub <url> <count> <size>\n"
              "       nats_bench.py request <url> <count>", file=sys.stderr)
        return 2
    try:
        return asyncio.run(coro)
    except Exception as error:  # a failed connect or request: one clear line, no traceback
        log(f"{type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
