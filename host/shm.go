package host

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Shared memory. Every lock, event, condition, barrier, Value and Array of a
// run is an object in a segment: an anonymous memfd (no name in /dev/shm or
// TMPDIR, so nothing is left behind however the run ends) that the host
// creates and every process that holds one of its objects maps.
//
// Small objects share "arena" segments of arenaSize bytes, cut in blocks of
// power-of-two sizes (64 bytes to maxArenaObject); a bigger one gets a
// dedicated segment. So a script with thousands of locks costs a handful of
// descriptors and mappings, not thousands.
//
// Objects cross processes as a Ref, with no descriptor: a process that meets
// a segment it has not mapped yet asks the host for it once (Attach). The
// host tracks which processes hold each object and frees it when the last
// one is gone:
//
//	New     the creator holds it
//	Pin     a process is sending it (a Process argument, a queue item, a
//	        pipe message): it stays alive while in flight
//	Arrive  a process received it (undoes one Pin)
//	Drop    a process no longer has any JavaScript object for it (GC)
//	exit    a process ended: it holds nothing any more
//
// A freed arena block is zeroed and reused; a dedicated segment's descriptor
// is closed, and the kernel frees its memory with the last mapping.

// ObjKind is the type of a shared object.
type ObjKind uint8

// The kinds of shared objects.
const (
	ObjLock ObjKind = iota + 1
	ObjRLock
	ObjSemaphore
	ObjBoundedSemaphore
	ObjEvent
	ObjCondition
	ObjBarrier
	ObjData // the memory of a Value or an Array
)

