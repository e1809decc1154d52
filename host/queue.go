package host

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
	"weak"
)

// The queue service: every Queue, SimpleQueue and JoinableQueue of a run
// lives here, in the host, which owns its buffer. That is what makes the
// Python traps impossible: a put() is done once its message is in a kernel
// buffer the host reads (the host reads it even if the producer dies right
// after: a child's channel and put pipe are read to their end before its
// exit is settled and before its join() returns), and a producer never has
// anything left to flush at exit, so joining it before the queue is drained
// cannot block.
//
// Putting. A child's put on an unbounded queue is one write to its put pipe
// (queue_pipe.go) and waits for nothing. A put that must wait for room
// (maxsize) or be counted for join() (JoinableQueue), or whose item carries
// pipe ends, is a call on the channel. The host's own puts and gets call the
// service directly (queue_client.go).
//
// Getting is leased. A child that asks for an item gets up to a batch of the
// items there right now (always at least one), numbered by a sequence number
// per (process, queue). Its get() calls take them one by one without a round
// trip, and every take is acknowledged (a message on the put pipe, written
// before get() returns). Items leased and not taken still count in qsize() and
// against maxsize. They go back to the head of the queue when their process
// ends, and when another process waits: items go out in queue order, so a
// getter never passes an item that waits untaken in another process's lease;
// the host revokes it first. A batch is only leased to a process that is the
// only one getting, so competing consumers do not take turns revoking.
//
// So an item is delivered exactly once, to the one get() that returned it.
// An item whose get() returned in a process that then died went with that
// process (it was delivered). One it had leased but not taken goes back to
// the head of the queue; so does the item a get() of it was waiting for when
// it died, and as other getters may have had later items meanwhile, that one
// item can arrive after them: never lost, never twice, but then out of order.
//
// Messages (payloads use Enc/Dec varints unless said otherwise; seq is the
// number of messages the sender wrote to its put pipe, and the host serves
// the request after it has read that many):
//
//	KindQueueNew      call  maxsize, joinable                       → id
//	KindQueuePut      call (or send without descriptors, for an unbounded
//	                  queue): the encoded item, then a fixed trailer of
//	                  putTrailer bytes: id u64, flags u8 (1 block, 2 reply
//	                  wanted), timeout i64 µs (-1 forever), seq u64
//	                                                                → ok / Full
//	KindQueueGet      call  seq, id, block, timeout µs, max items   → lease / Empty
//	KindQueueAck      send  id, seq: the item seq was returned by a get()
//	KindQueueReturn   send  id, first seq, count: these leased items go back
//	                  (the client writes these two on its put pipe; the host
//	                  takes them on the channel too)
//	KindQueueRevoke   host → process: id, up-to seq: give back what you have
//	                  not taken (answered by one KindQueueReturn, possibly
//	                  empty, once the lease up to seq has arrived)
//	KindQueueSize     call  seq, id                                 → qsize
//	KindQueueTaskDone call  seq, id                                 → ok / ValueError
//	KindQueueJoin     call  seq, id                                 → ok once all tasks are done
//	KindQueuePipe     send  no payload, the read end of the put pipe
//
// A lease (the reply to KindQueueGet) is: first seq, count, then per item
// its descriptor count, its length and its bytes; the descriptors of all
// items follow the frame in order.
//
// Queues live until the run ends: a queue has no owner whose end would free
// it, as in Python, where any process may still hold it.
// Frame kinds of the queue service.
const (
	KindQueueNew Kind = KindQueueBase + iota
	KindQueuePut
	KindQueueGet
	KindQueueAck
	KindQueueReturn
	KindQueueRevoke
	KindQueueSize
	KindQueueTaskDone
	KindQueueJoin
)

const (
	putTrailer   = 25 // id u64, flags u8, timeout i64, pipe seq u64
	putBlock     = 1
	putWantReply = 2
	// leaseBytes bounds the bytes of one lease (it holds at least one item).
	leaseBytes = 1 << 20
	// MaxItemFiles bounds the descriptors (pipe ends) one queue item carries.
	MaxItemFiles = maxFDs
)

// qitem is one item in the host: its encoding (a sub-slice of the frame it
// came in) and the descriptors that travel with it, owned by the host until
// the item is taken.
type qitem struct {
	data  []byte
	files []*os.File
	pos   uint64 // place in the queue's order, given when it was put
}

