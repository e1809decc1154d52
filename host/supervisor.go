package host

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ChildEnv is the environment variable that puts the mpjs binary in its
// hidden child mode. Its value is the protocol version.
const ChildEnv = "MPJS_CHILD"

// childProcsEnv carries the GOMAXPROCS a child takes once its target arrives.
const childProcsEnv = ChildEnv + "_PROCS"

const protocolVersion = "1"

// Child descriptor numbers, fixed by the order of ProcAttr.Files.
const (
	childChannelFD  = 3
	childLifelineFD = 4
	childOutputFD   = 5 // the output lock's memory (see OutputLock)
)

// drainTimeout bounds how long the host keeps reading what a child that
// ended had written before its exit is settled.
const drainTimeout = 5 * time.Second

// readyTimeout bounds how long a freshly executed child may take to boot.
const readyTimeout = 30 * time.Second

// bootTries is how many children start() tries for one process before it
// gives up: a child that is gone before its target could be written to it
// is replaced.
const bootTries = 3

// Test hooks: testHookReap is called by each reaper just before it settles
// its process, testHookBoot when a child was executed.
var (
	testHookReap func(p *proc)
	testHookBoot func(p *proc)
)

// Config tunes a Supervisor.
type Config struct {
	Exe      string    // the binary to re-execute (os.Executable())
	MaxProcs int       // live processes allowed at once; 0 means 256
	Spares   int       // booted children kept waiting for work at most; 0 means none
	Warn     io.Writer // where warnings about children go (stderr)
	// WaitBoot makes start() wait until a new child has booted, which
	// includes ignoring SIGINT. A host that outlives Ctrl-C (the REPL)
	// needs it: otherwise a Ctrl-C in the first milliseconds of a process
	// ends it. A script's host ends every process on Ctrl-C anyway.
	WaitBoot bool
}

// Supervisor runs in the host. It starts every process of the run, serves
// their requests, reaps them, and cleans up at the end.
type Supervisor struct {
	cfg      Config
	childEnv []string
	self     ProcInfo
	lifeR    *os.File // every child holds it; EOF there means the host is gone
	lifeW    *os.File
	devnull  *os.File
	output   *OutputLock
	outputFD *os.File // the output lock's memory, inherited by children
	spawnc   chan spawnReq

	router router

	execMu     sync.RWMutex // held for reading while a child is being started
	execClosed bool

	mu          sync.Mutex
	procs       map[int64]*proc // started processes, by id
	pins        pinner          // keeps shared objects alive for a process being started
	nextID      int64
	live        int     // started and not yet reaped
	spares      []*proc // booted, waiting for a target
	booting     int     // spares being booted
	spareTarget int     // how many spares we try to keep
	closed      bool
	all         sync.WaitGroup // one per reaper goroutine
}

// proc is one child OS process, from boot to reaping.
type proc struct {
	info   ProcInfo
	parent int64
	conn   *Conn
	os     *os.Process
	ready  chan struct{} // closed when the child said hello
	done   chan struct{} // closed when reaped
	served chan struct{} // closed when serve has read the channel to its end
	exit   int
	// ending is set (under Supervisor.mu) when the reaper settles the
	// process: as a spare if info.ID is 0 then, otherwise as the started
	// process info names. From then on it can no longer be given a target,
	// and its info no longer changes.
	ending bool
}

type spawnReq struct {
	reply chan spawnResult
}

type spawnResult struct {
	p   *proc
	err error
}

