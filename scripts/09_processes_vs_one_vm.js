// Processes vs one VM: real parallelism, isolation, and what a process costs.
//
// JavaScript runs one thing at a time in a VM. Processes each have their own
// VM and their own core: a CPU-bound job split across a Pool runs faster. A
// crash in one process does not harm the others. The price is memory.

function countPrimes(from, to) {
  let count = 0
  for (let n = Math.max(from, 2); n < to; n++) {
    let prime = true
    for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break }
    if (prime) count++
  }
  return count
}

const LIMIT = 300000
const CHUNKS = 8
const ranges = Array.from({length: CHUNKS}, (_, i) => [i * LIMIT / CHUNKS, (i + 1) * LIMIT / CHUNKS])

let t0 = performance.now()
const serial = ranges.reduce((sum, [a, b]) => sum + countPrimes(a, b), 0)
const serialMs = performance.now() - t0

const pool = new Pool(mp.cpuCount())
pool.starmap(countPrimes, [[0, 10], [10, 20]])        // wake the workers up before timing
t0 = performance.now()
const parallel = pool.starmap(countPrimes, ranges).reduce((a, b) => a + b, 0)
const parallelMs = performance.now() - t0
console.log(`primes below ${LIMIT}: ${serial} (one VM, ${serialMs.toFixed(0)} ms) = ${parallel} (${mp.cpuCount()} workers, ${parallelMs.toFixed(0)} ms)`)
console.log(`speed-up: ${(serialMs / parallelMs).toFixed(2)}x on ${mp.cpuCount()} CPUs`)

// Isolation: one child crashes, its sibling finishes its work.
function crash() { throw new Error('this child fails on purpose') }
function steady() { sleep(0.1); console.log('  [steady] finished my work') }
const bad = new Process({target: crash, name: 'crasher'})
const good = new Process({target: steady, name: 'steady'})
bad.start(); good.start(); bad.join(); good.join()
console.log(`crasher exitcode ${bad.exitcode}, steady exitcode ${good.exitcode}: the crash stayed in its process`)

// The price: each process has its own VM and memory. Ask the workers.
function myMemory() { return process.memoryUsage().rss }
const MB = 1024 * 1024
const workerRss = pool.map(myMemory, [1, 2], 1)
pool.terminate()
console.log(`memory (RSS): this process ${(process.memoryUsage().rss / MB).toFixed(1)} MB, ` +
  `each worker about ${(workerRss.reduce((a, b) => a + b) / workerRss.length / MB).toFixed(1)} MB`)