// deque is a ring buffer of items that grows as needed.
type deque struct {
	buf  []qitem
	head int
	n    int
}

func (d *deque) grow() {
	nb := make([]qitem, max(16, 2*len(d.buf)))
	for i := 0; i < d.n; i++ {
		nb[i] = d.buf[(d.head+i)%len(d.buf)]
	}
	d.buf, d.head = nb, 0
}

func (d *deque) pushBack(it qitem) {
	if d.n == len(d.buf) {
		d.grow()
	}
	d.buf[(d.head+d.n)%len(d.buf)] = it
	d.n++
}

func (d *deque) pushFront(it qitem) {
	if d.n == len(d.buf) {
		d.grow()
	}
	d.head = (d.head - 1 + len(d.buf)) % len(d.buf)
	d.buf[d.head] = it
	d.n++
}

func (d *deque) popFront() qitem {
	it := d.buf[d.head]
	d.buf[d.head] = qitem{}
	d.head = (d.head + 1) % len(d.buf)
	d.n--
	if d.n == 0 {
		d.head = 0
	}
	return it
}

type leased struct {
	seq uint64
	// claimed marks the first item of a lease: the get() that asked for
	// it is waiting and takes it at once, so it is never revoked.
	claimed bool
	qitem
}

// lease is what one process holds of one queue: items handed to it and not
// yet acknowledged, in sequence order.
type lease struct {
	peer     *Peer
	items    []leased
	nextSeq  uint64
	revoking bool
}

// requester is who waits for an answer: a request of a process (a child,
// answered over its channel), or a call of the host's own script, answered
// on a channel in memory, which also carries the item itself: in the host a
// get() takes its item directly, without a lease.
type requester struct {
	peer  *Peer
	proc  int64
	id    uint32
	local chan localResult
}

type localResult struct {
	item qitem
	err  error
}

type getWaiter struct {
	requester
	max   int
	block bool
	timer *time.Timer
	done  bool
}

type putWaiter struct {
	requester
	item  qitem
	timer *time.Timer
	done  bool
}

type queue struct {
	id       uint64
	max      int // 0: unbounded
	joinable bool

	mu         sync.Mutex
	items      deque  // in pos order
	nextPos    uint64 // for the next item put
	leased     int    // items in leases
	leases     map[int64]*lease
	revoking   int // leases with a revoke outstanding
	getters    []*getWaiter
	putters    []*putWaiter
	joiners    []requester
	unfinished int
}

func (q *queue) size() int { return q.items.n + q.leased }

// push appends an item that was just put. q.mu is held.
func (q *queue) push(it qitem) {
	q.nextPos++
	it.pos = q.nextPos
	q.items.pushBack(it)
}

// requeue puts leased items back where they were in the queue's order
// (back is in that order). Leased items are older than anything still in
// the queue, except other leased items that came back before them, which
// they are merged with. q.mu is held.
func (q *queue) requeue(back []qitem) {
	if len(back) == 0 {
		return
	}
	var ahead []qitem // items already back that come before some of back
	for q.items.n > 0 && q.items.buf[q.items.head].pos < back[len(back)-1].pos {
		ahead = append(ahead, q.items.popFront())
	}
	merged := make([]qitem, 0, len(ahead)+len(back))
	i, j := 0, 0
	for i < len(ahead) || j < len(back) {
		if j == len(back) || (i < len(ahead) && ahead[i].pos < back[j].pos) {
			merged = append(merged, ahead[i])
			i++
		} else {
			merged = append(merged, back[j])
			j++
		}
	}
	for k := len(merged) - 1; k >= 0; k-- {
		q.items.pushFront(merged[k])
	}
}

func (q *queue) full() bool { return q.max > 0 && q.size() >= q.max }

// outbox collects the messages a state change produces; they are written
// after the queue's lock is released, so that no write (a socket that is
// slow, or the host's own subscriber) ever runs under it.
type outbox struct {
	msgs []outMsg
}

type outMsg struct {
	to      requester
	payload []byte
	err     error
	files   []*os.File
	item    qitem // for a local getter
	revoke  bool  // a KindQueueRevoke message to to.peer
}

// answer queues the answer to a request: payload, files and err for a
// process; item and err for the host's own script.
func (o *outbox) answer(to requester, payload []byte, err error, files ...*os.File) {
	o.msgs = append(o.msgs, outMsg{to: to, payload: payload, err: err, files: files})
}

