// Run by TestChaos (chaos_test.go): mpjs chaos.js SECONDS
//
// For SECONDS, while the test SIGKILLs processes of the run at random, this
// script keeps busy:
//   producers  put sequenced items {p, seq} on a Queue and, after each
//              put() returns, record it in acked[p]; even ids on an unbounded
//              queue only the host takes from, odd ids on a bounded one (so
//              puts also wait for room) that relays take from too;
//   relays     get items from the bounded queue (leasing batches, revoked
//              when the host wants them) and put them on a third queue;
//   lockers    take a lock again and again, and bump a counter under it and
//              their own count: a Lock, a Value's RLock (twice: re-entrant)
//              or a BoundedSemaphore(1);
//   nesters    run tasks on a Pool of their own (grandchildren of the host);
//   the host   consumes the items, keeps a Pool(2) busy with apply and map
//              calls, and replaces every child that dies.
// Then it stops everything and checks what SPEC §7, §8 and §10 promise:
// every acknowledged put delivered exactly once, and in order where one
// process consumes (the one put in flight when its producer died at most
// once; the one item a relay got and had not passed on when it died went
// with it), no lock left held, lockers still making progress, every pool
// call answered with the right value or mp.BrokenProcessPool, nothing
// hanging. It prints one line, "result" and the counts as JSON, and exits 0
// (the test checks the counts).
//
// The script talks to the test with lines on stdout. "chaos begin" and
// "chaos end" frame the killing. The test answers some lines by ending a
// process named on it (a sentinel, which sleeps until then), so that the
// script waits for the test without a guess of how long it takes: "sentinel
// PID" names the one the test ends after "chaos end", once its killer has
// stopped (the checks run with nobody killing); "baseline PID" and "quiet
// PID", before the first child and after the last, ask the test to count
// the host's open descriptors (which must not have grown), then end PID.
const SECONDS = Number(process.argv[2] || 8)
const MAXID = 16384
const ROLES = {producer: 4, relay: 2, locker: 2, rlocker: 1, slocker: 1, nester: 1}
const HANG = 60 // seconds after which a wait counts as a hang

const q = new Queue(), qb = new Queue(20), fwd = new Queue()
// The arrays are synchronized (each element read or write takes the
// array's RLock, as in Python), so every role may die holding an RLock.
const acked = new mp.Array('i', MAXID)   // by producer id: puts that returned
const held = new mp.Array('i', MAXID)    // by locker id: critical sections done
const got = new mp.Array('i', MAXID)     // by relay id: gets that returned
const rv = new Value('i', 0)             // bumped under its own RLock
// The lockers' roles: the lock they take, the counter they bump under it,
// how deep they take it.
const guards = {
  locker: {lock: new Lock(), counter: new RawValue('i', 0), depth: 1, ids: []},
  rlocker: {lock: rv.getLock(), counter: rv, depth: 2, ids: []},
  slocker: {lock: new BoundedSemaphore(1), counter: new RawValue('i', 0), depth: 1, ids: []},
}
const nest = new mp.Array('i', 3)        // nested pool calls: ok, broken, wrong
const stop = new RawValue('i', 0)

function produce(q, acked, id, stop) {
  for (let seq = 0; !stop.value; seq++) {
    q.put({p: id, seq})
    acked[id] = seq + 1
    if (seq % 16 === 15) sleep(0.004)
  }
}

function relay(qb, fwd, got, id, stop) {
  while (!stop.value) {
    let it
    try { it = qb.get(true, 0.05) } catch (e) { if (e instanceof mp.Empty) continue; throw e }
    got[id] = got[id] + 1
    it.r = id
    fwd.put(it)
  }
}

function useLock(lk, counter, held, id, stop, depth) {
  const body = () => {
    counter.value = counter.value + 1
    held[id] = held[id] + 1
  }
  while (!stop.value) {
    if (depth === 2) lk.with(() => lk.with(body))
    else { lk.acquire(); body(); lk.release() }
  }
}

function double(x) { sleep(0.003); return 2 * x }

