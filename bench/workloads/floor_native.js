// floor_native: the floor under any method of an mp object, a goja loop
// making two no-op native calls per iteration.
//   floor_2calls_1m  ms for 1M iterations of o.a(); o.b(), where a and b are
//                    Function.prototype (a built-in native function that does
//                    nothing) reached through the prototype, as a lock's
//                    acquire and release are (median over 7 repetitions,
//                    after a warm-up)
// No Python counterpart: lock_uncontended compares with it in-process.

const N = 1000000;
const REPS = 7;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const noop = Function.prototype;
const o = Object.create({a: noop, b: noop});

function floor(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    o.a();
    o.b();
  }
  return performance.now() - t0;
}

floor(N / 10); // warm-up
const times = [];
for (let r = 0; r < REPS; r++) times.push(floor(N));
console.log(`METRIC floor_2calls_1m ${median(times).toFixed(3)} ms`);
