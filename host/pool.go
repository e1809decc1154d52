package host

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A process pool is owned by the process that made it (the host or any
// child). Each worker is a child started through Node.Start like any
// Process (so --max-procs, spares, the lifeline and reaping apply), daemonic,
// and gets its own socketpair with the owner: tasks and results go straight
// between the two processes, never through the host's broker.
//
// The owner schedules: it keeps the queue of tasks and hands each ready
// worker a window of them: one while nobody knows how long tasks take, then
// about half a millisecond of work by the running average (at most 64), so
// tiny tasks travel in batches, and at least two, so that a worker finds
// its next task waiting when it ends one instead of idling for a round
// trip through the owner. When a worker goes idle with nothing queued, the
// owner revokes a task another worker holds but has not started (work
// stealing): a window never keeps work from an idle worker behind a long
// task.
//
// A worker runs its tasks strictly in order and writes each result as soon
// as the task ends, so when its channel reaches end-of-file the first task
// it has not answered is the one it was running: that task fails with
// BrokenProcessPool (naming the worker's pid and how it ended), the ones
// queued behind it go back to the pool's queue, and a replacement worker
// starts. Nothing waits on a dead worker. A worker that dies before it is
// ready three times in a row, or whose initializer throws, breaks the pool:
// every task fails with BrokenProcessPool instead of workers restarting
// for ever.
//
// Frames on a worker channel (kinds in the pool range, KindPoolBase..127):
//
//	owner → worker  KindPoolDef     uv id, uv nfiles, bytes code   a function, sent once per worker
//	owner → worker  KindPoolForget  uv n, n × uv id            functions the worker may drop
//	owner → worker  KindPoolTasks   uv n, n × task             tasks, in order; descriptors follow the frame
//	owner → worker  KindPoolRevoke  uv seq                     give the task back if it has not started
//	                                task = uv seq, uv fn, uv mode, uv first, uv nfiles, bytes args
//	worker → owner  KindPoolReady   (empty)                    the initializer ran; tasks welcome
//	worker → owner  KindPoolResult  uv seq, uv status, uv µs, uv nfiles, bytes payload
//	worker → owner  KindPoolInitFailed  string description     the initializer threw; the worker exits
//	worker → owner  KindPoolBye     (empty)                    all answered, exiting (after end-of-file)
//
// End-of-file from the owner (it shuts its writing side) tells a worker to
// exit once the tasks it already has are done: that is how close() drains,
// and how a worker that reached maxtasksperchild retires. Its Bye lets
// join() return without waiting for the kernel to tear the process down
// (the supervisor reaps it). Shared objects in a function's captured
// values or a task's arguments travel as descriptors with their frame.
const (
	KindPoolDef        Kind = KindPoolBase + iota // owner → worker: a function to cache
	KindPoolForget                                // owner → worker: cached functions to drop
	KindPoolTasks                                 // owner → worker: a batch of tasks
	KindPoolReady                                 // worker → owner: initialized
	KindPoolResult                                // worker → owner: one task's outcome
	KindPoolInitFailed                            // worker → owner: the initializer failed
	KindPoolBye                                   // worker → owner: done, exiting now
	KindPoolRevoke                                // owner → worker: give a task back if not started
)

// Task statuses in a KindPoolResult frame.
const (
	TaskOK      byte = 0 // payload is the encoded result
	TaskError   byte = 1 // payload is the encoded value the task threw
	TaskRevoked byte = 2 // not started: given back (KindPoolRevoke); out of order
)

// PoolConfig describes a pool's workers.
type PoolConfig struct {
	Node      Node // where workers are started (this process's Node)
	Processes int  // workers kept running
	// MaxTasks retires a worker after that many tasks (0: never), as
	// Python's maxtasksperchild.
	MaxTasks int
	// Name gives the name of each new worker; it is called from several
	// goroutines at once.
	Name func() string
	// Payload is the start payload of every worker; Files travel with it,
	// and Files[Slot] is replaced by the worker's own channel.
	Payload []byte
	Files   []*os.File
	Slot    int
	// Deliver receives every task's outcome, in the order they arrive. It is
	// called with the pool's lock held and must not block or call the pool.
	Deliver func(PoolResult)
}

// PoolJob groups the tasks of one call (a map, an apply, an imap).
type PoolJob struct {
	// Tag is the caller's own state for the job.
	Tag any
	// CancelOnError stops the job's other tasks at its first failure (map
	// does; imap, which reports each chunk on its own, does not).
	CancelOnError bool
	cancelled     atomic.Bool
}

// Cancel drops the job's tasks that no worker has taken yet.
func (j *PoolJob) Cancel() { j.cancelled.Store(true) }

// PoolTask is one unit of work: a chunk of items for one function.
type PoolTask struct {
	Job   *PoolJob
	Chunk int    // the task's index in its job
	First int    // the index of its first item in the job's iterable
	Fn    uint32 // from Pool.Define
	Mode  byte   // how the worker applies the function (the caller's code)
	Args  []byte
	// Files travel with the task (shared objects in its arguments); the pool
	// duplicates them at Submit, the caller keeps its own.
	Files    []*os.File
	seq      uint64
	revoking bool // asked back from its worker, for an idle one
}

// PoolResult is the outcome of one task.
type PoolResult struct {
	Job     *PoolJob
	Chunk   int
	Status  byte // TaskOK or TaskError, when Err is nil
	Payload []byte
	Files   []*os.File // descriptors for the payload; the receiver owns them
	// Err is set when the task did not run to its end: its worker died
	// (a *ServiceError of class BrokenProcessPool), the pool was terminated
	// or broken.
	Err error
}

type poolState int

const (
	poolRunning    poolState = iota
	poolClosed               // no new work; workers exit when the queue is empty
	poolTerminated           // stopped by Terminate
	poolBroken               // the initializer failed, or no worker can start
)

// Pool is the owner's side of a process pool. Its methods are safe for
// concurrent use.
type Pool struct {
	cfg PoolConfig

	mu       sync.Mutex
	cond     *sync.Cond // broadcast when workers come and go
	state    poolState
	stopErr  error // why tasks fail once terminated or broken
	queue    []*PoolTask
	qhead    int
	workers  []*poolWorker // started, not yet reaped
	spawning int
	rr       int
	seq      uint64
	ewma     float64 // µs a task takes in a worker (0: not known yet)
	fails    int     // workers in a row that died before they were ready
	revokes  int     // revoke requests not answered yet

	defs    map[string]uint32 // function code → id
	code    map[uint32]poolDef
	refs    map[uint32]int // tasks queued or in flight per function
	nextFn  uint32
	started int
	// spawnFailed is when starting a worker last failed (--max-procs...):
	// the pool goes on with the workers it has and tries again later.
	spawnFailed time.Time

	bufs bufList // see Buffer
}

// bufList is a short list of byte buffers to use again: the arguments of
// answered tasks, the results the owner has decoded. A pool that moves
// big chunks (a map of 100k numbers: 8 chunks of ~50 KB each way) would
// otherwise allocate each anew, and so collect garbage more often.
type bufList struct {
	mu   sync.Mutex
	bufs [][]byte
}

const (
	minListedBuf = 4 << 10  // smaller buffers are not worth keeping
	maxListedBuf = 16 << 20 // nor larger ones
	maxListed    = 16
)

// get returns a buffer of length 0 and capacity at least n.
func (l *bufList) get(n int) []byte {
	if n >= minListedBuf {
		l.mu.Lock()
		for i := len(l.bufs) - 1; i >= 0; i-- {
			if b := l.bufs[i]; cap(b) >= n {
				l.bufs[i] = l.bufs[len(l.bufs)-1]
				l.bufs[len(l.bufs)-1] = nil
				l.bufs = l.bufs[:len(l.bufs)-1]
				l.mu.Unlock()
				return b[:0]
			}
		}
		l.mu.Unlock()
		// Rounded up, so that buffers of about the same size (a chunk's
		// arguments, its results, a part of either) serve one another.
		return make([]byte, 0, (n+minListedBuf-1)/minListedBuf*minListedBuf+minListedBuf)
	}
	return make([]byte, 0, n)
}

// put keeps b for a later get; nothing may use b afterwards.
func (l *bufList) put(b []byte) {
	if cap(b) < minListedBuf || cap(b) > maxListedBuf {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bufs) < maxListed {
		l.bufs = append(l.bufs, b[:0])
		return
	}
	// Full: b takes the place of the smallest, if it is larger (small
	// buffers of an earlier, smaller map must not crowd out useful ones).
	small := 0
	for i, x := range l.bufs {
		if cap(x) < cap(l.bufs[small]) {
			small = i
		}
	}
	if cap(b) > cap(l.bufs[small]) {
		l.bufs[small] = b[:0]
	}
}

// Buffer returns an empty buffer with room for n bytes, for the Args of a
// task; once the task is answered, the pool uses it again.
func (p *Pool) Buffer(n int) []byte { return p.bufs.get(n) }

// Recycle gives back a result's Payload once nothing refers to it any more.
func (p *Pool) Recycle(b []byte) { p.bufs.put(b) }

type poolWorker struct {
	info     ProcInfo
	conn     *Conn
	ready    bool
	shut     bool // no more tasks: the writer shuts the channel after what is queued
	bye      bool // it answered everything and is exiting
	ended    bool // its channel reached its end: the process is exiting
	gone     bool
	inflight []*PoolTask
	sent     int
	known    map[uint32]bool
	out      []poolFrame
	wake     chan struct{}
}

type poolDef struct {
	code  []byte
	files []*os.File
}

type poolFrame struct {
	kind    Kind
	payload []byte
	parts   [][]byte // the payload in parts, when payload is nil (see give)
	files   []*os.File
}

// bigArgs is the size from which a task's arguments go out as a part of
// their frame of their own, not copied into it.
const bigArgs = 4 << 10

// maxPoolFiles bounds the descriptors in one frame of tasks.
const maxPoolFiles = maxFDs

// NewPool starts the workers. It returns when every worker has been
// started (not necessarily initialized), or the first error, in which case
// the workers already started are terminated.
func NewPool(cfg PoolConfig) (*Pool, error) {
	if cfg.Processes < 1 {
		return nil, fmt.Errorf("a pool needs at least one process")
	}
	p := &Pool{cfg: cfg, defs: map[string]uint32{}, code: map[uint32]poolDef{}, refs: map[uint32]int{}}
	p.cond = sync.NewCond(&p.mu)
	errs := make(chan error, cfg.Processes)
	p.mu.Lock()
	p.spawning += cfg.Processes
	p.mu.Unlock()
	for i := 0; i < cfg.Processes; i++ {
		go func() { errs <- p.spawn() }()
	}
	var first error
	for i := 0; i < cfg.Processes; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Terminate()
		return nil, first
	}
	return p, nil
}

