"""process_start: cost of starting and joining trivial processes.

Python side of process_start.js (same loops, same counts). argv[1] is the
start method (fork, spawn, forkserver); the harness runs it once per variant
declared in process_start.js.
"""
import multiprocessing
import statistics
import sys
import time

SEQ = 30
SEQ_REPS = 3
BATCH = 8
BATCH_REPS = 5


def noop():
    pass


def check(p):
    if p.exitcode != 0:
        raise RuntimeError(f"child {p.pid} ended with exitcode {p.exitcode}")


def start_join(ctx):
    p = ctx.Process(target=noop)
    p.start()
    p.join()
    check(p)


def main(method):
    ctx = multiprocessing.get_context(method)
    start_join(ctx)  # warm-up

    seq = []
    for _ in range(SEQ_REPS):
        t0 = time.perf_counter()
        for _ in range(SEQ):
            start_join(ctx)
        seq.append((time.perf_counter() - t0) * 1000 / SEQ)

    batch = []
    for _ in range(BATCH_REPS):
        t0 = time.perf_counter()
        ps = [ctx.Process(target=noop) for _ in range(BATCH)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        batch.append((time.perf_counter() - t0) * 1000)
        for p in ps:
            check(p)

    print(f"METRIC start_join_seq {statistics.median(seq):.3f} ms", flush=True)
    print(f"METRIC start_join_batch8 {statistics.median(batch):.3f} ms", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "spawn")
