package host

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The pool's scheduling, tested against fake workers: goroutines that speak
// the worker's side of the channel (PoolWorkerConn) and act on what a task's
// args say, so that deaths, revokes and retirements happen exactly when a
// test wants them.
//
//	"ok:X"    answer X
//	"die"     end the worker (exit code 3) without answering
//	"block"   wait until the worker is signalled (which ends it)

type fakeNode struct {
	t       *testing.T
	mu      sync.Mutex
	next    int64
	workers map[int64]*fakeWorker
	initErr string // workers fail their initializer with this
}

type fakeWorker struct {
	info    ProcInfo
	conn    *PoolWorkerConn
	mu      sync.Mutex
	cond    *sync.Cond
	inbox   []PoolWorkerTask
	eof     bool
	done    chan struct{}
	code    int
	ended   sync.Once
	signals chan struct{}
	ran     []string
}

func newFakeNode(t *testing.T) *fakeNode {
	return &fakeNode{t: t, workers: map[int64]*fakeWorker{}}
}

func (n *fakeNode) Self() ProcInfo           { return ProcInfo{Name: "MainProcess", Pid: os.Getpid()} }
func (n *fakeNode) Parent() (ProcInfo, bool) { return ProcInfo{}, false }
func (n *fakeNode) Active() ([]ProcInfo, error) {
	return nil, nil
}
func (n *fakeNode) Call(Kind, []byte, ...*os.File) (Frame, error) {
	return Frame{}, errors.New("no services")
}
func (n *fakeNode) Send(Kind, []byte, ...*os.File) error { return errors.New("no services") }
func (n *fakeNode) OnMessage(Kind, func(Frame))          {}

func (n *fakeNode) Start(spec StartSpec) (ProcInfo, error) {
	fd, err := dupCloexec(int(spec.Files[0].Fd()))
	if err != nil {
		return ProcInfo{}, err
	}
	conn, err := NewPoolWorkerConn(os.NewFile(uintptr(fd), "fake-worker"))
	if err != nil {
		return ProcInfo{}, err
	}
	n.mu.Lock()
	n.next++
	w := &fakeWorker{info: ProcInfo{ID: n.next, Pid: 100000 + int(n.next), Name: spec.Name, Daemon: spec.Daemon},
		conn: conn, done: make(chan struct{}), signals: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	n.workers[w.info.ID] = w
	initErr := n.initErr
	n.mu.Unlock()
	go w.serve(initErr)
	return w.info, nil
}

func (n *fakeNode) worker(id int64) *fakeWorker {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.workers[id]
}

func (n *fakeNode) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.workers)
}

func (n *fakeNode) Join(id int64, timeout time.Duration) (Status, error) {
	w := n.worker(id)
	if w == nil {
		return Status{}, fmt.Errorf("no worker %d", id)
	}
	if timeout < 0 {
		<-w.done
		return Status{Done: true, ExitCode: w.code}, nil
	}
	select {
	case <-w.done:
		return Status{Done: true, ExitCode: w.code}, nil
	case <-time.After(timeout):
		return Status{}, nil
	}
}

func (n *fakeNode) Signal(id int64, sig syscall.Signal) error {
	if w := n.worker(id); w != nil {
		w.end(-int(sig))
	}
	return nil
}

// end makes the worker's process end: its channel closes.
func (w *fakeWorker) end(code int) {
	w.ended.Do(func() {
		w.code = code
		w.conn.c.Close()
		w.mu.Lock()
		w.eof = true
		w.cond.Broadcast()
		w.mu.Unlock()
		close(w.signals)
		close(w.done)
	})
}

func (w *fakeWorker) serve(initErr string) {
	if initErr != "" {
		w.conn.InitFailed(initErr)
		w.end(1)
		return
	}
	w.conn.Ready()
	go func() { // the reader: revokes are answered here, at once
		for {
			m, err := w.conn.Read()
			if err != nil || m.EOF {
				w.mu.Lock()
				w.eof = true
				w.cond.Broadcast()
				w.mu.Unlock()
				return
			}
			if m.Revoke != 0 {
				w.mu.Lock()
				for i, t := range w.inbox {
					if t.Seq == m.Revoke {
						w.inbox = append(w.inbox[:i], w.inbox[i+1:]...)
						w.conn.Revoked(t.Seq)
						break
					}
				}
				w.mu.Unlock()
				continue
			}
			w.mu.Lock()
			w.inbox = append(w.inbox, m.Tasks...)
			w.cond.Broadcast()
			w.mu.Unlock()
		}
	}()
	for {
		w.mu.Lock()
		for len(w.inbox) == 0 && !w.eof {
			w.cond.Wait()
		}
		if len(w.inbox) == 0 {
			w.mu.Unlock()
			w.conn.Bye()
			w.end(0)
			return
		}
		t := w.inbox[0]
		w.inbox = w.inbox[1:]
		w.ran = append(w.ran, string(t.Args))
		w.mu.Unlock()
		switch args := string(t.Args); {
		case args == "die":
			w.end(3)
			return
		case args == "block":
			<-w.signals
			return
		case strings.HasPrefix(args, "ok:"):
			if w.conn.Result(t.Seq, TaskOK, 0, []byte(args[3:]), nil) != nil {
				return
			}
		}
	}
}