// spawn starts one worker; the caller has counted it in p.spawning.
func (p *Pool) spawn() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		p.spawned(nil, fmt.Errorf("socketpair: %w", err))
		return err
	}
	mine := os.NewFile(uintptr(fds[0]), "mpjs-pool")
	theirs := os.NewFile(uintptr(fds[1]), "mpjs-pool-worker")
	files := append([]*os.File(nil), p.cfg.Files...)
	files[p.cfg.Slot] = theirs
	name := p.cfg.Name()
	info, err := p.cfg.Node.Start(StartSpec{Name: name, Daemon: true, Payload: p.cfg.Payload, Files: files})
	theirs.Close()
	if err != nil {
		mine.Close()
		p.spawned(nil, err)
		return err
	}
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		p.cfg.Node.Signal(info.ID, syscall.SIGKILL)
		p.cfg.Node.Join(info.ID, -1)
		p.spawned(nil, err)
		return err
	}
	w := &poolWorker{info: info, conn: NewConn(fc.(*net.UnixConn)), known: map[uint32]bool{}, wake: make(chan struct{}, 1)}
	p.spawned(w, nil)
	return nil
}

// spawned records the end of a spawn.
func (p *Pool) spawned(w *poolWorker, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spawning--
	if err != nil {
		p.spawnFailed = time.Now()
		if p.state == poolRunning || p.state == poolClosed {
			if len(p.workers) == 0 && p.spawning == 0 && p.started > 0 {
				p.breakPool(&ServiceError{Class: "BrokenProcessPool", Msg: "the pool cannot start a worker: " + err.Error()})
			}
		}
		p.cond.Broadcast()
		return
	}
	p.started++
	p.workers = append(p.workers, w)
	go p.writer(w)
	go p.reader(w)
	if p.state != poolRunning && p.state != poolClosed {
		w.shut = true
		p.signal(w)
		go p.cfg.Node.Signal(w.info.ID, syscall.SIGTERM)
	}
	p.cond.Broadcast()
}

