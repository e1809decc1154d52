// Value and Array: numbers and lists in memory that every process shares.
//
// Normally each process has its own copy of everything. Value (one number)
// and mp.Array (a fixed-size list of numbers) live in shared memory instead:
// a child's write is seen by the parent. Each has a lock, from getLock().

function fill(total, squares) {
  for (let i = 0; i < squares.length; i++) {
    squares[i] = i * i                           // writes go straight to shared memory
    total.getLock().with(() => { total.value += squares[i] })
  }
}

const total = new Value('d', 0)                  // 'd': a double (a JS number)
const squares = mp.Array('i', 6)                 // 'i': six C ints, all 0
console.log('before:', total.value, squares.toArray())

const p = new Process({target: fill, args: [total, squares]})
p.start()
p.join()
console.log('after: ', total.value, squares.toArray(), `(length ${squares.length})`)

// C types wrap around like in C: a signed byte holds -128..127.
const b = new Value('b', 127)
b.value += 1
console.log(`Value('b', 127) + 1 reads ${b.value}`)

// arr.buffer is the shared memory itself, for typed-array speed.
const view = new Int32Array(squares.buffer)
view[0] = 100
console.log(`after writing through the buffer: squares[0] = ${squares[0]}`)
