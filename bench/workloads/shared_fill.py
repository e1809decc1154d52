"""shared_fill: Python side of shared_fill.js.

A child fills a multiprocessing.Array('d', 1M) element by element (each
write takes the array's lock), and one by one through
memoryview(arr.get_obj()), the closest Python has to arr.buffer; the parent
sums it element by element and through a memoryview. Medians over 3
repetitions. Default start method (fork on Linux).
"""
import multiprocessing as mp
import statistics
import time

N = 1_000_000
REPS = 3
WANT = N * (N - 1) // 2


def fill_elementwise(arr, ms):
    n = len(arr)
    t0 = time.perf_counter()
    for i in range(n):
        arr[i] = i
    ms.value = (time.perf_counter() - t0) * 1000


def fill_view(arr, ms):
    t0 = time.perf_counter()
    f = memoryview(arr.get_obj()).cast('B').cast('d')
    for i in range(len(f)):
        f[i] = i
    ms.value = (time.perf_counter() - t0) * 1000


def in_child(target, arr):
    ms = mp.RawValue('d')
    p = mp.Process(target=target, args=(arr, ms))
    p.start()
    p.join()
    if p.exitcode != 0:
        raise RuntimeError(f"child exitcode {p.exitcode}")
    return ms.value


def sum_elementwise(arr):
    s = 0
    for i in range(len(arr)):
        s += arr[i]
    return s


def sum_view(arr):
    f = memoryview(arr.get_obj()).cast('B').cast('d')
    s = 0
    for i in range(len(f)):
        s += f[i]
    return s


def timed(fn, arr):
    t0 = time.perf_counter()
    s = fn(arr)
    if s != WANT:
        raise RuntimeError(f"sum {s}, want {WANT}")
    return (time.perf_counter() - t0) * 1000


def main():
    el, view, sum_el, sum_v = [], [], [], []
    for _ in range(REPS):
        arr = mp.Array('d', N)
        el.append(in_child(fill_elementwise, arr))
        sum_el.append(timed(sum_elementwise, arr))
        arr = mp.Array('d', N)
        view.append(in_child(fill_view, arr))
        sum_v.append(timed(sum_view, arr))
    print(f"METRIC fill_elementwise_1m {statistics.median(el):.3f} ms", flush=True)
    print(f"METRIC fill_view_1m {statistics.median(view):.3f} ms", flush=True)
    print(f"METRIC sum_parent_1m {statistics.median(sum_el):.3f} ms", flush=True)
    print(f"METRIC sum_view_1m {statistics.median(sum_v):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
