"""shared_counter: Python side of shared_counter.js.

4 processes each adding 1 to a shared Value('i') 20k times, without a lock
(v.value += 1) and with one (with v.get_lock(): v.value += 1); timed from a
start signal to the last join; medians over 5 repetitions after a warm-up.
Default start method (fork on Linux).
"""
import multiprocessing as mp
import statistics
import time

N = 20_000
PROCS = 4
REPS = 5


def racy(v, ready, go, n):
    ready.release()
    go.wait()
    for _ in range(n):
        v.value += 1


def locked(v, ready, go, n):
    lock = v.get_lock()
    ready.release()
    go.wait()
    for _ in range(n):
        with lock:
            v.value += 1


def once(target):
    v = mp.Value('i', 0)
    ready = mp.Semaphore(0)
    go = mp.Event()
    ps = [mp.Process(target=target, args=(v, ready, go, N)) for _ in range(PROCS)]
    for p in ps:
        p.start()
    for _ in range(PROCS):
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in ps:
        p.join()
    return (time.perf_counter() - t0) * 1000, PROCS * N - v.value


def main():
    once(locked)
    racy_ms, lost, locked_ms = [], [], []
    for _ in range(REPS):
        ms, n = once(racy)
        racy_ms.append(ms)
        lost.append(n)
        ms, n = once(locked)
        if n != 0:
            raise RuntimeError(f"{n} increments lost with the lock held")
        locked_ms.append(ms)
    print(f"METRIC value_nolock_4x20k {statistics.median(racy_ms):.3f} ms", flush=True)
    print(f"METRIC lost_nolock {statistics.median(lost)} count", flush=True)
    print(f"METRIC value_locked_4x20k {statistics.median(locked_ms):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
