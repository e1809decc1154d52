package host

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// qNode is a process of the queue protocol without a process: its
// requests go straight to a queueService's handlers through a Peer of its
// own, and the host's unsolicited messages reach its subscriptions on one
// goroutine, in order, as a child's channel reader would.
type qNode struct {
	id   int64
	qs   *queueService
	peer *Peer

	next    atomic.Uint32
	mu      sync.Mutex
	pending map[uint32]chan Frame
	inbox   map[Kind]func(Frame)
	msgs    chan Frame
	dead    atomic.Bool
}

func newQNode(qs *queueService, id int64) *qNode {
	n := &qNode{id: id, qs: qs, pending: map[uint32]chan Frame{}, inbox: map[Kind]func(Frame){}, msgs: make(chan Frame, 1024)}
	n.peer = &Peer{
		info: func() ProcInfo { return ProcInfo{ID: id, Name: fmt.Sprint("fake-", id)} },
		write: func(kind Kind, rid uint32, payload []byte, files ...*os.File) error {
			if n.dead.Load() {
				return errors.New("gone")
			}
			f := Frame{Kind: kind, ID: rid, Payload: append([]byte(nil), payload...), Files: dupFiles(files)}
			if rid != 0 && (kind == KindOK || kind == KindErr) {
				n.mu.Lock()
				ch := n.pending[rid]
				delete(n.pending, rid)
				n.mu.Unlock()
				if ch != nil {
					ch <- f
				}
				return nil
			}
			n.msgs <- f
			return nil
		},
	}
	go func() {
		for f := range n.msgs {
			n.mu.Lock()
			fn := n.inbox[f.Kind]
			n.mu.Unlock()
			if fn != nil && !n.dead.Load() {
				fn(f)
			}
		}
	}()
	return n
}

func (n *qNode) handler(kind Kind) Handler {
	return map[Kind]Handler{
		KindQueueNew: n.qs.handleNew, KindQueuePut: n.qs.handlePut, KindQueueGet: n.qs.handleGet,
		KindQueueAck: n.qs.handleAck, KindQueueReturn: n.qs.handleReturn, KindQueueSize: n.qs.handleSize,
		KindQueueTaskDone: n.qs.handleTaskDone, KindQueueJoin: n.qs.handleJoin, KindQueuePipe: n.qs.handlePipe,
	}[kind]
}

func (n *qNode) Self() ProcInfo                            { return n.peer.Info() }
func (n *qNode) Parent() (ProcInfo, bool)                  { return ProcInfo{}, true }
func (n *qNode) Start(StartSpec) (ProcInfo, error)         { return ProcInfo{}, errors.New("no") }
func (n *qNode) Join(int64, time.Duration) (Status, error) { return Status{}, errors.New("no") }
func (n *qNode) Signal(int64, syscall.Signal) error        { return errors.New("no") }
func (n *qNode) Active() ([]ProcInfo, error)               { return nil, nil }
func (n *qNode) OnMessage(kind Kind, fn func(Frame)) {
	n.mu.Lock()
	n.inbox[kind] = fn
	n.mu.Unlock()
}

func (n *qNode) Call(kind Kind, payload []byte, files ...*os.File) (Frame, error) {
	if n.dead.Load() {
		return Frame{}, ErrHostGone
	}
	id := n.next.Add(1)
	ch := make(chan Frame, 1)
	n.mu.Lock()
	n.pending[id] = ch
	n.mu.Unlock()
	if err := n.handler(kind)(n.peer, Frame{Kind: kind, ID: id, Payload: append([]byte(nil), payload...), Files: dupFiles(files)}); err != nil {
		return Frame{}, fmt.Errorf("protocol error: %w", err)
	}
	f := <-ch
	if f.Kind == KindErr {
		return Frame{}, decodeError(f.Payload)
	}
	return f, nil
}

func (n *qNode) Send(kind Kind, payload []byte, files ...*os.File) error {
	if n.dead.Load() {
		return ErrHostGone
	}
	if err := n.handler(kind)(n.peer, Frame{Kind: kind, Payload: append([]byte(nil), payload...), Files: dupFiles(files)}); err != nil {
		return fmt.Errorf("protocol error: %w", err)
	}
	return nil
}

