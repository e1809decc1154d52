// Event and Barrier: waiting for a signal, and meeting at a point.
//
// An Event is a flag: processes wait() until someone set()s it. A Barrier
// makes N processes wait for each other: nobody passes wait() until all N
// have arrived.

function runner(start, barrier, id) {
  start.wait()                                   // everyone waits for the starting signal
  sleep(0.05 * id)                               // runners arrive at different times
  const order = barrier.wait()                   // ...but leave the barrier together
  console.log(`  runner ${id} passed the barrier (arrival index ${order})`)
}

const start = new Event()
const barrier = new Barrier(3)
const runners = [1, 2, 3].map(id => new Process({target: runner, args: [start, barrier, id]}))
runners.forEach(r => r.start())
console.log('ready... set... go!')
start.set()
runners.forEach(r => r.join())
console.log(`all ${runners.length} runners done; the event is set: ${start.isSet()}`)
