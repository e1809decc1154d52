package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mpjs/internal/syncbuf"
)

// TestMain lets the test binary act as a child: the supervisor under test
// re-executes it, and the payload says how the child should behave.
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(fakeChild())
	}
	os.Exit(m.Run())
}

func fakeChild() int {
	c, err := Dial()
	if err != nil {
		return 2
	}
	spec, err := c.WaitRun()
	if err != nil {
		return 0
	}
	switch string(spec.Payload) {
	case "exit3":
		return 3
	case "garbage":
		c.conn.uc.Write([]byte("this is not a frame at all, just text"))
	case "oversized":
		h := binary.LittleEndian.AppendUint32(nil, 0xfffffff0)
		c.conn.uc.Write(append(h, byte(KindOK), 0, 1, 0, 0, 0))
	case "unknown":
		c.conn.Write(Kind(200), 1, nil)
	case "deaf":
		// It asks for shared memory and cannot take the answer, as a
		// process killed in the middle of the call.
		c.conn.uc.CloseRead()
		var e Enc
		e.Uint(uint64(ObjLock)).Int(0)
		c.conn.Write(KindShmNew, 1, e.B)
		return 3
	case "cut":
		// It dies in the middle of a frame that carries a descriptor
		// (sent with the header; the payload follows in another write).
		h := c.conn.header(KindShmNew, 1, 100, 1)
		c.conn.uc.WriteMsgUnix(append(h, 1, 2, 3), unix.UnixRights(2), nil)
		return 3
	case "sleep":
	}
	select {} // until the host ends us
}

type syncBuffer = syncbuf.Buffer

func newSupervisor(t *testing.T, maxProcs int) (*Supervisor, *syncBuffer) {
	t.Helper()
	warn := &syncBuffer{}
	s, err := NewSupervisor(Config{Exe: os.Args[0], MaxProcs: maxProcs, Spares: 2, Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(time.Second) })
	return s, warn
}

