package host

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"
)

// The synchronization primitives of mpjs are words in shared memory (see
// shm.go), operated on with sync/atomic and slept on with futexes. None of
// them talks to the host: an uncontended Lock acquire is one compare-and-swap,
// a release one swap. The host only steps in when a process ends while it
// holds one (see shmService.exited in sync.go).
//
// Every owned word holds the Owner of the process that holds it, so the host
// can tell whose it is:
//
//	bit 31      waitersBit: someone may be asleep on the word
//	bits 0..30  the Owner (0: free)

// Owner identifies a lock holder in lock words: the process's ProcInfo.ID + 1,
// never 0 and never reused in a run (a pid could be).
type Owner uint32

// OwnerOf returns the Owner of the process with ProcInfo.ID id.
func OwnerOf(id int64) Owner { return Owner(uint32(id+1) & ownerMask) }

const (
	waitersBit = 1 << 31
	ownerMask  = waitersBit - 1
)

// spins is how many times a contended acquire looks again before it sleeps
// in the kernel: a lock held for a few hundred nanoseconds (the usual
// critical section) is often free by then, and a futex sleep plus wake costs
// microseconds on both sides.
//
// The waiter looks less often as it goes on (exponential backoff up to
// maxBackoff pauses), which leaves the holder's cache line alone; all in all
// it spins for some microseconds.
const (
	spins      = 100
	maxBackoff = 8
)

// Errors of the primitives; the bindings turn them into JavaScript errors.
var (
	ErrNotLocked      = errors.New("release unlocked lock")
	ErrNotOwner       = errors.New("cannot release un-acquired lock")
	ErrTooManyRelease = errors.New("semaphore or lock released too many times")
	ErrBrokenBarrier  = errors.New("the barrier is broken")
)

// pause lets a spinning waiter wait a little without a system call.
//
//go:noinline
func pause() {
	for i := 0; i < 20; i++ {
	}
}

func words(p unsafe.Pointer, n int) []uint32 { return unsafe.Slice((*uint32)(p), n) }

// Mutex is a lock word (Drepper's futex mutex with the owner in the word).
type Mutex struct{ w *uint32 }

// MutexAt returns the Mutex whose word is at p.
func MutexAt(p *uint32) Mutex { return Mutex{p} }

// TryLock takes the lock if it is free.
func (m Mutex) TryLock(o Owner) bool { return atomic.CompareAndSwapUint32(m.w, 0, uint32(o)) }

// Lock takes the lock, waiting at most timeout (forever if negative; 0 tries
// once). It reports whether it got the lock.
func (m Mutex) Lock(o Owner, timeout time.Duration) bool {
	if atomic.CompareAndSwapUint32(m.w, 0, uint32(o)) {
		return true
	}
	if timeout == 0 {
		return false
	}
	return m.lockSlow(o, deadlineAfter(timeout))
}

func (m Mutex) lockSlow(o Owner, dl deadline) bool {
	// Spin first, even when others sleep already: taking the lock without
	// the waiters bit is safe, because a sleeper that is woken and finds
	// the lock taken marks the word again before it sleeps.
	for i, backoff := 0, 1; i < spins; i++ {
		if atomic.LoadUint32(m.w) == 0 && atomic.CompareAndSwapUint32(m.w, 0, uint32(o)) {
			return true
		}
		for j := 0; j < backoff; j++ {
			pause()
		}
		backoff = min(2*backoff, maxBackoff)
	}
	// From here on the word is marked: whoever releases it wakes a sleeper.
	for {
		v := atomic.LoadUint32(m.w)
		if v == 0 {
			if atomic.CompareAndSwapUint32(m.w, 0, uint32(o)|waitersBit) {
				return true
			}
			continue
		}
		if v&waitersBit == 0 && !atomic.CompareAndSwapUint32(m.w, v, v|waitersBit) {
			continue
		}
		left := dl.left()
		if left == 0 {
			return false
		}
		futexWait(m.w, v|waitersBit, left)
	}
}

