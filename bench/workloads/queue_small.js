// queue_small: throughput of a Queue of small integers into the main process.
//   small_1to1   messages/s, one producer process, 100k ints
//   small_4to1   messages/s, four producer processes, 25k ints each
// The producers start, say they are ready, and wait for a go; the clock runs
// from the go to the last get(). Median over 3 repetitions.
//
// target: small_1to1 >= 2.0 * py:small_1to1
// target: small_4to1 >= 2.0 * py:small_4to1

const N = 100000;
const REPS = 3;

function produce(q, start, n) {
  q.put('ready');
  start.get();
  for (let i = 0; i < n; i++) q.put(i);
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function once(nprod) {
  const q = new Queue();
  const start = new Queue();
  const ps = [];
  for (let k = 0; k < nprod; k++) ps.push(new Process({target: produce, args: [q, start, N / nprod]}));
  for (const p of ps) p.start();
  for (let k = 0; k < nprod; k++) if (q.get() !== 'ready') throw new Error('bad ready');
  const t0 = performance.now();
  for (let k = 0; k < nprod; k++) start.put('go');
  let sum = 0;
  for (let i = 0; i < N; i++) sum += q.get();
  const dt = (performance.now() - t0) / 1000;
  for (const p of ps) p.join();
  if (sum !== nprod * (N / nprod) * (N / nprod - 1) / 2) throw new Error(`bad sum ${sum}`);
  return N / dt;
}

for (const [name, np] of [['small_1to1', 1], ['small_4to1', 4]]) {
  once(np); // warm-up
  const xs = [];
  for (let r = 0; r < REPS; r++) xs.push(once(np));
  console.log(`METRIC ${name} ${median(xs).toFixed(0)} ops/s`);
}
