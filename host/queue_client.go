package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// QueueRef identifies a queue of the host's queue service, in any process.
type QueueRef struct {
	ID       uint64
	Maxsize  int // 0: unbounded
	Joinable bool
}

// leaseMax is how many items one get() may lease at most.
const leaseMax = 64

// QueueClient is one process's end of the queue service (see queue.go): it
// makes the requests and keeps the items leased to this process until its
// get() calls take them. Put, Get and the other requests are made by one
// goroutine at a time (the VM's); revokes from the host arrive on another.
type QueueClient struct {
	node  Node
	local bool          // in the host, whose service keeps put payloads: never reuse them
	svc   *queueService // in the host: called directly
	res   chan localResult

	pipeMu  sync.Mutex // one writer at a time on the put pipe
	pipe    int        // write end of the put pipe (see queue_pipe.go); 0 before the first message
	pipeSeq uint64     // messages written to it
	pbuf    []byte     // ack and return messages, under pipeMu

	mu     sync.Mutex
	queues map[uint64]*clientQueue
	buf    []byte // put payloads, reused in a child
	gbuf   []byte // get payloads, reused in a child
}

type clientItem struct {
	seq   uint64
	data  []byte
	files []*os.File
}

type clientQueue struct {
	items   []clientItem // leased and not taken, in sequence order
	seen    uint64       // highest sequence number received
	pending uint64       // a revoke up to this sequence number waits for its items
}

// ErrInterrupted is returned by a wait the caller cancelled.
var ErrInterrupted = errors.New("interrupted")

// NewQueueClient makes the queue end of the process whose Node is n. Make one
// per process.
func NewQueueClient(n Node) *QueueClient {
	c := &QueueClient{node: n, queues: map[uint64]*clientQueue{}}
	if ln, ok := n.(localNode); ok {
		if qs := serviceOf(ln.s); qs != nil {
			c.local, c.svc, c.res = true, qs, make(chan localResult, 1)
			return c
		}
	}
	n.OnMessage(KindQueueRevoke, c.revoked)
	return c
}

// self is the host's own requester.
func (c *QueueClient) self() requester { return requester{proc: MainID, local: c.res} }

// Create makes a queue in the host.
func (c *QueueClient) Create(maxsize int, joinable bool) (QueueRef, error) {
	if c.svc != nil {
		id := c.svc.create(int64(maxsize), joinable)
		return QueueRef{ID: id, Maxsize: max(maxsize, 0), Joinable: joinable}, nil
	}
	var e Enc
	e.Int(int64(maxsize)).Bool(joinable)
	f, err := c.node.Call(KindQueueNew, e.B)
	if err != nil {
		return QueueRef{}, err
	}
	d := Dec{B: f.Payload}
	id := d.Uint()
	if err := d.Done(); err != nil {
		return QueueRef{}, fmt.Errorf("queue creation reply: %w", err)
	}
	return QueueRef{ID: id, Maxsize: max(maxsize, 0), Joinable: joinable}, nil
}

// pipePrefix is the room Buffer leaves for the length of a put pipe message.
const pipePrefix = 4

// Buffer returns a buffer to append the encoding of the next item to, for
// Put.
func (c *QueueClient) Buffer() []byte {
	if c.local {
		return c.buf[:0]
	}
	return append(c.buf[:0], 0, 0, 0, 0)
}

// Release gives back the bytes of an item that Get returned, once decoded.
func (c *QueueClient) Release(data []byte) {
	if c.local {
		PutBuffer(data) // the host's items start their allocation
	}
}

// Put puts an item on the queue: buf is what Buffer returned with the
// item's encoding appended. The descriptors travel with it; the caller keeps
// its own. When Put returns, the host has the item even if this process dies
// at once. A bounded queue that stays full makes it fail with a
// *ServiceError of class Full.
func (c *QueueClient) Put(ref QueueRef, buf []byte, files []*os.File, block bool, timeout time.Duration) error {
	if len(files) > MaxItemFiles {
		return fmt.Errorf("an item can carry at most %d pipe connections, this one has %d", MaxItemFiles, len(files))
	}
	if c.svc != nil {
		q, err := c.svc.lookup(ref.ID)
		if err != nil {
			return err
		}
		// The service keeps a copy of the item (buf is reused) and of
		// the descriptors.
		data := GetBuffer(len(buf))
		copy(data, buf)
		c.keep(buf)
		c.svc.put(q, c.self(), qitem{data: data, files: dupFiles(files)}, block, timeout)
		return (<-c.res).err
	}
	if ref.Maxsize == 0 && !ref.Joinable && len(files) == 0 {
		msg := append(appendPutTrailer(buf, ref.ID, 0, 0, 0), pipePut)
		c.pipeMu.Lock()
		err := c.writePipe(msg)
		c.pipeMu.Unlock()
		c.keep(msg)
		return err
	}
	// A put that must wait for room or be counted for join(), or that
	// carries descriptors (a pipe has no room for them), is a request on
	// the channel, served after this process's earlier puts.
	flags := byte(putWantReply)
	if block {
		flags |= putBlock
	}
	payload := appendPutTrailer(buf[pipePrefix:], ref.ID, flags, timeout, c.seq())
	_, err := c.node.Call(KindQueuePut, payload, files...)
	c.keep(buf)
	return err
}