// NewSupervisor prepares the host side. Close must be called at the end.
func NewSupervisor(cfg Config) (*Supervisor, error) {
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = 256
	}
	if cfg.Warn == nil {
		cfg.Warn = os.Stderr
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("lifeline pipe: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	output, outputFD, err := newOutputLock()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		devnull.Close()
		return nil, err
	}
	cfg.Warn = output.Writer(cfg.Warn)
	// A child boots on one P: while it sets up its VM a second P only makes
	// the runtime start more threads (about 10% of a child's start-up CPU).
	// It takes the host's GOMAXPROCS back when its target arrives (where GC
	// and channel reads overlap the VM).
	//
	// memprofilerate=0 turns off the heap profile sampling that the Go
	// runtime does before it learns that nothing reads the profile: its one
	// early sample in every child unwinds the stack (reading pages of the
	// binary's tables) and maps a 1.4 MB table.
	//
	// The child drops what we set (listed in ChildEnv_UNSET), so the
	// script's process.env is the user's; what the user set stays as is.
	env := append(os.Environ(), ChildEnv+"="+protocolVersion)
	var unset []string
	if os.Getenv("GOMAXPROCS") == "" {
		env = append(env, "GOMAXPROCS=1", fmt.Sprintf("%s=%d", childProcsEnv, goruntime.GOMAXPROCS(0)))
		unset = append(unset, "GOMAXPROCS")
	}
	if _, set := os.LookupEnv("GODEBUG"); !set {
		env = append(env, "GODEBUG=memprofilerate=0")
		unset = append(unset, "GODEBUG")
	}
	if len(unset) > 0 {
		env = append(env, ChildEnv+"_UNSET="+strings.Join(unset, ","))
	}
	s := &Supervisor{
		childEnv: env,
		cfg:      cfg,
		self:     ProcInfo{ID: MainID, Pid: os.Getpid(), Name: "MainProcess"},
		lifeR:    lifeR,
		lifeW:    lifeW,
		devnull:  devnull,
		output:   output,
		outputFD: outputFD,
		spawnc:   make(chan spawnReq),
		procs:    make(map[int64]*proc),
	}
	s.registerQueues()
	s.registerSync()
	go s.spawner()
	return s, nil
}

// spawner starts every child from one OS thread that never exits, because
// Linux delivers Pdeathsig when the thread that forked a child ends, not the
// process: a child must not die because the Go scheduler retired a thread.
func (s *Supervisor) spawner() {
	goruntime.LockOSThread()
	for req := range s.spawnc {
		p, err := s.exec()
		req.reply <- spawnResult{p, err}
	}
}

func (s *Supervisor) exec() (*proc, error) {
	// Close may not release the lifeline and /dev/null while a start uses them.
	s.execMu.RLock()
	defer s.execMu.RUnlock()
	if s.execClosed {
		return nil, processErrorf("cannot start a process: the program is shutting down")
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "mpjs-channel")
	theirs := os.NewFile(uintptr(fds[1]), "mpjs-channel-child")
	defer theirs.Close()
	attr := &os.ProcAttr{
		Env:   s.childEnv,
		Files: []*os.File{s.devnull, os.Stdout, os.Stderr, theirs, s.lifeR, s.outputFD},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	osp, err := os.StartProcess(s.cfg.Exe, []string{"mpjs"}, attr)
	if err != nil {
		mine.Close()
		return nil, fmt.Errorf("start child: %w", err)
	}
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		osp.Kill()
		osp.Wait()
		return nil, fmt.Errorf("channel: %w", err)
	}
	p := &proc{
		info:   ProcInfo{Pid: osp.Pid},
		conn:   NewConn(fc.(*net.UnixConn)),
		os:     osp,
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
		served: make(chan struct{}),
	}
	s.all.Add(1)
	go s.reap(p)
	go s.serve(p)
	return p, nil
}

// spawn executes a child (on the spawner's thread) and returns at once: the
// child boots on its own, and reads its target when it is ready for it.
func (s *Supervisor) spawn() (*proc, error) {
	reply := make(chan spawnResult, 1)
	s.spawnc <- spawnReq{reply}
	r := <-reply
	if r.err == nil && testHookBoot != nil {
		testHookBoot(r.p)
	}
	return r.p, r.err
}

// boot starts a spare and waits until it is ready for a target.
func (s *Supervisor) boot() (*proc, error) {
	p, err := s.spawn()
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(readyTimeout)
	defer t.Stop()
	select {
	case <-p.ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("child process (pid %d) exited with status %d before it was ready", p.os.Pid, p.exit)
	case <-t.C:
		p.os.Kill()
		return nil, fmt.Errorf("child process (pid %d) was not ready after %v", p.os.Pid, readyTimeout)
	}
}

