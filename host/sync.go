package host

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// registerSync plugs the shared-memory service (locks, events, conditions,
// barriers, Values and Arrays; see shm.go and lock.go) into the supervisor.
func (s *Supervisor) registerSync() {
	svc := newShmService(s.cfg.Warn)
	s.Handle(KindShmNew, svc.handleNew)
	s.Handle(KindShmAttach, svc.handleAttach)
	s.Handle(KindShmArrive, svc.handleArrive)
	s.Handle(KindShmPin, svc.handlePin)
	s.Handle(KindShmDrop, svc.handleDrop)
	s.OnExit(svc.exited)
	s.pins = svc
}

// shmService is the host's book of shared memory: it creates every segment,
// hands segments to the processes that meet them, knows who holds each
// object, frees what nobody holds, and releases the locks of processes that
// end while they hold them. Its handlers never block.
type shmService struct {
	warn io.Writer

	mu      sync.Mutex
	nextSeg uint64
	nextObj uint64
	arena   *segment                      // the arena segment being filled
	bump    int64                         // its first never-used byte
	free    [numClasses][]block           // freed arena blocks, by size class
	objs    map[uint64]*object            // live objects, by id
	locks   map[uint64]*object            // the live objects a process can hold
	byProc  map[int64]map[uint64]struct{} // the objects each process holds
	pending map[int64]map[uint64]int      // pins made for a process not yet there, by object
	freed   func(Ref)                     // test hook: called for each freed object
}

type segment struct {
	id        uint64
	f         *os.File
	mem       []byte // the host's mapping (arena segments only)
	size      int64
	dedicated bool
}

type block struct {
	seg *segment
	off int64
}

type object struct {
	ref      Ref
	seg      *segment
	class    int // arena size class; -1 for a dedicated segment
	holders  map[int64]struct{}
	inflight int // Pins not yet matched by an arrival
}

func newShmService(warn io.Writer) *shmService {
	return &shmService{
		warn:    warn,
		objs:    map[uint64]*object{},
		locks:   map[uint64]*object{},
		byProc:  map[int64]map[uint64]struct{}{},
		pending: map[int64]map[uint64]int{},
	}
}

// sizeClass returns the arena class of an object of n bytes, or -1 when it
// needs a dedicated segment.
func sizeClass(n int64) int {
	if n > maxArenaObject {
		return -1
	}
	if n <= minBlock {
		return 0
	}
	return bits.Len64(uint64(n-1)) - 6 // 65..128 → 1, ...
}

// create makes a new object held by proc (under mu).
func (v *shmService) create(proc int64, kind ObjKind, size int64) (*object, error) {
	n, err := kind.size(size)
	if err != nil {
		return nil, err
	}
	v.nextObj++
	o := &object{class: sizeClass(n), holders: map[int64]struct{}{proc: {}}}
	if o.class < 0 {
		segSize := (n + pageSize - 1) &^ (pageSize - 1)
		f, err := newMemfd(segSize)
		if err != nil {
			return nil, err
		}
		v.nextSeg++
		o.seg = &segment{id: v.nextSeg, f: f, size: segSize, dedicated: true}
		o.ref = Ref{ID: v.nextObj, Kind: kind, Seg: o.seg.id, SegSize: segSize, Size: n, Dedicated: true}
	} else {
		b, err := v.alloc(o.class)
		if err != nil {
			return nil, err
		}
		o.seg = b.seg
		o.ref = Ref{ID: v.nextObj, Kind: kind, Seg: b.seg.id, SegSize: b.seg.size, Off: b.off, Size: n}
	}
	v.objs[o.ref.ID] = o
	if kind != ObjData {
		v.locks[o.ref.ID] = o
	}
	v.hold(proc, o)
	return o, nil
}

const pageSize = 4096

func newMemfd(size int64) (*os.File, error) {
	fd, err := unix.MemfdCreate("mpjs-shm", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mpjs-shm")
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("size shared memory: %w", err)
	}
	return f, nil
}