// keep keeps a put buffer for the next put, unless it grew large.
func (c *QueueClient) keep(b []byte) {
	if cap(b) <= 1<<20 {
		c.buf = b[:0]
	}
}

// writePipe writes one message (its room for the length included) to the
// put pipe, which it makes at the first message. c.pipeMu is held.
func (c *QueueClient) writePipe(msg []byte) error {
	if c.pipe == 0 {
		if err := c.openPipe(); err != nil {
			return err
		}
	}
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)-pipePrefix))
	for len(msg) > 0 {
		n, err := unix.Write(c.pipe, msg)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ErrHostGone
		}
		msg = msg[n:]
	}
	c.pipeSeq++
	return nil
}

// seq is the number of messages written to the put pipe so far: a request
// that carries it is served after them.
func (c *QueueClient) seq() uint64 {
	c.pipeMu.Lock()
	defer c.pipeMu.Unlock()
	return c.pipeSeq
}

// control writes an acknowledgement or a return (kind) to the put pipe.
func (c *QueueClient) control(kind byte, fields ...uint64) error {
	c.pipeMu.Lock()
	defer c.pipeMu.Unlock()
	e := Enc{B: append(c.pbuf[:0], 0, 0, 0, 0)}
	for _, f := range fields {
		e.Uint(f)
	}
	e.B = append(e.B, kind)
	err := c.writePipe(e.B)
	c.pbuf = e.B[:0]
	return err
}

func (c *QueueClient) openPipe() error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("queue put pipe: %w", err)
	}
	unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, putPipeSize) // best effort
	r := os.NewFile(uintptr(p[0]), "mpjs-put-pipe")
	err := c.node.Send(KindQueuePipe, nil, r)
	r.Close()
	if err != nil {
		unix.Close(p[1])
		return err
	}
	c.pipe = p[1]
	return nil
}