// Unlock frees the lock, whoever holds it (a Lock may be released by another
// process, as in Python). It reports false when the lock was not held.
func (m Mutex) Unlock() bool {
	v := atomic.SwapUint32(m.w, 0)
	if v&waitersBit != 0 {
		futexWake(m.w, 1)
	}
	return v != 0
}

// Owner returns the holder, 0 when free.
func (m Mutex) Owner() Owner { return Owner(atomic.LoadUint32(m.w) & ownerMask) }

// Locked reports whether someone holds the lock.
func (m Mutex) Locked() bool { return atomic.LoadUint32(m.w) != 0 }

// forceRelease frees the lock if dead holds it, waking every sleeper. It
// reports whether it did.
func (m Mutex) forceRelease(dead Owner) bool {
	for {
		v := atomic.LoadUint32(m.w)
		if v == 0 || Owner(v&ownerMask) != dead {
			return false
		}
		if atomic.CompareAndSwapUint32(m.w, v, 0) {
			if v&waitersBit != 0 {
				futexWake(m.w, -1)
			}
			return true
		}
	}
}

// RMutex is a re-entrant lock: word 0 is a Mutex, word 1 the depth, which
// only the holder touches.
type RMutex struct {
	m     Mutex
	depth *uint32
}

// RMutexAt returns the RMutex whose two words start at p.
func RMutexAt(p *uint32) RMutex {
	w := words(unsafe.Pointer(p), 2)
	return RMutex{Mutex{&w[0]}, &w[1]}
}

// Lock takes the lock or, if o holds it already, goes one level deeper.
func (r RMutex) Lock(o Owner, timeout time.Duration) bool {
	if atomic.CompareAndSwapUint32(r.m.w, 0, uint32(o)) {
		atomic.StoreUint32(r.depth, 1)
		return true
	}
	if r.m.Owner() == o {
		atomic.AddUint32(r.depth, 1)
		return true
	}
	if timeout == 0 || !r.m.lockSlow(o, deadlineAfter(timeout)) {
		return false
	}
	atomic.StoreUint32(r.depth, 1)
	return true
}

// Unlock leaves one level; the last one frees the lock. Only the holder may.
func (r RMutex) Unlock(o Owner) error {
	if r.m.Owner() != o {
		return ErrNotOwner
	}
	if atomic.AddUint32(r.depth, ^uint32(0)) == 0 {
		r.m.Unlock()
	}
	return nil
}

// UnlockAll frees the lock whatever its depth and returns the depth, for
// RestoreLock (Condition.wait releases an RLock entirely).
func (r RMutex) UnlockAll(o Owner) (uint32, error) {
	if r.m.Owner() != o {
		return 0, ErrNotOwner
	}
	d := atomic.SwapUint32(r.depth, 0)
	r.m.Unlock()
	return d, nil
}

// RestoreLock takes the lock again, blocking, at the depth UnlockAll saved.
func (r RMutex) RestoreLock(o Owner, depth uint32) {
	r.m.Lock(o, -1)
	atomic.StoreUint32(r.depth, depth)
}

// Owner returns the holder, 0 when free.
func (r RMutex) Owner() Owner { return r.m.Owner() }

// Depth is how many times the holder took the lock.
func (r RMutex) Depth() uint32 { return atomic.LoadUint32(r.depth) }

func (r RMutex) forceRelease(dead Owner) bool {
	if r.m.Owner() != dead {
		return false
	}
	atomic.StoreUint32(r.depth, 0)
	return r.m.forceRelease(dead)
}