var objNames = [...]string{"", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier", "shared memory"}

// String names the kind as the JavaScript class.
func (k ObjKind) String() string {
	if int(k) < len(objNames) && k != 0 {
		return objNames[k]
	}
	return fmt.Sprintf("ObjKind(%d)", uint8(k))
}

// size is the bytes an object of kind k takes (data: what was asked).
func (k ObjKind) size(data int64) (int64, error) {
	switch k {
	case ObjLock, ObjRLock, ObjEvent, ObjCondition:
		return 64, nil
	case ObjSemaphore, ObjBoundedSemaphore:
		return SemaphoreWords * 4, nil
	case ObjBarrier:
		return BarrierWords * 4, nil
	case ObjData:
		if data < 0 || data > maxSegment {
			return 0, fmt.Errorf("shared memory of %d bytes: at most %d", data, int64(maxSegment))
		}
		return max(data, 8), nil
	}
	return 0, fmt.Errorf("unknown kind of shared object %d", k)
}

const (
	arenaSize      = 1 << 20
	minBlock       = 64
	maxArenaObject = 16 << 10
	numClasses     = 9 // 64 << 8 == maxArenaObject
	maxSegment     = 1 << 40
)

// Ref names a shared object and where it lives.
type Ref struct {
	ID        uint64  // unique in the run, never reused
	Kind      ObjKind // what it is
	Seg       uint64  // the segment, unique in the run
	SegSize   int64   // bytes of the whole segment
	Off       int64   // where the object starts in the segment
	Size      int64   // bytes of the object
	Dedicated bool    // the segment holds this object only
}

// Encode appends r to e.
func (r Ref) Encode(e *Enc) {
	e.Uint(r.ID).Uint(uint64(r.Kind)).Uint(r.Seg).Int(r.SegSize).Int(r.Off).Int(r.Size).Bool(r.Dedicated)
}

// DecodeRef reads a Ref written by Encode; d.Err reports a malformed one.
func DecodeRef(d *Dec) Ref {
	r := Ref{ID: d.Uint(), Kind: ObjKind(d.Uint()), Seg: d.Uint(), SegSize: d.Int(), Off: d.Int(), Size: d.Int(), Dedicated: d.Bool()}
	if d.Err == nil && (r.SegSize <= 0 || r.SegSize > maxSegment || r.Off < 0 || r.Size < 0 || r.Off+r.Size > r.SegSize) {
		d.fail(fmt.Errorf("shared object %d: bad bounds %d+%d in a segment of %d bytes", r.ID, r.Off, r.Size, r.SegSize))
	}
	return r
}

// Service frame kinds of shared memory.
const (
	KindShmNew    = KindSyncBase + iota // Call: kind, size → Ref + the segment's fd
	KindShmAttach                       // Call: object id → the segment's fd
	KindShmArrive                       // Send: object id (its segment is mapped here already)
	KindShmPin                          // Send: object id
	KindShmDrop                         // Send: object id
)

func mapSegment(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, fmt.Errorf("map shared memory: bad size %d", size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map shared memory: %w", err)
	}
	return mem, nil
}

func ptrAt(mem []byte, off int64) unsafe.Pointer { return unsafe.Pointer(&mem[off]) }

// Shm is one process's side of shared memory: the segments it has mapped and
// the objects it holds. Its methods are safe for concurrent use.
type Shm struct {
	node Node

	mu     sync.Mutex
	chunks map[uint64][]byte // arena segments mapped here, kept for the run
	objs   map[uint64]*Obj   // objects held here, by id
}

// NewShm returns the shared-memory side of the process whose Node is node.
func NewShm(node Node) *Shm {
	return &Shm{node: node, chunks: map[uint64][]byte{}, objs: map[uint64]*Obj{}}
}

// Obj is a shared object as one process holds it.
type Obj struct {
	s   *Shm
	Ref Ref
	// Mem is the object's memory, inside the mapping of its segment.
	Mem  []byte
	refs int    // holders in this process (JavaScript objects), under s.mu
	seg  []byte // the mapping of a dedicated segment
}

// Word returns the address of the i-th 32-bit word of the object.
func (o *Obj) Word(i int) *uint32 { return (*uint32)(unsafe.Pointer(&o.Mem[4*i])) }

// New asks the host for a new object of kind k (for ObjData, of size bytes,
// zeroed). The caller holds it once; see Release.
func (s *Shm) New(k ObjKind, size int64) (*Obj, error) {
	var e Enc
	e.Uint(uint64(k)).Int(size)
	f, err := s.node.Call(KindShmNew, e.B)
	if err != nil {
		return nil, err
	}
	defer closeFiles(f.Files)
	d := Dec{B: f.Payload}
	ref := DecodeRef(&d)
	if err := d.Done(); err != nil {
		return nil, fmt.Errorf("new shared object: %w", err)
	}
	if len(f.Files) != 1 {
		return nil, fmt.Errorf("new shared object: %d descriptors in the reply", len(f.Files))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.place(ref, f.Files[0])
	if err != nil {
		return nil, err
	}
	s.objs[ref.ID] = o
	return o, nil
}

// place maps (or finds) the segment of ref and returns the object over it
// (under s.mu).
func (s *Shm) place(ref Ref, f *os.File) (*Obj, error) {
	o := &Obj{s: s, Ref: ref, refs: 1}
	if ref.Dedicated {
		mem, err := mapSegment(f, ref.SegSize)
		if err != nil {
			return nil, err
		}
		o.seg = mem
		o.Mem = mem[ref.Off : ref.Off+ref.Size : ref.Off+ref.Size]
		return o, nil
	}
	chunk := s.chunks[ref.Seg]
	if chunk == nil {
		if f == nil {
			return nil, errors.New("internal error: arena segment not mapped")
		}
		mem, err := mapSegment(f, ref.SegSize)
		if err != nil {
			return nil, err
		}
		chunk = mem
		s.chunks[ref.Seg] = chunk
	}
	if int64(len(chunk)) < ref.Off+ref.Size {
		return nil, fmt.Errorf("shared object %d lies outside its segment", ref.ID)
	}
	o.Mem = chunk[ref.Off : ref.Off+ref.Size : ref.Off+ref.Size]
	return o, nil
}

// Attach returns the object ref names, received from another process (or
// from this one, through a queue or structuredClone), and holds it once
// more. It undoes the sender's Pin.
func (s *Shm) Attach(ref Ref) (*Obj, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e Enc
	e.Uint(ref.ID)
	if o := s.objs[ref.ID]; o != nil {
		o.refs++
		return o, s.node.Send(KindShmArrive, e.B)
	}
	if !ref.Dedicated && s.chunks[ref.Seg] != nil {
		o, err := s.place(ref, nil)
		if err != nil {
			return nil, err
		}
		s.objs[ref.ID] = o
		return o, s.node.Send(KindShmArrive, e.B)
	}
	f, err := s.node.Call(KindShmAttach, e.B)
	if err != nil {
		return nil, err
	}
	defer closeFiles(f.Files)
	if len(f.Files) != 1 {
		return nil, fmt.Errorf("attach shared object: %d descriptors in the reply", len(f.Files))
	}
	o, err := s.place(ref, f.Files[0])
	if err != nil {
		return nil, err
	}
	s.objs[ref.ID] = o
	return o, nil
}

// Pin tells the host that o is being sent: it must outlive this process's
// own hold until the receiver has it.
func (o *Obj) Pin() error {
	var e Enc
	e.Uint(o.Ref.ID)
	return o.s.node.Send(KindShmPin, e.B)
}

// Hold counts one more holder of o in this process.
func (o *Obj) Hold() {
	o.s.mu.Lock()
	o.refs++
	o.s.mu.Unlock()
}

// Release gives up one hold; after the last one this process no longer
// holds o: a dedicated segment is unmapped, and the host may free o.
// Nothing may use o.Mem afterwards.
func (o *Obj) Release() {
	s := o.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.refs--; o.refs > 0 {
		return
	}
	if s.objs[o.Ref.ID] == o {
		delete(s.objs, o.Ref.ID)
	}
	if o.seg != nil {
		unix.Munmap(o.seg)
		o.seg, o.Mem = nil, nil
	}
	var e Enc
	e.Uint(o.Ref.ID)
	s.node.Send(KindShmDrop, e.B) // if the host is gone, so is everything
}

// Held reports how many objects this process holds (for tests).
func (s *Shm) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objs)
}