func (o *outbox) give(to requester, it qitem) {
	o.msgs = append(o.msgs, outMsg{to: to, item: it})
}

func (o *outbox) flush() {
	for _, m := range o.msgs {
		switch {
		case m.revoke:
			m.to.peer.Send(KindQueueRevoke, m.payload)
		case m.to.local != nil:
			m.to.local <- localResult{item: m.item, err: m.err}
		default:
			// A failed write means the process is gone; its exit
			// settles whatever it held.
			m.to.peer.Reply(m.to.id, m.payload, m.err, m.files...)
		}
	}
	clear(o.msgs)
	o.msgs = o.msgs[:0]
}

func (r requester) answerNow(payload []byte, err error) error {
	if r.local != nil {
		r.local <- localResult{err: err}
		return nil
	}
	return r.peer.Reply(r.id, payload, err)
}

var (
	errEmpty = &ServiceError{Class: "Empty", Msg: "the queue is empty"}
	errFull  = &ServiceError{Class: "Full", Msg: "the queue is full"}
)

// queueService is the host's registry of queues.
type queueService struct {
	mu     sync.RWMutex
	queues map[uint64]*queue
	nextID uint64
	// touched lists, per process, the queues where it leases or waits, so
	// that its exit visits only those.
	touched map[int64]map[*queue]struct{}
	pipes   map[int64]*putPipe // by process
	warn    io.Writer
}

// services finds the queue service of a supervisor, for the host's own
// QueueClient, which calls it directly. An entry goes when its supervisor is
// collected.
var services sync.Map // weak.Pointer[Supervisor] → *queueService

func serviceOf(s *Supervisor) *queueService {
	if qs, ok := services.Load(weak.Make(s)); ok {
		return qs.(*queueService)
	}
	return nil
}

// registerQueues plugs the queue service into the supervisor. Pipes need no
// service: their ends are socketpairs that go straight to the processes
// holding them.
func (s *Supervisor) registerQueues() {
	qs := &queueService{queues: map[uint64]*queue{}, touched: map[int64]map[*queue]struct{}{},
		pipes: map[int64]*putPipe{}, warn: s.cfg.Warn}
	s.Handle(KindQueuePipe, qs.handlePipe)
	s.Handle(KindQueueNew, qs.handleNew)
	s.Handle(KindQueuePut, qs.handlePut)
	s.Handle(KindQueueGet, qs.handleGet)
	s.Handle(KindQueueAck, qs.handleAck)
	s.Handle(KindQueueReturn, qs.handleReturn)
	s.Handle(KindQueueSize, qs.handleSize)
	s.Handle(KindQueueTaskDone, qs.handleTaskDone)
	s.Handle(KindQueueJoin, qs.handleJoin)
	s.OnExit(qs.exited)
	key := weak.Make(s)
	services.Store(key, qs)
	runtime.AddCleanup(s, func(k weak.Pointer[Supervisor]) { services.Delete(k) }, key)
}

func (qs *queueService) lookup(id uint64) (*queue, error) {
	qs.mu.RLock()
	q := qs.queues[id]
	qs.mu.RUnlock()
	if q == nil {
		return nil, fmt.Errorf("no queue %d", id)
	}
	return q, nil
}

func (qs *queueService) touch(proc int64, q *queue) {
	if proc == MainID {
		return // the host never ends before the service
	}
	qs.mu.RLock()
	_, ok := qs.touched[proc][q]
	qs.mu.RUnlock()
	if ok {
		return
	}
	qs.mu.Lock()
	m := qs.touched[proc]
	if m == nil {
		m = map[*queue]struct{}{}
		qs.touched[proc] = m
	}
	m[q] = struct{}{}
	qs.mu.Unlock()
}

func (qs *queueService) create(maxsize int64, joinable bool) uint64 {
	q := &queue{max: int(min(max(maxsize, 0), 1<<31)), joinable: joinable, leases: map[int64]*lease{}}
	qs.mu.Lock()
	qs.nextID++
	q.id = qs.nextID
	qs.queues[q.id] = q
	qs.mu.Unlock()
	return q.id
}

func (qs *queueService) handleNew(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	maxsize, joinable := d.Int(), d.Bool()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue creation: %w", err)
	}
	var e Enc
	e.Uint(qs.create(maxsize, joinable))
	return p.Reply(f.ID, e.B, nil)
}