// Get takes the next item: one leased earlier if there is one, else a new
// lease from the host, waiting up to timeout (forever if negative) when
// block. It fails with a *ServiceError of class Empty when no item came.
// The caller owns the returned descriptors.
//
// In the host, a get that waits gives way when cancel is closed (Ctrl-C in
// the REPL): it returns ErrInterrupted and the queue is as it was. Elsewhere
// cancel is not looked at.
func (c *QueueClient) Get(ref QueueRef, block bool, timeout time.Duration, cancel <-chan struct{}) ([]byte, []*os.File, error) {
	if c.svc != nil {
		q, err := c.svc.lookup(ref.ID)
		if err != nil {
			return nil, nil, err
		}
		if it, ok := c.svc.takeLocal(q); ok {
			return it.data, it.files, nil
		}
		c.svc.get(q, c.self(), 1, block, timeout)
		select {
		case r := <-c.res:
			return r.item.data, r.item.files, r.err
		case <-cancel:
			if !c.svc.cancelGet(q, c.res) {
				if r := <-c.res; r.err == nil {
					c.svc.unget(q, r.item)
				}
			}
			return nil, nil, ErrInterrupted
		}
	}
	c.mu.Lock()
	cq := c.queue(ref.ID)
	if len(cq.items) > 0 {
		it := cq.items[0]
		cq.items[0] = clientItem{}
		cq.items = cq.items[1:]
		err := c.ack(ref.ID, it.seq)
		c.mu.Unlock()
		if err != nil {
			closeFiles(it.files)
			return nil, nil, err
		}
		return it.data, it.files, nil
	}
	c.mu.Unlock()

	var e Enc
	if !c.local {
		e.B = c.gbuf[:0]
	}
	e.Uint(c.seq()).Uint(ref.ID).Bool(block).Int(durationToWire(timeout)).Uint(leaseMax)
	f, err := c.node.Call(KindQueueGet, e.B)
	if !c.local {
		c.gbuf = e.B[:0]
	}
	if err != nil {
		return nil, nil, err
	}
	items, first, err := parseLease(f)
	if err != nil {
		closeFiles(f.Files)
		return nil, nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	it := items[0]
	cq.items = append(cq.items[:0], items[1:]...)
	cq.seen = first + uint64(len(items)) - 1
	var rerr error
	if cq.pending != 0 {
		rerr = c.giveBack(ref.ID, cq, cq.pending)
		cq.pending = 0
	}
	if err := c.ack(ref.ID, it.seq); err != nil {
		closeFiles(it.files)
		return nil, nil, err
	}
	if rerr != nil {
		closeFiles(it.files)
		return nil, nil, rerr
	}
	return it.data, it.files, nil
}

func parseLease(f Frame) ([]clientItem, uint64, error) {
	d := Dec{B: f.Payload}
	first, n := d.Uint(), d.Uint()
	if d.Err != nil || n == 0 || n > uint64(len(f.Payload)) {
		return nil, 0, fmt.Errorf("malformed queue lease")
	}
	items := make([]clientItem, n)
	files := f.Files
	for i := range items {
		nf := d.Uint()
		data := d.Bytes()
		if d.Err != nil || nf > uint64(len(files)) {
			return nil, 0, fmt.Errorf("malformed queue lease")
		}
		items[i] = clientItem{seq: first + uint64(i), data: data, files: files[:nf:nf]}
		files = files[nf:]
	}
	if err := d.Done(); err != nil || len(files) != 0 {
		return nil, 0, fmt.Errorf("malformed queue lease")
	}
	return items, first, nil
}

// queue returns the state of queue id; c.mu is held.
func (c *QueueClient) queue(id uint64) *clientQueue {
	cq := c.queues[id]
	if cq == nil {
		cq = &clientQueue{}
		c.queues[id] = cq
	}
	return cq
}

// ack tells the host that a get() returns item seq; it is written before
// that get() returns, so that the host never hands the item to anyone else.
func (c *QueueClient) ack(id, seq uint64) error {
	return c.control(pipeAck, id, seq)
}

// giveBack returns to the host the untaken items up to seq upTo (an empty
// answer when there are none); c.mu is held.
func (c *QueueClient) giveBack(id uint64, cq *clientQueue, upTo uint64) error {
	n := 0
	for n < len(cq.items) && cq.items[n].seq <= upTo {
		closeFiles(cq.items[n].files) // the host kept its own copies
		n++
	}
	var first uint64
	if n > 0 {
		first = cq.items[0].seq
	}
	cq.items = append(cq.items[:0], cq.items[n:]...)
	return c.control(pipeReturn, id, first, uint64(n))
}

// revoked answers the host's request to give back untaken items. It runs on
// the channel's reader goroutine (or, in the host, a goroutine of its own).
func (c *QueueClient) revoked(f Frame) {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	id, upTo := d.Uint(), d.Uint()
	if d.Done() != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cq := c.queue(id)
	if upTo > cq.seen {
		// The lease is still on its way to the get() that asked for it:
		// that get() gives back the rest when it arrives.
		cq.pending = max(cq.pending, upTo)
		return
	}
	c.giveBack(id, cq, upTo)
}

// Size returns the number of items in the queue, leased ones included.
func (c *QueueClient) Size(ref QueueRef) (int, error) {
	if c.svc != nil {
		q, err := c.svc.lookup(ref.ID)
		if err != nil {
			return 0, err
		}
		return c.svc.size(q), nil
	}
	var e Enc
	e.Uint(c.seq()).Uint(ref.ID)
	f, err := c.node.Call(KindQueueSize, e.B)
	if err != nil {
		return 0, err
	}
	d := Dec{B: f.Payload}
	n := d.Uint()
	return int(n), d.Done()
}

// TaskDone marks one task of a joinable queue done.
func (c *QueueClient) TaskDone(ref QueueRef) error {
	if c.svc != nil {
		q, err := c.svc.lookup(ref.ID)
		if err != nil {
			return err
		}
		return c.svc.taskDone(q)
	}
	var e Enc
	e.Uint(c.seq()).Uint(ref.ID)
	_, err := c.node.Call(KindQueueTaskDone, e.B)
	return err
}

// Join waits until every item put on a joinable queue was marked done.
func (c *QueueClient) Join(ref QueueRef) error {
	if c.svc != nil {
		q, err := c.svc.lookup(ref.ID)
		if err != nil {
			return err
		}
		c.svc.join(q, c.self())
		return (<-c.res).err
	}
	var e Enc
	e.Uint(c.seq()).Uint(ref.ID)
	_, err := c.node.Call(KindQueueJoin, e.B)
	return err
}
