"""pool_apply: apply_async throughput on Pool(2).

Python side of pool_apply.js (same counts). argv[1] is the start method.
"""
import multiprocessing
import statistics
import sys
import time

N = 10000
SYNC = 2000
REPS = 5


def double(x):
    return x * 2


def burst(pool, n):
    rs = [pool.apply_async(double, (i,)) for i in range(n)]
    for i, r in enumerate(rs):
        if r.get() != 2 * i:
            raise RuntimeError(f"wrong result for {i}")


def main(method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        burst(pool, 1000)  # warm-up
        rates = []
        for _ in range(REPS):
            t0 = time.perf_counter()
            burst(pool, N)
            rates.append(N / (time.perf_counter() - t0))
        sync = []
        for _ in range(REPS):
            t0 = time.perf_counter()
            for i in range(SYNC):
                pool.apply(double, (i,))
            sync.append(SYNC / (time.perf_counter() - t0))
    print(f"METRIC apply_async_rate {statistics.median(rates):.0f} ops/s", flush=True)
    print(f"METRIC apply_sync_rate {statistics.median(sync):.0f} ops/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fork")