// appendPutTrailer appends the trailer of a KindQueuePut payload to the
// encoded item in b.
func appendPutTrailer(b []byte, id uint64, flags byte, timeout time.Duration, seq uint64) []byte {
	b = binary.LittleEndian.AppendUint64(b, id)
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(durationToWire(timeout)))
	return binary.LittleEndian.AppendUint64(b, seq)
}

type putHeader struct {
	id      uint64
	flags   byte
	timeout time.Duration
	seq     uint64
}

func parsePutTrailer(b []byte) (item []byte, h putHeader, ok bool) {
	if len(b) < putTrailer {
		return nil, h, false
	}
	n := len(b) - putTrailer
	t := b[n:]
	h.id = binary.LittleEndian.Uint64(t)
	h.flags = t[8]
	h.timeout = durationFromWire(int64(binary.LittleEndian.Uint64(t[9:])))
	h.seq = binary.LittleEndian.Uint64(t[17:])
	return b[:n:n], h, true
}

func (qs *queueService) handlePut(p *Peer, f Frame) error {
	item, h, ok := parsePutTrailer(f.Payload)
	if !ok {
		closeFiles(f.Files)
		return fmt.Errorf("queue put: message truncated")
	}
	q, err := qs.lookup(h.id)
	if err != nil {
		closeFiles(f.Files)
		return fmt.Errorf("queue put: %w", err)
	}
	it := qitem{data: item, files: f.Files}
	if h.flags&putWantReply == 0 {
		if !qs.put(q, requester{}, it, false, 0) {
			closeFiles(f.Files)
			return fmt.Errorf("queue put: a put on bounded queue %d did not wait for its answer", h.id)
		}
		return nil
	}
	r := requester{peer: p, proc: p.Info().ID, id: f.ID}
	qs.after(r.proc, h.seq, func() { qs.put(q, r, it, h.flags&putBlock != 0, h.timeout) })
	return nil
}

// put puts an item on q for r, which gets an answer unless it is the zero
// requester (a one-way put, which reports false when the queue is full).
func (qs *queueService) put(q *queue, r requester, it qitem, block bool, timeout time.Duration) bool {
	var out outbox
	q.mu.Lock()
	if q.full() {
		if r.peer == nil && r.local == nil {
			q.mu.Unlock()
			return false
		}
		if !block || timeout == 0 {
			q.mu.Unlock()
			closeFiles(it.files)
			r.answerNow(nil, errFull)
			return true
		}
		w := &putWaiter{requester: r, item: it}
		q.putters = append(q.putters, w)
		if timeout > 0 {
			w.timer = time.AfterFunc(timeout, func() { qs.expirePut(q, w) })
		}
		q.mu.Unlock()
		qs.touch(r.proc, q)
		return true
	}
	q.push(it)
	if q.joinable {
		q.unfinished++
	}
	if r.peer != nil || r.local != nil {
		out.answer(r, nil, nil)
	}
	qs.dispatch(q, &out)
	q.mu.Unlock()
	out.flush()
	return true
}

func (qs *queueService) expirePut(q *queue, w *putWaiter) {
	q.mu.Lock()
	if w.done {
		q.mu.Unlock()
		return
	}
	w.done = true
	for i, x := range q.putters {
		if x == w {
			q.putters = append(q.putters[:i], q.putters[i+1:]...)
			break
		}
	}
	q.mu.Unlock()
	closeFiles(w.item.files)
	w.answerNow(nil, errFull)
}

func (qs *queueService) handleGet(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	seq, id, block, timeout, maxItems := d.Uint(), d.Uint(), d.Bool(), durationFromWire(d.Int()), int(d.Uint())
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue get: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue get: %w", err)
	}
	r := requester{peer: p, proc: p.Info().ID, id: f.ID}
	qs.after(r.proc, seq, func() { qs.get(q, r, maxItems, block, timeout) })
	return nil
}

// get registers a getter and serves it at once if it can.
func (qs *queueService) get(q *queue, r requester, maxItems int, block bool, timeout time.Duration) {
	if timeout == 0 {
		block = false
	}
	w := &getWaiter{requester: r, max: max(maxItems, 1), block: block}
	var out outbox
	q.mu.Lock()
	q.getters = append(q.getters, w)
	qs.dispatch(q, &out)
	if !w.done && block && timeout > 0 {
		w.timer = time.AfterFunc(timeout, func() { qs.expireGet(q, w) })
	}
	q.mu.Unlock()
	qs.touch(r.proc, q)
	out.flush()
}

