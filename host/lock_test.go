package host

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// The primitives are tested on memfd mappings, like the real thing, by
// goroutines that each play a different process (their own Owner), and by
// real processes: the test binary re-executed with MPJS_LOCKTEST set.

func init() {
	if mode := os.Getenv("MPJS_LOCKTEST"); mode != "" && !IsChild() {
		os.Exit(lockTestChild(mode))
	}
}

// testMem returns a zeroed shared mapping of n bytes and its memfd.
func testMem(t testing.TB, n int64) ([]byte, *os.File) {
	t.Helper()
	f, err := newMemfd(n)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := mapSegment(f, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return mem, f
}

func wordAt(mem []byte, i int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[4*i])) }

// counter is a plain (non-atomic) counter in shared memory, which only a
// lock keeps exact.
func counter(mem []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }

func TestMutexGoroutines(t *testing.T) {
	mem, _ := testMem(t, 4096)
	m := MutexAt(wordAt(mem, 0))
	c := counter(mem, 64)
	const workers, n = 8, 20000
	var wg sync.WaitGroup
	for g := 1; g <= workers; g++ {
		wg.Add(1)
		go func(o Owner) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if !m.Lock(o, -1) {
					t.Error("Lock with no timeout failed")
					return
				}
				if got := m.Owner(); got != o {
					t.Errorf("owner %d, want %d", got, o)
				}
				*c++
				if !m.Unlock() {
					t.Error("Unlock of a held lock reported it free")
				}
			}
		}(Owner(g))
	}
	wg.Wait()
	if *c != workers*n {
		t.Fatalf("counter %d, want %d", *c, workers*n)
	}
	if m.Locked() || m.Unlock() {
		t.Fatal("lock still held, or Unlock of a free lock reported it held")
	}
}

func TestMutexTimeout(t *testing.T) {
	mem, _ := testMem(t, 4096)
	m := MutexAt(wordAt(mem, 0))
	if !m.TryLock(1) || m.TryLock(2) || m.Lock(2, 0) {
		t.Fatal("TryLock / Lock(0) of a held lock succeeded")
	}
	start := time.Now()
	if m.Lock(2, 100*time.Millisecond) {
		t.Fatal("Lock of a held lock succeeded")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timed out after %v, want 100ms", d)
	}
	// A sleeping waiter gets the lock when it is released.
	got := make(chan bool)
	go func() { got <- m.Lock(2, 5*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	m.Unlock()
	if !<-got || m.Owner() != 2 {
		t.Fatal("the waiter did not get the released lock")
	}
	// The host's release of a dead holder wakes the waiters.
	go func() { got <- m.Lock(3, 5*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	if m.forceRelease(1) {
		t.Fatal("forceRelease freed a lock its owner does not hold")
	}
	if !m.forceRelease(2) || !<-got || m.Owner() != 3 {
		t.Fatal("forceRelease did not hand the lock to the waiter")
	}
}

func TestRMutex(t *testing.T) {
	mem, _ := testMem(t, 4096)
	r := RMutexAt(wordAt(mem, 0))
	first := r.Lock(1, -1)
	second := r.Lock(1, -1) // the same owner again: re-entrant
	if !first || !second || r.Depth() != 2 {
		t.Fatal("re-entrant Lock")
	}
	if r.Lock(2, 0) || r.Unlock(2) != ErrNotOwner {
		t.Fatal("another owner took or released a held RMutex")
	}
	d, err := r.UnlockAll(1)
	if err != nil || d != 2 || r.Owner() != 0 {
		t.Fatalf("UnlockAll: %d %v", d, err)
	}
	r.RestoreLock(1, d)
	if r.Unlock(1) != nil || r.Owner() != 1 || r.Unlock(1) != nil || r.Owner() != 0 {
		t.Fatal("restored depth")
	}
	if r.Unlock(1) != ErrNotOwner {
		t.Fatal("Unlock of a free RMutex")
	}
	c := counter(mem, 64)
	var wg sync.WaitGroup
	for g := 1; g <= 4; g++ {
		wg.Add(1)
		go func(o Owner) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				r.Lock(o, -1)
				r.Lock(o, -1)
				*c++
				r.Unlock(o)
				r.Unlock(o)
			}
		}(Owner(g))
	}
	wg.Wait()
	if *c != 20000 {
		t.Fatalf("counter %d", *c)
	}
}

func TestSemaphore(t *testing.T) {
	mem, _ := testMem(t, 4096)
	s := SemaphoreAt(wordAt(mem, 0))
	s.Init(3, false)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for g := 1; g <= 8; g++ {
		wg.Add(1)
		go func(o Owner) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				s.Acquire(o, -1)
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				inside.Add(-1)
				if err := s.Release(o); err != nil {
					t.Error(err)
				}
			}
		}(Owner(g))
	}
	wg.Wait()
	if most.Load() > 3 || s.Value() != 3 {
		t.Fatalf("%d inside at once, value %d", most.Load(), s.Value())
	}
	// A dead holder's units come back.
	s.Acquire(7, -1)
	s.Acquire(7, -1)
	s.Acquire(8, -1)
	if s.Acquire(9, 10*time.Millisecond) {
		t.Fatal("acquired a fourth unit of three")
	}
	if n := s.forceRelease(7); n != 2 || s.Value() != 2 {
		t.Fatalf("forceRelease gave %d, value %d", n, s.Value())
	}
	s.Release(8)

	b := SemaphoreAt(wordAt(mem, SemaphoreWords))
	b.Init(1, true)
	if err := b.Release(1); !errors.Is(err, ErrTooManyRelease) {
		t.Fatalf("bounded release: %v", err)
	}
	if !b.Acquire(1, 0) || b.Acquire(1, 0) || b.Release(2) != nil {
		t.Fatal("bounded acquire/release")
	}
}

