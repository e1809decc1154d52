// pool_map: throughput of Pool.map with trivial items, on Pool(2).
//   map_100k     ms of map(double, 100k numbers) with the default chunksize
//                (ceil(n / (4 × workers)): 8 chunks of 12500)
//   map_10k_c1   ms of map(double, 10k numbers, chunksize 1): 10k tasks
//   imap_10k     ms to consume imap(double, 10k numbers) (chunksize 1)
// Each is the median over 5 repetitions, after one warm-up map; the pool is
// made before the clock starts.
//
// variants: fork
// target: map_100k <= 1.0 * py:map_100k@fork
// target: map_10k_c1 <= 1.0 * py:map_10k_c1@fork

const REPS = 5;

function double(x) {
  return x * 2;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function check(out, n) {
  if (out.length !== n || out[n - 1] !== 2 * (n - 1)) {
    throw new Error(`wrong result: length ${out.length}, last ${out[out.length - 1]}`);
  }
}

function measure(f) {
  const reps = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    f();
    reps.push(performance.now() - t0);
  }
  return median(reps);
}

const big = Array.from({length: 100000}, (_, i) => i);
const small = Array.from({length: 10000}, (_, i) => i);
const pool = new Pool(2);
check(pool.map(double, small), small.length); // warm-up

const map100k = measure(() => check(pool.map(double, big), big.length));
const map10k = measure(() => check(pool.map(double, small, 1), small.length));
const imap10k = measure(() => {
  const out = [];
  for (const v of pool.imap(double, small)) out.push(v);
  check(out, small.length);
});
pool.close();
pool.join();

console.log(`METRIC map_100k ${map100k.toFixed(3)} ms`);
console.log(`METRIC map_10k_c1 ${map10k.toFixed(3)} ms`);
console.log(`METRIC imap_10k ${imap10k.toFixed(3)} ms`);
