package bindings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"

	"mpjs/host"
)

// A Pipe is a socketpair, and each Connection owns one end. The descriptor
// goes to every process the Connection is sent to (Process arguments, queue
// items, pipe messages) and nowhere else, so data never passes through the
// host, and a recv() sees the end of the stream exactly when every copy of
// the other end is closed: by close(), by garbage collection, or by the exit
// of the process that held it, a kill included.
//
// The socketpair is made where Pipe() is called, the host or a child: it has
// no name that anyone could open, so the only way to reach it is to be handed
// a descriptor over a channel the host made, which is what SPEC §13 asks.
//
// Each message on the stream is a header (msgHeader bytes: u32 length,
// little endian; u8 kind; u8 descriptors) and the payload: a value's
// structured-clone encoding (send), or raw bytes (sendBytes). recv() of raw
// bytes returns an ArrayBuffer; recvBytes() of a value returns its encoding,
// as Python returns the pickle. The descriptors of Connections inside a sent
// value travel as SCM_RIGHTS attached to the header's bytes, so they arrive
// no later than the message.
//
// Data goes straight between user memory and the socket: sendBytes writes
// the caller's buffer, and a large message is read into its own buffer,
// recycled (host.GetBuffer) when the ArrayBuffer over it is collected. A
// read that has to wait spins briefly first (see fill).
const (
	msgHeader = 6
	msgValue  = 0 // payload is a codec encoding
	msgBytes  = 1 // payload is raw bytes (sendBytes)
	// maxMessage bounds one message, the most an ArrayBuffer can hold here.
	maxMessage = math.MaxInt32
	// maxMsgFiles bounds the descriptors of one message (SCM_MAX_FD is 253).
	maxMsgFiles = 250
	// pipeBuffer is the socket send buffer asked for each end: large
	// messages then cross in fewer wake-ups.
	pipeBuffer = 1 << 20
	readChunk  = 64 << 10
)

var zeroHeader [msgHeader]byte

// conn is the Go half of a Connection.
type conn struct {
	f        *os.File // owns the descriptor
	fd       int
	readable bool
	writable bool
	closed   bool

	rbuf       []byte // unread bytes are rbuf[roff:rend]
	roff       int
	rend       int
	oob        []byte
	fds        []int // received with the stream, not yet claimed by a message
	eof        bool
	waits      uint32 // reads that had to wait (see fill)
	misses     int    // waits in a row that spinning did not serve
	probeShift int    // probes spin every spinProbe << probeShift waits

	wbuf []byte
}

func (c *conn) handleKind() string { return "conn" }

func (c *conn) encodeHandle() ([]byte, []*os.File, error) {
	if c.closed {
		return nil, nil, errors.New("a closed Connection cannot be sent to another process")
	}
	var flags byte
	if c.readable {
		flags |= 1
	}
	if c.writable {
		flags |= 2
	}
	return []byte{flags}, []*os.File{c.f}, nil
}

func newConn(f *os.File, readable, writable bool) *conn {
	fd := int(f.Fd()) // also puts the descriptor in blocking mode
	return &conn{f: f, fd: fd, readable: readable, writable: writable}
}

