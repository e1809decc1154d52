"""pool_map: throughput of Pool.map with trivial items, on Pool(2).

Python side of pool_map.js (same sizes, same counts). argv[1] is the start
method.
"""
import multiprocessing
import statistics
import sys
import time

REPS = 5


def double(x):
    return x * 2


def check(out, n):
    if len(out) != n or out[n - 1] != 2 * (n - 1):
        raise RuntimeError(f"wrong result: length {len(out)}")


def measure(f):
    reps = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        f()
        reps.append((time.perf_counter() - t0) * 1000)
    return statistics.median(reps)


def main(method):
    ctx = multiprocessing.get_context(method)
    big = list(range(100000))
    small = list(range(10000))
    with ctx.Pool(2) as pool:
        check(pool.map(double, small), len(small))  # warm-up
        map100k = measure(lambda: check(pool.map(double, big), len(big)))
        map10k = measure(lambda: check(pool.map(double, small, 1), len(small)))
        imap10k = measure(lambda: check(list(pool.imap(double, small)), len(small)))
    print(f"METRIC map_100k {map100k:.3f} ms", flush=True)
    print(f"METRIC map_10k_c1 {map10k:.3f} ms", flush=True)
    print(f"METRIC imap_10k {imap10k:.3f} ms", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fork")