// reap waits for a child to end and settles what it leaves behind.
func (s *Supervisor) reap(p *proc) {
	defer s.all.Done()
	st, err := p.os.Wait()
	s.output.release(p.os.Pid) // if it died in the middle of a line
	code := 1
	if err == nil {
		code = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = -int(ws.Signal())
		}
	}
	// What the child wrote before it died is still in the socket (a put
	// that returned, say): read it to the end before settling its exit.
	select {
	case <-p.served:
	case <-time.After(drainTimeout):
	}
	p.conn.Close()
	if testHookReap != nil {
		testHookReap(p)
	}
	// Decide, once, what ended: a spare (which start can no longer take)
	// or the process it was started as (see start).
	s.mu.Lock()
	p.ending = true
	info := p.info
	for i, sp := range s.spares {
		if sp == p {
			s.spares = append(s.spares[:i], s.spares[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	// Services settle what the process held (locks, queue items) before
	// anyone can see that it ended: a join() returns after that.
	if info.ID != 0 {
		s.exited(info)
	}
	s.mu.Lock()
	p.exit = code
	var orphans []*proc
	if info.ID != 0 { // a started process, not a spare
		s.live--
		for _, c := range s.procs {
			if c.parent == info.ID {
				select {
				case <-c.done:
					delete(s.procs, c.info.ID) // nobody can ask about it any more
				default:
					if c.info.Daemon {
						orphans = append(orphans, c)
					}
				}
			}
		}
	}
	close(p.done)
	s.mu.Unlock()
	// A daemon process does not outlive its parent.
	for _, c := range orphans {
		c.os.Signal(syscall.SIGTERM)
	}
}

// serve reads one child's requests until its channel closes.
func (s *Supervisor) serve(p *proc) {
	defer close(p.served)
	for {
		f, err := p.conn.Read()
		if err != nil {
			// A frame cut short by the end of the stream is the process
			// dying in the middle of a write (a frame with descriptors
			// takes two): nothing to warn about.
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
				s.fault(p, err)
			}
			return
		}
		if err := s.dispatch(p, f); err != nil {
			if peerGone(err) {
				// A reply the process can no longer take: it is gone
				// (killed in the middle of a call, say), which breaks
				// nothing. What it wrote before is still to be read.
				continue
			}
			s.fault(p, err)
			return
		}
	}
}

// fault ends a child that broke the protocol; the host and its siblings go on.
func (s *Supervisor) fault(p *proc, err error) {
	select {
	case <-p.done:
		return
	default:
	}
	fmt.Fprintf(s.cfg.Warn, "mpjs: ending %s: it broke the channel protocol: %v\n", p.describe(), err)
	p.os.Kill()
}

func (p *proc) describe() string {
	if p.info.Name == "" {
		return fmt.Sprintf("process (pid %d)", p.info.Pid)
	}
	return fmt.Sprintf("process %s (pid %d)", p.info.Name, p.info.Pid)
}

func (s *Supervisor) dispatch(p *proc, f Frame) error {
	switch f.Kind {
	case KindHello:
		select {
		case <-p.ready:
			return errors.New("second hello")
		default:
			close(p.ready)
		}
	case KindStart:
		spec, err := decodeStartSpec(f.Payload)
		if err != nil {
			closeFiles(f.Files)
			return fmt.Errorf("start request: %w", err)
		}
		spec.Files = f.Files
		go func() {
			info, err := s.start(p.info.ID, spec)
			closeFiles(spec.Files) // the grandchild has its own copies now
			var e Enc
			encodeInfo(&e, info)
			s.reply(p, f.ID, e.B, err)
		}()
	case KindJoin:
		d := Dec{B: f.Payload}
		id, timeout := d.Int(), durationFromWire(d.Int())
		if err := d.Done(); err != nil {
			return fmt.Errorf("join request: %w", err)
		}
		go func() {
			st, err := s.join(p.info.ID, id, timeout)
			s.reply(p, f.ID, encodeStatus(st), err)
		}()
	case KindSignal:
		d := Dec{B: f.Payload}
		id, sig := d.Int(), syscall.Signal(d.Int())
		if err := d.Done(); err != nil {
			return fmt.Errorf("signal request: %w", err)
		}
		s.reply(p, f.ID, nil, s.signal(p.info.ID, id, sig))
	case KindActive:
		var e Enc
		list := s.active(p.info.ID)
		e.Uint(uint64(len(list)))
		for _, c := range list {
			encodeInfo(&e, c)
		}
		s.reply(p, f.ID, e.B, nil)
	default:
		h := s.router.handler(f.Kind)
		if h == nil {
			closeFiles(f.Files)
			return fmt.Errorf("unknown message kind %d", f.Kind)
		}
		return h(p.peer(s), f)
	}
	return nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func (s *Supervisor) reply(p *proc, id uint32, payload []byte, err error) {
	p.peer(s).Reply(id, payload, err)
}

// start gives a target to a booted child on behalf of parent. The child gets
// its own copies of spec.Files; the caller keeps (and closes) its own.
func (s *Supervisor) start(parent int64, spec StartSpec) (ProcInfo, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ProcInfo{}, processErrorf("cannot start a process: the program is shutting down")
	}
	if parent != MainID {
		if pp := s.procs[parent]; pp != nil && pp.info.Daemon {
			s.mu.Unlock()
			return ProcInfo{}, processErrorf("daemonic processes are not allowed to have children")
		}
	}
	if s.live >= s.cfg.MaxProcs {
		s.mu.Unlock()
		return ProcInfo{}, processErrorf("cannot start %q: %d processes are already running, the limit set by --max-procs", spec.Name, s.live)
	}
	s.live++
	s.nextID++
	id := s.nextID
	if len(s.spares) == 0 && s.spareTarget < s.cfg.Spares {
		s.spareTarget++ // we will have to wait: keep one more ready next time
	}
	s.mu.Unlock()

	s.pinFor(id, spec.Pins)
	parentInfo := s.info(parent)
	var info ProcInfo
	for try := 1; ; try++ {
		// A spare, or a child executed now, becomes process id here,
		// unless its reaper has settled it already. A new child is not
		// waited for: its target waits in the channel while it boots, as
		// a forked Python child runs while its parent goes on.
		s.mu.Lock()
		var p *proc
		for p == nil && len(s.spares) > 0 {
			n := len(s.spares)
			p = s.spares[n-1]
			s.spares = s.spares[:n-1]
			if p.ending {
				p = nil
			}
		}
		s.mu.Unlock()
		if p == nil {
			var err error
			if s.cfg.WaitBoot {
				p, err = s.boot()
			} else {
				p, err = s.spawn()
			}
			if err != nil {
				var pe *ProcessError
				if !errors.As(err, &pe) && try < bootTries && s.cfg.WaitBoot {
					continue // it died while it booted (Ctrl-C, say)
				}
				s.mu.Lock()
				s.live--
				s.mu.Unlock()
				s.unpinFor(id)
				if pe == nil {
					err = processErrorf("cannot start %q: %v", spec.Name, err)
				}
				return ProcInfo{}, err
			}
		}
		s.mu.Lock()
		if p.ending { // it died before it could be given the target
			if try == bootTries {
				s.live--
				s.mu.Unlock()
				s.unpinFor(id)
				return ProcInfo{}, goneError(spec.Name)
			}
			s.mu.Unlock()
			continue
		}
		p.info = ProcInfo{ID: id, Pid: p.os.Pid, Name: spec.Name, Daemon: spec.Daemon}
		p.parent = parent
		s.procs[id] = p
		info = p.info
		s.mu.Unlock()
		err := p.conn.Write(KindRun, 0, encodeRunSpec(RunSpec{Self: info, Parent: parentInfo, Payload: spec.Payload}), spec.Files...)
		if err == nil {
			break
		}
		// It died before it could take the target (or cannot take it:
		// then it is ended here). If its reaper has not settled it yet,
		// it ends as the spare it was, and another child becomes process
		// id. If it has, that settled process id, which therefore ended
		// at once (killed, say): nobody else may be process id.
		p.os.Kill()
		s.mu.Lock()
		if p.ending {
			s.mu.Unlock()
			break
		}
		delete(s.procs, id)
		p.info = ProcInfo{Pid: p.os.Pid}
		p.parent = 0
		if !peerGone(err) || try == bootTries {
			s.live--
			s.mu.Unlock()
			s.unpinFor(id)
			if peerGone(err) {
				return ProcInfo{}, goneError(spec.Name)
			}
			return ProcInfo{}, fmt.Errorf("start %q: %w", spec.Name, err)
		}
		s.mu.Unlock()
	}
	go s.refill()
	return info, nil
}

func goneError(name string) error {
	return processErrorf("cannot start %q: %d child processes in a row were gone before they could take it", name, bootTries)
}

// pinner keeps the shared objects in a process's arguments alive until that
// process has them (the shared-memory service; nil in tests without it).
type pinner interface {
	pinFor(proc int64, ids []uint64)
	unpinFor(proc int64)
}

func (s *Supervisor) pinFor(id int64, ids []uint64) {
	if s.pins != nil && len(ids) > 0 {
		s.pins.pinFor(id, ids)
	}
}

func (s *Supervisor) unpinFor(id int64) {
	if s.pins != nil {
		s.pins.unpinFor(id)
	}
}

// peerGone reports whether a write failed because the process at the other
// end is gone.
func peerGone(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

func (s *Supervisor) info(id int64) ProcInfo {
	if id == MainID {
		return s.self
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[id]; p != nil {
		return p.info
	}
	return ProcInfo{ID: id}
}

// refill boots spares up to the current target.
func (s *Supervisor) refill() {
	for {
		s.mu.Lock()
		if s.closed || len(s.spares)+s.booting >= s.spareTarget {
			s.mu.Unlock()
			return
		}
		s.booting++
		s.mu.Unlock()
		p, err := s.boot()
		s.mu.Lock()
		s.booting--
		if err != nil || s.closed {
			s.mu.Unlock()
			if p != nil {
				p.os.Kill()
			}
			return
		}
		if p.ending {
			s.mu.Unlock()
			continue // it died at once; boot another
		}
		s.spares = append(s.spares, p)
		s.mu.Unlock()
	}
}

func (s *Supervisor) child(parent, id int64, verb string) (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[id]
	if p == nil {
		return nil, processErrorf("cannot %s process %d: no such process", verb, id)
	}
	if p.parent != parent {
		return nil, processErrorf("can only %s a child process", verb)
	}
	return p, nil
}

func (s *Supervisor) join(parent, id int64, timeout time.Duration) (Status, error) {
	p, err := s.child(parent, id, "join")
	if err != nil {
		return Status{}, err
	}
	if timeout < 0 {
		<-p.done
	} else {
		select {
		case <-p.done:
		default:
			if timeout == 0 {
				return Status{}, nil
			}
			t := time.NewTimer(timeout)
			select {
			case <-p.done:
				t.Stop()
			case <-t.C:
				return Status{}, nil
			}
		}
	}
	return Status{Done: true, ExitCode: p.exit}, nil
}

func (s *Supervisor) signal(parent, id int64, sig syscall.Signal) error {
	p, err := s.child(parent, id, "signal")
	if err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil // already ended: nothing to do, as in Python
	default:
	}
	if err := p.os.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.describe(), err)
	}
	return nil
}

func (s *Supervisor) active(parent int64) []ProcInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []ProcInfo
	for _, p := range s.procs {
		if p.parent != parent {
			continue
		}
		select {
		case <-p.done:
		default:
			list = append(list, p.info)
		}
	}
	return list
}

