// Queue: producers put items in, consumers take them out, in any processes.
//
// A Queue is shared by as many processes as you like. put() adds an item at
// the end, get() takes the oldest one, waiting if the queue is empty. Items
// from one producer arrive in the order it put them.

function producer(q, name, count) {
  for (let i = 1; i <= count; i++) q.put(`${name}-${i}`)
  console.log(`  [${name}] put ${count} items`)
}

function consumer(q, results) {
  // A consumer takes items until it finds the "no more work" marker (null).
  let taken = 0
  for (let item = q.get(); item !== null; item = q.get()) taken++
  results.put(taken)
}

const q = new Queue()
const results = new Queue()
const producers = ['apples', 'pears'].map(name => new Process({target: producer, args: [q, name, 5]}))
const consumers = [1, 2].map(() => new Process({target: consumer, args: [q, results]}))
producers.forEach(p => p.start())
consumers.forEach(c => c.start())

producers.forEach(p => p.join())                  // all items are in the queue now
consumers.forEach(() => q.put(null))              // one stop marker per consumer
const taken = consumers.map(() => results.get())
consumers.forEach(c => c.join())
console.log(`consumers took ${taken.reduce((a, b) => a + b)} items in all (10 put)`)

// get() with a timeout raises mp.Empty when nothing comes in time.
try {
  q.get({timeout: 0.1})
} catch (e) {
  console.log(`get() on an empty queue after 0.1 s: ${e.name}`)
}