// Semaphore layout, 32 words (128 bytes):
//
//	0..1    the state, one 64-bit word: the count in its low half (word 0,
//	        which sleepers wait on) and, in its high half (word 1), the
//	        Owner whose change of the count is in flight (0: none)
//	2       sleepers
//	3       bound (BoundedSemaphore: the initial value; 0: none)
//	4       1 when units are tracked per holder (the initial value is > 0)
//	6..31   13 holder entries of (Owner, state): state is the units held,
//	        with semTentAcquire or semTentRelease set during a change
//
// The holder entries let the host give back the units of a process that
// ends while it holds them. A Semaphore that starts at 0 is a signal (one
// process releases what another acquires), so nothing is tracked for it.
//
// A process can be killed between any two of its instructions, and the
// count and its entry are two words, so a tracked change goes in steps the
// host can always read back after a death: the process marks its entry
// tentative (the change it is about to make), changes the count and
// records itself as in flight in one compare-and-swap (the commit), writes
// its entry's new units, and clears the in flight mark. One change is in
// flight at a time (the others wait the few instructions it takes). After
// a death, the in flight mark says whether the commit happened: if it
// names the dead process, the count changed and a tentative entry is
// missing that change; otherwise a tentative entry never committed. (The
// words are little-endian halves of the state: Linux on amd64 or arm64.)
const (
	SemaphoreWords = 32
	semEntries     = (SemaphoreWords - 6) / 2

	semTentAcquire = 1 << 31
	semTentRelease = 1 << 30
	semUnits       = semTentRelease - 1
)

// testHookSem, when a test sets it, is called at the steps of a tracked
// change (see Semaphore): a test kills the "process" there.
var testHookSem func(step semStep)

type semStep int

const (
	semMarked    semStep = iota + 1 // the entry is tentative
	semCommitted                    // the count changed; the entry not yet
)

// Semaphore is a counting semaphore.
type Semaphore struct{ w []uint32 }

// SemaphoreAt returns the Semaphore whose words start at p (8-byte aligned).
func SemaphoreAt(p *uint32) Semaphore { return Semaphore{words(unsafe.Pointer(p), SemaphoreWords)} }

func (s Semaphore) state() *uint64 { return (*uint64)(unsafe.Pointer(&s.w[0])) }
func (s Semaphore) count() *uint32 { return &s.w[0] }

func stateOf(count uint32, flight Owner) uint64 { return uint64(count) | uint64(flight)<<32 }

// Init sets the initial value, before the semaphore is shared.
func (s Semaphore) Init(value uint32, bounded bool) {
	atomic.StoreUint64(s.state(), stateOf(value, 0))
	if bounded {
		atomic.StoreUint32(&s.w[3], value)
	}
	if value > 0 {
		atomic.StoreUint32(&s.w[4], 1)
	}
}

// entry returns o's holder entry: its owner and state words. With create,
// a free one is taken if o has none. ok is false when units are not
// tracked, or no entry is free (this change is not tracked then).
func (s Semaphore) entry(o Owner, create bool) (owner, state *uint32, ok bool) {
	if atomic.LoadUint32(&s.w[4]) == 0 {
		return nil, nil, false
	}
	for i := 0; i < semEntries; i++ {
		if e := s.w[6+2*i:]; Owner(atomic.LoadUint32(&e[0])) == o {
			return &e[0], &e[1], true
		}
	}
	if !create {
		return nil, nil, false
	}
	for i := 0; i < semEntries; i++ {
		if e := s.w[6+2*i:]; atomic.CompareAndSwapUint32(&e[0], 0, uint32(o)) {
			atomic.StoreUint32(&e[1], 0)
			return &e[0], &e[1], true
		}
	}
	return nil, nil, false // more holders at once than entries
}

// settle ends a tracked change: o's entry holds units, and nothing of o is
// in flight any more. An entry with no units is given up.
func (s Semaphore) settle(o Owner, owner, state *uint32, units uint32) {
	atomic.StoreUint32(state, units)
	if units == 0 {
		atomic.StoreUint32(owner, 0)
	}
	for {
		v := atomic.LoadUint64(s.state())
		if Owner(v>>32) != o || atomic.CompareAndSwapUint64(s.state(), v, v&math.MaxUint32) {
			return
		}
	}
}

