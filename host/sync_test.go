package host

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() {
	if os.Getenv("MPJS_SHMTEST") != "" && IsChild() {
		os.Exit(shmTestChild())
	}
}

// testPeer is a process as the service sees it, with its replies recorded.
type testPeer struct {
	*Peer
	replies []Frame
}

func newTestPeer(id int64) *testPeer {
	tp := &testPeer{}
	tp.Peer = &Peer{
		info: func() ProcInfo { return ProcInfo{ID: id, Pid: 1000 + int(id), Name: "p" + string(rune('0'+id))} },
		write: func(kind Kind, rid uint32, payload []byte, files ...*os.File) error {
			tp.replies = append(tp.replies, Frame{Kind: kind, ID: rid, Payload: payload, Files: dupFiles(files)})
			return nil
		},
	}
	return tp
}

func (tp *testPeer) last(t *testing.T) Frame {
	t.Helper()
	f := tp.replies[len(tp.replies)-1]
	if f.Kind == KindErr {
		t.Fatalf("error reply: %v", decodeError(f.Payload))
	}
	return f
}

func msg(id uint64) Frame {
	var e Enc
	e.Uint(id)
	return Frame{ID: 9, Payload: e.B}
}

func newObj(t *testing.T, v *shmService, p *testPeer, k ObjKind, size int64) Ref {
	t.Helper()
	var e Enc
	e.Uint(uint64(k)).Int(size)
	if err := v.handleNew(p.Peer, Frame{ID: 1, Payload: e.B}); err != nil {
		t.Fatal(err)
	}
	f := p.last(t)
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	r := DecodeRef(&d)
	if err := d.Done(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Objects in a started process's arguments are pinned for that process: a
// process that ends before it has them (killed while it boots, say) leaves
// nothing pinned, and one that has them holds them as any receiver.
func TestShmPinsForAStartedProcess(t *testing.T) {
	v := newShmService(os.Stderr)
	var freed []uint64
	v.freed = func(r Ref) { freed = append(freed, r.ID) }
	a, b, c := newTestPeer(1), newTestPeer(2), newTestPeer(3)
	big := newObj(t, v, a, ObjData, 1<<20)
	lock := newObj(t, v, a, ObjLock, 0)
	// a starts b and c with both; its own holds go (it ends, say).
	v.pinFor(b.Info().ID, []uint64{big.ID, lock.ID})
	v.pinFor(c.Info().ID, []uint64{big.ID, lock.ID, lock.ID})
	v.exited(a.Info())
	if len(freed) != 0 {
		t.Fatalf("freed while pinned for b and c: %v", freed)
	}
	// b has the lock, then is killed; c is killed before it has anything.
	v.handleArrive(b.Peer, msg(lock.ID))
	v.exited(b.Info())
	if len(freed) != 0 {
		t.Fatalf("freed while pinned for c: %v", freed)
	}
	v.exited(c.Info())
	if len(freed) != 2 || len(v.objs) != 0 || len(v.pending) != 0 || len(v.byProc) != 0 {
		t.Fatalf("after every process ended: freed %v, %d objects, %d with pins, %d holders", freed, len(v.objs), len(v.pending), len(v.byProc))
	}
	// A start that fails undoes its pins at once.
	again := newObj(t, v, a, ObjData, 1<<20)
	v.pinFor(9, []uint64{again.ID})
	v.handleDrop(a.Peer, msg(again.ID))
	v.unpinFor(9)
	if len(freed) != 3 || freed[2] != again.ID {
		t.Fatalf("freed %v, want the object of the failed start last", freed)
	}
}

// An object lives while a process holds it or it is in flight, and no longer.
func TestShmHolders(t *testing.T) {
	v := newShmService(os.Stderr)
	var freed []uint64
	v.freed = func(r Ref) { freed = append(freed, r.ID) }
	a, b := newTestPeer(1), newTestPeer(2)

	lock := newObj(t, v, a, ObjLock, 0)
	big := newObj(t, v, a, ObjData, 1<<20)
	if lock.Dedicated || !big.Dedicated || lock.Size != 64 || big.Size != 1<<20 {
		t.Fatalf("placement: %+v %+v", lock, big)
	}
	// a sends both to b, then lets go of them before b has them.
	v.handlePin(a.Peer, msg(lock.ID))
	v.handlePin(a.Peer, msg(big.ID))
	v.handleDrop(a.Peer, msg(lock.ID))
	v.handleDrop(a.Peer, msg(big.ID))
	if len(freed) != 0 {
		t.Fatalf("freed in flight: %v", freed)
	}
	v.handleArrive(b.Peer, msg(lock.ID))
	if err := v.handleAttach(b.Peer, msg(big.ID)); err != nil {
		t.Fatal(err)
	}
	closeFiles(b.last(t).Files)
	v.handleDrop(b.Peer, msg(big.ID))
	if len(freed) != 1 || freed[0] != big.ID {
		t.Fatalf("freed %v, want the big one", freed)
	}
	// The last holder's exit frees the lock; its block is reused, zeroed.
	v.exited(b.Info())
	if len(freed) != 2 || len(v.objs) != 0 || len(v.byProc) != 0 {
		t.Fatalf("after exit: freed %v, %d objects, %d holders", freed, len(v.objs), len(v.byProc))
	}
	again := newObj(t, v, a, ObjRLock, 0)
	if again.Seg != lock.Seg || again.Off != lock.Off {
		t.Fatalf("the freed block was not reused: %+v %+v", lock, again)
	}
	// An arrival after the object is gone is an error, not a crash.
	v.handleDrop(a.Peer, msg(again.ID))
	if err := v.handleAttach(b.Peer, msg(again.ID)); err != nil {
		t.Fatal(err)
	}
	if f := b.replies[len(b.replies)-1]; f.Kind != KindErr {
		t.Fatal("attach of a freed object succeeded")
	}
	// Bad sizes are RangeErrors for the caller.
	var e Enc
	e.Uint(uint64(ObjData)).Int(-1)
	v.handleNew(a.Peer, Frame{ID: 1, Payload: e.B})
	if f := a.replies[len(a.replies)-1]; f.Kind != KindErr || !strings.Contains(string(f.Payload), "RangeError") {
		t.Fatalf("negative size: %v %q", f.Kind, f.Payload)
	}
}

// Many small objects share a few segments.
func TestShmArena(t *testing.T) {
	v := newShmService(os.Stderr)
	p := newTestPeer(1)
	segs := map[uint64]bool{}
	for i := 0; i < 20000; i++ {
		r := newObj(t, v, p, ObjLock, 0)
		segs[r.Seg] = true
	}
	if len(segs) > 2 {
		t.Fatalf("20000 locks in %d segments", len(segs))
	}
	for _, n := range []int64{1, 64, 65, 128, 129, 16384, 16385} {
		want := -1
		switch {
		case n <= 64:
			want = 0
		case n <= 128:
			want = 1
		case n <= 256:
			want = 2
		case n <= 16384:
			want = 8
		}
		if got := sizeClass(n); got != want {
			t.Errorf("sizeClass(%d) = %d, want %d", n, got, want)
		}
	}
}

// End to end: a child of a real supervisor takes a lock and is killed; the
// host releases it with a warning naming the child, and the host's own
// waiter gets it.
func TestShmDeadHolderReleased(t *testing.T) {
	t.Setenv("MPJS_SHMTEST", "1")
	sup, warn := newSupervisor(t, 8)
	node := sup.Local()
	shm := NewShm(node)
	lock, err := shm.New(ObjLock, 0)
	if err != nil {
		t.Fatal(err)
	}
	held, err := shm.New(ObjEvent, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := Enc{B: []byte("hold")}
	for _, o := range []*Obj{lock, held} {
		o.Pin()
		o.Ref.Encode(&e)
	}
	info, err := node.Start(StartSpec{Name: "holder", Payload: e.B})
	if err != nil {
		t.Fatal(err)
	}
	if !EventAt(held.Word(0)).Wait(10 * time.Second) {
		t.Fatal("the child never took the lock")
	}
	if MutexAt(lock.Word(0)).Owner() != OwnerOf(info.ID) {
		t.Fatal("the lock word does not name the child")
	}
	// The child maps the segment, an anonymous memfd: nothing in /dev/shm
	// or TMPDIR, so nothing can be left there however the run ends.
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", info.Pid))
	if err != nil || !strings.Contains(string(maps), "/memfd:mpjs-shm (deleted)") {
		t.Fatalf("the child's mappings show no mpjs memfd (%v):\n%s", err, maps)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], "s") && !strings.Contains(line, "/memfd:mpjs-shm (deleted)") && !strings.Contains(line, "/memfd:mpjs-output (deleted)") {
			t.Errorf("the child shares memory that is not an mpjs memfd: %s", line)
		}
	}
	got := make(chan bool)
	go func() { got <- MutexAt(lock.Word(0)).Lock(OwnerOf(MainID), 10*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	if err := node.Signal(info.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !<-got {
		t.Fatal("the host's waiter did not get the lock")
	}
	if _, err := node.Join(info.ID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	want := "mpjs: process holder (pid " + itoa(info.Pid) + ") died holding a Lock; released it\n"
	if warn.String() != want {
		t.Fatalf("warning %q, want %q", warn.String(), want)
	}
	lock.Release()
	held.Release()
	if shm.Held() != 0 {
		t.Fatal("the host still holds objects")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A long run that starts and ends many processes, each of which receives
// shared objects, keeps a flat number of open files in the host; the
// children keep none (a segment's descriptor is closed once mapped).
func TestShmFlatOpenFiles(t *testing.T) {
	t.Setenv("MPJS_SHMTEST", "1")
	sup, _ := newSupervisor(t, 8)
	node := sup.Local()
	shm := NewShm(node)
	var objs []*Obj
	for _, k := range []ObjKind{ObjLock, ObjData} {
		o, err := shm.New(k, 1<<20) // the data is big enough for a dedicated segment
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	run := func() {
		e := Enc{B: []byte("fds ")}
		for _, o := range objs {
			o.Pin()
			o.Ref.Encode(&e)
		}
		info, err := node.Start(StartSpec{Name: "attacher", Payload: e.B})
		if err != nil {
			t.Fatal(err)
		}
		st, err := node.Join(info.ID, 10*time.Second)
		if err != nil || st.ExitCode != 0 {
			t.Fatalf("child: %+v %v", st, err)
		}
	}
	for i := 0; i < 3; i++ {
		run() // the first starts boot the spares
	}
	// The spares kept ready (two here) may grow to their limit, each with a
	// socket and a pidfd; a leak would grow with the number of processes.
	const processes, slack = 40, 2*2 + 2
	before := openFiles(t)
	for i := 0; i < processes; i++ {
		run()
	}
	if after := openFiles(t); after > before+slack {
		t.Fatalf("open files grew from %d to %d over %d processes", before, after, processes)
	}
}

func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func shmTestChild() int {
	c, err := Dial()
	if err != nil {
		return 2
	}
	spec, err := c.WaitRun()
	if err != nil {
		return 0
	}
	shm := NewShm(c)
	mode, payload := string(spec.Payload[:4]), spec.Payload[4:]
	d := Dec{B: payload}
	lr, er := DecodeRef(&d), DecodeRef(&d)
	if d.Done() != nil {
		return 3
	}
	if mode == "fds " {
		// Attach both, then check that no descriptor of theirs stays open.
		for _, r := range []Ref{lr, er} {
			if _, err := shm.Attach(r); err != nil {
				return 4
			}
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, f := range fds {
			if l, _ := os.Readlink("/proc/self/fd/" + f.Name()); strings.Contains(l, "memfd") {
				return 6
			}
		}
		return 0
	}
	lock, err := shm.Attach(lr)
	if err != nil {
		return 4
	}
	ev, err := shm.Attach(er)
	if err != nil {
		return 5
	}
	MutexAt(lock.Word(0)).Lock(OwnerOf(spec.Self.ID), -1)
	EventAt(ev.Word(0)).Set()
	time.Sleep(time.Hour) // until killed
	return 0
}
