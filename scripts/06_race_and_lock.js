// A race condition, and the Lock that cures it (and an atomic shortcut).
//
// Four processes each add 1 to a shared counter many times. "v.value += 1"
// is three steps — read, add, write — and two processes can read the same
// old value and both write old+1: one update is lost. The result then depends
// on timing, which is what "race condition" means.

const WORKERS = 4
const TIMES = 20000

function addUnsafely(counter, times) {
  for (let i = 0; i < times; i++) counter.value += 1          // read-modify-write: races
}

function addWithLock(counter, times) {
  const lock = counter.getLock()
  for (let i = 0; i < times; i++) lock.with(() => { counter.value += 1 })   // one at a time
}

function addAtomically(counter, times) {
  for (let i = 0; i < times; i++) counter.add(1)              // one indivisible CPU instruction
}

function run(label, target) {
  const counter = new Value('i', 0)             // an int in shared memory, with its own lock
  const ps = Array.from({length: WORKERS}, () => new Process({target, args: [counter, TIMES]}))
  const t0 = performance.now()
  ps.forEach(p => p.start())
  ps.forEach(p => p.join())
  const ms = performance.now() - t0
  const expected = WORKERS * TIMES
  const lost = expected - counter.value
  console.log(`${label}: ${counter.value} of ${expected}` +
    (lost > 0 ? `, ${lost} updates lost` : ', nothing lost') + ` (${ms.toFixed(0)} ms)`)
  return lost
}

const lost = run('without a lock ', addUnsafely)
run('with lock.with()', addWithLock)
run('with atomic add ', addAtomically)
console.log(lost > 0 ? 'The unlocked run lost updates: that is the race.'
                     : 'The unlocked run happened to lose nothing this time: races depend on timing; run it again.')