func TestEvent(t *testing.T) {
	mem, _ := testMem(t, 4096)
	e := EventAt(wordAt(mem, 0))
	start := time.Now()
	if e.Wait(50 * time.Millisecond) {
		t.Fatal("Wait of a clear event returned true")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("Wait returned early")
	}
	var wg sync.WaitGroup
	var woke atomic.Int32
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.Wait(5 * time.Second) {
				woke.Add(1)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	e.Set()
	wg.Wait()
	if woke.Load() != 4 || !e.IsSet() {
		t.Fatalf("%d of 4 waiters woke", woke.Load())
	}
	e.Clear()
	if e.IsSet() || e.Wait(0) {
		t.Fatal("Clear")
	}
}

func TestCond(t *testing.T) {
	mem, _ := testMem(t, 4096)
	m := MutexAt(wordAt(mem, 0))
	c := CondAt(wordAt(mem, 16))
	items := counter(mem, 128)
	const consumers, each = 4, 500
	var wg sync.WaitGroup
	for g := 1; g <= consumers; g++ {
		wg.Add(1)
		go func(o Owner) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m.Lock(o, -1)
				for *items == 0 {
					seq := c.Prepare()
					m.Unlock()
					c.Wait(seq, -1)
					m.Lock(o, -1)
				}
				*items--
				m.Unlock()
			}
		}(Owner(g))
	}
	for i := 0; i < consumers*each; i++ {
		m.Lock(100, -1)
		*items++
		c.Notify(1)
		m.Unlock()
	}
	wg.Wait()
	// A wait with no notify times out.
	m.Lock(1, -1)
	seq := c.Prepare()
	m.Unlock()
	if c.Wait(seq, 30*time.Millisecond) {
		t.Fatal("Wait with no notify reported a notify")
	}
}