// alloc takes a block of one size class from the arena.
func (v *shmService) alloc(class int) (block, error) {
	if n := len(v.free[class]); n > 0 {
		b := v.free[class][n-1]
		v.free[class] = v.free[class][:n-1]
		return b, nil
	}
	size := int64(minBlock) << class
	if v.arena == nil || v.bump+size > v.arena.size {
		f, err := newMemfd(arenaSize)
		if err != nil {
			return block{}, err
		}
		mem, err := mapSegment(f, arenaSize)
		if err != nil {
			f.Close()
			return block{}, err
		}
		v.nextSeg++
		v.arena, v.bump = &segment{id: v.nextSeg, f: f, mem: mem, size: arenaSize}, 0
		// The rest of the old arena segment is lost; with power-of-two
		// blocks in a power-of-two segment that is never more than a block.
	}
	b := block{v.arena, v.bump}
	v.bump += size
	return b, nil
}

func (v *shmService) hold(proc int64, o *object) {
	o.holders[proc] = struct{}{}
	m := v.byProc[proc]
	if m == nil {
		m = map[uint64]struct{}{}
		v.byProc[proc] = m
	}
	m[o.ref.ID] = struct{}{}
}

func (v *shmService) unhold(proc int64, o *object) {
	delete(o.holders, proc)
	if m := v.byProc[proc]; m != nil {
		delete(m, o.ref.ID)
		if len(m) == 0 {
			delete(v.byProc, proc)
		}
	}
	v.maybeFree(o)
}

// maybeFree frees o when no process holds it and none is sending it.
func (v *shmService) maybeFree(o *object) {
	if len(o.holders) > 0 || o.inflight > 0 {
		return
	}
	delete(v.objs, o.ref.ID)
	delete(v.locks, o.ref.ID)
	if o.class < 0 {
		o.seg.f.Close() // the kernel frees the memory with the last mapping
	} else {
		clear(o.seg.mem[o.ref.Off : o.ref.Off+(int64(minBlock)<<o.class)])
		v.free[o.class] = append(v.free[o.class], block{o.seg, o.ref.Off})
	}
	if v.freed != nil {
		v.freed(o.ref)
	}
}

func (v *shmService) handleNew(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	kind, size := ObjKind(d.Uint()), d.Int()
	if err := d.Done(); err != nil {
		return fmt.Errorf("new shared object: %w", err)
	}
	if _, err := kind.size(size); err != nil {
		return p.Reply(f.ID, nil, &ServiceError{Class: "RangeError", Msg: err.Error()})
	}
	v.mu.Lock()
	o, err := v.create(p.Info().ID, kind, size)
	var e Enc
	var file *os.File
	if err == nil {
		o.ref.Encode(&e)
		file = o.seg.f
	}
	v.mu.Unlock()
	// The file stays open until the reply is written: the host closes a
	// segment only when it frees the object, which the caller holds.
	if file != nil {
		return p.Reply(f.ID, e.B, nil, file)
	}
	return p.Reply(f.ID, nil, err)
}

// arrival undoes a Pin and makes the sender a holder.
func (v *shmService) arrival(p *Peer, f Frame) (*object, error) {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	id := d.Uint()
	if err := d.Done(); err != nil {
		return nil, fmt.Errorf("shared object message: %w", err)
	}
	o := v.objs[id]
	if o == nil {
		return nil, nil
	}
	o.inflight--
	proc := p.Info().ID
	if m := v.pending[proc]; m[id] > 0 {
		if m[id]--; m[id] == 0 {
			delete(m, id)
		}
	}
	v.hold(proc, o)
	return o, nil
}

func (v *shmService) handleAttach(p *Peer, f Frame) error {
	v.mu.Lock()
	o, err := v.arrival(p, f)
	if err != nil {
		v.mu.Unlock()
		return err
	}
	var file *os.File
	if o != nil {
		file = o.seg.f
	}
	v.mu.Unlock()
	if file == nil {
		return p.Reply(f.ID, nil, errors.New("the shared object was freed before it arrived: its sender let go of it and nobody else held it"))
	}
	return p.Reply(f.ID, nil, nil, file)
}

func (v *shmService) handleArrive(p *Peer, f Frame) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, err := v.arrival(p, f)
	return err
}