// change moves the count by delta (+1 or -1) for o: at once if another
// change is in flight, it waits for that one to end; it fails when the count
// is 0 (acquire) or at bound (release). With tracked, o is recorded as in
// flight.
func (s Semaphore) change(o Owner, delta int32, bound uint32, tracked bool) bool {
	for i := 0; ; i++ {
		v := atomic.LoadUint64(s.state())
		c := uint32(v)
		if v>>32 != 0 {
			// Another change is in flight for a few instructions; or its
			// process died there, and the host repairs it soon.
			if i < spins {
				pause()
			} else {
				time.Sleep(50 * time.Microsecond)
			}
			continue
		}
		if delta < 0 && c == 0 || delta > 0 && bound != 0 && c >= bound {
			return false
		}
		var flight Owner
		if tracked {
			flight = o
		}
		if atomic.CompareAndSwapUint64(s.state(), v, stateOf(uint32(int32(c)+delta), flight)) {
			return true
		}
	}
}

// Acquire takes one unit, waiting at most timeout.
func (s Semaphore) Acquire(o Owner, timeout time.Duration) bool {
	if s.tryAcquire(o) {
		return true
	}
	if timeout == 0 {
		return false
	}
	dl := deadlineAfter(timeout)
	for i := 0; i < spins; i++ {
		pause()
		if s.tryAcquire(o) {
			return true
		}
	}
	for {
		atomic.AddUint32(&s.w[2], 1)
		left := dl.left()
		if left != 0 {
			futexWait(s.count(), 0, left)
		}
		atomic.AddUint32(&s.w[2], ^uint32(0))
		if s.tryAcquire(o) {
			return true
		}
		if left == 0 {
			return false
		}
	}
}

func (s Semaphore) tryAcquire(o Owner) bool {
	if atomic.LoadUint32(s.count()) == 0 {
		return false // the common wait: no entry to mark and unmark
	}
	owner, state, tracked := s.entry(o, true)
	var units uint32
	if tracked {
		units = atomic.LoadUint32(state) & semUnits
		atomic.StoreUint32(state, units|semTentAcquire)
		if testHookSem != nil {
			testHookSem(semMarked)
		}
	}
	if !s.change(o, -1, 0, tracked) {
		if tracked {
			s.settle(o, owner, state, units)
		}
		return false
	}
	if tracked {
		if testHookSem != nil {
			testHookSem(semCommitted)
		}
		s.settle(o, owner, state, units+1)
	}
	return true
}

// Release gives one unit back (any process may). A BoundedSemaphore refuses
// to go above its initial value.
func (s Semaphore) Release(o Owner) error {
	owner, state, tracked := s.entry(o, false)
	var units uint32
	if tracked {
		if units = atomic.LoadUint32(state) & semUnits; units == 0 {
			tracked = false // it holds none: the release is not its own unit's
		} else {
			atomic.StoreUint32(state, units|semTentRelease)
			if testHookSem != nil {
				testHookSem(semMarked)
			}
		}
	}
	if !s.change(o, +1, atomic.LoadUint32(&s.w[3]), tracked) {
		if tracked {
			s.settle(o, owner, state, units)
		}
		return ErrTooManyRelease
	}
	if tracked {
		if testHookSem != nil {
			testHookSem(semCommitted)
		}
		s.settle(o, owner, state, units-1)
	}
	if atomic.LoadUint32(&s.w[2]) != 0 {
		futexWake(s.count(), 1)
	}
	return nil
}

// Value is the current count.
func (s Semaphore) Value() uint32 { return atomic.LoadUint32(s.count()) }