func startAndJoin(t *testing.T, n Node, behaviour string) Status {
	t.Helper()
	info, err := n.Start(StartSpec{Name: behaviour, Payload: []byte(behaviour)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := n.Join(info.ID, 10*time.Second)
	if err != nil || !st.Done {
		t.Fatalf("join %s: %+v %v", behaviour, st, err)
	}
	return st
}

// A child that breaks the protocol is ended with a clear warning; the host
// and the other children go on.
func TestProtocolBreakersAreEnded(t *testing.T) {
	s, warn := newSupervisor(t, 0)
	n := s.Local()
	sibling, err := n.Start(StartSpec{Name: "sibling", Payload: []byte("sleep")})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"garbage", "oversized", "unknown"} {
		if st := startAndJoin(t, n, b); st.ExitCode != -int(syscall.SIGKILL) {
			t.Errorf("%s: exit %d, want -9", b, st.ExitCode)
		}
		if !strings.Contains(warn.String(), "ending process "+b) {
			t.Errorf("%s: no warning naming it in %q", b, warn.String())
		}
	}
	if st, _ := n.Join(sibling.ID, 0); st.Done {
		t.Fatal("the sibling died too")
	}
	if st := startAndJoin(t, n, "exit3"); st.ExitCode != 3 {
		t.Fatalf("a later child exited %d, want 3", st.ExitCode)
	}
	if err := n.Signal(sibling.ID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.Join(sibling.ID, -1); st.ExitCode != -int(syscall.SIGTERM) {
		t.Fatalf("sibling exit %d, want -15", st.ExitCode)
	}
}

func TestJoinTimeoutAndActive(t *testing.T) {
	s, _ := newSupervisor(t, 0)
	n := s.Local()
	info, err := n.Start(StartSpec{Name: "sleeper", Payload: []byte("sleep")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	st, err := n.Join(info.ID, 100*time.Millisecond)
	if err != nil || st.Done {
		t.Fatalf("join with timeout: %+v %v", st, err)
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("join(0.1) returned after %v", d)
	}
	list, _ := n.Active()
	if len(list) != 1 || list[0].ID != info.ID || list[0].Pid <= 0 {
		t.Fatalf("active: %+v", list)
	}
	n.Signal(info.ID, syscall.SIGKILL)
	if st, _ := n.Join(info.ID, -1); st.ExitCode != -9 {
		t.Fatalf("exit %d, want -9", st.ExitCode)
	}
	if list, _ := n.Active(); len(list) != 0 {
		t.Fatalf("active after the end: %+v", list)
	}
	if _, err := n.Join(12345, 0); err == nil {
		t.Fatal("joined a process that does not exist")
	}
}

func TestMaxProcs(t *testing.T) {
	s, _ := newSupervisor(t, 1)
	n := s.Local()
	info, err := n.Start(StartSpec{Name: "one", Payload: []byte("sleep")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Start(StartSpec{Name: "two", Payload: []byte("sleep")})
	if pe, ok := err.(*ProcessError); !ok || !strings.Contains(pe.Msg, "--max-procs") {
		t.Fatalf("second start: %v, want a ProcessError naming --max-procs", err)
	}
	n.Signal(info.ID, syscall.SIGKILL)
	n.Join(info.ID, -1)
	if st := startAndJoin(t, n, "exit3"); st.ExitCode != 3 {
		t.Fatalf("after a slot freed: exit %d", st.ExitCode)
	}
}

// A spare that dies just as start() takes it, before its reaper settles it,
// ends as the spare it was: the process started in its place under the same
// id is not reported as ended (its locks would be released, its queue
// leases taken back, its put pipe closed under it), and the count of live
// processes stays right.
func TestSpareDiesAsItIsTaken(t *testing.T) {
	var spare *proc
	hold, entered := make(chan struct{}), make(chan struct{})
	testHookReap = func(p *proc) {
		if p == spare {
			close(entered)
			<-hold
		}
	}
	t.Cleanup(func() { testHookReap = nil }) // after the supervisor's Close
	s, _ := newSupervisor(t, 0)
	n := s.Local()
	var mu sync.Mutex
	ended := map[int64]int{}
	s.OnExit(func(i ProcInfo) { mu.Lock(); ended[i.ID]++; mu.Unlock() })

	// A start that found no spare makes the supervisor keep one.
	startAndJoin(t, n, "exit3")
	for deadline := time.Now().Add(30 * time.Second); spare == nil; {
		s.mu.Lock()
		if len(s.spares) > 0 {
			spare = s.spares[0]
		}
		s.mu.Unlock()
		if spare == nil && time.Now().After(deadline) {
			t.Fatal("no spare was booted")
		}
		time.Sleep(time.Millisecond) // polling for the spare
	}
	spare.os.Kill()
	<-entered // it is dead; its reaper waits to settle it
	info, err := n.Start(StartSpec{Name: "sleeper", Payload: []byte("sleep")})
	if err != nil {
		t.Fatal(err)
	}
	close(hold)
	<-spare.done
	if info.Pid == spare.os.Pid {
		t.Fatalf("the dead spare (pid %d) was started as %+v", spare.os.Pid, info)
	}
	mu.Lock()
	early := ended[info.ID]
	mu.Unlock()
	if early != 0 {
		t.Fatalf("the spare's end was reported as the end of %+v, which runs", info)
	}
	if st, err := n.Join(info.ID, 0); err != nil || st.Done {
		t.Fatalf("join(0) of the running process: %+v %v", st, err)
	}
	if list, _ := n.Active(); len(list) != 1 || list[0].ID != info.ID {
		t.Fatalf("active: %+v, want %+v", list, info)
	}
	n.Signal(info.ID, syscall.SIGKILL)
	if st, _ := n.Join(info.ID, -1); st.ExitCode != -9 {
		t.Fatalf("exit %d, want -9", st.ExitCode)
	}
	mu.Lock()
	defer mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ended[info.ID] != 1 || s.live != 0 {
		t.Fatalf("the process's end was reported %d times, %d live processes are counted; want 1 and 0", ended[info.ID], s.live)
	}
}

// A reply that cannot be written because the process it answers is gone
// (or deaf) is not that process breaking the protocol: no warning, and the
// rest of what it wrote is still read.
//
// Nor is a process that dies in the middle of writing a frame.
func TestDeathInTheMiddleOfACallIsNoFault(t *testing.T) {
	s, warn := newSupervisor(t, 0)
	for _, b := range []string{"deaf", "cut"} {
		if st := startAndJoin(t, s.Local(), b); st.ExitCode != 3 {
			t.Errorf("%s: exit %d, want 3", b, st.ExitCode)
		}
	}
	if w := warn.String(); w != "" {
		t.Errorf("warnings: %q, want none", w)
	}
}

// start() does not wait for a new child to boot: the target waits in the
// channel. A child that is gone (and settled) before it could be given the
// target is replaced, so start() succeeds; when child after child is gone,
// start() fails with a ProcessError after bootTries of them. A child killed
// after start() returned, while it still boots, is that process killed.
//
// With WaitBoot (the REPL's host) start() waits for the child's hello, and a
// child that dies before it is replaced the same way.
func TestChildKilledWhileItBoots(t *testing.T) {
	for _, wait := range []bool{false, true} {
		t.Run(fmt.Sprintf("WaitBoot=%v", wait), func(t *testing.T) { testChildKilledWhileItBoots(t, wait) })
	}
}

func testChildKilledWhileItBoots(t *testing.T, wait bool) {
	var boots, kill atomic.Int32
	testHookBoot = func(p *proc) {
		boots.Add(1)
		if kill.Add(-1) >= 0 {
			p.os.Kill()
			<-p.done // its reaper settled it: it ended as a spare
		}
	}
	t.Cleanup(func() { testHookBoot = nil }) // after the supervisor's Close
	// No spares: every start executes its own child, and nothing else does.
	s, err := NewSupervisor(Config{Exe: os.Args[0], Warn: &syncBuffer{}, WaitBoot: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(time.Second) })
	n := s.Local()
	kill.Store(1)
	if st := startAndJoin(t, n, "exit3"); st.ExitCode != 3 {
		t.Fatalf("exit %d, want 3", st.ExitCode)
	}
	if b := boots.Load(); b != 2 {
		t.Fatalf("%d boots, want the killed one and another", b)
	}
	boots.Store(0)
	kill.Store(1 << 20)
	_, err = n.Start(StartSpec{Name: "doomed", Payload: []byte("exit3")})
	want := "were gone before they could take it"
	if wait {
		want = "before it was ready"
	}
	var pe *ProcessError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, want) {
		t.Fatalf("start with every child killed: %v, want a ProcessError saying %q", err, want)
	}
	if b := boots.Load(); b != bootTries {
		t.Fatalf("%d boots, want %d", b, bootTries)
	}
	s.mu.Lock()
	live := s.live
	s.mu.Unlock()
	if live != 0 {
		t.Fatalf("%d live processes counted after the failed start, want 0", live)
	}
	kill.Store(0)
	info, err := n.Start(StartSpec{Name: "sleeper", Payload: []byte("sleep")})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Signal(info.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := n.Join(info.ID, -1); err != nil || st.ExitCode != -9 {
		t.Fatalf("a process killed while it boots: %+v %v, want exit -9", st, err)
	}
}
