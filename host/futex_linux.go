package host

import (
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations on words of shared memory. The words live in MAP_SHARED
// memfd mappings, so the process-shared (non-private) operations are used:
// the kernel keys a waiter by the file page and offset, and a wake from any
// process that maps the same page reaches it.
const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

// futexWait sleeps while *addr == val, at most timeout (forever if
// negative). It returns early, without error, on a wake, a signal or a
// spurious wake-up; callers re-check their condition. The result is false
// only when the timeout expired.
func futexWait(addr *uint32, val uint32, timeout time.Duration) bool {
	var tsp unsafe.Pointer
	var ts unix.Timespec
	if timeout >= 0 {
		ts = unix.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(tsp), 0, 0)
	return e != syscall.ETIMEDOUT
}

// futexWake wakes at most n waiters sleeping on addr (all when n < 0) and
// returns how many it woke.
func futexWake(addr *uint32, n int) int {
	if n < 0 || n > math.MaxInt32 {
		n = math.MaxInt32
	}
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(r)
}

// deadline turns a timeout into the point in time it ends; the zero Time
// means forever.
type deadline struct {
	end     time.Time
	forever bool
}

func deadlineAfter(timeout time.Duration) deadline {
	if timeout < 0 {
		return deadline{forever: true}
	}
	return deadline{end: time.Now().Add(timeout)}
}

// left is the time that remains: negative for forever, 0 when it is over.
func (d deadline) left() time.Duration {
	if d.forever {
		return -1
	}
	l := time.Until(d.end)
	if l < 0 {
		return 0
	}
	return l
}
