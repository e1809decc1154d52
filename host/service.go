package host

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// Services plug into the host through frame kinds. Each service owns a range
// of kinds so that files never collide:
//
//	1..31     processes (this package's core: hello, run, start, join, ...)
//	32..63    pipes and queues
//	64..95    locks, events, shared memory
//	96..127   pools
//	128..255  reserved
const (
	KindQueueBase Kind = 32
	KindSyncBase  Kind = 64
	KindPoolBase  Kind = 96
)

// A Handler serves one kind of request. It runs on the reader goroutine of
// the process that sent it, so it must not block: a request that has to wait
// replies later, from another goroutine, through p.Reply. Descriptors in
// f.Files belong to the handler. An error return means the sender broke the
// protocol; it is ended.
type Handler func(p *Peer, f Frame) error

// Peer is the host's view of one process that can send requests: a child, or
// the host itself when its own script calls a service (Node.Call in the host
// goes straight to the handler, with no socket in between).
type Peer struct {
	info  func() ProcInfo
	write func(kind Kind, id uint32, payload []byte, files ...*os.File) error
	done  <-chan struct{}
}

// Info identifies the process.
func (p *Peer) Info() ProcInfo { return p.info() }

// Done is closed when the process has ended (never, for the host).
func (p *Peer) Done() <-chan struct{} { return p.done }

// Reply answers request id: an error becomes the caller's error (a
// *ProcessError keeps its class), otherwise payload and files are the answer.
func (p *Peer) Reply(id uint32, payload []byte, err error, files ...*os.File) error {
	if err != nil {
		return p.write(KindErr, id, encodeError(err))
	}
	return p.write(KindOK, id, payload, files...)
}

// Send delivers an unsolicited message to the process (see Node.OnMessage).
func (p *Peer) Send(kind Kind, payload []byte, files ...*os.File) error {
	return p.write(kind, 0, payload, files...)
}

// ServiceError is an error a service reports to the caller with a class name
// the bindings turn into the JavaScript error of that name (Empty, Full,
// EOFError, TimeoutError, ...).
type ServiceError struct {
	Class string
	Msg   string
}

func (e *ServiceError) Error() string { return e.Msg }

func encodeError(err error) []byte {
	var e Enc
	cls := "Error"
	var pe *ProcessError
	var se *ServiceError
	switch {
	case errors.As(err, &pe):
		cls = "ProcessError"
	case errors.As(err, &se):
		cls = se.Class
	}
	e.String(cls).String(err.Error())
	return e.B
}

func decodeError(b []byte) error {
	d := Dec{B: b}
	cls, msg := d.String(), d.String()
	if d.Err != nil {
		return fmt.Errorf("malformed error reply: %w", d.Err)
	}
	switch cls {
	case "ProcessError":
		return &ProcessError{Msg: msg}
	case "Error":
		return errors.New(msg)
	}
	return &ServiceError{Class: cls, Msg: msg}
}

// router holds the handlers of the host's services and the host's own
// message subscriptions.
type router struct {
	mu       sync.RWMutex
	handlers map[Kind]Handler
	exits    []func(ProcInfo)
	inbox    map[Kind]func(Frame) // messages for the host's own script
}

func (r *router) handler(k Kind) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.handlers[k]
}

// Handle registers the handler of one kind of request. Register services
// before the first child starts.
func (s *Supervisor) Handle(kind Kind, h Handler) {
	s.router.mu.Lock()
	defer s.router.mu.Unlock()
	if s.router.handlers == nil {
		s.router.handlers = map[Kind]Handler{}
	}
	s.router.handlers[kind] = h
}

// OnExit registers fn to run (on its own goroutine) after any started
// process ends, with the process's identity: services release what the
// process held there.
func (s *Supervisor) OnExit(fn func(ProcInfo)) {
	s.router.mu.Lock()
	defer s.router.mu.Unlock()
	s.router.exits = append(s.router.exits, fn)
}

func (s *Supervisor) exited(info ProcInfo) {
	s.router.mu.RLock()
	fns := s.router.exits
	s.router.mu.RUnlock()
	for _, fn := range fns {
		fn(info)
	}
}

// hostPeer is the Peer of the host's own script: replies go to the waiting
// local call, messages to the host's subscriptions.
func (s *Supervisor) hostPeer(reply func(Frame)) *Peer {
	return &Peer{
		info: func() ProcInfo { return s.self },
		write: func(kind Kind, id uint32, payload []byte, files ...*os.File) error {
			f := Frame{Kind: kind, ID: id, Payload: payload, Files: dupFiles(files)}
			if id != 0 && (kind == KindOK || kind == KindErr) {
				reply(f)
				return nil
			}
			s.router.mu.RLock()
			fn := s.router.inbox[kind]
			s.router.mu.RUnlock()
			if fn == nil {
				return fmt.Errorf("the host has no subscriber for %v", kind)
			}
			fn(f)
			return nil
		},
	}
}

// dupFiles gives the receiver its own descriptors, as passing them over a
// socket would.
func dupFiles(files []*os.File) []*os.File {
	if len(files) == 0 {
		return nil
	}
	out := make([]*os.File, 0, len(files))
	for _, f := range files {
		fd, err := dupCloexec(int(f.Fd()))
		if err != nil {
			continue
		}
		out = append(out, os.NewFile(uintptr(fd), f.Name()))
	}
	return out
}

func (p *proc) peer(s *Supervisor) *Peer {
	return &Peer{
		info:  func() ProcInfo { s.mu.Lock(); defer s.mu.Unlock(); return p.info },
		write: p.conn.Write,
		done:  p.done,
	}
}

// call runs a request of the host's own script through its handler.
func (s *Supervisor) call(kind Kind, payload []byte, files []*os.File) (Frame, error) {
	h := s.router.handler(kind)
	if h == nil {
		return Frame{}, fmt.Errorf("no service for %v", kind)
	}
	ch := make(chan Frame, 1)
	p := s.hostPeer(func(f Frame) { ch <- f })
	if err := h(p, Frame{Kind: kind, ID: 1, Payload: payload, Files: dupFiles(files)}); err != nil {
		return Frame{}, err
	}
	f := <-ch
	if f.Kind == KindErr {
		return Frame{}, decodeError(f.Payload)
	}
	return f, nil
}

// send runs a one-way request of the host's own script through its handler.
func (s *Supervisor) send(kind Kind, payload []byte, files []*os.File) error {
	h := s.router.handler(kind)
	if h == nil {
		return fmt.Errorf("no service for %v", kind)
	}
	return h(s.hostPeer(func(Frame) {}), Frame{Kind: kind, Payload: payload, Files: dupFiles(files)})
}

func (s *Supervisor) onMessage(kind Kind, fn func(Frame)) {
	s.router.mu.Lock()
	defer s.router.mu.Unlock()
	if s.router.inbox == nil {
		s.router.inbox = map[Kind]func(Frame){}
	}
	s.router.inbox[kind] = fn
}