// forceRelease gives back the units dead held and reports how many. Call it
// only once dead has ended: it finishes or undoes the change dead had in
// flight, from what the words say.
func (s Semaphore) forceRelease(dead Owner) uint32 {
	var held int64
	var tent uint32
	for i := 0; i < semEntries; i++ {
		e := s.w[6+2*i:]
		if Owner(atomic.LoadUint32(&e[0])) != dead {
			continue
		}
		st := atomic.LoadUint32(&e[1])
		held, tent = int64(st&semUnits), st&^semUnits
		atomic.StoreUint32(&e[1], 0)
		atomic.StoreUint32(&e[0], 0)
		break
	}
	for {
		v := atomic.LoadUint64(s.state())
		if Owner(v>>32) != dead {
			break // its tentative change, if any, never committed
		}
		if atomic.CompareAndSwapUint64(s.state(), v, v&math.MaxUint32) {
			// It committed and died before its entry said so.
			switch tent {
			case semTentAcquire:
				held++
			case semTentRelease:
				held--
			}
			break
		}
	}
	given := uint32(0)
	bound := atomic.LoadUint32(&s.w[3])
	for int64(given) < held {
		v := atomic.LoadUint64(s.state())
		if bound != 0 && uint32(v) >= bound {
			break
		}
		// The count is the low half: another change may be in flight.
		if atomic.CompareAndSwapUint64(s.state(), v, v+1) {
			given++
		}
	}
	if given > 0 {
		futexWake(s.count(), int(given))
	}
	return given
}

// Event is a flag processes can wait for: word 0 the flag, word 1 sleepers.
type Event struct{ flag, sleepers *uint32 }

// EventAt returns the Event whose two words start at p.
func EventAt(p *uint32) Event {
	w := words(unsafe.Pointer(p), 2)
	return Event{&w[0], &w[1]}
}

// Set raises the flag and wakes every waiter.
func (e Event) Set() {
	atomic.StoreUint32(e.flag, 1)
	if atomic.LoadUint32(e.sleepers) != 0 {
		futexWake(e.flag, -1)
	}
}

// Clear lowers the flag.
func (e Event) Clear() { atomic.StoreUint32(e.flag, 0) }

// IsSet reports the flag.
func (e Event) IsSet() bool { return atomic.LoadUint32(e.flag) != 0 }

// Wait waits at most timeout for the flag and returns it.
func (e Event) Wait(timeout time.Duration) bool {
	if e.IsSet() {
		return true
	}
	dl := deadlineAfter(timeout)
	for {
		left := dl.left()
		if left == 0 {
			return e.IsSet()
		}
		atomic.AddUint32(e.sleepers, 1)
		futexWait(e.flag, 0, left)
		atomic.AddUint32(e.sleepers, ^uint32(0))
		if e.IsSet() {
			return true
		}
	}
}

// Cond is the waiting half of a condition variable: word 0 a sequence
// number that every notify bumps, word 1 the number of waiters. The lock
// half is a separate Mutex or RMutex that the caller holds around Prepare
// and Notify.
//
// A waiter reads the sequence (Prepare) while it holds the lock, releases the
// lock, and sleeps while the sequence is unchanged (Wait). Notify(n) bumps
// the sequence and wakes n sleepers. No notification is lost; a waiter that
// is between Prepare and its sleep when a notify comes returns too, so a
// notify may wake more than n (a spurious wake-up, which condition variables
// allow and Condition.waitFor absorbs).
type Cond struct{ seq, waiters *uint32 }

// CondAt returns the Cond whose two words start at p.
func CondAt(p *uint32) Cond {
	w := words(unsafe.Pointer(p), 2)
	return Cond{&w[0], &w[1]}
}

// Prepare registers a waiter; call it holding the lock.
func (c Cond) Prepare() uint32 {
	atomic.AddUint32(c.waiters, 1)
	return atomic.LoadUint32(c.seq)
}

// Wait sleeps until a notify after Prepare, or timeout; it reports whether
// it was notified. Call it after releasing the lock.
func (c Cond) Wait(seq uint32, timeout time.Duration) bool {
	defer atomic.AddUint32(c.waiters, ^uint32(0))
	dl := deadlineAfter(timeout)
	for {
		if atomic.LoadUint32(c.seq) != seq {
			return true
		}
		left := dl.left()
		if left == 0 {
			return false
		}
		futexWait(c.seq, seq, left)
	}
}

