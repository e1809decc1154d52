// pool_lifecycle: cost of a Pool's life when it does no work.
//   create_teardown       ms of one Pool(2) then close() + join(): the
//                         median of 20, each after a 50 ms pause that is
//                         not timed (the latency a program sees)
//   create_terminate      the same with terminate() instead
//   create_teardown_seq   mean ms of Pool(2) + close() + join(), 20 in a row
//                         with no pause (median over 3 repetitions): a
//                         throughput bound by how fast the machine starts
//                         processes (in mpjs each worker is a fresh binary
//                         with its own VM; a Python fork copies a process)
// One warm-up pool comes first and is not counted. The workers start and
// end for real each time: a worker is a process started like any Process.
//
// variants: fork
// target: create_teardown <= 0.5 * py:create_teardown@fork
// target: create_terminate <= 0.5 * py:create_terminate@fork

const N = 20;
const REPS = 3;
const PAUSE = 0.05;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function closeJoin() {
  const p = new Pool(2);
  p.close();
  p.join();
}

function terminate() {
  const p = new Pool(2);
  p.terminate();
}

function latency(f) {
  const xs = [];
  for (let i = 0; i < N; i++) {
    sleep(PAUSE);
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function inARow(f) {
  const reps = [];
  for (let r = 0; r < REPS; r++) {
    sleep(PAUSE);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f();
    reps.push((performance.now() - t0) / N);
  }
  return median(reps);
}

closeJoin(); // warm-up

console.log(`METRIC create_teardown ${latency(closeJoin).toFixed(3)} ms`);
console.log(`METRIC create_terminate ${latency(terminate).toFixed(3)} ms`);
console.log(`METRIC create_teardown_seq ${inARow(closeJoin).toFixed(3)} ms`);
