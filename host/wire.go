package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// Frame layout on the wire (all integers little-endian):
//
//	u32 size   bytes that follow the size field (header rest + payload)
//	u8  kind   what the frame is (see the Kind constants)
//	u8  nfds   file descriptors that travel with the frame (SCM_RIGHTS)
//	u32 id     request id; replies carry the id of their request
//	...        payload, size-6 bytes
//
// File descriptors are attached to the first bytes of their frame, so they
// arrive no later than the frame itself; the reader keeps them in arrival
// order and hands each frame its nfds.
const (
	headerSize = 10
	// MaxFrame bounds one frame's payload. A peer that announces more is
	// broken or hostile and its channel is closed.
	MaxFrame = 1 << 30
	maxFDs   = 16
)

// ErrFrameTooLarge is returned for a frame larger than MaxFrame.
var ErrFrameTooLarge = errors.New("frame larger than the 1 GiB limit")

// Frame is one message between two mpjs processes.
type Frame struct {
	Kind    Kind
	ID      uint32
	Payload []byte
	// Files are the descriptors that came with the frame; the receiver owns them.
	Files []*os.File
}

// Conn is a framed, full-duplex channel over a Unix stream socket. Writes are
// safe from many goroutines; reads belong to one goroutine.
type Conn struct {
	uc *net.UnixConn

	wmu  sync.Mutex
	wbuf []byte

	rbuf  []byte // unread bytes are rbuf[roff:rend]
	roff  int
	rend  int
	oob   []byte
	fds   []int // received, not yet claimed by a frame
	rdErr error
}

// NewConn wraps a connected Unix stream socket.
func NewConn(uc *net.UnixConn) *Conn {
	return &Conn{uc: uc, rbuf: make([]byte, 64<<10), oob: make([]byte, unix.CmsgSpace(maxFDs*4))}
}

// ConnFromFile wraps an inherited socket descriptor.
func ConnFromFile(f *os.File) (*Conn, error) {
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("channel: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("channel: descriptor is a %T, not a Unix socket", c)
	}
	return NewConn(uc), nil
}

// Close closes the socket; pending reads and writes fail.
func (c *Conn) Close() error { return c.uc.Close() }

// Write sends one frame. Files, if any, are duplicated into the peer; the
// caller keeps its own copies.
func (c *Conn) Write(kind Kind, id uint32, payload []byte, files ...*os.File) error {
	if len(payload) > MaxFrame {
		return ErrFrameTooLarge
	}
	if len(files) > maxFDs {
		return fmt.Errorf("frame carries %d descriptors, at most %d", len(files), maxFDs)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hdr := c.header(kind, id, len(payload), len(files))
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		if _, _, err := c.uc.WriteMsgUnix(hdr, unix.UnixRights(fds...), nil); err != nil {
			return err
		}
		_, err := c.uc.Write(payload)
		return err
	}
	// Small frames go out in one write with their header.
	if len(payload) <= 32<<10 {
		c.wbuf = append(append(c.wbuf[:0], hdr...), payload...)
		_, err := c.uc.Write(c.wbuf)
		return err
	}
	if _, err := c.uc.Write(hdr); err != nil {
		return err
	}
	_, err := c.uc.Write(payload)
	return err
}

// WriteParts sends one frame whose payload is the concatenation of parts,
// as Write does, without copying large parts together: they go out in one
// writev with the header.
func (c *Conn) WriteParts(kind Kind, id uint32, parts [][]byte, files ...*os.File) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n <= 32<<10 || len(files) > 0 {
		return c.Write(kind, id, slices.Concat(parts...), files...)
	}
	if n > MaxFrame {
		return ErrFrameTooLarge
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	bufs := make(net.Buffers, 0, len(parts)+1)
	bufs = append(append(bufs, c.header(kind, id, n, 0)), parts...)
	_, err := bufs.WriteTo(c.uc)
	return err
}

