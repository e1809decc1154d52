"""queue_small: Python side of queue_small.js (same counts, same protocol)."""
import multiprocessing as mp
import statistics
import time

N = 100000
REPS = 3


def produce(q, start, n):
    q.put('ready')
    start.get()
    for i in range(n):
        q.put(i)


def once(nprod):
    q = mp.Queue()
    start = mp.Queue()
    ps = [mp.Process(target=produce, args=(q, start, N // nprod)) for _ in range(nprod)]
    for p in ps:
        p.start()
    for _ in range(nprod):
        if q.get() != 'ready':
            raise RuntimeError('bad ready')
    t0 = time.perf_counter()
    for _ in range(nprod):
        start.put('go')
    total = 0
    for _ in range(N):
        total += q.get()
    dt = time.perf_counter() - t0
    for p in ps:
        p.join()
    m = N // nprod
    if total != nprod * m * (m - 1) // 2:
        raise RuntimeError(f'bad sum {total}')
    return N / dt


def main():
    for name, np_ in (('small_1to1', 1), ('small_4to1', 4)):
        once(np_)  # warm-up
        xs = [once(np_) for _ in range(REPS)]
        print(f'METRIC {name} {statistics.median(xs):.0f} ops/s', flush=True)


if __name__ == '__main__':
    main()
