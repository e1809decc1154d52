"""lock_uncontended: Python side of lock_uncontended.js.

1M lock.acquire(); lock.release() of a multiprocessing.Lock in one process,
median over 9 repetitions after a warm-up.
"""
import multiprocessing
import statistics
import time

N = 1_000_000
REPS = 9


def pairs(lock, n):
    t0 = time.perf_counter()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter() - t0) * 1000


def main():
    lock = multiprocessing.Lock()
    pairs(lock, N // 10)
    times = [pairs(lock, N) for _ in range(REPS)]
    print(f"METRIC lock_pair_1m {statistics.median(times):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
