"""queue_binary: Python side of queue_binary.js (same sizes, same protocol)."""
import multiprocessing as mp
import statistics
import time

N = 1000
SIZE = 100 * 1024
REPS = 3


def produce(q, start, n, size):
    buf = bytearray(b'\x07' * size)
    q.put('ready')
    start.get()
    for i in range(n):
        buf[0] = i & 255
        q.put(bytes(buf))


def once():
    q = mp.Queue()
    start = mp.Queue()
    p = mp.Process(target=produce, args=(q, start, N, SIZE))
    p.start()
    if q.get() != 'ready':
        raise RuntimeError('bad ready')
    t0 = time.perf_counter()
    start.put('go')
    total = 0
    for i in range(N):
        b = q.get()
        if b[0] != i & 255:
            raise RuntimeError(f'item {i} out of order')
        total += len(b)
    dt = time.perf_counter() - t0
    p.join()
    if total != N * SIZE:
        raise RuntimeError(f'bad size {total}')
    return total / (1 << 20) / dt


def main():
    once()
    xs = [once() for _ in range(REPS)]
    print(f'METRIC binary_100kb {statistics.median(xs):.1f} MB/s', flush=True)


if __name__ == '__main__':
    main()