// Close ends every process that is still running (SIGTERM, then SIGKILL
// after grace) and every spare, waits until all are reaped, and releases the
// lifeline. It is safe to call more than once.
func (s *Supervisor) Close(grace time.Duration) {
	// From here on no child starts; a start in progress finishes first, so
	// every reaper is counted before the Wait below.
	s.execMu.Lock()
	s.execClosed = true
	s.execMu.Unlock()
	s.mu.Lock()
	already := s.closed
	s.closed = true
	var running []*proc
	for _, p := range s.procs {
		running = append(running, p)
	}
	spares := s.spares
	s.spares = nil
	s.mu.Unlock()
	if already {
		s.all.Wait()
		return
	}
	for _, p := range spares {
		p.os.Kill()
	}
	for _, p := range running {
		select {
		case <-p.done:
		default:
			p.os.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, p := range running {
		select {
		case <-p.done:
		case <-deadline.C:
			for _, q := range running {
				q.os.Kill()
			}
		}
	}
	// Spares still booting see closed and kill themselves in refill.
	s.all.Wait()
	s.lifeW.Close()
	s.lifeR.Close()
	s.devnull.Close()
	s.outputFD.Close()
}

// Local is the host's own Node.
func (s *Supervisor) Local() Node { return localNode{s} }

// Output is the run's output lock; wrap the host's stdout and stderr with
// its Writer.
func (s *Supervisor) Output() *OutputLock { return s.output }

type localNode struct{ s *Supervisor }

func (n localNode) Self() ProcInfo                         { return n.s.self }
func (n localNode) Parent() (ProcInfo, bool)               { return ProcInfo{}, false }
func (n localNode) Active() ([]ProcInfo, error)            { return n.s.active(MainID), nil }
func (n localNode) Start(spec StartSpec) (ProcInfo, error) { return n.s.start(MainID, spec) }
func (n localNode) Join(id int64, timeout time.Duration) (Status, error) {
	return n.s.join(MainID, id, timeout)
}
func (n localNode) Signal(id int64, sig syscall.Signal) error { return n.s.signal(MainID, id, sig) }
func (n localNode) Call(kind Kind, payload []byte, files ...*os.File) (Frame, error) {
	return n.s.call(kind, payload, files)
}
func (n localNode) Send(kind Kind, payload []byte, files ...*os.File) error {
	return n.s.send(kind, payload, files)
}
func (n localNode) OnMessage(kind Kind, fn func(Frame)) { n.s.onMessage(kind, fn) }
