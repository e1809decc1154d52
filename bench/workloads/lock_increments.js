// lock_increments: the locked counter of the race-condition lesson.
//   locked_incr_2x100k  ms for 2 processes each doing 100k
//                       lock.acquire(); v.value += 1; lock.release() on a
//                       shared RawValue('i'), timed from a start signal to
//                       both joins (process start-up not counted); median
//                       over 5 repetitions; the count is checked exact
//
// target: locked_incr_2x100k <= 1.0 * py:locked_incr_2x100k

const N = 100000;
const PROCS = 2;
const REPS = 5;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function worker(lock, v, ready, go, n) {
  ready.release();
  go.wait();
  for (let i = 0; i < n; i++) {
    lock.acquire();
    v.value += 1;
    lock.release();
  }
}

function once() {
  const lock = new Lock();
  const v = new RawValue('i', 0);
  const ready = new Semaphore(0);
  const go = new Event();
  const ps = [];
  for (let i = 0; i < PROCS; i++) ps.push(new Process({target: worker, args: [lock, v, ready, go, N]}));
  ps.forEach((p) => p.start());
  for (let i = 0; i < PROCS; i++) ready.acquire();
  const t0 = performance.now();
  go.set();
  ps.forEach((p) => p.join());
  const ms = performance.now() - t0;
  if (v.value !== PROCS * N) throw new Error(`count ${v.value}, want ${PROCS * N}`);
  return ms;
}

once(); // warm-up
const times = [];
for (let r = 0; r < REPS; r++) times.push(once());
console.log(`METRIC locked_incr_2x100k ${median(times).toFixed(3)} ms`);