func (p *Pool) signal(w *poolWorker) {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// writer sends a worker's frames in order, then shuts the channel when the
// worker is told to finish.
func (p *Pool) writer(w *poolWorker) {
	for {
		p.mu.Lock()
		for len(w.out) == 0 && !w.shut && !w.gone {
			p.mu.Unlock()
			<-w.wake
			p.mu.Lock()
		}
		frames := w.out
		w.out = nil
		shut, gone := w.shut, w.gone
		p.mu.Unlock()
		for _, f := range frames {
			if !gone {
				var err error
				if f.parts != nil {
					err = w.conn.WriteParts(f.kind, 0, f.parts, f.files...)
				} else {
					err = w.conn.Write(f.kind, 0, f.payload, f.files...)
				}
				if err != nil {
					// The worker is gone, or can no longer be fed: either
					// way it ends, and its reader settles what it held.
					p.cfg.Node.Signal(w.info.ID, syscall.SIGKILL)
					gone = true
				}
			}
		}
		if gone {
			return
		}
		if shut {
			p.mu.Lock()
			more := len(w.out) > 0
			p.mu.Unlock()
			if !more {
				w.conn.uc.CloseWrite()
				return
			}
		}
	}
}

// reader takes a worker's answers until its channel ends, then settles
// what the worker leaves behind.
func (p *Pool) reader(w *poolWorker) {
	for {
		f, err := w.conn.ReadWith(func(n int) []byte { return p.bufs.get(n)[:n] })
		if err != nil {
			break
		}
		if err := p.handle(w, f); err != nil {
			closeFiles(f.Files)
			// A worker that breaks the protocol is ended; its tasks are
			// settled as for any death.
			p.cfg.Node.Signal(w.info.ID, syscall.SIGKILL)
			break
		}
	}
	p.mu.Lock()
	w.ended = true
	p.cond.Broadcast()
	p.mu.Unlock()
	st := p.reap(w)
	w.conn.Close()
	p.mu.Lock()
	p.gone(w, st)
	p.mu.Unlock()
}

func (p *Pool) handle(w *poolWorker, f Frame) error {
	switch f.Kind {
	case KindPoolReady:
		p.mu.Lock()
		w.ready = true
		p.fails = 0
		p.dispatch()
		p.mu.Unlock()
	case KindPoolResult:
		d := Dec{B: f.Payload}
		seq, status, micros, nfiles, payload := d.Uint(), byte(d.Uint()), d.Uint(), int(d.Uint()), d.Bytes()
		if err := d.Done(); err != nil {
			return fmt.Errorf("pool result: %w", err)
		}
		if nfiles != len(f.Files) {
			return fmt.Errorf("pool result: %d descriptors announced, %d came", nfiles, len(f.Files))
		}
		// The payload ends the frame: with the frame's whole capacity, the
		// receiver's Recycle can use all of it again.
		payload = f.Payload[len(f.Payload)-len(payload):]
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopErr != nil {
			closeFiles(f.Files) // answered after the pool gave up on it
			return nil
		}
		if status == TaskRevoked {
			return p.revoked(w, seq)
		}
		if len(w.inflight) == 0 || w.inflight[0].seq != seq {
			return fmt.Errorf("pool result for task %d, which the worker was not running", seq)
		}
		t := w.inflight[0]
		w.inflight = w.inflight[1:]
		if t.revoking { // too late: it had started
			t.revoking = false
			p.revokes--
		}
		if p.ewma == 0 {
			p.ewma = float64(micros) + 1
		} else {
			p.ewma = 0.8*p.ewma + 0.2*(float64(micros)+1)
		}
		p.finish(t, PoolResult{Status: status, Payload: payload, Files: f.Files})
		// Answered: its arguments will not be sent again (a frame's last
		// byte was written before the worker could answer).
		p.bufs.put(t.Args)
		t.Args = nil
		p.dispatch()
	case KindPoolBye:
		p.mu.Lock()
		if len(w.inflight) == 0 {
			w.bye = true
			p.cond.Broadcast()
		}
		p.mu.Unlock()
	case KindPoolInitFailed:
		d := Dec{B: f.Payload}
		msg := d.String()
		if err := d.Done(); err != nil {
			return fmt.Errorf("pool init failure: %w", err)
		}
		p.mu.Lock()
		p.breakPool(&ServiceError{Class: "BrokenProcessPool", Msg: fmt.Sprintf("the pool's initializer failed in %s (pid %d): %s", w.info.Name, w.info.Pid, msg)})
		p.mu.Unlock()
	default:
		return fmt.Errorf("unexpected %v frame on a pool channel", f.Kind)
	}
	return nil
}

// reap waits for an ended worker's exit status; a worker that closed its
// channel but lingers is killed.
func (p *Pool) reap(w *poolWorker) Status {
	st, err := p.cfg.Node.Join(w.info.ID, 2*time.Second)
	if err == nil && !st.Done {
		p.cfg.Node.Signal(w.info.ID, syscall.SIGKILL)
		st, err = p.cfg.Node.Join(w.info.ID, -1)
	}
	if err != nil {
		return Status{Done: true, ExitCode: 1}
	}
	return st
}

// gone settles a worker that ended (lock held).
func (p *Pool) gone(w *poolWorker, st Status) {
	w.gone = true
	p.signal(w)
	for i, x := range p.workers {
		if x == w {
			p.workers = append(p.workers[:i], p.workers[i+1:]...)
			break
		}
	}
	inflight := w.inflight
	w.inflight = nil
	for _, t := range inflight {
		if t.revoking {
			t.revoking = false
			p.revokes--
		}
	}
	died := len(inflight) > 0 || !w.shut
	if len(inflight) > 0 {
		if p.stopErr != nil {
			for _, t := range inflight {
				p.finish(t, PoolResult{Err: p.stopErr})
			}
		} else {
			msg := fmt.Sprintf("worker %s (pid %d) %s while running the task", w.info.Name, w.info.Pid, describeExit(st.ExitCode))
			p.finish(inflight[0], PoolResult{Err: &ServiceError{Class: "BrokenProcessPool", Msg: msg}})
			// The worker runs tasks in order: the others never started.
			rest := inflight[1:]
			if len(rest) > 0 {
				q := make([]*PoolTask, 0, len(rest)+len(p.queue)-p.qhead)
				q = append(q, rest...)
				q = append(q, p.queue[p.qhead:]...)
				p.queue, p.qhead = q, 0
			}
		}
	}
	if died && !w.ready && p.state == poolRunning {
		p.fails++
		if p.fails >= 3 {
			p.breakPool(&ServiceError{Class: "BrokenProcessPool", Msg: fmt.Sprintf("pool workers die before they are ready (the last, %s (pid %d), %s)", w.info.Name, w.info.Pid, describeExit(st.ExitCode))})
		}
	}
	p.dispatch()
	p.cond.Broadcast()
}

// describeExit says how a process ended, from its exit code.
func describeExit(code int) string {
	if code < 0 {
		sig := syscall.Signal(-code)
		return fmt.Sprintf("was killed by signal %d (%s)", -code, unix.SignalName(sig))
	}
	return fmt.Sprintf("exited with code %d", code)
}

// finish delivers a task's outcome and releases what it held (lock held).
func (p *Pool) finish(t *PoolTask, r PoolResult) {
	r.Job, r.Chunk = t.Job, t.Chunk
	closeFiles(t.Files)
	t.Files = nil
	p.unref(t.Fn)
	if (r.Err != nil || r.Status != TaskOK) && t.Job.CancelOnError {
		t.Job.Cancel()
	}
	p.cfg.Deliver(r)
}

func (p *Pool) unref(fn uint32) {
	if p.refs[fn]--; p.refs[fn] <= 0 {
		delete(p.refs, fn)
	}
}

// window is how many tasks a worker may hold: one while nobody knows how
// long tasks take, then about half a millisecond of work (tiny tasks
// travel in batches), at least two (the one it runs and the next) and at
// most 64.
func (p *Pool) window() int {
	if p.ewma == 0 {
		return 1
	}
	return max(2, min(64, int(math.Ceil(500/p.ewma))))
}

// revoked takes back a task a worker gave back unstarted (lock held): it
// goes to the front of the queue, for the idle worker that wanted it.
func (p *Pool) revoked(w *poolWorker, seq uint64) error {
	for i, t := range w.inflight {
		if t.seq == seq {
			w.inflight = append(w.inflight[:i], w.inflight[i+1:]...)
			w.sent--
			if t.revoking {
				t.revoking = false
				p.revokes--
			}
			q := make([]*PoolTask, 0, len(p.queue)-p.qhead+1)
			q = append(append(q, t), p.queue[p.qhead:]...)
			p.queue, p.qhead = q, 0
			p.dispatch()
			return nil
		}
	}
	return fmt.Errorf("pool: task %d given back, but the worker did not hold it", seq)
}

// steal asks busy workers to give back tasks they have not started, one
// for each idle worker, when nothing is queued (lock held). Windows keep
// workers fed, but a worker stuck in a long task must not sit on tasks
// another worker could run.
func (p *Pool) steal() {
	idle := 0
	for _, w := range p.workers {
		if w.ready && !w.shut && !w.gone && len(w.inflight) == 0 {
			idle++
		}
	}
	for p.revokes < idle {
		var victim *poolWorker
		var pick *PoolTask
		most := 0
		for _, w := range p.workers {
			if w.gone {
				continue
			}
			n := 0
			var last *PoolTask
			for _, t := range w.inflight[min(1, len(w.inflight)):] {
				if !t.revoking {
					n++
					last = t
				}
			}
			if n > most {
				victim, pick, most = w, last, n
			}
		}
		if victim == nil {
			return
		}
		pick.revoking = true
		p.revokes++
		var e Enc
		e.Uint(pick.seq)
		victim.out = append(victim.out, poolFrame{kind: KindPoolRevoke, payload: e.B})
		p.signal(victim)
	}
}

// dispatch hands queued tasks to ready workers and keeps the pool at its
// size (lock held).
func (p *Pool) dispatch() {
	if p.state != poolRunning && p.state != poolClosed {
		return
	}
	win := p.window()
	n := len(p.workers)
	for k := 0; k < n && p.qhead < len(p.queue); k++ {
		w := p.workers[(p.rr+k)%n]
		if !w.ready || w.shut || w.gone || len(w.inflight) > win/2 {
			continue
		}
		budget := win - len(w.inflight)
		if p.cfg.MaxTasks > 0 {
			budget = min(budget, p.cfg.MaxTasks-w.sent)
		}
		p.give(w, budget)
	}
	p.rr++
	if p.qhead == len(p.queue) {
		p.queue, p.qhead = p.queue[:0], 0
		p.steal()
		if p.state == poolClosed {
			for _, w := range p.workers {
				if !w.shut {
					w.shut = true
					p.signal(w)
				}
			}
		}
	}
	p.maintain()
}

// give sends up to budget queued tasks to w in one frame (lock held).
func (p *Pool) give(w *poolWorker, budget int) {
	var e Enc
	var batch []*PoolTask
	var files []*os.File
	var forget []uint32
	for len(batch) < budget && p.qhead < len(p.queue) {
		t := p.queue[p.qhead]
		if t.Job.cancelled.Load() {
			p.queue[p.qhead] = nil
			p.qhead++
			closeFiles(t.Files)
			p.unref(t.Fn)
			continue
		}
		if len(batch) > 0 && len(files)+len(t.Files) > maxPoolFiles {
			break
		}
		p.queue[p.qhead] = nil
		p.qhead++
		if !w.known[t.Fn] {
			w.known[t.Fn] = true
			def := p.code[t.Fn]
			var d Enc
			d.Uint(uint64(t.Fn)).Uint(uint64(len(def.files))).Bytes(def.code)
			w.out = append(w.out, poolFrame{kind: KindPoolDef, payload: d.B, files: def.files})
		}
		batch = append(batch, t)
		files = append(files, t.Files...)
	}
	if len(batch) == 0 {
		return
	}
	for id := range w.known {
		if _, ok := p.code[id]; !ok {
			forget = append(forget, id)
			delete(w.known, id)
		}
	}
	if len(forget) > 0 {
		var d Enc
		d.Uint(uint64(len(forget)))
		for _, id := range forget {
			d.Uint(uint64(id))
		}
		w.out = append(w.out, poolFrame{kind: KindPoolForget, payload: d.B})
	}
	// The frame's payload is small fields and the tasks' arguments; large
	// arguments (a chunk of a big map) are not copied into it but written
	// from where they are (they live until their task is answered).
	var parts [][]byte
	e.Uint(uint64(len(batch)))
	for _, t := range batch {
		e.Uint(t.seq).Uint(uint64(t.Fn)).Uint(uint64(t.Mode)).Uint(uint64(t.First)).Uint(uint64(len(t.Files)))
		if len(t.Args) < bigArgs {
			e.Bytes(t.Args)
			continue
		}
		e.Uint(uint64(len(t.Args)))
		parts = append(parts, e.B, t.Args)
		e = Enc{}
	}
	if parts == nil {
		w.out = append(w.out, poolFrame{kind: KindPoolTasks, payload: e.B, files: files})
	} else {
		w.out = append(w.out, poolFrame{kind: KindPoolTasks, parts: append(parts, e.B), files: files})
	}
	w.inflight = append(w.inflight, batch...)
	w.sent += len(batch)
	if p.cfg.MaxTasks > 0 && w.sent >= p.cfg.MaxTasks {
		w.shut = true // retires after these
	}
	p.signal(w)
}

// maintain starts workers so that the pool keeps its size while it runs,
// and while a closed pool still has queued work (lock held).
func (p *Pool) maintain() {
	want := 0
	switch p.state {
	case poolRunning:
		want = p.cfg.Processes
	case poolClosed:
		if p.qhead < len(p.queue) {
			want = p.cfg.Processes
		}
	}
	active := p.spawning
	for _, w := range p.workers {
		if !w.shut {
			active++
		}
	}
	if active > 0 && time.Since(p.spawnFailed) < time.Second {
		return
	}
	for ; active < want; active++ {
		p.spawning++
		go p.spawn()
	}
}

// Define registers a function's code (and the descriptors of the shared
// objects it refers to, which the pool duplicates) and returns its id: the
// same code gets the same id, and each worker receives it once.
func (p *Pool) Define(code []byte, files []*os.File) (uint32, error) {
	if len(files) > maxPoolFiles {
		return 0, &ProcessError{Msg: fmt.Sprintf("a pool function can refer to at most %d shared objects with descriptors, this one refers to %d", maxPoolFiles, len(files))}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.defs[string(code)]; ok {
		return id, nil
	}
	// Forget functions no task uses any more, beyond a few recent ones.
	const keep = 64
	if len(p.defs) >= 2*keep {
		for c, id := range p.defs {
			if p.refs[id] == 0 && p.nextFn-id > keep {
				delete(p.defs, c)
				closeFiles(p.code[id].files)
				delete(p.code, id)
			}
		}
	}
	p.nextFn++
	id := p.nextFn
	p.defs[string(code)] = id
	p.code[id] = poolDef{code: code, files: dupFiles(files)}
	return id, nil
}

// Defined reports whether id is still a defined function (Define forgets
// old ones that no task uses).
func (p *Pool) Defined(id uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.code[id]
	return ok
}

// Submit queues tasks, in order.
func (p *Pool) Submit(tasks ...*PoolTask) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case poolClosed, poolTerminated:
		return &ProcessError{Msg: "Pool not running: it was closed or terminated"}
	case poolBroken:
		return p.stopErr
	}
	for _, t := range tasks {
		if _, ok := p.code[t.Fn]; !ok {
			return fmt.Errorf("pool: task for an unknown function %d", t.Fn)
		}
		if len(t.Files) > maxPoolFiles {
			return &ProcessError{Msg: fmt.Sprintf("a pool task can carry at most %d shared objects with descriptors, this one has %d", maxPoolFiles, len(t.Files))}
		}
	}
	for _, t := range tasks {
		t.Files = dupFiles(t.Files)
		p.seq++
		t.seq = p.seq
		p.refs[t.Fn]++
		p.queue = append(p.queue, t)
	}
	p.dispatch()
	return nil
}