function nested(nest, stop) {
  let pool = new Pool(1)
  for (let i = 0; !stop.value; i++) {
    try {
      const v = pool.applyAsync(double, [i]).get(HANG)
      nest.add(v === 2 * i ? 0 : 2, 1)
    } catch (e) {
      if (!(e instanceof mp.BrokenProcessPool)) {
        console.log(`nested pool: ${e.name}: ${e.message}`)
        nest.add(2, 1)
        continue
      }
      nest.add(1, 1)
      // A pool whose workers die before they are ready breaks for good.
      if (/before they are ready|cannot start a worker/.test(e.message)) {
        pool.terminate()
        pool = new Pool(1)
      }
    }
  }
  pool.close()
  pool.join()
}

function sentinel() { sleep(3600) }

// handshake prints label and the pid of a new sentinel, and waits until the
// test, having acted on the line, ends it.
function handshake(label) {
  const p = new Process({target: sentinel, name: label})
  p.start()
  console.log(label, p.pid)
  p.join(HANG)
  if (p.isAlive()) { hangs++; note(`the test did not answer "${label}"`); p.kill(); p.join() }
}

const notes = []
function note(s) { if (notes.length < 20) notes.push(s) }

// Children, replaced as they die.
let nextId = 0
const kids = []
const deaths = Object.fromEntries(Object.keys(ROLES).map(r => [r, 0]))
const early = {count: 0}
let startFailures = 0
function spawn(role) {
  const id = nextId++
  if (id >= MAXID) throw new Error('too many children for the shared arrays')
  let p
  switch (role) {
    case 'producer': p = new Process({target: produce, args: [id % 2 ? qb : q, acked, id, stop], name: `producer-${id}`}); break
    case 'locker': case 'rlocker': case 'slocker': {
      const g = guards[role]
      p = new Process({target: useLock, args: [g.lock, g.counter, held, id, stop, g.depth], name: `${role}-${id}`})
      break
    }
    case 'relay': p = new Process({target: relay, args: [qb, fwd, got, id, stop], name: `relay-${id}`}); break
    case 'nester': p = new Process({target: nested, args: [nest, stop], name: `nester-${id}`}); break
  }
  try {
    p.start()
  } catch (e) {
    if (!(e instanceof mp.ProcessError)) throw e
    startFailures++
    note(`start ${p.name}: ${e.name}: ${e.message}`)
  }
  return {p, role, id}
}
const producers = [], relays = []
function track(c) {
  if (c.role === 'producer') producers.push(c.id)
  if (c.role === 'relay') relays.push(c)
  if (guards[c.role]) guards[c.role].ids.push(c.id)
  return c
}
// ended settles a child that ended: killed (-9) is what the test does; any
// other end during the chaos is a finding.
function ended(c, chaos) {
  const code = c.p.exitcode
  if (code === -9) deaths[c.role]++
  else if (code === 0 && !chaos) return
  else { early.count++; note(`${c.p.name} (pid ${c.p.pid}) ended with exit code ${code}`) }
}
function replaceDead() {
  for (let k = 0; k < kids.length; k++) {
    const c = kids[k]
    if (c.p.pid !== null) {
      if (c.p.isAlive()) continue
      c.p.join()
      ended(c, true)
    }
    kids[k] = track(spawn(c.role))
  }
}

// Consuming. The items of a producer on the unbounded queue must come as
// 0, 1, 2, ... (only the host takes them); those on the bounded one are
// counted, to be checked at the end (relays take them too).
const next = new Map()
const counts = new Map()
let delivered = 0, relayed = 0, dup = 0, gap = 0
const passed = new Map() // by relay id: items it passed on
function take(it, via) {
  delivered++
  if (via === fwd) { relayed++; passed.set(it.r, (passed.get(it.r) || 0) + 1) }
  if (it.p % 2) {
    let c = counts.get(it.p)
    if (!c) counts.set(it.p, c = [])
    c[it.seq] = (c[it.seq] || 0) + 1
    return
  }
  const n = next.get(it.p) || 0
  if (it.seq === n) next.set(it.p, n + 1)
  else if (it.seq < n) { dup++; note(`producer ${it.p}: seq ${it.seq} again, after ${n - 1}`) }
  else { gap++; note(`producer ${it.p}: seq ${it.seq} after ${n - 1}`); next.set(it.p, it.seq + 1) }
}
function drainNow(qq, until) {
  for (;;) {
    if (until !== undefined && performance.now() >= until) return
    try { take(qq.getNowait(), qq) } catch (e) { if (e instanceof mp.Empty) return; throw e }
  }
}
let rounds = 0
function consume(ms) {
  const until = performance.now() + ms
  while (performance.now() < until) {
    drainNow(q, until)
    // The relays take most of the bounded queue's items; the host now and
    // then, which makes it revoke what they leased.
    if (++rounds % 8 === 0) drainNow(qb, until)
    drainNow(fwd, until)
    try { take(q.get(true, 0.002)) } catch (e) { if (!(e instanceof mp.Empty)) throw e }
  }
}

