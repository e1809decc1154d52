"""pipe_pingpong: Python side of pipe_pingpong.js (same counts)."""
import multiprocessing as mp
import statistics
import time

ROUNDS = 2000
WARM = 200
REPS = 5


def echo(c):
    while True:
        v = c.recv()
        if v == -1:
            return
        c.send(v)


def main():
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b,))
    p.start()
    b.close()
    for i in range(WARM):
        a.send(i)
        a.recv()
    xs = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        for i in range(ROUNDS):
            a.send(i)
            if a.recv() != i:
                raise RuntimeError('bad echo')
        xs.append((time.perf_counter() - t0) * 1e6 / ROUNDS)
    a.send(-1)
    p.join()
    print(f'METRIC pingpong_rtt {statistics.median(xs):.2f} us', flush=True)


if __name__ == '__main__':
    main()