// Close stops the pool from taking work; the workers exit once the queued
// tasks are done.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == poolRunning {
		p.state = poolClosed
		p.dispatch()
	}
}

// Terminate stops the workers now (SIGTERM, SIGKILL after a grace period)
// and fails every task not yet answered. It returns when the workers are
// gone.
func (p *Pool) Terminate() {
	p.mu.Lock()
	if p.state == poolRunning || p.state == poolClosed {
		p.state = poolTerminated
		p.stop(&ProcessError{Msg: "the pool was terminated before the task finished"})
	}
	p.mu.Unlock()
	p.wait(time.Second)
}

// breakPool fails everything and stops the workers (lock held).
func (p *Pool) breakPool(err error) {
	if p.state == poolTerminated || p.state == poolBroken {
		return
	}
	p.state = poolBroken
	p.stop(err)
}

// stop fails queued and in-flight tasks with err and signals every worker
// (lock held).
func (p *Pool) stop(err error) {
	p.stopErr = err
	for _, t := range p.queue[p.qhead:] {
		p.finish(t, PoolResult{Err: err})
	}
	p.queue, p.qhead = nil, 0
	p.revokes = 0
	for _, w := range p.workers {
		for _, t := range w.inflight {
			t.revoking = false
			p.finish(t, PoolResult{Err: err})
		}
		w.inflight = nil
		w.shut = true
		p.signal(w)
		id := w.info.ID
		go p.cfg.Node.Signal(id, syscall.SIGTERM)
	}
	p.cond.Broadcast()
}