// Cancel undoes a Prepare that is not followed by Wait.
func (c Cond) Cancel() { atomic.AddUint32(c.waiters, ^uint32(0)) }

// Notify wakes up to n waiters (all if n < 0); call it holding the lock.
func (c Cond) Notify(n int) {
	if atomic.LoadUint32(c.waiters) == 0 || n == 0 {
		return
	}
	atomic.AddUint32(c.seq, 1)
	futexWake(c.seq, n)
}

// Barrier layout, 32 words (128 bytes):
//
//	0      internal Mutex, held while the state changes (and during the action)
//	1      Cond sequence
//	2      Cond waiters
//	3      state: 0 filling, 1 draining, -1 resetting, -2 broken (as int32)
//	4      count of processes inside wait
//	5      parties
//	8..31  the Owners inside wait (up to 24; more are not recorded)
//
// The algorithm is CPython's threading.Barrier, on these words. The record
// of who is inside wait lets the host break the barrier when one of them
// dies: its place can never be filled again, and the others would wait
// forever (they get BrokenBarrierError instead).
const (
	BarrierWords   = 32
	barrierEntries = BarrierWords - 8
)

const (
	barrierFilling   = 0
	barrierDraining  = 1
	barrierResetting = -1
	barrierBroken    = -2
)

// serviceOwner is the Owner the host's own repairs use (never a process).
const serviceOwner Owner = ownerMask

// Barrier makes a fixed number of processes wait for each other.
type Barrier struct {
	w  []uint32
	mu Mutex
	cv Cond
}

// BarrierAt returns the Barrier whose words start at p.
func BarrierAt(p *uint32) Barrier {
	w := words(unsafe.Pointer(p), BarrierWords)
	return Barrier{w: w, mu: Mutex{&w[0]}, cv: Cond{&w[1], &w[2]}}
}

// Init sets the number of parties, before the barrier is shared.
func (b Barrier) Init(parties uint32) { atomic.StoreUint32(&b.w[5], parties) }

func (b Barrier) state() int32     { return int32(atomic.LoadUint32(&b.w[3])) }
func (b Barrier) setState(s int32) { atomic.StoreUint32(&b.w[3], uint32(s)) }
func (b Barrier) count() uint32    { return atomic.LoadUint32(&b.w[4]) }
func (b Barrier) addCount(d int32) { atomic.AddUint32(&b.w[4], uint32(d)) }
func (b Barrier) notifyAll()       { b.cv.Notify(-1) }
func (b Barrier) lock(o Owner)     { b.mu.Lock(o, -1) }
func (b Barrier) unlock()          { b.mu.Unlock() }
func (b Barrier) breakLocked()     { b.setState(barrierBroken); b.notifyAll() }

func (b Barrier) cvWait(o Owner, timeout time.Duration) bool {
	seq := b.cv.Prepare()
	b.unlock()
	ok := b.cv.Wait(seq, timeout)
	b.lock(o)
	return ok
}

// enroll records o as inside wait and returns its entry (-1: not recorded).
func (b Barrier) enroll(o Owner) int {
	for i := 0; i < barrierEntries; i++ {
		if atomic.CompareAndSwapUint32(&b.w[8+i], 0, uint32(o)) {
			return i
		}
	}
	return -1
}

func (b Barrier) unenroll(i int) {
	if i >= 0 {
		atomic.StoreUint32(&b.w[8+i], 0)
	}
}

func (b Barrier) entryOf(o Owner) int {
	for i := 0; i < barrierEntries; i++ {
		if Owner(atomic.LoadUint32(&b.w[8+i])) == o {
			return i
		}
	}
	return -1
}

