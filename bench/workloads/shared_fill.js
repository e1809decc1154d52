// shared_fill: a child fills a shared Array('d', 1M), the parent reads it.
//   fill_elementwise_1m  ms for the child's arr[i] = i over the synchronized
//                        array (each write takes its lock, as in Python)
//   fill_view_1m         ms for the same writes one by one through a
//                        Float64Array over arr.buffer (no lock): what a
//                        per-element JavaScript loop costs in goja
//   fill_buffer_1m       ms for filling through arr.buffer with a typed-array
//                        operation, new Float64Array(arr.buffer).fill(0.5):
//                        the shared memory at typed-array speed
//   sum_parent_1m        ms for the parent's sum of arr[i] (with the lock)
//   sum_view_1m          ms for the parent's sum through a Float64Array view
// The child times itself and reports through a RawValue; the parent checks
// every sum. Medians over 3 repetitions.
//
// target: fill_buffer_1m <= 0.1 * py:fill_elementwise_1m
// target: fill_elementwise_1m <= 1.0 * py:fill_elementwise_1m

const N = 1000000;
const REPS = 3;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function fillElementwise(arr, ms) {
  const n = arr.length;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) arr[i] = i;
  ms.value = performance.now() - t0;
}

function fillView(arr, ms) {
  const t0 = performance.now();
  const f = new Float64Array(arr.buffer);
  const n = f.length;
  for (let i = 0; i < n; i++) f[i] = i;
  ms.value = performance.now() - t0;
}

function fillBuffer(arr, ms) {
  const t0 = performance.now();
  new Float64Array(arr.buffer).fill(0.5);
  ms.value = performance.now() - t0;
}

function inChild(target, arr) {
  const ms = new RawValue('d');
  const p = new Process({target, args: [arr, ms]});
  p.start();
  p.join();
  if (p.exitcode !== 0) throw new Error(`child exitcode ${p.exitcode}`);
  return ms.value;
}

function sumElementwise(arr) {
  const n = arr.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += arr[i];
  return s;
}

function sumView(arr) {
  const f = new Float64Array(arr.buffer);
  const n = f.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += f[i];
  return s;
}

function timed(fn, arr, want) {
  const t0 = performance.now();
  const s = fn(arr);
  if (s !== want) throw new Error(`sum ${s}, want ${want}`);
  return performance.now() - t0;
}

const INDEX_SUM = (N * (N - 1)) / 2;
const el = [], view = [], buf = [], sumEl = [], sumV = [];
for (let r = 0; r < REPS; r++) {
  let arr = new SharedArray('d', N);
  el.push(inChild(fillElementwise, arr));
  sumEl.push(timed(sumElementwise, arr, INDEX_SUM));
  arr = new SharedArray('d', N);
  view.push(inChild(fillView, arr));
  sumV.push(timed(sumView, arr, INDEX_SUM));
  arr = new SharedArray('d', N);
  buf.push(inChild(fillBuffer, arr));
  timed(sumView, arr, N * 0.5);
}
console.log(`METRIC fill_elementwise_1m ${median(el).toFixed(3)} ms`);
console.log(`METRIC fill_view_1m ${median(view).toFixed(3)} ms`);
console.log(`METRIC fill_buffer_1m ${median(buf).toFixed(3)} ms`);
console.log(`METRIC sum_parent_1m ${median(sumEl).toFixed(3)} ms`);
console.log(`METRIC sum_view_1m ${median(sumV).toFixed(3)} ms`);