// The host's pool: a few calls outstanding at all times.
function square(x) { sleep(0.002); return x * x }
let pool
let pending = []
let taskNo = 0, poolOk = 0, poolBroken = 0, poolOther = 0, poolRebuilds = 0, hangs = 0
let rebuild = false
function settle(t) {
  let v
  try {
    v = t.r.get(HANG)
  } catch (e) {
    if (e instanceof mp.TimeoutError) { hangs++; note(`pool ${t.kind}(${t.arg}) not answered in ${HANG} s`); return }
    if (e instanceof mp.BrokenProcessPool) {
      poolBroken++
      if (/before they are ready|cannot start a worker/.test(e.message)) rebuild = true
      return
    }
    poolOther++
    note(`pool ${t.kind}(${t.arg}): ${e.name}: ${e.message}`)
    return
  }
  const want = t.kind === 'apply' ? t.arg * t.arg : JSON.stringify(t.arg.map(x => x * x))
  if ((t.kind === 'apply' ? v : JSON.stringify(v)) === want) poolOk++
  else { poolOther++; note(`pool ${t.kind}(${t.arg}) = ${JSON.stringify(v)}`) }
}
function submit() {
  const i = taskNo++
  try {
    if (i % 3 === 0) {
      const arg = [i, i + 1, i + 2]
      pending.push({r: pool.mapAsync(square, arg, 1), kind: 'map', arg, t0: performance.now()})
    } else {
      pending.push({r: pool.applyAsync(square, [i]), kind: 'apply', arg: i, t0: performance.now()})
    }
  } catch (e) {
    if (!(e instanceof mp.BrokenProcessPool)) throw e
    poolBroken++
    rebuild = true
  }
}
function tendPool() {
  const still = []
  for (const t of pending) {
    if (t.r.ready() || performance.now() - t.t0 > HANG * 1000) settle(t)
    else still.push(t)
  }
  pending = still
  if (rebuild) {
    // A broken pool answers everything it holds with BrokenProcessPool.
    for (const t of pending) settle(t)
    pending = []
    pool.terminate()
    pool = new Pool(2)
    poolRebuilds++
    rebuild = false
  }
  while (pending.length < 4) submit()
}

// An error in this script must not leave it waiting for its children
// (the host waits for non-daemon children at exit): they stop, and the
// test sees the error.
let sentry
try {
  main()
} catch (e) {
  stop.value = 1
  if (sentry && sentry.isAlive()) sentry.kill()
  throw e
}