func TestBarrier(t *testing.T) {
	mem, _ := testMem(t, 4096)
	b := BarrierAt(wordAt(mem, 0))
	b.Init(3)
	var actions atomic.Int32
	for round := 0; round < 50; round++ {
		var wg sync.WaitGroup
		idx := make([]int, 3)
		for g := 0; g < 3; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				i, err := b.Wait(Owner(g+1), 5*time.Second, func() error { actions.Add(1); return nil })
				if err != nil {
					t.Error(err)
				}
				idx[i] = 1
			}(g)
		}
		wg.Wait()
		if idx[0]+idx[1]+idx[2] != 3 {
			t.Fatalf("round %d: indices %v", round, idx)
		}
	}
	if actions.Load() != 50 {
		t.Fatalf("action ran %d times in 50 rounds", actions.Load())
	}
	// A timeout breaks it, for the others too.
	done := make(chan error)
	go func() { _, err := b.Wait(1, -1, nil); done <- err }()
	if _, err := b.Wait(2, 30*time.Millisecond, nil); err != ErrBrokenBarrier {
		t.Fatalf("timeout: %v", err)
	}
	if err := <-done; err != ErrBrokenBarrier || !b.Broken() {
		t.Fatalf("the other waiter: %v", err)
	}
	b.Reset(1)
	if b.Broken() || b.NWaiting() != 0 {
		t.Fatal("Reset")
	}
	go func() { _, err := b.Wait(1, -1, nil); done <- err }()
	for b.NWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	b.Abort(2)
	if err := <-done; err != ErrBrokenBarrier {
		t.Fatalf("abort: %v", err)
	}
	// A failing action breaks it and its error comes back.
	b.Reset(1)
	boom := errors.New("boom")
	go func() { _, err := b.Wait(1, -1, nil); done <- err }()
	go func() { _, err := b.Wait(2, -1, nil); done <- err }()
	for b.NWaiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	if _, err := b.Wait(3, -1, func() error { return boom }); err != boom {
		t.Fatalf("action error: %v", err)
	}
	if e1, e2 := <-done, <-done; e1 != ErrBrokenBarrier || e2 != ErrBrokenBarrier {
		t.Fatalf("waiters after a failed action: %v %v", e1, e2)
	}
}

// Real processes: four children do locked increments of a plain counter in
// shared memory; the count is exact.
func TestMutexAcrossProcesses(t *testing.T) {
	mem, f := testMem(t, 4096)
	const procs, n = 4, 20000
	var cmds []*exec.Cmd
	for i := 1; i <= procs; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("MPJS_LOCKTEST=count %d %d", i, n))
		cmd.ExtraFiles = []*os.File{f}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if got := *counter(mem, 64); got != procs*n {
		t.Fatalf("counter %d, want %d", got, procs*n)
	}
}

