"""pool_cpu: a CPU-bound job, serial and on Pool(2).

Python side of pool_cpu.js (same algorithm, same ranges). argv[1] is the
start method. Also prints the 1-minute load average seen at the end.
"""
import multiprocessing
import os
import sys
import time

LIMIT = 1000000
PARTS = 8


def count_primes(lo, hi):
    n = 0
    for k in range(max(lo, 2), hi):
        if k % 2 == 0:
            if k == 2:
                n += 1
            continue
        prime = True
        d = 3
        while d * d <= k:
            if k % d == 0:
                prime = False
                break
            d += 2
        if prime:
            n += 1
    return n


def main(method):
    ctx = multiprocessing.get_context(method)
    ranges = [(i * LIMIT // PARTS, (i + 1) * LIMIT // PARTS) for i in range(PARTS)]
    with ctx.Pool(2) as pool:
        pool.starmap(count_primes, [(0, 1000), (1000, 2000)], 1)  # warm-up
        t0 = time.perf_counter()
        serial = sum(count_primes(lo, hi) for lo, hi in ranges)
        serial_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        parallel = sum(pool.starmap(count_primes, ranges, 1))
        pool_ms = (time.perf_counter() - t0) * 1000
    if serial != 78498 or parallel != serial:
        raise RuntimeError(f"wrong count: serial {serial}, pool {parallel}")
    print(f"METRIC serial_ms {serial_ms:.1f} ms", flush=True)
    print(f"METRIC pool_ms {pool_ms:.1f} ms", flush=True)
    print(f"METRIC speedup {serial_ms / pool_ms:.3f} x", flush=True)
    print(f"METRIC load_1m {os.getloadavg()[0]:.2f} count", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fork")
