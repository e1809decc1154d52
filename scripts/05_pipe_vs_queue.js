// Pipe vs Queue: two ends against many processes, and their speed.
//
//   | feature         | Pipe                   | Queue                        |
//   |-----------------|------------------------|------------------------------|
//   | connects        | exactly two ends       | any number of processes      |
//   | synchronisation | yours to arrange       | built in (safe for many)     |
//   | level           | lower, closer to the OS| higher, easier to use        |
//
// Below, the same job — send N small messages from a child to the parent —
// is done both ways, and the throughput of each is measured.

const N = 20000

function sendThroughPipe(conn, n) {
  for (let i = 0; i < n; i++) conn.send(i)
  conn.close()
}

function sendThroughQueue(q, n) {
  for (let i = 0; i < n; i++) q.put(i)
}

function measure(label, receive, start) {
  const t0 = performance.now()
  const p = start()
  let sum = 0
  for (let i = 0; i < N; i++) sum += receive()
  p.join()
  const seconds = (performance.now() - t0) / 1000
  console.log(`${label}: ${N} messages, checksum ${sum}, ${Math.round(N / seconds)} messages/s`)
}

const [readEnd, writeEnd] = Pipe(false)        // one-way: readEnd only receives, writeEnd only sends
measure('Pipe ', () => readEnd.recv(), () => {
  const p = new Process({target: sendThroughPipe, args: [writeEnd, N]})
  p.start()
  writeEnd.close()                              // the parent does not write: close its copy
  return p
})

const q = new Queue()
measure('Queue', () => q.get(), () => {
  const p = new Process({target: sendThroughQueue, args: [q, N]})
  p.start()
  return p
})

console.log('A Pipe is a private line between two ends; a Queue is a shared mailbox for everyone.')
