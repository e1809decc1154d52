"""pipe_bytes: Python side of pipe_bytes.js (same sizes and counts)."""
import multiprocessing as mp
import statistics
import time

MSGS = 200
WARM = 20
REPS = 3
SIZE = 1 << 20


def send(w, n, size):
    buf = bytearray(b'\x01' * size)
    for i in range(n):
        buf[0] = i & 255
        w.send_bytes(buf)


def main():
    r, w = mp.Pipe(False)
    p = mp.Process(target=send, args=(w, WARM + REPS * MSGS, SIZE))
    p.start()
    w.close()
    for _ in range(WARM):
        r.recv_bytes()
    xs = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        total = 0
        for _ in range(MSGS):
            total += len(r.recv_bytes())
        xs.append(total / SIZE / (time.perf_counter() - t0))
    p.join()
    print(f'METRIC bytes_1mib {statistics.median(xs):.0f} MB/s', flush=True)


if __name__ == '__main__':
    main()
