"""pool_lifecycle: cost of a Pool's life when it does no work.

Python side of pool_lifecycle.js (same loops, same counts, same pauses).
argv[1] is the start method.
"""
import multiprocessing
import statistics
import sys
import time

N = 20
REPS = 3
PAUSE = 0.05


def close_join(ctx):
    p = ctx.Pool(2)
    p.close()
    p.join()


def terminate(ctx):
    p = ctx.Pool(2)
    p.terminate()


def latency(ctx, f):
    xs = []
    for _ in range(N):
        time.sleep(PAUSE)
        t0 = time.perf_counter()
        f(ctx)
        xs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(xs)


def in_a_row(ctx, f):
    reps = []
    for _ in range(REPS):
        time.sleep(PAUSE)
        t0 = time.perf_counter()
        for _ in range(N):
            f(ctx)
        reps.append((time.perf_counter() - t0) * 1000 / N)
    return statistics.median(reps)


def main(method):
    ctx = multiprocessing.get_context(method)
    close_join(ctx)  # warm-up
    print(f"METRIC create_teardown {latency(ctx, close_join):.3f} ms", flush=True)
    print(f"METRIC create_terminate {latency(ctx, terminate):.3f} ms", flush=True)
    print(f"METRIC create_teardown_seq {in_a_row(ctx, close_join):.3f} ms", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fork")