func (qs *queueService) expireGet(q *queue, w *getWaiter) {
	q.mu.Lock()
	if w.done {
		q.mu.Unlock()
		return
	}
	w.done = true
	q.removeGetter(w)
	q.mu.Unlock()
	w.answerNow(nil, errEmpty)
}

// cancelGet withdraws a get of the requester whose answers go to local, if
// it still waits. It reports false when the get was answered already (the
// answer is on its way to local).
func (qs *queueService) cancelGet(q *queue, local chan localResult) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, w := range q.getters {
		if w.local == local && !w.done {
			w.done = true
			if w.timer != nil {
				w.timer.Stop()
			}
			q.removeGetter(w)
			return true
		}
	}
	return false
}

// unget puts an item a get took back at the head of its queue (the host's
// own get, interrupted after it was answered).
func (qs *queueService) unget(q *queue, it qitem) {
	var out outbox
	q.mu.Lock()
	q.items.pushFront(it)
	qs.dispatch(q, &out)
	q.mu.Unlock()
	out.flush()
}

func (q *queue) removeGetter(w *getWaiter) {
	for i, x := range q.getters {
		if x == w {
			q.getters = append(q.getters[:i], q.getters[i+1:]...)
			return
		}
	}
}

// dispatch hands items to waiting getters, revokes leases when getters
// wait, and answers the non-blocking getters nothing can serve. q.mu is held.
//
// Items go out in queue order: an item leased to a process and not taken
// there is older than anything still in the queue, so a getter that comes
// while one exists makes the host revoke it first, and nobody is served until
// the revoke is settled (it brings the item back to the head). That keeps
// Python's pattern of one sentinel per consumer working: no consumer gets a
// sentinel while items before it wait in another consumer's lease.
func (qs *queueService) dispatch(q *queue, out *outbox) {
	for len(q.getters) > 0 && q.revoking == 0 {
		if q.revokeLeases(out) || q.items.n == 0 {
			break
		}
		w := q.getters[0]
		q.getters[0] = nil
		q.getters = q.getters[1:]
		w.done = true
		if w.timer != nil {
			w.timer.Stop()
		}
		q.leaseTo(w, out)
		q.admit(out) // a take by the host's own getter made room
	}
	if len(q.getters) == 0 || q.items.n > 0 || q.revoking > 0 {
		return
	}
	// Nothing will come back: a getter that does not block gets Empty now.
	kept := q.getters[:0]
	for _, w := range q.getters {
		if w.block {
			kept = append(kept, w)
			continue
		}
		w.done = true
		out.answer(w.requester, nil, errEmpty)
	}
	clear(q.getters[len(kept):])
	q.getters = kept
}

// revokeLeases asks every process that holds leased items it has not taken
// to give them back, and reports whether it did. q.mu is held.
func (q *queue) revokeLeases(out *outbox) bool {
	any := false
	for _, l := range q.leases {
		if l.revoking || !l.revocable() {
			continue
		}
		l.revoking = true
		q.revoking++
		any = true
		var e Enc
		e.Uint(q.id).Uint(l.items[len(l.items)-1].seq)
		out.msgs = append(out.msgs, outMsg{to: requester{peer: l.peer}, payload: e.B, revoke: true})
	}
	return any
}

// busy reports whether a process other than proc waits on the queue or
// holds leased items: then a lease is one item, not a batch, so that
// consumers do not take turns revoking each other's batches.
func (q *queue) busy(proc int64) bool {
	if len(q.getters) > 0 {
		return true
	}
	for p, l := range q.leases {
		if p != proc && len(l.items) > 0 {
			return true
		}
	}
	return false
}

// revocable reports whether the lease holds items beyond the one its
// process's get() is taking.
func (l *lease) revocable() bool {
	for _, x := range l.items {
		if !x.claimed {
			return true
		}
	}
	return false
}