// wait returns when every worker is ending (its channel closed: the
// kernel has released its memory and descriptors; the supervisor reaps it
// in the background); after grace, stragglers are killed (grace < 0: no
// killing).
func (p *Pool) wait(grace time.Duration) {
	var timer *time.Timer
	if grace >= 0 {
		timer = time.AfterFunc(grace, func() {
			p.mu.Lock()
			ids := make([]int64, 0, len(p.workers))
			for _, w := range p.workers {
				ids = append(ids, w.info.ID)
			}
			p.mu.Unlock()
			for _, id := range ids {
				p.cfg.Node.Signal(id, syscall.SIGKILL)
			}
		})
		defer timer.Stop()
	}
	p.mu.Lock()
	for p.spawning > 0 || p.running() {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

// running reports whether a worker's process still runs (lock held).
func (p *Pool) running() bool {
	for _, w := range p.workers {
		if !w.ended {
			return true
		}
	}
	return false
}

// Join waits until the workers have exited; the pool must be closed or
// terminated first. A worker that said it is exiting, with every task
// answered, counts as exited: the kernel's teardown of the process is left
// to the supervisor, which reaps it.
func (p *Pool) Join() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == poolRunning {
		return &ProcessError{Msg: "Pool is still running: close() or terminate() it before join()"}
	}
	for p.spawning > 0 || p.busy() {
		p.cond.Wait()
	}
	return nil
}

// busy reports whether a worker may still do something (lock held).
func (p *Pool) busy() bool {
	for _, w := range p.workers {
		// Tasks a dead worker held are settled (failed or queued again)
		// only once it is reaped.
		if len(w.inflight) > 0 || !w.ended && !w.bye {
			return true
		}
	}
	return false
}

// Pids lists the process ids of the live workers.
func (p *Pool) Pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, len(p.workers))
	for _, w := range p.workers {
		if !w.gone && !w.bye && !w.ended {
			out = append(out, w.info.Pid)
		}
	}
	return out
}

