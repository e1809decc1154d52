// pipe_bytes: one-way throughput of 1 MiB messages over a Pipe(false), sent
// with sendBytes by a child and received with recvBytes by the main process,
// in MB/s (MiB per second; 200 messages, median over 3 repetitions, after a
// warm-up of 20).
//
// target: bytes_1mib >= 2.0 * py:bytes_1mib

const MSGS = 200;
const WARM = 20;
const REPS = 3;
const SIZE = 1 << 20;

function send(w, n, size) {
  const buf = new Uint8Array(size).fill(1);
  for (let i = 0; i < n; i++) {
    buf[0] = i & 255;
    w.sendBytes(buf);
  }
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const [r, w] = Pipe(false);
const p = new Process({target: send, args: [w, WARM + REPS * MSGS, SIZE]});
p.start();
w.close();
for (let i = 0; i < WARM; i++) r.recvBytes();
const xs = [];
for (let k = 0; k < REPS; k++) {
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < MSGS; i++) bytes += r.recvBytes().byteLength;
  xs.push(bytes / SIZE / ((performance.now() - t0) / 1000));
}
p.join();
console.log(`METRIC bytes_1mib ${median(xs).toFixed(0)} MB/s`);
