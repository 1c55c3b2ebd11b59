"""Reference benchmark for swift-nex's object store: nats-py puts and gets one object of SIZE MiB.

    python3 objectstore_bench.py <url> <size_mib>

Output (stdout): RESULT mode=objectstore put_mb_per_sec=<n> get_mb_per_sec=<n> size_mib=<n>
"""
import asyncio
import os
import sys
import time

import nats


async def main(url: str, size_mib: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=60)
    bucket = "PYBENCH"
    try:
        await js.delete_object_store(bucket)
    except Exception:
        pass
    store = await js.create_object_store(bucket)
    data = os.urandom(size_mib * 1024 * 1024)
    start = time.perf_counter()
    await store.put("big", data)
    put_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = await store.get("big")
    get_seconds = time.perf_counter() - start
    if result.data != data:
        print("objectstore_bench: object read back differs", file=sys.stderr)
        sys.exit(1)
    await js.delete_object_store(bucket)
    await nc.close()
    print(f"RESULT mode=objectstore put_mb_per_sec={size_mib / put_seconds:.1f} "
          f"get_mb_per_sec={size_mib / get_seconds:.1f} size_mib={size_mib}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
