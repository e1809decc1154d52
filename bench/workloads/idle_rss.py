"""idle_rss: resident memory of an idle child process.

Python side of idle_rss.js: the child sleeps, the script prints
`RSSPID <pid> idle_child_rss` and joins; the harness measures VmRSS of that
pid until it is stable and then sends it SIGTERM. argv[1] is the start
method.
"""
import multiprocessing
import sys
import time


def idle(seconds):
    time.sleep(seconds)


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    p = ctx.Process(target=idle, args=(30,))
    p.start()
    print(f"RSSPID {p.pid} idle_child_rss", flush=True)
    p.join(60)
    if p.is_alive():
        p.terminate()
        p.join()