func (m *Module) definePipe() {
	vm := m.vm
	_, proto := m.class("Connection", func(*goja.Object, []goja.Value) any {
		panic(vm.NewTypeError("Connection objects are made by Pipe()"))
	})
	wrap := func(c *conn) *goja.Object {
		o := vm.CreateObject(proto)
		o.DefineDataPropertySymbol(m.state, vm.ToValue(c), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		return o
	}
	m.decoders["conn"] = func(payload []byte, files []*os.File) (goja.Value, error) {
		if len(payload) != 1 || len(files) != 1 {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("connection handle: malformed")
		}
		return wrap(newConn(files[0], payload[0]&1 != 0, payload[0]&2 != 0)), nil
	}
	m.obj.Set("Pipe", func(call goja.FunctionCall) goja.Value {
		v := m.bind("Pipe", call.Arguments, 0, Param{"duplex", vm.ToValue(true)})
		duplex := v[0].ToBoolean()
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			m.throw(fmt.Errorf("cannot make a pipe: socketpair: %w", err))
		}
		for _, fd := range fds {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, pipeBuffer)
		}
		a := newConn(os.NewFile(uintptr(fds[0]), "mpjs-pipe"), true, duplex)
		b := newConn(os.NewFile(uintptr(fds[1]), "mpjs-pipe"), duplex, true)
		return vm.NewArray(wrap(a), wrap(b))
	})
	m.obj.Get("Pipe").(*goja.Object).DefineDataProperty("name", vm.ToValue("Pipe"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)

	// get fetches the connection a method is called on; name is
	// "Connection.method".
	get := func(call goja.FunctionCall, name string) *conn {
		c := this[*conn](m, call, name)
		if c.closed {
			panic(m.qpNamedError("OSError", name+": the connection is closed"))
		}
		return c
	}
	readable := func(call goja.FunctionCall, name string) *conn {
		c := get(call, name)
		if !c.readable {
			panic(m.qpNamedError("OSError", name+": the connection is write-only"))
		}
		return c
	}
	writable := func(call goja.FunctionCall, name string) *conn {
		c := get(call, name)
		if !c.writable {
			panic(m.qpNamedError("OSError", name+": the connection is read-only"))
		}
		return c
	}

	m.method(proto, "send", func(call goja.FunctionCall) goja.Value {
		c := writable(call, "Connection.send")
		obj := call.Argument(0)
		if len(call.Arguments) != 1 {
			obj = m.bind("Connection.send", call.Arguments, 1, Param{"obj", goja.Undefined()})[0]
		}
		b, files, err := m.qpEncode(append(c.wbuf[:0], zeroHeader[:]...), obj, "obj")
		if err != nil {
			m.throw(err)
		}
		if err := c.writeMessage(msgValue, b, nil, files); err != nil {
			m.pipeThrow("send", err)
		}
		if cap(b) <= 1<<20 {
			c.wbuf = b[:0]
		}
		return goja.Undefined()
	})
	m.method(proto, "sendBytes", func(call goja.FunctionCall) goja.Value {
		c := writable(call, "Connection.sendBytes")
		v := m.bind("Connection.sendBytes", call.Arguments, 1, Param{"buf", goja.Undefined()},
			Param{"offset", vm.ToValue(0)}, Param{"size", goja.Null()})
		data := m.qpBytes("Connection.sendBytes", v[0])
		off := m.qpIndex("Connection.sendBytes", "offset", v[1], 0, len(data))
		size := len(data) - off
		if !isNullish(v[2]) {
			size = m.qpIndex("Connection.sendBytes", "size", v[2], 0, len(data)-off)
		}
		hdr := append(c.wbuf[:0], zeroHeader[:]...)
		if err := c.writeMessage(msgBytes, hdr, data[off:off+size], nil); err != nil {
			m.pipeThrow("sendBytes", err)
		}
		return goja.Undefined()
	})
	m.method(proto, "recv", func(call goja.FunctionCall) goja.Value {
		c := readable(call, "Connection.recv")
		if len(call.Arguments) > 0 {
			m.bind("Connection.recv", call.Arguments, 0)
		}
		kind, data, fresh, files, err := c.readMessage()
		if err != nil {
			m.pipeThrow("recv", err)
		}
		if kind == msgBytes {
			dropFiles(files)
			return vm.ToValue(vm.NewArrayBuffer(m.handOver(data, fresh)))
		}
		val, err := m.decode(data, files)
		if fresh {
			host.PutBuffer(data)
		}
		if err != nil {
			m.throw(err)
		}
		return val
	})
	m.method(proto, "recvBytes", func(call goja.FunctionCall) goja.Value {
		c := readable(call, "Connection.recvBytes")
		v := m.bind("Connection.recvBytes", call.Arguments, 0, Param{"maxlength", goja.Null()})
		limit := -1
		if !isNullish(v[0]) {
			limit = m.qpIndex("Connection.recvBytes", "maxlength", v[0], 0, maxMessage)
		}
		_, data, fresh, files, err := c.readMessage()
		if err != nil {
			m.pipeThrow("recvBytes", err)
		}
		dropFiles(files)
		if limit >= 0 && len(data) > limit {
			if fresh {
				host.PutBuffer(data)
			}
			panic(m.qpNamedError("OSError", fmt.Sprintf("Connection.recvBytes: the message has %d bytes, more than maxlength %d", len(data), limit)))
		}
		return vm.ToValue(vm.NewArrayBuffer(m.handOver(data, fresh)))
	})
	m.method(proto, "recvBytesInto", func(call goja.FunctionCall) goja.Value {
		c := readable(call, "Connection.recvBytesInto")
		v := m.bind("Connection.recvBytesInto", call.Arguments, 1, Param{"buf", goja.Undefined()}, Param{"offset", vm.ToValue(0)})
		dst := m.qpBytes("Connection.recvBytesInto", v[0])
		off := m.qpIndex("Connection.recvBytesInto", "offset", v[1], 0, len(dst))
		_, data, fresh, files, err := c.readMessage()
		if err != nil {
			m.pipeThrow("recvBytesInto", err)
		}
		dropFiles(files)
		if fresh {
			defer host.PutBuffer(data)
		}
		if len(data) > len(dst)-off {
			e := m.newError("BufferTooShort", fmt.Sprintf("the message has %d bytes, the buffer has room for %d", len(data), len(dst)-off))
			e.Set("data", vm.NewArrayBuffer(append([]byte(nil), data...)))
			panic(e)
		}
		copy(dst[off:], data)
		return vm.ToValue(len(data))
	})
	m.method(proto, "poll", func(call goja.FunctionCall) goja.Value {
		c := readable(call, "Connection.poll")
		v := m.bind("Connection.poll", call.Arguments, 0, Param{"timeout", vm.ToValue(0)})
		t := m.timeout("Connection.poll", v[0])
		ok, err := c.poll(t)
		if err != nil {
			m.pipeThrow("poll", err)
		}
		return vm.ToValue(ok)
	})
	m.method(proto, "close", func(call goja.FunctionCall) goja.Value {
		c := this[*conn](m, call, "Connection.close")
		if !c.closed {
			c.closed = true
			c.f.Close()
			closeRawFds(c.fds)
			c.fds, c.rbuf, c.wbuf = nil, nil, nil
		}
		return goja.Undefined()
	})
	m.method(proto, "fileno", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(get(call, "Connection.fileno").fd)
	})
	m.accessor(proto, "closed", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(this[*conn](m, call, "Connection.closed").closed)
	}, nil)
	m.accessor(proto, "readable", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(this[*conn](m, call, "Connection.readable").readable)
	}, nil)
	m.accessor(proto, "writable", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(this[*conn](m, call, "Connection.writable").writable)
	}, nil)
}

