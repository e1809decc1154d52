// Run by TestNoLeaks: 300 processes in 10 waves of 30. Each one makes an
// Array big enough for a segment of its own, starts a reader with it and
// kills the reader at once, most often before the reader has read its
// arguments, then ends. Nobody holds the Array any more: the host must free
// it, and close the segment's descriptor, whether or not the reader got it.
// Before that, it tries to send the Array along with something that cannot
// cross (a start and a queue put that throw TypeError): those pin nothing.
function reader(a) { a[0] = 1 }

function maker() {
  const a = new mp.Array('d', 4096) // 32 KiB: a dedicated segment
  const q = new Queue()
  for (const send of [() => new Process({target: reader, args: [a, new WeakMap()]}).start(), () => q.put([a, new WeakMap()])]) {
    try {
      send()
      throw new Error('a WeakMap crossed')
    } catch (e) {
      if (!(e instanceof TypeError)) throw e
    }
  }
  const p = new Process({target: reader, args: [a]})
  p.start()
  p.kill()
  p.join()
}

const WAVES = 10, WIDTH = 30
let killed = 0
for (let w = 0; w < WAVES; w++) {
  const ps = []
  for (let k = 0; k < WIDTH; k++) ps.push(new Process({target: maker}))
  ps.forEach(p => p.start())
  ps.forEach(p => {
    p.join()
    if (p.exitcode !== 0) throw new Error(`${p.name} (pid ${p.pid}) ended with exit code ${p.exitcode}`)
    p.close()
  })
  console.log('progress', (w + 1) * WIDTH)
}
console.log('done', JSON.stringify({processes: WAVES * WIDTH}))
