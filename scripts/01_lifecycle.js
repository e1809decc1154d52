// The life of a process: create, start, run, terminate, join, exit code.
//
// A Process is a separate program running at the same time as this one, with
// its own memory. Here we walk one through its whole life and look at it at
// every step, as Python's multiprocessing lets you do.

function worker(seconds) {
  // This runs in the child process: a different pid from the parent's.
  console.log(`  [child] hello from ${mp.currentProcess().name}, pid ${process.pid}`)
  sleep(seconds)
  console.log('  [child] done working, exiting')
}

// 1. Creation: the object exists, but no process runs yet.
const p = new Process({target: worker, args: [0.2]})
console.log(`1. created ${p.name}: pid=${p.pid}, alive=${p.isAlive()}`)

// 2. Start: a new OS process runs worker(0.2).
p.start()
console.log(`2. started: pid=${p.pid}, alive=${p.isAlive()}`)

// 3. Join: the parent waits until the child ends.
p.join()
console.log(`3. joined: alive=${p.isAlive()}, exitcode=${p.exitcode} (0 means success)`)

// 4. Terminate: stop a process that would run for a long time.
const sleeper = new Process({target: worker, args: [60], name: 'sleeper'})
sleeper.start()
sleep(0.2)
sleeper.terminate()
sleeper.join()
console.log(`4. terminated ${sleeper.name}: exitcode=${sleeper.exitcode} (-15 = killed by SIGTERM)`)