func (v *shmService) handlePin(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	id := d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("pin shared object: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if o := v.objs[id]; o != nil {
		o.inflight++
	}
	return nil
}

func (v *shmService) handleDrop(p *Peer, f Frame) error {
	closeFiles(f.Files)
	d := Dec{B: f.Payload}
	id := d.Uint()
	if err := d.Done(); err != nil {
		return fmt.Errorf("drop shared object: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if o := v.objs[id]; o != nil {
		v.unhold(p.Info().ID, o)
	}
	return nil
}

// pinFor pins objects for process proc, which is being started with them
// in its arguments: each stays alive until proc has it or has ended.
func (v *shmService) pinFor(proc int64, ids []uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		o := v.objs[id]
		if o == nil {
			continue // the sender holds it: it cannot have been freed
		}
		o.inflight++
		m := v.pending[proc]
		if m == nil {
			m = map[uint64]int{}
			v.pending[proc] = m
		}
		m[id]++
	}
}

// unpinFor undoes the pins made for proc that it never took (it was not
// started, or it ended before it read its arguments).
func (v *shmService) unpinFor(proc int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.unpinLocked(proc)
}

func (v *shmService) unpinLocked(proc int64) {
	for id, n := range v.pending[proc] {
		if o := v.objs[id]; o != nil {
			o.inflight -= n
			v.maybeFree(o)
		}
	}
	delete(v.pending, proc)
}

// exited releases what a process that ended held: the locks, semaphore
// units and barriers it was inside of (with a warning naming it, so the
// others do not hang), then its holds on objects and the pins made for it.
func (v *shmService) exited(info ProcInfo) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.unpinLocked(info.ID)
	dead := OwnerOf(info.ID)
	for _, o := range v.locks {
		v.releaseHeld(o, dead, info)
	}
	for id := range v.byProc[info.ID] {
		if o := v.objs[id]; o != nil {
			v.unhold(info.ID, o)
		}
	}
	delete(v.byProc, info.ID)
}

func (v *shmService) warnDead(info ProcInfo, what string) {
	fmt.Fprintf(v.warn, "mpjs: process %s (pid %d) died %s\n", info.Name, info.Pid, what)
}

// releaseHeld frees what dead holds of o, and warns (under mu).
func (v *shmService) releaseHeld(o *object, dead Owner, info ProcInfo) {
	w := (*uint32)(ptrAt(o.seg.mem, o.ref.Off))
	switch o.ref.Kind {
	case ObjLock:
		if MutexAt(w).forceRelease(dead) {
			v.warnDead(info, "holding a Lock; released it")
		}
	case ObjRLock:
		if RMutexAt(w).forceRelease(dead) {
			v.warnDead(info, "holding an RLock; released it")
		}
	case ObjSemaphore, ObjBoundedSemaphore:
		switch n := SemaphoreAt(w).forceRelease(dead); n {
		case 0:
		case 1:
			v.warnDead(info, fmt.Sprintf("holding a unit of a %s; released it", o.ref.Kind))
		default:
			v.warnDead(info, fmt.Sprintf("holding %d units of a %s; released them", n, o.ref.Kind))
		}
	case ObjBarrier:
		b := BarrierAt(w)
		inside, retry := b.releaseDead(dead)
		if retry {
			go v.retryBarrier(o, b, dead, info)
		} else if inside {
			v.warnDead(info, "inside a Barrier's wait; broke the barrier so the others do not wait forever")
		}
	}
}

// retryBarrier repairs a barrier whose internal lock was busy when a process
// inside it died, as soon as the lock is free (while the barrier lives).
func (v *shmService) retryBarrier(o *object, b Barrier, dead Owner, info ProcInfo) {
	for {
		time.Sleep(5 * time.Millisecond)
		v.mu.Lock()
		if v.objs[o.ref.ID] != o {
			v.mu.Unlock()
			return
		}
		inside, retry := b.releaseDead(dead)
		v.mu.Unlock()
		if !retry {
			if inside {
				v.warnDead(info, "inside a Barrier's wait; broke the barrier so the others do not wait forever")
			}
			return
		}
	}
}