// results collects what the pool delivers.
type results struct {
	c chan PoolResult
}

func newResults() *results { return &results{c: make(chan PoolResult, 1000)} }

func (r *results) deliver(res PoolResult) { r.c <- res }

// next waits for the next result (failing the test after a while: the pool
// must never hang).
func (r *results) next(t *testing.T) PoolResult {
	t.Helper()
	select {
	case res := <-r.c:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no result after 10 s")
		return PoolResult{}
	}
}

func newTestPool(t *testing.T, n *fakeNode, procs, maxTasks int) (*Pool, *results) {
	t.Helper()
	res := newResults()
	var count atomic.Int64
	p, err := NewPool(PoolConfig{
		Node: n, Processes: procs, MaxTasks: maxTasks,
		Name:    func() string { return fmt.Sprintf("PoolWorker-%d", count.Add(1)) },
		Files:   []*os.File{os.Stdin},
		Deliver: res.deliver,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Terminate)
	return p, res
}

func submit(t *testing.T, p *Pool, job *PoolJob, fn uint32, args ...string) {
	t.Helper()
	for i, a := range args {
		if err := p.Submit(&PoolTask{Job: job, Chunk: i, Fn: fn, Args: []byte(a)}); err != nil {
			t.Fatal(err)
		}
	}
}

func define(t *testing.T, p *Pool) uint32 {
	id, err := p.Define([]byte("fn"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPoolAnswersEveryTask(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 2, 0)
	fn := define(t, p)
	job := &PoolJob{}
	var args []string
	for i := 0; i < 50; i++ {
		args = append(args, fmt.Sprintf("ok:%d", i))
	}
	submit(t, p, job, fn, args...)
	seen := map[int]string{}
	for range args {
		r := res.next(t)
		if r.Err != nil || r.Status != TaskOK {
			t.Fatalf("chunk %d: %v %d", r.Chunk, r.Err, r.Status)
		}
		seen[r.Chunk] = string(r.Payload)
	}
	for i := range args {
		if seen[i] != fmt.Sprint(i) {
			t.Errorf("chunk %d answered %q", i, seen[i])
		}
	}
	p.Close()
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
}

// A dead worker fails the task it was running and no other: the ones it held
// behind it run on its replacement.
func TestPoolDeathFailsOnlyTheRunningTask(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 1, 0)
	fn := define(t, p)
	submit(t, p, &PoolJob{}, fn, "ok:warm")
	res.next(t) // tasks are small from now on: windows hold many
	submit(t, p, &PoolJob{}, fn, "ok:a", "die", "ok:b", "ok:c")
	want := map[int]string{0: "a", 2: "b", 3: "c"}
	for range 4 {
		r := res.next(t)
		if r.Chunk == 1 {
			var se *ServiceError
			if !errors.As(r.Err, &se) || se.Class != "BrokenProcessPool" {
				t.Fatalf("the dying task got %v", r.Err)
			}
			if !strings.Contains(se.Msg, "PoolWorker-1 (pid 100001) exited with code 3") {
				t.Errorf("message %q does not name the worker and its exit", se.Msg)
			}
			continue
		}
		if r.Err != nil || string(r.Payload) != want[r.Chunk] {
			t.Fatalf("chunk %d: %v %q", r.Chunk, r.Err, r.Payload)
		}
	}
	if n.count() != 2 {
		t.Errorf("%d workers started, want the first and one replacement", n.count())
	}
}

// A worker that is blocked in a long task gives back the tasks it has not
// started to an idle worker.
func TestPoolStealsFromABlockedWorker(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 2, 0)
	fn := define(t, p)
	submit(t, p, &PoolJob{}, fn, "ok:1", "ok:2", "ok:3", "ok:4")
	for range 4 {
		res.next(t)
	}
	// Tiny tasks so far: windows are wide, and one worker takes all these.
	submit(t, p, &PoolJob{}, fn, "block", "ok:a", "ok:b", "ok:c", "ok:d")
	got := map[string]bool{}
	for range 4 {
		r := res.next(t)
		if r.Err != nil {
			t.Fatalf("chunk %d: %v", r.Chunk, r.Err)
		}
		got[string(r.Payload)] = true
	}
	if len(got) != 4 {
		t.Errorf("answers %v", got)
	}
}

func TestPoolMaxTasksRetiresWorkers(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 1, 2)
	fn := define(t, p)
	submit(t, p, &PoolJob{}, fn, "ok:1", "ok:2", "ok:3", "ok:4", "ok:5", "ok:6")
	for range 6 {
		if r := res.next(t); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if c := n.count(); c < 3 {
		t.Errorf("%d workers ran 6 tasks with maxtasks 2", c)
	}
	for id := int64(1); id <= int64(n.count()); id++ {
		w := n.worker(id)
		w.mu.Lock()
		if len(w.ran) > 2 {
			t.Errorf("worker %d ran %v", id, w.ran)
		}
		w.mu.Unlock()
	}
}

func TestPoolInitializerFailureBreaksThePool(t *testing.T) {
	n := newFakeNode(t)
	n.initErr = "RangeError: bad"
	p, res := newTestPool(t, n, 2, 0)
	fn := define(t, p)
	err := p.Submit(&PoolTask{Job: &PoolJob{}, Fn: fn, Args: []byte("ok:1")})
	if err == nil {
		r := res.next(t)
		err = r.Err
	}
	var se *ServiceError
	if !errors.As(err, &se) || se.Class != "BrokenProcessPool" || !strings.Contains(se.Msg, "initializer failed") ||
		!strings.Contains(se.Msg, "RangeError: bad") {
		t.Fatalf("got %v", err)
	}
	if err := p.Submit(&PoolTask{Job: &PoolJob{}, Fn: fn, Args: []byte("ok:2")}); !errors.As(err, &se) {
		t.Fatalf("a broken pool took work: %v", err)
	}
	if n.count() > 3 {
		t.Errorf("%d workers started: a failing initializer must not restart workers for ever", n.count())
	}
}

func TestPoolTerminateFailsWhatIsPending(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 2, 0)
	fn := define(t, p)
	submit(t, p, &PoolJob{}, fn, "block", "block", "ok:queued")
	start := time.Now()
	p.Terminate()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("terminate took %v", d)
	}
	for range 3 {
		var pe *ProcessError
		if r := res.next(t); !errors.As(r.Err, &pe) {
			t.Errorf("chunk %d: %v, want the pool's termination", r.Chunk, r.Err)
		}
	}
	if err := p.Submit(&PoolTask{Job: &PoolJob{}, Fn: fn}); err == nil {
		t.Error("a terminated pool took work")
	}
}