// leaseTo hands a getter up to its batch of items; the host's own getter
// takes one item outright. q.mu is held.
func (q *queue) leaseTo(w *getWaiter, out *outbox) {
	if w.local != nil {
		out.give(w.requester, q.items.popFront())
		return
	}
	l := q.leases[w.proc]
	if l == nil {
		l = &lease{nextSeq: 1}
		q.leases[w.proc] = l
	}
	l.peer = w.peer
	first := l.nextSeq
	batch := w.max
	if batch > 1 && q.busy(w.proc) {
		batch = 1
	}
	n, bytes, nfds := 0, 0, 0
	for n < q.items.n && n < batch {
		it := q.items.buf[(q.items.head+n)%len(q.items.buf)]
		if n > 0 && (bytes+len(it.data) > leaseBytes || nfds+len(it.files) > MaxItemFiles) {
			break
		}
		bytes += len(it.data)
		nfds += len(it.files)
		n++
	}
	var e Enc
	e.B = make([]byte, 0, bytes+8+n*6)
	e.Uint(first).Uint(uint64(n))
	var files []*os.File
	for i := 0; i < n; i++ {
		it := q.items.popFront()
		l.items = append(l.items, leased{seq: l.nextSeq, claimed: i == 0, qitem: it})
		l.nextSeq++
		e.Uint(uint64(len(it.files))).Bytes(it.data)
		files = append(files, it.files...)
	}
	q.leased += n
	out.answer(w.requester, e.B, nil, files...)
}

func (qs *queueService) handleAck(p *Peer, f Frame) error {
	closeFiles(f.Files)
	return qs.ack(p.Info().ID, f.Payload)
}

// ack settles a take: payload is id, seq (see KindQueueAck).
func (qs *queueService) ack(proc int64, payload []byte) error {
	d := Dec{B: payload}
	id, seq := d.Uint(), d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue ack: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue ack: %w", err)
	}
	var out outbox
	q.mu.Lock()
	l := q.leases[proc]
	idx := -1
	if l != nil {
		for i, x := range l.items {
			if x.seq == seq {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		q.mu.Unlock()
		return fmt.Errorf("queue ack: item %d of queue %d is not leased to this process", seq, id)
	}
	taken := l.items[idx]
	l.items = append(l.items[:idx], l.items[idx+1:]...)
	if len(l.items) == 0 {
		l.items = l.items[:0:0] // let the backing array go
	}
	q.leased--
	qs.taken(q, &out)
	q.mu.Unlock()
	closeFiles(taken.files) // the taker has its own copies
	PutBuffer(taken.data)
	out.flush()
	return nil
}

// taken settles a get() that took an item: a bounded queue has room for a
// waiting put. q.mu is held.
func (qs *queueService) taken(q *queue, out *outbox) {
	q.admit(out)
	qs.dispatch(q, out)
}

// admit moves waiting puts into the queue while it has room. q.mu is held.
func (q *queue) admit(out *outbox) {
	for len(q.putters) > 0 && !q.full() {
		w := q.putters[0]
		q.putters[0] = nil
		q.putters = q.putters[1:]
		w.done = true
		if w.timer != nil {
			w.timer.Stop()
		}
		q.push(w.item)
		if q.joinable {
			q.unfinished++
		}
		out.answer(w.requester, nil, nil)
	}
}

func (qs *queueService) handleReturn(p *Peer, f Frame) error {
	closeFiles(f.Files)
	return qs.giveBack(p.Info().ID, f.Payload)
}

// giveBack takes back leased items: payload is id, first seq, count (see
// KindQueueReturn).
func (qs *queueService) giveBack(proc int64, payload []byte) error {
	d := Dec{B: payload}
	id, first, n := d.Uint(), d.Uint(), d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue return: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue return: %w", err)
	}
	var out outbox
	q.mu.Lock()
	l := q.leases[proc]
	if l == nil {
		q.mu.Unlock()
		if n == 0 {
			return nil
		}
		return fmt.Errorf("queue return: this process holds no items of queue %d", id)
	}
	var back []qitem
	kept := l.items[:0]
	for _, x := range l.items {
		if x.seq >= first && x.seq < first+n {
			back = append(back, x.qitem)
		} else {
			kept = append(kept, x)
		}
	}
	if uint64(len(back)) != n {
		q.mu.Unlock()
		return fmt.Errorf("queue return: items %d..%d of queue %d are not all leased to this process", first, first+n-1, id)
	}
	clear(l.items[len(kept):])
	l.items = kept
	q.leased -= len(back)
	q.requeue(back)
	if l.revoking {
		l.revoking = false
		q.revoking--
	}
	qs.dispatch(q, &out)
	q.mu.Unlock()
	out.flush()
	return nil
}

func (qs *queueService) size(q *queue) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size()
}

func (qs *queueService) handleSize(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	seq, id := d.Uint(), d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue size: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue size: %w", err)
	}
	qs.after(p.Info().ID, seq, func() {
		var e Enc
		e.Uint(uint64(qs.size(q)))
		p.Reply(f.ID, e.B, nil)
	})
	return nil
}

