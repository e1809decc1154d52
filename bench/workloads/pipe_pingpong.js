// pipe_pingpong: round trip of a small integer over a duplex Pipe between the
// main process and a child that echoes it, in µs (mean of 2000 round trips,
// median over 5 repetitions, after 200 round trips of warm-up).
//
// target: pingpong_rtt <= 0.6 * py:pingpong_rtt

const ROUNDS = 2000;
const WARM = 200;
const REPS = 5;

function echo(c) {
  for (;;) {
    const v = c.recv();
    if (v === -1) return;
    c.send(v);
  }
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const [a, b] = Pipe();
const p = new Process({target: echo, args: [b]});
p.start();
b.close();
for (let i = 0; i < WARM; i++) { a.send(i); a.recv(); }
const xs = [];
for (let r = 0; r < REPS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    a.send(i);
    if (a.recv() !== i) throw new Error('bad echo');
  }
  xs.push((performance.now() - t0) * 1000 / ROUNDS);
}
a.send(-1);
p.join();
console.log(`METRIC pingpong_rtt ${median(xs).toFixed(2)} us`);