func (c *Conn) header(kind Kind, id uint32, n, nfds int) []byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(n+headerSize-4))
	h[4] = byte(kind)
	h[5] = byte(nfds)
	binary.LittleEndian.PutUint32(h[6:], id)
	return h[:]
}

// Read returns the next frame. The payload is a fresh slice the caller may keep.
func (c *Conn) Read() (Frame, error) { return c.ReadWith(nil) }

// ReadWith is Read with the payload's memory from alloc (nil: make), which
// returns a slice of length n. An error ends the stream: descriptors that
// arrived for frames that will never be complete (the peer died in the
// middle of one) are closed.
func (c *Conn) ReadWith(alloc func(n int) []byte) (Frame, error) {
	f, err := c.read(alloc)
	if err != nil {
		for _, fd := range c.fds {
			unix.Close(fd)
		}
		c.fds = nil
	}
	return f, err
}

func (c *Conn) read(alloc func(n int) []byte) (Frame, error) {
	if err := c.fill(headerSize); err != nil {
		return Frame{}, err
	}
	h := c.rbuf[c.roff : c.roff+headerSize]
	size := int(binary.LittleEndian.Uint32(h[0:]))
	if size < headerSize-4 {
		return Frame{}, fmt.Errorf("malformed frame: size %d is smaller than its header", size)
	}
	n := size - (headerSize - 4)
	if n > MaxFrame {
		return Frame{}, fmt.Errorf("malformed frame: %w (announced %d bytes)", ErrFrameTooLarge, n)
	}
	f := Frame{Kind: Kind(h[4]), ID: binary.LittleEndian.Uint32(h[6:])}
	nfds := int(h[5])
	c.roff += headerSize
	if alloc != nil {
		f.Payload = alloc(n)
	} else {
		f.Payload = make([]byte, n)
	}
	got := copy(f.Payload, c.rbuf[c.roff:c.rend])
	c.roff += got
	for got < n {
		m, err := c.readMore(f.Payload[got:])
		got += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("malformed frame: %w after %d of %d payload bytes", io.ErrUnexpectedEOF, got, n)
			}
			return Frame{}, err
		}
	}
	if nfds > 0 {
		if nfds > len(c.fds) {
			return Frame{}, fmt.Errorf("malformed frame: announces %d descriptors, %d arrived", nfds, len(c.fds))
		}
		for _, fd := range c.fds[:nfds] {
			f.Files = append(f.Files, os.NewFile(uintptr(fd), "mpjs-fd"))
		}
		c.fds = c.fds[nfds:]
	}
	return f, nil
}

// fill makes at least n bytes available in rbuf[roff:rend].
func (c *Conn) fill(n int) error {
	if c.rend-c.roff >= n {
		return nil
	}
	if c.roff > 0 {
		c.rend = copy(c.rbuf, c.rbuf[c.roff:c.rend])
		c.roff = 0
	}
	for c.rend < n {
		m, err := c.readMore(c.rbuf[c.rend:])
		c.rend += m
		if err != nil {
			if errors.Is(err, io.EOF) && c.rend > 0 {
				return fmt.Errorf("malformed frame: %w inside a header", io.ErrUnexpectedEOF)
			}
			return err
		}
	}
	return nil
}

// readMore reads into p, collecting any descriptors that arrive.
func (c *Conn) readMore(p []byte) (int, error) {
	if c.rdErr != nil {
		return 0, c.rdErr
	}
	n, oobn, _, _, err := c.uc.ReadMsgUnix(p, c.oob)
	if oobn > 0 {
		if msgs, perr := unix.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
			for _, m := range msgs {
				if fds, ferr := unix.ParseUnixRights(&m); ferr == nil {
					c.fds = append(c.fds, fds...)
				}
			}
		}
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err != nil {
		c.rdErr = err
		if n > 0 {
			return n, nil
		}
	}
	return n, err
}