// taskDone marks a task of a joinable queue done.
func (qs *queueService) taskDone(q *queue) error {
	var out outbox
	q.mu.Lock()
	if q.unfinished == 0 {
		q.mu.Unlock()
		return &ServiceError{Class: "ValueError", Msg: "taskDone() called too many times"}
	}
	q.unfinished--
	if q.unfinished == 0 {
		for _, j := range q.joiners {
			out.answer(j, nil, nil)
		}
		q.joiners = nil
	}
	q.mu.Unlock()
	out.flush()
	return nil
}

func (qs *queueService) handleTaskDone(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	seq, id := d.Uint(), d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue task done: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue task done: %w", err)
	}
	qs.after(p.Info().ID, seq, func() { p.Reply(f.ID, nil, qs.taskDone(q)) })
	return nil
}

// join answers r once every task of q is done.
func (qs *queueService) join(q *queue, r requester) {
	q.mu.Lock()
	if q.unfinished == 0 {
		q.mu.Unlock()
		r.answerNow(nil, nil)
		return
	}
	q.joiners = append(q.joiners, r)
	q.mu.Unlock()
	qs.touch(r.proc, q)
}

func (qs *queueService) handleJoin(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	seq, id := d.Uint(), d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("queue join: %w", err)
	}
	q, err := qs.lookup(id)
	if err != nil {
		return fmt.Errorf("queue join: %w", err)
	}
	r := requester{peer: p, proc: p.Info().ID, id: f.ID}
	qs.after(r.proc, seq, func() { qs.join(q, r) })
	return nil
}

// takeLocal is the host's own get() when an item is there and nobody waits
// before it; ok is false when it must go the long way (get). The caller
// owns the item.
func (qs *queueService) takeLocal(q *queue) (it qitem, ok bool) {
	var out outbox
	q.mu.Lock()
	if len(q.getters) > 0 || q.revoking > 0 || q.items.n == 0 {
		q.mu.Unlock()
		return qitem{}, false
	}
	for _, l := range q.leases {
		if l.revocable() {
			q.mu.Unlock()
			return qitem{}, false
		}
	}
	it = q.items.popFront()
	q.admit(&out)
	q.mu.Unlock()
	out.flush()
	return it, true
}

// exited settles what a process that ended held: its leased items go back to
// the head of their queues (in order), its waits are forgotten, and the
// puts it was blocked in never happened.
func (qs *queueService) exited(info ProcInfo) {
	qs.drainPipe(info.ID) // its last puts first
	qs.mu.Lock()
	touched := qs.touched[info.ID]
	delete(qs.touched, info.ID)
	qs.mu.Unlock()
	for q := range touched {
		var out outbox
		var drop []*os.File
		q.mu.Lock()
		if l := q.leases[info.ID]; l != nil {
			back := make([]qitem, len(l.items))
			for i, x := range l.items {
				back[i] = x.qitem
			}
			q.requeue(back)
			q.leased -= len(l.items)
			if l.revoking {
				q.revoking--
			}
			delete(q.leases, info.ID)
		}
		kept := q.getters[:0]
		for _, w := range q.getters {
			if w.proc == info.ID {
				w.done = true
				if w.timer != nil {
					w.timer.Stop()
				}
				continue
			}
			kept = append(kept, w)
		}
		clear(q.getters[len(kept):])
		q.getters = kept
		keptP := q.putters[:0]
		for _, w := range q.putters {
			if w.proc == info.ID {
				w.done = true
				if w.timer != nil {
					w.timer.Stop()
				}
				drop = append(drop, w.item.files...)
				continue
			}
			keptP = append(keptP, w)
		}
		clear(q.putters[len(keptP):])
		q.putters = keptP
		keptJ := q.joiners[:0]
		for _, j := range q.joiners {
			if j.proc != info.ID {
				keptJ = append(keptJ, j)
			}
		}
		clear(q.joiners[len(keptJ):])
		q.joiners = keptJ
		// Room freed by the dead process's blocked puts is not room:
		// they were never in the queue. Its lease may have been what
		// a bounded queue was full of; it is back in the queue, so
		// the size is unchanged.
		qs.dispatch(q, &out)
		q.mu.Unlock()
		closeFiles(drop)
		out.flush()
	}
}