// kill ends the fake process: its pipe is closed (the kernel would) and the
// host settles its exit.
func (n *qNode) kill(c *QueueClient) {
	n.dead.Store(true)
	if c.pipe != 0 {
		syscall.Close(c.pipe)
	}
	n.qs.exited(ProcInfo{ID: n.id})
}

func newQueueService() *queueService {
	return &queueService{queues: map[uint64]*queue{}, touched: map[int64]map[*queue]struct{}{},
		pipes: map[int64]*putPipe{}, warn: io.Discard}
}

func qPut(t *testing.T, c *QueueClient, ref QueueRef, s string) {
	t.Helper()
	buf := append(c.Buffer(), s...)
	if err := c.Put(ref, buf, nil, true, -1); err != nil {
		t.Fatalf("put %q: %v", s, err)
	}
}

func qGet(t *testing.T, c *QueueClient, ref QueueRef, timeout time.Duration) (string, error) {
	t.Helper()
	b, files, err := c.Get(ref, true, timeout, nil)
	closeFiles(files)
	return string(b), err
}

func qIsClass(err error, class string) bool {
	var se *ServiceError
	return errors.As(err, &se) && se.Class == class
}

func TestDeque(t *testing.T) {
	var d deque
	for i := 0; i < 40; i++ {
		d.pushBack(qitem{data: []byte{byte(i)}})
		if i%3 == 0 {
			d.pushFront(qitem{data: []byte{byte(100 + i)}})
		}
	}
	var got []int
	for d.n > 0 {
		got = append(got, int(d.popFront().data[0]))
	}
	want := []int{}
	for i := 39; i >= 0; i-- {
		if i%3 == 0 {
			want = append(want, 100+i)
		}
	}
	for i := 0; i < 40; i++ {
		want = append(want, i)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// A lease is taken without round trips, counts in qsize until taken, and
// what another process waits for is revoked from it and served in order.
func TestQueueLeaseAndRevoke(t *testing.T) {
	qs := newQueueService()
	a, b := newQNode(qs, 1), newQNode(qs, 2)
	ca, cb := NewQueueClient(a), NewQueueClient(b)
	ref, err := ca.Create(0, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		qPut(t, ca, ref, fmt.Sprint(i))
	}
	qWaitSize(t, cb, ref, 10)
	if v, err := qGet(t, ca, ref, -1); v != "0" || err != nil {
		t.Fatalf("first get: %q %v", v, err)
	}
	if n := len(ca.queues[ref.ID].items); n != 9 {
		t.Fatalf("a leased %d more items, want the 9 others", n)
	}
	if n, _ := ca.Size(ref); n != 9 { // a's own take is counted at once
		t.Fatalf("qsize %d with 9 leased, want 9", n)
	}
	// b waits on an empty queue: a's untaken items come back, in order.
	for i := 1; i < 10; i++ {
		if v, err := qGet(t, cb, ref, time.Second); v != fmt.Sprint(i) || err != nil {
			t.Fatalf("b get %d: %q %v", i, v, err)
		}
	}
	if _, err := qGet(t, ca, ref, 50*time.Millisecond); !qIsClass(err, "Empty") {
		t.Fatalf("a's get after the revoke: %v, want Empty", err)
	}
}

// Items leased to a process that ends go back to the head, in order.
func TestQueueExitRequeues(t *testing.T) {
	qs := newQueueService()
	a, b := newQNode(qs, 1), newQNode(qs, 2)
	ca, cb := NewQueueClient(a), NewQueueClient(b)
	ref, _ := ca.Create(0, false)
	for i := 0; i < 5; i++ {
		qPut(t, cb, ref, fmt.Sprint(i))
	}
	qWaitSize(t, cb, ref, 5)
	if v, _ := qGet(t, ca, ref, -1); v != "0" {
		t.Fatalf("got %q", v)
	}
	a.kill(ca)
	for i := 1; i < 5; i++ {
		if v, err := qGet(t, cb, ref, 0); v != fmt.Sprint(i) || err != nil {
			t.Fatalf("after the exit, get %d: %q %v", i, v, err)
		}
	}
}

// A bounded queue: a put waits for room, a take makes room, Full after the
// timeout; the wait of a process that ends is forgotten.
func TestQueueBounded(t *testing.T) {
	qs := newQueueService()
	a, b := newQNode(qs, 1), newQNode(qs, 2)
	ca, cb := NewQueueClient(a), NewQueueClient(b)
	ref, _ := ca.Create(1, false)
	qPut(t, ca, ref, "x")
	t0 := time.Now()
	if err := ca.Put(ref, append(ca.Buffer(), 'y'), nil, true, 100*time.Millisecond); !qIsClass(err, "Full") {
		t.Fatalf("put on a full queue: %v, want Full", err)
	}
	if dt := time.Since(t0); dt < 100*time.Millisecond {
		t.Fatalf("Full after %v, before the timeout", dt)
	}
	if err := ca.Put(ref, append(ca.Buffer(), 'y'), nil, false, -1); !qIsClass(err, "Full") {
		t.Fatalf("non-blocking put on a full queue: %v, want Full", err)
	}
	done := make(chan error)
	go func() { done <- ca.Put(ref, append(ca.Buffer(), 'z'), nil, true, -1) }()
	select {
	case err := <-done:
		t.Fatalf("put on a full queue returned %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if v, _ := qGet(t, cb, ref, -1); v != "x" {
		t.Fatalf("got %q", v)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting put: %v", err)
	}
	if v, _ := qGet(t, cb, ref, -1); v != "z" {
		t.Fatalf("got %q", v)
	}
}

func TestQueueGetTimeout(t *testing.T) {
	qs := newQueueService()
	a := newQNode(qs, 1)
	ca := NewQueueClient(a)
	ref, _ := ca.Create(0, false)
	for _, d := range []time.Duration{0, 80 * time.Millisecond} {
		t0 := time.Now()
		_, err := qGet(t, ca, ref, d)
		if !qIsClass(err, "Empty") {
			t.Fatalf("get(%v): %v, want Empty", d, err)
		}
		if dt := time.Since(t0); dt < d || dt > d+2*time.Second {
			t.Fatalf("get(%v) gave up after %v", d, dt)
		}
	}
}

func TestQueueJoinable(t *testing.T) {
	qs := newQueueService()
	a, b := newQNode(qs, 1), newQNode(qs, 2)
	ca, cb := NewQueueClient(a), NewQueueClient(b)
	ref, _ := ca.Create(0, true)
	qPut(t, ca, ref, "t1")
	qPut(t, ca, ref, "t2")
	joined := make(chan error)
	go func() { joined <- ca.Join(ref) }()
	for i := 0; i < 2; i++ {
		qGet(t, cb, ref, -1)
		select {
		case err := <-joined:
			t.Fatalf("join returned %v with a task not done", err)
		default:
		}
		if err := cb.TaskDone(ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	if err := cb.TaskDone(ref); !qIsClass(err, "ValueError") {
		t.Fatalf("taskDone once too often: %v", err)
	}
}

// A process's request on the channel sees its own puts on the pipe.
func TestQueuePipeBarrier(t *testing.T) {
	qs := newQueueService()
	a := newQNode(qs, 1)
	ca := NewQueueClient(a)
	ref, _ := ca.Create(0, false)
	for round := 0; round < 50; round++ {
		for i := 0; i < 20; i++ {
			qPut(t, ca, ref, "x")
		}
		if n, err := ca.Size(ref); n != 20 || err != nil {
			t.Fatalf("round %d: qsize right after 20 puts: %d %v", round, n, err)
		}
		for i := 0; i < 20; i++ {
			if _, _, err := ca.Get(ref, false, 0, nil); err != nil {
				t.Fatalf("round %d: getNowait %d: %v", round, i, err)
			}
		}
	}
	// Large items cross the pipe too.
	big := make([]byte, 3<<20)
	big[len(big)-1] = 7
	if err := ca.Put(ref, append(ca.Buffer(), big...), nil, true, -1); err != nil {
		t.Fatal(err)
	}
	b, _, err := ca.Get(ref, false, 0, nil)
	if err != nil || len(b) != len(big) || b[len(b)-1] != 7 {
		t.Fatalf("big item: %d bytes, %v", len(b), err)
	}
}

// Many producers and consumers, some of which die: every item is delivered
// once, and each consumer sees each producer's items in order.
func TestQueueStress(t *testing.T) {
	qs := newQueueService()
	const producers, consumers, perProducer = 3, 4, 3000
	admin := NewQueueClient(newQNode(qs, 100))
	ref, _ := admin.Create(0, false)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		c := NewQueueClient(newQNode(qs, int64(1+p)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				qPut(t, c, ref, fmt.Sprintf("%d:%d", p, i))
			}
		}()
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var got atomic.Int64
	total := int64(producers * perProducer)
	var cw sync.WaitGroup
	for k := 0; k < consumers; k++ {
		k := k
		cw.Add(1)
		go func() {
			defer cw.Done()
			for gen := 0; ; gen++ {
				n := newQNode(qs, int64(1000*(k+1)+gen))
				c := NewQueueClient(n)
				last := map[int]int{}
				dieAfter := rand.Intn(400) + 50
				for taken := 0; ; taken++ {
					if got.Load() >= total {
						return
					}
					if k%2 == 0 && taken == dieAfter {
						n.kill(c) // its untaken lease goes back
						break
					}
					b, files, err := c.Get(ref, true, 20*time.Millisecond, nil)
					closeFiles(files)
					if err != nil {
						continue
					}
					var p, i int
					fmt.Sscanf(string(b), "%d:%d", &p, &i)
					if l, ok := last[p]; ok && i <= l {
						t.Errorf("consumer %d got %d:%d after %d:%d", k, p, i, p, l)
					}
					last[p] = i
					mu.Lock()
					seen[string(b)]++
					mu.Unlock()
					got.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	cw.Wait()
	if len(seen) != int(total) {
		t.Fatalf("%d distinct items delivered, want %d", len(seen), total)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("item %s delivered %d times", k, n)
		}
	}
}

// The host's own client calls the service directly.
func TestQueueLocalClient(t *testing.T) {
	s, _ := newSupervisor(t, 4)
	c := NewQueueClient(s.Local())
	if c.svc == nil {
		t.Fatal("the host's client does not call the service directly")
	}
	ref, _ := c.Create(2, false)
	qPut(t, c, ref, "a")
	qPut(t, c, ref, "b")
	if err := c.Put(ref, append(c.Buffer(), 'c'), nil, false, -1); !qIsClass(err, "Full") {
		t.Fatalf("put on a full queue: %v", err)
	}
	if n, _ := c.Size(ref); n != 2 {
		t.Fatalf("qsize %d", n)
	}
	for _, want := range []string{"a", "b"} {
		if v, err := qGet(t, c, ref, 0); v != want || err != nil {
			t.Fatalf("get: %q %v, want %q", v, err, want)
		}
	}
	t0 := time.Now()
	if _, err := qGet(t, c, ref, 60*time.Millisecond); !qIsClass(err, "Empty") || time.Since(t0) < 60*time.Millisecond {
		t.Fatalf("get on an empty queue: %v after %v", err, time.Since(t0))
	}
}

func qWaitSize(t *testing.T, c *QueueClient, ref QueueRef, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.Size(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("qsize %d, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// The host's own get, given up: withdrawn while it waits, or, when its
// answer was already on the way, the item goes back to the head.
func TestQueueCancelledLocalGet(t *testing.T) {
	qs := newQueueService()
	q := qs.queues[qs.create(0, false)]
	local := make(chan localResult, 1)
	me := requester{proc: MainID, local: local}

	qs.get(q, me, 1, true, -1) // waits: the queue is empty
	if !qs.cancelGet(q, local) {
		t.Fatal("a waiting get was not withdrawn")
	}
	if len(q.getters) != 0 {
		t.Fatalf("%d getters after the cancel", len(q.getters))
	}

	qs.get(q, me, 1, true, -1)
	var out outbox
	q.mu.Lock()
	q.push(qitem{data: []byte("first")})
	q.push(qitem{data: []byte("second")})
	qs.dispatch(q, &out) // answers the get
	q.mu.Unlock()
	out.flush()
	if qs.cancelGet(q, local) {
		t.Fatal("cancelGet withdrew a get that was answered")
	}
	r := <-local
	if string(r.item.data) != "first" {
		t.Fatalf("answer %q, want first", r.item.data)
	}
	qs.unget(q, r.item)
	for _, want := range []string{"first", "second"} {
		it, ok := qs.takeLocal(q)
		if !ok || string(it.data) != want {
			t.Fatalf("took %q (%v), want %q", it.data, ok, want)
		}
	}
}