// A process killed while it holds the lock: the host-side release lets a
// process waiting in the kernel go on.
func TestMutexDeadHolderAcrossProcesses(t *testing.T) {
	mem, f := testMem(t, 4096)
	m := MutexAt(wordAt(mem, 0))
	held := EventAt(wordAt(mem, 16))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MPJS_LOCKTEST=hold 42")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !held.Wait(10 * time.Second) {
		t.Fatal("the child never took the lock")
	}
	got := make(chan bool)
	go func() { got <- m.Lock(7, 10*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	if !m.forceRelease(42) {
		t.Fatal("the dead child's lock was not found")
	}
	if !<-got {
		t.Fatal("the waiter did not get the lock")
	}
}

// A process killed while it waits at a barrier breaks it: the others get
// ErrBrokenBarrier instead of waiting forever, and a reset makes it whole.
func TestBarrierDeadWaiter(t *testing.T) {
	mem, f := testMem(t, 4096)
	b := BarrierAt(wordAt(mem, 0))
	b.Init(3)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MPJS_LOCKTEST=barrier 42")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for b.NWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error)
	go func() { _, err := b.Wait(7, 10*time.Second, nil); done <- err }()
	for b.NWaiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if inside, retry := b.releaseDead(9); inside || retry {
		t.Fatal("releaseDead of a process that was not inside")
	}
	if inside, retry := b.releaseDead(42); !inside || retry {
		t.Fatalf("releaseDead: inside %v, retry %v", inside, retry)
	}
	if err := <-done; err != ErrBrokenBarrier || !b.Broken() {
		t.Fatalf("the live waiter got %v", err)
	}
	b.Reset(7)
	if b.Broken() || b.NWaiting() != 0 || b.entryOf(42) >= 0 {
		t.Fatal("Reset after the repair")
	}
}

func lockTestChild(mode string) int {
	f := os.NewFile(3, "shm")
	mem, err := mapSegment(f, 4096)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	args := strings.Fields(mode)
	num := func(i int) int { n, _ := strconv.Atoi(args[i]); return n }
	switch args[0] {
	case "count":
		m, c := MutexAt(wordAt(mem, 0)), counter(mem, 64)
		o := Owner(num(1))
		for i := 0; i < num(2); i++ {
			m.Lock(o, -1)
			*c++
			m.Unlock()
		}
		return 0
	case "barrier":
		BarrierAt(wordAt(mem, 0)).Wait(Owner(num(1)), -1, nil)
		return 0
	case "hold":
		MutexAt(wordAt(mem, 0)).Lock(Owner(num(1)), -1)
		EventAt(wordAt(mem, 16)).Set()
		time.Sleep(time.Hour) // until killed
	}
	return 2
}

// A process can be killed between any two instructions of a Semaphore
// change. Whatever step it dies at, the host's repair gives back exactly
// the units it held: none lost (the others would wait forever), none given
// twice (two holders of a BoundedSemaphore(1) at once).
func TestSemaphoreDeathAtEachStep(t *testing.T) {
	mem, _ := testMem(t, 4096)
	const dead, other Owner = 5, 6
	// die runs f as the process that dies at step.
	die := func(step semStep, f func()) {
		testHookSem = func(s semStep) {
			if s == step {
				runtime.Goexit()
			}
		}
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		<-done
		testHookSem = nil
	}
	for _, bounded := range []bool{false, true} {
		for _, tc := range []struct {
			name    string
			holds   bool // dead holds the unit before the step
			release bool // dead dies releasing (else acquiring)
			step    semStep
			give    uint32 // the units the repair gives back
		}{
			{"acquire, marked", false, false, semMarked, 0},
			{"acquire, committed", false, false, semCommitted, 1},
			{"release, marked", true, true, semMarked, 1},
			{"release, committed", true, true, semCommitted, 0},
		} {
			s := SemaphoreAt(wordAt(mem, 0))
			clear(s.w)
			s.Init(1, bounded)
			if tc.holds && !s.Acquire(dead, 0) {
				t.Fatal("first acquire")
			}
			if tc.release {
				die(tc.step, func() { s.Release(dead) })
			} else {
				die(tc.step, func() { s.Acquire(dead, 0) })
			}
			// Whatever dead did, another process tries to take a unit,
			// before the repair or after: a change in flight holds it up
			// until the repair, which the host makes once dead is reaped.
			took := make(chan bool)
			go func() { took <- s.Acquire(other, 0) }()
			if n := s.forceRelease(dead); n != tc.give {
				t.Errorf("bounded %v, %s: the repair gave back %d units, want %d", bounded, tc.name, n, tc.give)
			}
			otherHolds := <-took
			want := uint32(1)
			if otherHolds {
				want = 0
			}
			if v := s.Value(); v != want {
				t.Errorf("bounded %v, %s: value %d after the repair (the other process holds a unit: %v), want %d", bounded, tc.name, v, otherHolds, want)
			}
			if otherHolds {
				if err := s.Release(other); err != nil {
					t.Errorf("bounded %v, %s: release by the other: %v", bounded, tc.name, err)
				}
			}
			if v := s.Value(); v != 1 {
				t.Errorf("bounded %v, %s: value %d at the end, want 1", bounded, tc.name, v)
			}
		}
	}
}