func TestPoolCloseDrainsThenJoins(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 2, 0)
	fn := define(t, p)
	if err := p.Join(); err == nil {
		t.Error("join of a running pool")
	}
	submit(t, p, &PoolJob{}, fn, "ok:1", "ok:2", "ok:3")
	p.Close()
	if err := p.Submit(&PoolTask{Job: &PoolJob{}, Fn: fn}); err == nil {
		t.Error("a closed pool took work")
	}
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
	if len(res.c) != 3 {
		t.Errorf("%d results when join returned, want 3", len(res.c))
	}
}

// A cancelled job's queued tasks are dropped, not run.
func TestPoolCancelOnError(t *testing.T) {
	n := newFakeNode(t)
	p, res := newTestPool(t, n, 1, 0)
	fn := define(t, p)
	job := &PoolJob{CancelOnError: true}
	submit(t, p, job, fn, "die", "ok:never", "ok:never")
	if r := res.next(t); r.Err == nil {
		t.Fatal("the dying task did not fail")
	}
	submit(t, p, &PoolJob{}, fn, "ok:after")
	if r := res.next(t); string(r.Payload) != "after" {
		t.Fatalf("got %q %v: a cancelled task ran", r.Payload, r.Err)
	}
}

// The pool's spare buffers: big enough ones are used again, small and
// huge ones are not kept, and a full list keeps the largest.
func TestPoolBufList(t *testing.T) {
	var l bufList
	if b := l.get(10); cap(b) < 10 || len(b) != 0 {
		t.Fatalf("get(10): len %d cap %d", len(b), cap(b))
	}
	b := l.get(50000)
	if cap(b) < 50000+minListedBuf/2 {
		t.Errorf("get(50000) has cap %d: no room for a slightly larger request", cap(b))
	}
	b = append(b, 1, 2, 3)
	l.put(b)
	if c := l.get(50010); &c[:1][0] != &b[:1][0] || len(c) != 0 {
		t.Error("a listed buffer large enough was not used again")
	}
	l.put(make([]byte, 100))
	l.put(make([]byte, 0, maxListedBuf+1))
	if len(l.bufs) != 0 {
		t.Errorf("%d buffers kept, want none (too small, too large)", len(l.bufs))
	}
	for i := 0; i < maxListed; i++ {
		l.put(make([]byte, 0, minListedBuf))
	}
	l.put(make([]byte, 0, 4*minListedBuf))
	if len(l.bufs) != maxListed {
		t.Fatalf("%d buffers kept, want %d", len(l.bufs), maxListed)
	}
	if c := l.get(3 * minListedBuf); cap(c) != 4*minListedBuf {
		t.Errorf("the larger buffer did not replace a smaller one in the full list (got cap %d)", cap(c))
	}
}
