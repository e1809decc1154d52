package host

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Client is a child's end of its channel to the host, and the child's Node.
type Client struct {
	conn   *Conn
	runc   chan Frame
	closed chan struct{}

	mu      sync.Mutex
	nextID  uint32
	procs   int         // GOMAXPROCS to take when the target arrives; 0 keeps it
	output  *OutputLock // nil if the host handed none
	pending map[uint32]chan Frame
	inbox   map[Kind]func(Frame)
	self    ProcInfo
	parent  ProcInfo
}

// IsChild reports whether this process was started as an mpjs child.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// Dial connects a child to the host through the descriptors it inherited and
// arms the lifeline: when the host is gone, this process exits at once.
func Dial() (*Client, error) {
	if v := os.Getenv(ChildEnv); v != protocolVersion {
		return nil, fmt.Errorf("child mode: protocol %q, this binary speaks %q", v, protocolVersion)
	}
	// The script sees the host's environment, without what we added.
	for _, name := range strings.Split(os.Getenv(ChildEnv+"_UNSET"), ",") {
		if name != "" {
			os.Unsetenv(name)
		}
	}
	os.Unsetenv(ChildEnv + "_UNSET")
	os.Unsetenv(ChildEnv)
	procs, _ := strconv.Atoi(os.Getenv(childProcsEnv))
	os.Unsetenv(childProcsEnv)
	// Non-blocking, so the wait parks in the netpoller instead of a thread.
	syscall.SetNonblock(childLifelineFD, true)
	life := os.NewFile(childLifelineFD, "mpjs-lifeline")
	go func() {
		var b [1]byte
		life.Read(b[:]) // returns only when the host's end closes
		os.Exit(1)
	}()
	conn, err := ConnFromFile(os.NewFile(childChannelFD, "mpjs-channel"))
	if err != nil {
		return nil, err
	}
	c := &Client{procs: procs, output: dialOutputLock(), conn: conn, runc: make(chan Frame, 1), closed: make(chan struct{}), pending: make(map[uint32]chan Frame)}
	go c.readLoop()
	if err := conn.Write(KindHello, 0, nil); err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	return c, nil
}

func (c *Client) readLoop() {
	defer close(c.closed)
	for {
		f, err := c.conn.Read()
		if err != nil {
			return
		}
		switch f.Kind {
		case KindRun:
			c.runc <- f
		case KindOK, KindErr:
			c.mu.Lock()
			ch := c.pending[f.ID]
			delete(c.pending, f.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			} else {
				closeFiles(f.Files)
			}
		default:
			c.mu.Lock()
			fn := c.inbox[f.Kind]
			c.mu.Unlock()
			if fn != nil {
				fn(f)
			} else {
				closeFiles(f.Files)
			}
		}
	}
}

// WaitRun blocks until the host hands this child a target. It fails when the
// host closes the channel first (the host is done with this spare).
func (c *Client) WaitRun() (RunSpec, error) {
	select {
	case f := <-c.runc:
		spec, err := decodeRunSpec(f.Payload)
		if err != nil {
			return spec, fmt.Errorf("run message: %w", err)
		}
		spec.Files = f.Files
		c.self, c.parent = spec.Self, spec.Parent
		if c.procs > 0 {
			goruntime.GOMAXPROCS(c.procs) // booted on one P; see NewSupervisor
		}
		return spec, nil
	case <-c.closed:
		return RunSpec{}, errors.New("the host closed the channel")
	}
}

// ErrHostGone is returned by requests when the channel to the host is closed.
var ErrHostGone = errors.New("the host process is gone")

func (c *Client) call(kind Kind, payload []byte, files ...*os.File) ([]byte, error) {
	f, err := c.Call(kind, payload, files...)
	return f.Payload, err
}

// Call implements Node.
func (c *Client) Call(kind Kind, payload []byte, files ...*os.File) (Frame, error) {
	ch := make(chan Frame, 1)
	c.mu.Lock()
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1
	}
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.conn.Write(kind, id, payload, files...); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return Frame{}, ErrHostGone
	}
	select {
	case f := <-ch:
		if f.Kind == KindErr {
			return Frame{}, decodeError(f.Payload)
		}
		return f, nil
	case <-c.closed:
		return Frame{}, ErrHostGone
	}
}

// Send implements Node.
func (c *Client) Send(kind Kind, payload []byte, files ...*os.File) error {
	if err := c.conn.Write(kind, 0, payload, files...); err != nil {
		return ErrHostGone
	}
	return nil
}

// OnMessage implements Node.
func (c *Client) OnMessage(kind Kind, fn func(Frame)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inbox == nil {
		c.inbox = map[Kind]func(Frame){}
	}
	c.inbox[kind] = fn
}

// Self implements Node.
func (c *Client) Self() ProcInfo { return c.self }

// Parent implements Node.
func (c *Client) Parent() (ProcInfo, bool) { return c.parent, true }

// Start implements Node.
func (c *Client) Start(spec StartSpec) (ProcInfo, error) {
	b, err := c.call(KindStart, encodeStartSpec(spec), spec.Files...)
	if err != nil {
		return ProcInfo{}, err
	}
	d := Dec{B: b}
	info := decodeInfo(&d)
	return info, d.Done()
}

// Join implements Node.
func (c *Client) Join(id int64, timeout time.Duration) (Status, error) {
	var e Enc
	e.Int(id).Int(durationToWire(timeout))
	b, err := c.call(KindJoin, e.B)
	if err != nil {
		return Status{}, err
	}
	return decodeStatus(b)
}

// Signal implements Node.
func (c *Client) Signal(id int64, sig syscall.Signal) error {
	var e Enc
	e.Int(id).Int(int64(sig))
	_, err := c.call(KindSignal, e.B)
	return err
}

// Active implements Node.
func (c *Client) Active() ([]ProcInfo, error) {
	b, err := c.call(KindActive, nil)
	if err != nil {
		return nil, err
	}
	d := Dec{B: b}
	n := d.Uint()
	var list []ProcInfo
	for i := uint64(0); i < n && d.Err == nil; i++ {
		list = append(list, decodeInfo(&d))
	}
	return list, d.Done()
}

// Output is the run's output lock (nil if the host handed none); wrap the
// child's stdout and stderr with its Writer.
func (c *Client) Output() *OutputLock { return c.output }
