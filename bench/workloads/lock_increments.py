"""lock_increments: Python side of lock_increments.js.

2 processes each doing 100k lock.acquire(); v.value += 1; lock.release() on a
shared RawValue('i'), timed from a start signal to both joins; median over 5
repetitions after a warm-up. Default start method (fork on Linux).
"""
import multiprocessing as mp
import statistics
import time

N = 100_000
PROCS = 2
REPS = 5


def worker(lock, v, ready, go, n):
    ready.release()
    go.wait()
    for _ in range(n):
        lock.acquire()
        v.value += 1
        lock.release()


def once():
    lock = mp.Lock()
    v = mp.RawValue('i', 0)
    ready = mp.Semaphore(0)
    go = mp.Event()
    ps = [mp.Process(target=worker, args=(lock, v, ready, go, N)) for _ in range(PROCS)]
    for p in ps:
        p.start()
    for _ in range(PROCS):
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in ps:
        p.join()
    ms = (time.perf_counter() - t0) * 1000
    if v.value != PROCS * N:
        raise RuntimeError(f"count {v.value}, want {PROCS * N}")
    return ms


def main():
    once()
    times = [once() for _ in range(REPS)]
    print(f"METRIC locked_incr_2x100k {statistics.median(times):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
