// Run by TestNoLeaks: 300 processes in 10 waves of 30. Each one takes a task
// from a queue (a lease), puts a result on another (its put pipe), adds to
// a Value under a Lock and to another Value under the Value's own RLock, and
// makes shared objects of its own: a Lock, and an Array big enough for a
// segment of its own. After each wave (every process joined) a progress
// line, when the test counts the host's descriptors.
function work(tasks, results, lock, total, sum) {
  const i = tasks.get(true, 30)
  const own = new mp.Array('d', 4096)   // 32 KiB: a dedicated segment
  const mine = new Lock()
  mine.with(() => { own[i % own.length] = i })
  results.put({i, pid: process.pid, own: own[i % own.length]})
  lock.with(() => { total.value += 1 })
  sum.getLock().with(() => { sum.value += i })
}

const WAVES = 10, WIDTH = 30, N = WAVES * WIDTH
const tasks = new Queue(), results = new Queue(), lock = new Lock()
const total = new Value('i', 0, {lock: false}), sum = new Value('q', 0)
for (let w = 0; w < WAVES; w++) {
  const ps = []
  for (let k = 0; k < WIDTH; k++) {
    tasks.put(w * WIDTH + k)
    ps.push(new Process({target: work, args: [tasks, results, lock, total, sum]}))
  }
  ps.forEach(p => p.start())
  ps.forEach(p => {
    p.join()
    if (p.exitcode !== 0) throw new Error(`${p.name} (pid ${p.pid}) ended with exit code ${p.exitcode}`)
    p.close()
  })
  console.log('progress', (w + 1) * WIDTH)
}
// Every worker was joined: all it put is in the host already.
const seen = new Set()
let wrong = 0
for (let k = 0; k < N; k++) {
  const r = results.getNowait()
  if (seen.has(r.i) || r.own !== r.i) wrong++
  seen.add(r.i)
}
let extra = 0
for (;;) { try { results.getNowait(); extra++ } catch (e) { if (e instanceof mp.Empty) break; throw e } }
console.log('done', JSON.stringify({processes: N, results: seen.size, wrong, extra, total: total.value, sum: sum.value}))
