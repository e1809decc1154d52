// Run by TestNoLeaks: 1,000 processes, one after the other (start, join).
// Every 50 a progress line, when the test counts the host's descriptors.
function nothing() {}
const N = 1000
for (let i = 1; i <= N; i++) {
  const p = new Process({target: nothing})
  p.start()
  p.join()
  if (p.exitcode !== 0) throw new Error(`process ${i} (pid ${p.pid}) ended with exit code ${p.exitcode}`)
  p.close()
  if (i % 50 === 0) console.log('progress', i)
}
console.log('done', JSON.stringify({processes: N}))
