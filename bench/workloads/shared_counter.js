// shared_counter: the race-condition lesson, 4 processes each adding 1 to a
// shared Value('i') 20k times.
//   value_nolock_4x20k   ms for v.value += 1 with no lock around it (the
//                        Value's own lock guards each read and each write,
//                        not the pair, as in Python)
//   lost_nolock          increments lost to the race in that run (count)
//   value_locked_4x20k   ms for lock.acquire(); v.value += 1; lock.release()
//                        with lock = v.getLock(); the count is checked exact
// Timed from a start signal to the last join (process start-up not counted);
// medians over 5 repetitions, after a warm-up.
//
// target: value_locked_4x20k <= 1.0 * py:value_locked_4x20k

const N = 20000;
const PROCS = 4;
const REPS = 5;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function racy(v, ready, go, n) {
  ready.release();
  go.wait();
  for (let i = 0; i < n; i++) v.value += 1;
}

function locked(v, ready, go, n) {
  const lock = v.getLock();
  ready.release();
  go.wait();
  for (let i = 0; i < n; i++) {
    lock.acquire();
    v.value += 1;
    lock.release();
  }
}

function once(target) {
  const v = new Value('i', 0);
  const ready = new Semaphore(0);
  const go = new Event();
  const ps = [];
  for (let i = 0; i < PROCS; i++) ps.push(new Process({target, args: [v, ready, go, N]}));
  ps.forEach((p) => p.start());
  for (let i = 0; i < PROCS; i++) ready.acquire();
  const t0 = performance.now();
  go.set();
  ps.forEach((p) => p.join());
  return {ms: performance.now() - t0, lost: PROCS * N - v.value};
}

once(locked); // warm-up
const racyMs = [], lost = [], lockedMs = [];
for (let r = 0; r < REPS; r++) {
  const a = once(racy);
  racyMs.push(a.ms);
  lost.push(a.lost);
  const b = once(locked);
  if (b.lost !== 0) throw new Error(`${b.lost} increments lost with the lock held`);
  lockedMs.push(b.ms);
}
console.log(`METRIC value_nolock_4x20k ${median(racyMs).toFixed(3)} ms`);
console.log(`METRIC lost_nolock ${median(lost)} count`);
console.log(`METRIC value_locked_4x20k ${median(lockedMs).toFixed(3)} ms`);
