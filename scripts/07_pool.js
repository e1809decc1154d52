// Pool: a team of reusable worker processes.
//
// Creating a process costs time. A Pool starts a few workers once and hands
// them task after task: map() over a list, apply() one call, and their async
// forms that return at once and call you back when the result is ready.

function square(x) { return x * x }
function describe(name, n) { return `${name} has ${n} letters (worked on by ${mp.currentProcess().name})` }

const pool = new Pool(2)                               // two workers, started now

console.log('map:        ', pool.map(square, [1, 2, 3, 4, 5]))      // results in order
console.log('apply:      ', pool.apply(describe, ['Ada', 3]))

const async1 = pool.mapAsync(square, [6, 7, 8], {callback: r => console.log('callback:   ', r)})
async1.wait()                                          // the callback has run by now
const async2 = pool.applyAsync(square, [9])
console.log('applyAsync: ', async2.get(), '(ready:', async2.ready() + ', successful:', async2.successful() + ')')

// Why reuse workers? Time 20 one-off processes against 20 pool tasks.
function noop() {}
let t0 = performance.now()
for (let i = 0; i < 20; i++) { const p = new Process({target: noop}); p.start(); p.join() }
const fresh = performance.now() - t0
t0 = performance.now()
for (let i = 0; i < 20; i++) pool.apply(noop, [])
const reused = performance.now() - t0
console.log(`20 new processes: ${fresh.toFixed(1)} ms; 20 tasks on pool workers: ${reused.toFixed(1)} ms`)

pool.close()                                           // no more work
pool.join()                                            // wait for the workers to finish
