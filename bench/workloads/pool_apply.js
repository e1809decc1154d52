// pool_apply: applyAsync throughput on Pool(2).
//   apply_async_rate  tasks/s of 10k applyAsync(double, [i]) followed by
//                     get() on every result, in order (median over 5
//                     repetitions, after a warm-up of 1000)
//   apply_sync_rate   tasks/s of 2000 apply(double, [i]) in a row: one task
//                     in flight at a time, so this is the round trip
//
// variants: fork
// target: apply_async_rate >= 2.0 * py:apply_async_rate@fork

const N = 10000;
const SYNC = 2000;
const REPS = 5;

function double(x) {
  return x * 2;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function burst(pool, n) {
  const rs = [];
  for (let i = 0; i < n; i++) rs.push(pool.applyAsync(double, [i]));
  for (let i = 0; i < n; i++) {
    if (rs[i].get() !== 2 * i) throw new Error(`wrong result for ${i}`);
  }
}

const pool = new Pool(2);
burst(pool, 1000); // warm-up

const rates = [];
for (let r = 0; r < REPS; r++) {
  const t0 = performance.now();
  burst(pool, N);
  rates.push(N / ((performance.now() - t0) / 1000));
}
const sync = [];
for (let r = 0; r < REPS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < SYNC; i++) pool.apply(double, [i]);
  sync.push(SYNC / ((performance.now() - t0) / 1000));
}
pool.close();
pool.join();

console.log(`METRIC apply_async_rate ${median(rates).toFixed(0)} ops/s`);
console.log(`METRIC apply_sync_rate ${median(sync).toFixed(0)} ops/s`);
