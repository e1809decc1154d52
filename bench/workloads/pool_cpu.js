// pool_cpu: a CPU-bound job, serial and on Pool(2).
//   serial_ms   ms to count the primes below 1e6 (trial division) in 8
//               ranges, one after the other, in this process
//   pool_ms     ms for the same 8 ranges through Pool(2).map(..., 1)
//   speedup     serial_ms / pool_ms (2 workers: 2.0 at best)
// One repetition each (after a warm-up of one small range in the pool);
// the pool is made before the clock starts. On a machine that is busy
// with other work the speedup cannot reach 2: the harness prints the load
// average at the start and end of the run, and the Python side reports the
// 1-minute load average it saw as load_1m.
//
// variants: fork
// target: speedup >= 0.95 * py:speedup@fork

const LIMIT = 1000000;
const PARTS = 8;

function countPrimes(lo, hi) {
  let n = 0;
  for (let k = Math.max(lo, 2); k < hi; k++) {
    if (k % 2 === 0) { if (k === 2) n++; continue; }
    let prime = true;
    for (let d = 3; d * d <= k; d += 2) {
      if (k % d === 0) { prime = false; break; }
    }
    if (prime) n++;
  }
  return n;
}

const ranges = [];
for (let i = 0; i < PARTS; i++) ranges.push([i * LIMIT / PARTS, (i + 1) * LIMIT / PARTS]);

const pool = new Pool(2);
pool.starmap(countPrimes, [[0, 1000], [1000, 2000]], 1); // warm-up

let t0 = performance.now();
let serial = 0;
for (const [lo, hi] of ranges) serial += countPrimes(lo, hi);
const serialMs = performance.now() - t0;

t0 = performance.now();
const parallel = pool.starmap(countPrimes, ranges, 1).reduce((a, b) => a + b, 0);
const poolMs = performance.now() - t0;
pool.close();
pool.join();

if (serial !== 78498 || parallel !== serial) {
  throw new Error(`wrong count: serial ${serial}, pool ${parallel}`);
}
console.log(`METRIC serial_ms ${serialMs.toFixed(1)} ms`);
console.log(`METRIC pool_ms ${poolMs.toFixed(1)} ms`);
console.log(`METRIC speedup ${(serialMs / poolMs).toFixed(3)} x`);
