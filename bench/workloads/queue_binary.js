// queue_binary: a Queue of 1k binary items of 100 KB (a Uint8Array; bytes in
// Python) from one producer process into the main process, in MB/s (MiB of
// payload). Median over 3 repetitions after a warm-up; the clock runs from
// the go to the last get().
//
// target: binary_100kb >= 1.0 * py:binary_100kb

const N = 1000;
const SIZE = 100 * 1024;
const REPS = 3;

function produce(q, start, n, size) {
  const buf = new Uint8Array(size).fill(7);
  q.put('ready');
  start.get();
  for (let i = 0; i < n; i++) {
    buf[0] = i & 255;
    q.put(buf);
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
  const p = new Process({target: produce, args: [q, start, N, SIZE]});
  p.start();
  if (q.get() !== 'ready') throw new Error('bad ready');
  const t0 = performance.now();
  start.put('go');
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const b = q.get();
    if (b[0] !== (i & 255)) throw new Error(`item ${i} out of order`);
    bytes += b.byteLength;
  }
  const dt = (performance.now() - t0) / 1000;
  p.join();
  if (bytes !== N * SIZE) throw new Error(`bad size ${bytes}`);
  return bytes / (1 << 20) / dt;
}

once();
const xs = [];
for (let r = 0; r < REPS; r++) xs.push(once());
console.log(`METRIC binary_100kb ${median(xs).toFixed(1)} MB/s`);
