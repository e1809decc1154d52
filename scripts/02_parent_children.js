// A parent and its children: start several, ask if they live, wait for all.
//
// The parent process starts a few children, each with its own name and pid,
// checks which are still alive, and waits for every one of them.

function child(id, seconds) {
  sleep(seconds)
  console.log(`  [${mp.currentProcess().name}] child ${id} finished after ${seconds}s (my parent is ${mp.parentProcess().name})`)
}

console.log(`parent: ${mp.currentProcess().name}, pid ${process.pid}`)
const children = [0.1, 0.3, 0.5].map((s, i) => new Process({target: child, args: [i + 1, s], name: `child-${i + 1}`}))
children.forEach(c => c.start())
console.log(`started ${children.map(c => c.name).join(', ')}`)

sleep(0.2)
for (const c of children) console.log(`after 0.2s: ${c.name} alive=${c.isAlive()}`)

children.forEach(c => c.join())
console.log(`all joined; exit codes: ${children.map(c => c.exitcode).join(', ')}`)
console.log(`active children left: ${mp.activeChildren().length}`)