function main() {
  handshake('baseline')
  sentry = new Process({target: sentinel, name: 'sentinel'})
  sentry.start()
  console.log('sentinel', sentry.pid)
  pool = new Pool(2)
  for (const [role, n] of Object.entries(ROLES)) for (let k = 0; k < n; k++) kids.push(track(spawn(role)))

  console.log('chaos begin')
  const end = performance.now() + SECONDS * 1000
  while (performance.now() < end) {
    consume(20)
    replaceDead()
    tendPool()
  }
  console.log('chaos end')
  sentry.join(HANG)
  if (sentry.isAlive()) { hangs++; note('the test did not end the sentinel'); sentry.kill(); sentry.join() }

  // Nobody kills from here on. Children killed at the very end are replaced.
  replaceDead()
  const t0 = performance.now()
  const gs = Object.values(guards)
  const c0 = gs.map(g => g.counter.value)
  while (gs.some((g, k) => g.counter.value < c0[k] + 20)) {
    if (performance.now() - t0 > HANG * 1000) {
      hangs++
      note(`lockers made no progress: ${gs.map((g, k) => g.counter.value - c0[k]).join(', ')} in ${HANG} s; ` +
        kids.map(c => `${c.p.name} ${c.p.isAlive() ? 'alive' : 'ended'}`).join(', '))
      break
    }
    consume(10)
    replaceDead()
  }
  for (const t of pending) settle(t)
  pending = []
  if (rebuild) { pool.terminate(); pool = new Pool(2); poolRebuilds++ }
  try {
    const v = pool.mapAsync(square, [1, 2, 3, 4, 5, 6], 1).get(HANG)
    if (JSON.stringify(v) !== '[1,4,9,16,25,36]') { poolOther++; note(`pool after the chaos: ${JSON.stringify(v)}`) }
  } catch (e) { poolOther++; note(`pool after the chaos: ${e.name}: ${e.message}`) }

  stop.value = 1
  for (const c of kids) {
    if (c.p.pid === null) continue // its start failed
    // Consume while joining: a producer may wait for room in the bounded queue.
    while (c.p.isAlive() && performance.now() - t0 < 2 * HANG * 1000) { consume(10); c.p.join(0.01) }
    if (c.p.isAlive()) { hangs++; note(`${c.p.name} did not stop`); c.p.kill() }
    c.p.join()
    ended(c, false)
  }
  pool.close()
  pool.join()
  handshake('quiet')

  // Every child has ended and was joined: everything it put is in the host.
  drainNow(q)
  drainNow(qb)
  drainNow(fwd)
  let put = 0, missing = 0, extra = 0
  for (const id of producers) {
    const a = acked[id]
    put += a
    if (id % 2 === 0) {
      const n = next.get(id) || 0
      if (n < a) { missing += a - n; note(`producer ${id}: ${a} puts returned, ${n} items delivered`) }
      if (n > a + 1) { extra += n - a - 1; note(`producer ${id}: ${a} puts returned, ${n} items delivered`) }
      continue
    }
    const c = counts.get(id) || []
    for (let seq = 0; seq < Math.max(a + 1, c.length); seq++) {
      const k = c[seq] || 0
      if (k > 1) { dup += k - 1; note(`producer ${id}: seq ${seq} delivered ${k} times`) }
      if (k === 0 && seq < a) { missing++; note(`producer ${id}: seq ${seq} (of ${a} returned puts) not delivered`) }
      if (k > 0 && seq > a) { extra++; note(`producer ${id}: seq ${seq} delivered, ${a} puts returned`) }
    }
  }
  // Items a relay got and did not pass on went with it when it died: one
  // at most, and we know which relays had one (got says so), but for a
  // relay killed between its get() returning and its count of it.
  let withRelays = 0, relayErrors = 0
  for (const c of relays) {
    const k = got[c.id] - (passed.get(c.id) || 0)
    if (k === 1 && c.p.exitcode === -9) withRelays++
    else if (k !== 0) relayErrors++, note(`relay ${c.id} (exit ${c.p.exitcode}) got ${got[c.id]} items, passed ${passed.get(c.id) || 0} on`)
  }
  // A missing item no relay had: lost, or in the relay killed between its
  // get() returning and its count (we cannot tell these apart).
  const unexplained = missing - withRelays
  const lost = Math.max(0, unexplained - deaths.relay)
  // A locker killed inside its critical section may have bumped the counter
  // and not its own count: at most one apart per death. A counter below the
  // sum of the lockers' own counts would be two lockers inside at once.
  let lockErrors = 0, stuck = 0, lockOps = 0
  for (const [role, g] of Object.entries(guards)) {
    const own = g.ids.reduce((s, id) => s + held[id], 0)
    const gap = g.counter.value - own
    lockOps += g.counter.value
    if (gap < 0 || gap > deaths[role]) { lockErrors++; note(`${role}: counter ${g.counter.value}, lockers' own counts ${own}, ${deaths[role]} deaths`) }
    // Nobody holds it now: it must be free.
    if (!g.lock.acquire(true, 10)) { stuck++; note(`${role}: the lock is held by nobody alive`) } else g.lock.release()
  }

  console.log('result', JSON.stringify({
    seconds: SECONDS, children: nextId, deaths, early: early.count,
    put, delivered, relayed, lost, withRelays, unexplained, relayErrors, dup, gap, extra,
    lockOps, lockErrors, stuck,
    poolOk, poolBroken, poolOther, poolRebuilds,
    nestedOk: nest[0], nestedBroken: nest[1], nestedWrong: nest[2],
    startFailures, hangs, notes,
  }))
}
