// queue_objects: a Queue of 10k objects of about 1 KB (a record with
// numbers, a short string, an array and a 900-character string) from one
// producer process into the main process, in objects/s. Median over 3
// repetitions after a warm-up; the clock runs from the go to the last get().
// No target: at this size the cost is the structured-clone codec's (encoding
// and decoding an object of five properties), not the queue's.

const N = 10000;
const REPS = 3;

function produce(q, start, n) {
  const pad = 'x'.repeat(900);
  q.put('ready');
  start.get();
  for (let i = 0; i < n; i++) {
    q.put({id: i, name: `item-${i}`, score: i * 0.5, tags: ['a', 'b', 'c'], payload: pad});
  }
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function once() {
  const q = new Queue();
  const start = new Queue();
  const p = new Process({target: produce, args: [q, start, N]});
  p.start();
  if (q.get() !== 'ready') throw new Error('bad ready');
  const t0 = performance.now();
  start.put('go');
  let sum = 0;
  for (let i = 0; i < N; i++) sum += q.get().payload.length;
  const dt = (performance.now() - t0) / 1000;
  p.join();
  if (sum !== N * 900) throw new Error(`bad sum ${sum}`);
  return N / dt;
}

once();
const xs = [];
for (let r = 0; r < REPS; r++) xs.push(once());
console.log(`METRIC objects_1kb ${median(xs).toFixed(0)} ops/s`);