// handOver returns the bytes of a message for an ArrayBuffer: a copy of
// what aliases the read buffer, or the message's own pooled buffer, which
// comes back to the pool when the ArrayBuffer is collected.
func (m *Module) handOver(data []byte, fresh bool) []byte {
	if !fresh {
		return append([]byte(nil), data...)
	}
	host.PutBufferWhenUnreachable(data)
	return data
}

// errEOF is the end of the stream: every copy of the other end is closed.
var errEOF = errors.New("the other end of the pipe is closed and nothing is left to read")

func (m *Module) pipeThrow(what string, err error) {
	switch {
	case errors.Is(err, errEOF):
		panic(m.newError("EOFError", "Connection."+what+": "+err.Error()))
	case errors.Is(err, unix.EPIPE), errors.Is(err, unix.ECONNRESET):
		panic(m.qpNamedError("BrokenPipeError", "Connection."+what+": the other end of the pipe is closed"))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		panic(ex)
	}
	panic(m.qpNamedError("OSError", "Connection."+what+": "+err.Error()))
}

// qpNamedError makes a JavaScript Error with Python's name for it (OSError,
// BrokenPipeError), which JavaScript does not have as classes of their own.
func (m *Module) qpNamedError(name, msg string) *goja.Object {
	o := m.qpError(msg)
	o.DefineDataProperty("name", m.vm.ToValue(name), goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return o
}

// qpBytes returns the bytes an ArrayBuffer, typed array or DataView spans
// (the memory itself, not a copy).
func (m *Module) qpBytes(fname string, v goja.Value) []byte {
	if o, ok := v.(*goja.Object); ok {
		switch x := o.Export().(type) {
		case goja.ArrayBuffer:
			return x.Bytes()
		}
		if buf, ok := o.Get("buffer").(*goja.Object); ok {
			if ab, ok := buf.Export().(goja.ArrayBuffer); ok {
				off, n := int(o.Get("byteOffset").ToInteger()), int(o.Get("byteLength").ToInteger())
				b := ab.Bytes()
				if off >= 0 && n >= 0 && off+n <= len(b) {
					return b[off : off+n]
				}
			}
		}
	}
	panic(m.vm.NewTypeError("%s: expected an ArrayBuffer, a typed array or a DataView, got %s", fname, describe(v)))
}

// qpIndex checks an integer argument in [lo, hi].
func (m *Module) qpIndex(fname, name string, v goja.Value, lo, hi int) int {
	if !goja.IsNumber(v) {
		panic(m.vm.NewTypeError("%s: %s must be a number, got %s", fname, name, describe(v)))
	}
	f := v.ToFloat()
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		panic(m.qpRangeError(fmt.Sprintf("%s: %s must be a whole number from %d to %d, got %v", fname, name, lo, hi, v)))
	}
	return int(f)
}

func dropFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func closeRawFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// retry decides about a failed read or write on the socket: nil means try
// again (it was interrupted, or it would block and now the socket is ready
// for events); otherwise the error to return.
func (c *conn) retry(err error, events int16) error {
	switch err {
	case unix.EINTR:
		return nil
	case unix.EAGAIN:
		_, err = c.wait(events, -1)
	}
	return err
}

// writeMessage writes one message: hdr holds msgHeader bytes of room and,
// for a value, the payload after them; data (for bytes) follows it without
// being copied. The descriptors ride on the first bytes.
func (c *conn) writeMessage(kind byte, hdr, data []byte, files []*os.File) error {
	n := len(hdr) - msgHeader + len(data)
	if n > maxMessage {
		return fmt.Errorf("a message of %d bytes is larger than the %d bytes limit", n, maxMessage)
	}
	if len(files) > maxMsgFiles {
		return fmt.Errorf("a message can carry at most %d connections, this one has %d", maxMsgFiles, len(files))
	}
	binary.LittleEndian.PutUint32(hdr, uint32(n))
	hdr[4] = kind
	hdr[5] = byte(len(files))
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	if oob == nil && len(data) == 0 {
		// The common case: one buffer, no descriptors.
		for len(hdr) > 0 {
			w, err := unix.Write(c.fd, hdr)
			if err != nil {
				if err = c.retry(err, unix.POLLOUT); err == nil {
					continue
				}
				return err
			}
			hdr = hdr[w:]
		}
		return nil
	}
	bufs := [][]byte{hdr, data}
	if len(data) == 0 {
		bufs = bufs[:1]
	}
	for len(bufs) > 0 {
		w, err := unix.SendmsgBuffers(c.fd, bufs, oob, nil, unix.MSG_NOSIGNAL)
		if err != nil {
			if err = c.retry(err, unix.POLLOUT); err == nil {
				continue
			}
			return err
		}
		if w > 0 {
			oob = nil
		}
		for w > 0 && len(bufs) > 0 {
			if w >= len(bufs[0]) {
				w -= len(bufs[0])
				bufs = bufs[1:]
				continue
			}
			bufs[0] = bufs[0][w:]
			w = 0
		}
		if len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return nil
}

// readMessage reads the next message. data aliases the read buffer (valid
// until the next read) unless fresh, when it was allocated for this message.
func (c *conn) readMessage() (kind byte, data []byte, fresh bool, files []*os.File, err error) {
	if err := c.fill(msgHeader); err != nil {
		return 0, nil, false, nil, err
	}
	h := c.rbuf[c.roff : c.roff+msgHeader]
	n := int(binary.LittleEndian.Uint32(h))
	kind, nfds := h[4], int(h[5])
	if n > maxMessage || kind > msgBytes {
		return 0, nil, false, nil, errors.New("malformed message on the pipe")
	}
	if nfds > len(c.fds) {
		return 0, nil, false, nil, fmt.Errorf("malformed message on the pipe: %d descriptors announced, %d arrived", nfds, len(c.fds))
	}
	files = make([]*os.File, 0, nfds)
	for _, fd := range c.fds[:nfds] {
		files = append(files, os.NewFile(uintptr(fd), "mpjs-pipe"))
	}
	c.fds = c.fds[nfds:]
	c.roff += msgHeader
	if n <= len(c.rbuf) {
		if err := c.fill(n); err != nil {
			dropFiles(files)
			return 0, nil, false, nil, err
		}
		data = c.rbuf[c.roff : c.roff+n]
		c.roff += n
		return kind, data, false, files, nil
	}
	// A large message is read straight into its own buffer.
	data = host.GetBuffer(n)
	got := copy(data, c.rbuf[c.roff:c.rend])
	c.roff += got
	for got < n {
		r, _, _, _, err := unix.Recvmsg(c.fd, data[got:], nil, unix.MSG_WAITALL)
		if err != nil {
			if err = c.retry(err, unix.POLLIN); err == nil {
				continue
			}
			dropFiles(files)
			host.PutBuffer(data)
			return 0, nil, false, nil, err
		}
		if r == 0 {
			c.eof = true
			dropFiles(files)
			host.PutBuffer(data)
			return 0, nil, false, nil, errEOF
		}
		got += r
	}
	return kind, data, true, files, nil
}

// fill makes n bytes available in rbuf[roff:rend] (n <= len(rbuf)).
func (c *conn) fill(n int) error {
	if c.rend-c.roff >= n {
		return nil
	}
	if c.rbuf == nil {
		c.rbuf = make([]byte, readChunk)
		c.oob = make([]byte, unix.CmsgSpace(maxMsgFiles*4))
	}
	if c.roff > 0 {
		c.rend = copy(c.rbuf, c.rbuf[c.roff:c.rend])
		c.roff = 0
	}
	// A reply often comes within microseconds: waiting for it awake (a
	// non-blocking read in a loop) saves the two scheduler wake-ups of a
	// blocking read, which dominate a round trip. When spinning does not
	// pay (the peer takes longer, or the CPUs have other work and the
	// spinner only takes time from the peer), reads block, and only every
	// spinProbe-th wait spins to see whether it pays again.
	c.waits++
	probe := c.misses >= spinMisses && c.waits%c.probeEvery() == 0
	spin := c.misses < spinMisses || probe
	spun := spin
	start := time.Now()
	for c.rend < n {
		if c.eof {
			return errEOF
		}
		flags := unix.MSG_CMSG_CLOEXEC
		if spin {
			flags |= unix.MSG_DONTWAIT
		}
		r, oobn, _, _, err := unix.Recvmsg(c.fd, c.rbuf[c.rend:], c.oob, flags)
		if oobn > 0 {
			if msgs, perr := unix.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
				for _, msg := range msgs {
					if fds, ferr := unix.ParseUnixRights(&msg); ferr == nil {
						c.fds = append(c.fds, fds...)
					}
				}
			}
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			if spin {
				if time.Since(start) > spinFor {
					spin = false // and block
				}
				continue
			}
			// A descriptor someone made non-blocking.
			if _, err := c.wait(unix.POLLIN, -1); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if r == 0 {
			c.eof = true
			return errEOF
		}
		c.rend += r
	}
	if spun {
		switch {
		case spin && time.Since(start) <= spinFor:
			c.misses = 0
			c.probeShift = max(c.probeShift-1, 0)
		case probe:
			// A probe that did not pay: wait twice as long for the next.
			c.probeShift = min(c.probeShift+1, spinProbeMaxShift)
		default:
			c.misses++
		}
	}
	return nil
}

// probeEvery is how many waits go by between two probes.
func (c *conn) probeEvery() uint32 { return spinProbe << c.probeShift }

// Spinning reads (see fill): a read waits awake up to spinFor before it
// blocks; after spinMisses waits in a row that spinning did not serve, only
// every spinProbe-th wait spins, and every failed probe doubles that
// interval (up to spinProbe << spinProbeMaxShift).
const (
	spinFor           = 100 * time.Microsecond
	spinMisses        = 2
	spinProbe         = 32
	spinProbeMaxShift = 7
)

// poll reports whether a recv() would not block: data or the end of the
// stream is there.
func (c *conn) poll(timeout time.Duration) (bool, error) {
	if c.rend > c.roff || c.eof {
		return true, nil
	}
	return c.wait(unix.POLLIN, timeout)
}

// wait waits up to timeout (forever if negative) for events on the socket.
func (c *conn) wait(events int16, timeout time.Duration) (bool, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		var ts *unix.Timespec
		if timeout >= 0 {
			left := time.Duration(0)
			if timeout > 0 {
				left = max(time.Until(deadline), 0)
			}
			t := unix.NsecToTimespec(int64(left))
			ts = &t
		}
		pfd := []unix.PollFd{{Fd: int32(c.fd), Events: events}}
		n, err := unix.Ppoll(pfd, ts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, err
		}
		return n > 0, nil
	}
}