// Err is why the pool broke (a *ServiceError of class BrokenProcessPool),
// or nil.
func (p *Pool) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == poolBroken {
		return p.stopErr
	}
	return nil
}

// Running reports whether the pool still takes work.
func (p *Pool) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == poolRunning
}

// PoolWorkerTask is one task as a worker receives it.
type PoolWorkerTask struct {
	Seq   uint64
	Fn    uint32
	Mode  byte
	First int // index of the first item in the whole iterable
	Args  []byte
	Files []*os.File
}

// PoolMessage is one decoded frame on a worker's channel, as the worker
// sees it: exactly one of the fields is set (EOF when the owner is done).
type PoolMessage struct {
	Def    *PoolDef
	Forget []uint32
	Tasks  []PoolWorkerTask
	Revoke uint64 // a task's seq
	EOF    bool
}

// PoolDef is a function definition sent to a worker.
type PoolDef struct {
	ID    uint32
	Code  []byte
	Files []*os.File // the receiver owns them
}

// PoolWorkerConn is a worker's end of its channel to the pool's owner.
type PoolWorkerConn struct{ c *Conn }

// NewPoolWorkerConn wraps the descriptor a worker got at start.
func NewPoolWorkerConn(f *os.File) (*PoolWorkerConn, error) {
	c, err := ConnFromFile(f)
	if err != nil {
		return nil, err
	}
	return &PoolWorkerConn{c}, nil
}

