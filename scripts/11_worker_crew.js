// A worker crew with a JoinableQueue: know when every task is done.
//
// A JoinableQueue counts unfinished tasks: put() adds one, taskDone() marks
// one finished, and join() waits until the count is back to zero. Daemon
// workers loop forever and are stopped when the main program ends.

function worker(tasks, results) {
  for (;;) {
    const n = tasks.get()
    results.put([n, n * n])
    tasks.taskDone()                             // this task is finished
  }
}

const tasks = new JoinableQueue()
const results = new Queue()
for (let i = 0; i < 3; i++) new Process({target: worker, args: [tasks, results], daemon: true}).start()

for (let n = 1; n <= 10; n++) tasks.put(n)
tasks.join()                                     // returns when all 10 are done
const squares = new Map()
for (let i = 0; i < 10; i++) { const [n, sq] = results.get(); squares.set(n, sq) }
console.log('all tasks done:', [...squares.keys()].sort((a, b) => a - b).map(n => `${n}²=${squares.get(n)}`).join(' '))
