// idle_rss: resident memory of an idle child process.
//   idle_child_rss      VmRSS of the child, MiB
//   idle_child_rss_pss  its proportional set size (shared pages split
//                       between the processes that map them), MiB
// The child only sleeps. The script prints `RSSPID <pid> idle_child_rss`;
// the harness (not the script: this needs no file access from JavaScript)
// reads /proc/<pid>/status every 50 ms until VmRSS is the same three times
// in a row, records it, then sends the child SIGTERM, which ends the join.
//
// variants: spawn fork
// target: idle_child_rss <= 0.6 * py:idle_child_rss@spawn

function idle(seconds) {
  sleep(seconds);
}

const p = new Process({target: idle, args: [30]});
p.start();
console.log(`RSSPID ${p.pid} idle_child_rss`);
p.join(60);
if (p.isAlive()) {
  p.terminate();
  p.join();
}