// Read returns the next message from the owner (one goroutine only).
func (w *PoolWorkerConn) Read() (PoolMessage, error) {
	f, err := w.c.Read()
	if err != nil {
		if errors.Is(err, net.ErrClosed) || isEOF(err) {
			return PoolMessage{EOF: true}, nil
		}
		return PoolMessage{}, err
	}
	d := Dec{B: f.Payload}
	var m PoolMessage
	switch f.Kind {
	case KindPoolDef:
		m.Def = &PoolDef{ID: uint32(d.Uint())}
		if nf := int(d.Uint()); nf != len(f.Files) {
			closeFiles(f.Files)
			return m, fmt.Errorf("pool function: %d descriptors announced, %d came", nf, len(f.Files))
		}
		m.Def.Code, m.Def.Files = d.Bytes(), f.Files
	case KindPoolRevoke:
		m.Revoke = d.Uint()
	case KindPoolForget:
		n := d.Uint()
		for i := uint64(0); i < n && d.Err == nil; i++ {
			m.Forget = append(m.Forget, uint32(d.Uint()))
		}
	case KindPoolTasks:
		n := d.Uint()
		files := f.Files
		for i := uint64(0); i < n && d.Err == nil; i++ {
			t := PoolWorkerTask{Seq: d.Uint(), Fn: uint32(d.Uint()), Mode: byte(d.Uint()), First: int(d.Uint())}
			nf := int(d.Uint())
			t.Args = d.Bytes()
			if nf > len(files) {
				closeFiles(f.Files)
				return m, fmt.Errorf("pool tasks: descriptors missing")
			}
			t.Files, files = files[:nf:nf], files[nf:]
			m.Tasks = append(m.Tasks, t)
		}
	default:
		closeFiles(f.Files)
		return m, fmt.Errorf("unexpected %v frame from the pool's owner", f.Kind)
	}
	if err := d.Done(); err != nil {
		return m, fmt.Errorf("%v frame: %w", f.Kind, err)
	}
	return m, nil
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// Revoked gives a task back to the owner, unstarted.
func (w *PoolWorkerConn) Revoked(seq uint64) error {
	var e Enc
	e.Uint(seq).Uint(uint64(TaskRevoked)).Uint(0).Uint(0).Bytes(nil)
	return w.c.Write(KindPoolResult, 0, e.B)
}

// Bye tells the owner the worker has answered everything and exits now.
func (w *PoolWorkerConn) Bye() error { return w.c.Write(KindPoolBye, 0, nil) }

// Ready tells the owner the worker is initialized.
func (w *PoolWorkerConn) Ready() error { return w.c.Write(KindPoolReady, 0, nil) }

// InitFailed tells the owner the initializer failed.
func (w *PoolWorkerConn) InitFailed(desc string) error {
	var e Enc
	e.String(desc)
	return w.c.Write(KindPoolInitFailed, 0, e.B)
}

// Result sends one task's outcome; it is in the kernel's buffer when Result
// returns, so it survives the worker's death right after.
func (w *PoolWorkerConn) Result(seq uint64, status byte, took time.Duration, payload []byte, files []*os.File) error {
	var e Enc
	e.Uint(seq).Uint(uint64(status)).Uint(uint64(took / time.Microsecond)).Uint(uint64(len(files))).Uint(uint64(len(payload)))
	return w.c.WriteParts(KindPoolResult, 0, [][]byte{e.B, payload}, files...)
}
