"""queue_objects: Python side of queue_objects.js (same records, same protocol)."""
import multiprocessing as mp
import statistics
import time

N = 10000
REPS = 3


def produce(q, start, n):
    pad = 'x' * 900
    q.put('ready')
    start.get()
    for i in range(n):
        q.put({'id': i, 'name': f'item-{i}', 'score': i * 0.5, 'tags': ['a', 'b', 'c'], 'payload': pad})


def once():
    q = mp.Queue()
    start = mp.Queue()
    p = mp.Process(target=produce, args=(q, start, N))
    p.start()
    if q.get() != 'ready':
        raise RuntimeError('bad ready')
    t0 = time.perf_counter()
    start.put('go')
    total = 0
    for _ in range(N):
        total += len(q.get()['payload'])
    dt = time.perf_counter() - t0
    p.join()
    if total != N * 900:
        raise RuntimeError(f'bad sum {total}')
    return N / dt


def main():
    once()
    xs = [once() for _ in range(REPS)]
    print(f'METRIC objects_1kb {statistics.median(xs):.0f} ops/s', flush=True)


if __name__ == '__main__':
    main()
