// process_start: cost of starting and joining trivial processes.
//   start_join_seq     mean ms of one start()+join(), 30 in a row
//                      (median over 3 repetitions)
//   start_join_batch8  ms to start 8 processes at once and join them all
//                      (median over 5 repetitions)
// One warm-up start+join comes first and is not counted.
//
// variants: fork spawn
// target: start_join_seq <= 1.0 * py:start_join_seq@fork
// target: start_join_seq <= 0.2 * py:start_join_seq@spawn
// target: start_join_batch8 <= 1.0 * py:start_join_batch8@fork
// target: start_join_batch8 <= 0.2 * py:start_join_batch8@spawn

const SEQ = 30;
const SEQ_REPS = 3;
const BATCH = 8;
const BATCH_REPS = 5;

function noop() {}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function check(p) {
  if (p.exitcode !== 0) {
    throw new Error(`child ${p.pid} ended with exitcode ${p.exitcode}`);
  }
}

function startJoin() {
  const p = new Process({target: noop});
  p.start();
  p.join();
  check(p);
}

startJoin(); // warm-up

const seq = [];
for (let r = 0; r < SEQ_REPS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < SEQ; i++) startJoin();
  seq.push((performance.now() - t0) / SEQ);
}

const batch = [];
for (let r = 0; r < BATCH_REPS; r++) {
  const t0 = performance.now();
  const ps = [];
  for (let i = 0; i < BATCH; i++) ps.push(new Process({target: noop}));
  for (const p of ps) p.start();
  for (const p of ps) p.join();
  batch.push(performance.now() - t0);
  for (const p of ps) check(p);
}

console.log(`METRIC start_join_seq ${median(seq).toFixed(3)} ms`);
console.log(`METRIC start_join_batch8 ${median(batch).toFixed(3)} ms`);