// Parties is the number of processes the barrier waits for.
func (b Barrier) Parties() int { return int(atomic.LoadUint32(&b.w[5])) }

// NWaiting is the number of processes waiting now.
func (b Barrier) NWaiting() int {
	if b.state() == barrierFilling {
		return int(b.count())
	}
	return 0
}

// Broken reports whether the barrier is broken.
func (b Barrier) Broken() bool { return b.state() == barrierBroken }

// Wait waits until Parties processes are waiting, at most timeout, and
// returns this one's arrival index. The last to arrive runs action first
// (nil for none); if it fails, the barrier breaks and its error is returned.
// A broken barrier, a timeout, a reset or an abort give ErrBrokenBarrier.
func (b Barrier) Wait(o Owner, timeout time.Duration, action func() error) (int, error) {
	b.lock(o)
	defer b.unlock()
	// Block while the barrier drains or resets.
	for s := b.state(); s == barrierDraining || s == barrierResetting; s = b.state() {
		b.cvWait(o, -1)
	}
	if b.state() < 0 {
		return 0, ErrBrokenBarrier
	}
	index := int(b.count())
	b.addCount(1)
	entry := b.enroll(o)
	defer func() {
		b.unenroll(entry)
		b.leave()
	}()
	if index+1 == b.Parties() {
		if action != nil {
			if err := action(); err != nil {
				b.breakLocked()
				return index, err
			}
		}
		b.setState(barrierDraining)
		b.notifyAll()
		return index, nil
	}
	dl := deadlineAfter(timeout)
	for b.state() == barrierFilling {
		left := dl.left()
		if left == 0 {
			b.breakLocked()
			return index, ErrBrokenBarrier
		}
		b.cvWait(o, left)
	}
	if b.state() < 0 {
		return index, ErrBrokenBarrier
	}
	return index, nil
}

// leave is a process leaving wait (holding the lock): the last one out of
// a draining or resetting barrier makes it fill again.
func (b Barrier) leave() {
	b.addCount(-1)
	if b.count() == 0 {
		if s := b.state(); s == barrierResetting || s == barrierDraining {
			b.setState(barrierFilling)
			b.notifyAll()
		}
	}
}

// Reset returns the barrier to its initial state; processes waiting in it
// get ErrBrokenBarrier.
func (b Barrier) Reset(o Owner) {
	b.lock(o)
	defer b.unlock()
	if b.count() > 0 {
		if s := b.state(); s == barrierFilling || s == barrierBroken {
			b.setState(barrierResetting)
		}
	} else {
		b.setState(barrierFilling)
	}
	b.notifyAll()
}

// Abort breaks the barrier: processes waiting in it, and later ones, get
// ErrBrokenBarrier until Reset.
func (b Barrier) Abort(o Owner) {
	b.lock(o)
	defer b.unlock()
	b.breakLocked()
}

// releaseDead repairs the barrier after dead ended inside wait (asleep in
// it, or holding its internal lock, maybe in the action): dead leaves, and
// a barrier that was still filling breaks, since dead's place can never be
// taken. It reports whether dead was inside, and retry when the internal
// lock is busy (a live process holds it for a moment, or runs the action):
// then the caller tries again later.
func (b Barrier) releaseDead(dead Owner) (inside, retry bool) {
	entry := b.entryOf(dead)
	held := b.mu.Owner() == dead
	if entry < 0 && !held {
		return false, false
	}
	if !held && !b.mu.TryLock(serviceOwner) {
		return true, true
	}
	if entry >= 0 {
		b.unenroll(entry)
		if b.state() == barrierFilling {
			b.setState(barrierBroken)
		}
		b.leave()
	} else {
		b.setState(barrierBroken) // it died in reset, abort or on its way in
	}
	atomic.AddUint32(b.cv.seq, 1)
	futexWake(b.cv.seq, -1)
	if held {
		b.mu.forceRelease(dead)
	} else {
		b.unlock()
	}
	return true, false
}
