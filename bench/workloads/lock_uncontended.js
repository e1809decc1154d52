// lock_uncontended: an uncontended Lock acquire + release, the cost a
// program pays for every critical section when nobody competes.
//   lock_pair_1m     ms for 1M lock.acquire(); lock.release() in one process
//   floor_2calls_1m  ms for 1M o.a(); o.b() with no-op natives (see
//                    floor_native.js), measured here too, alternating with
//                    the lock loop so both see the same machine
//   lock_vs_floor    lock_pair_1m / floor_2calls_1m, per repetition, median:
//                    what the lock costs beyond two native calls (goal <= 1.3)
// Medians over 9 repetitions, after a warm-up. The Python figure is for
// reference only: its interpreter runs this loop faster than goja runs an
// empty loop with two calls, so the goal is stated against the floor.

const N = 1000000;
const REPS = 9;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const lock = new Lock();
const noop = Function.prototype;
const o = Object.create({a: noop, b: noop});

function pairs(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquire();
    lock.release();
  }
  return performance.now() - t0;
}

function floor(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    o.a();
    o.b();
  }
  return performance.now() - t0;
}

pairs(N / 10); // warm-up
floor(N / 10);
const lp = [], fl = [], ratio = [];
for (let r = 0; r < REPS; r++) {
  const a = pairs(N);
  const b = floor(N);
  lp.push(a);
  fl.push(b);
  ratio.push(a / b);
}
if (lock.locked()) throw new Error('lock left held');
console.log(`METRIC lock_pair_1m ${median(lp).toFixed(3)} ms`);
console.log(`METRIC floor_2calls_1m ${median(fl).toFixed(3)} ms`);
console.log(`METRIC lock_vs_floor ${median(ratio).toFixed(3)} x`);
