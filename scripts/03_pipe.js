// Pipe: two connected ends, and a conversation between two processes.
//
// Pipe() returns two Connection objects, one for each end of a private
// channel. Whatever one end sends, the other end receives, in order. Here the
// parent keeps one end and gives the other to a child, and they talk.

function child(conn) {
  // The child's end: wait for a question, answer it, until told to stop.
  for (;;) {
    const msg = conn.recv()                  // blocks until a message arrives
    if (msg === 'bye') break
    console.log(`  [child]  got: ${JSON.stringify(msg)}`)
    conn.send({answer: msg.n * msg.n, from: process.pid})
  }
  conn.send('bye to you too')
  conn.close()
}

const [parentEnd, childEnd] = Pipe()         // duplex: both ends can send and receive
const p = new Process({target: child, args: [childEnd]})
p.start()
childEnd.close()          // the child has its own copy of this end; the parent closes its one

for (const n of [2, 3, 4]) {
  parentEnd.send({question: 'square?', n})   // any value that can be copied travels
  const reply = parentEnd.recv()
  console.log(`[parent] ${n}² = ${reply.answer} (answered by ${reply.from === p.pid ? 'the child' : 'someone else'}, pid ${reply.from})`)
}
parentEnd.send('bye')
console.log(`[parent] last word: ${parentEnd.recv()}`)
p.join()

// Once every copy of the other end is closed (the child closed its copy and
// exited, the parent closed its own after start), there is nothing more to
// read: recv() says so with mp.EOFError instead of waiting forever.
try {
  parentEnd.recv()
} catch (e) {
  console.log(`[parent] recv() after the child left: ${e.name}`)
}
