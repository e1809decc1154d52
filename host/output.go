package host

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OutputLock makes each line a process writes to the terminal or a pipe one
// uninterrupted piece of output across every process of a run. One write(2)
// is enough for that only up to PIPE_BUF (4 KiB) on a pipe; a longer line is
// written in parts, and another process's line could land between them.
//
// The lock is a Mutex word in a page of shared memory (an anonymous memfd the
// host creates and every child inherits), held only around the write itself.
// Its owner is the writer's pid, so when a process dies in the middle of a
// write the host frees the lock as it reaps it. A writer never waits longer
// than outputWait: a stopped holder can delay output, not hang the run.
type OutputLock struct {
	mem   []byte
	mu    Mutex
	me    Owner
	local sync.Mutex // one writer of this process at a time
}

// outputWait bounds how long a line waits for another process's write.
const outputWait = 2 * time.Second

// newOutputLock creates the lock's memory (host side) and returns the lock
// with the descriptor to hand to children.
func newOutputLock() (*OutputLock, *os.File, error) {
	fd, err := unix.MemfdCreate("mpjs-output", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("output lock: memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mpjs-output")
	if err := f.Truncate(int64(os.Getpagesize())); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("output lock: %w", err)
	}
	l, err := mapOutputLock(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return l, f, nil
}

// mapOutputLock maps the lock's page from f.
func mapOutputLock(f *os.File) (*OutputLock, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("output lock: mmap: %w", err)
	}
	return &OutputLock{
		mem: mem,
		mu:  MutexAt((*uint32)(unsafe.Pointer(&mem[0]))),
		me:  pidOwner(os.Getpid()),
	}, nil
}

// dialOutputLock maps the lock a child inherited; nil if it has none.
func dialOutputLock() *OutputLock {
	f := os.NewFile(childOutputFD, "mpjs-output")
	if f == nil {
		return nil
	}
	defer f.Close() // the mapping stays
	l, err := mapOutputLock(f)
	if err != nil {
		return nil
	}
	return l
}

// pidOwner is the lock word's owner value for a process id.
func pidOwner(pid int) Owner { return Owner(uint32(pid) & ownerMask) }

// Writer returns w with each Write made under the lock: give it whole lines.
// A nil lock returns w itself.
func (l *OutputLock) Writer(w io.Writer) io.Writer {
	if l == nil {
		return w
	}
	return &lockedWriter{l, w}
}

type lockedWriter struct {
	l *OutputLock
	w io.Writer
}

func (lw *lockedWriter) Write(b []byte) (int, error) {
	l := lw.l
	l.local.Lock()
	defer l.local.Unlock()
	if l.mu.Lock(l.me, outputWait) {
		defer l.mu.Unlock()
	}
	return lw.w.Write(b)
}

// release frees the lock if the dead process pid held it.
func (l *OutputLock) release(pid int) {
	if l != nil {
		l.mu.forceRelease(pidOwner(pid))
	}
}
