package host

import (
	"math/bits"
	"runtime"
	"sync"
	"unsafe"
)

// Large buffers (queue items, pipe messages) are recycled rather than left
// to the collector. A fresh large buffer costs more than the copy that fills
// it: the allocator zeroes it, and the allocation rate of a stream of them
// makes the collector run hundreds of times a second, which halved the
// throughput of 100 KB queue items and of megabyte pipe messages.
//
// Buffers of at least PoolMin bytes are filed by the power of two below
// their capacity; the pool keeps at most poolMax bytes.
const (
	// PoolMin is the smallest buffer worth recycling.
	PoolMin = 64 << 10
	poolMax = 64 << 20
)

var bufPool struct {
	mu    sync.Mutex
	free  [48][][]byte
	bytes int
}

// GetBuffer returns a buffer of length n whose contents are undefined: the
// caller overwrites all of it.
func GetBuffer(n int) []byte {
	if n < PoolMin {
		return make([]byte, n)
	}
	c := bits.Len(uint(n - 1)) // 1<<c >= n
	bufPool.mu.Lock()
	if l := len(bufPool.free[c]); l > 0 {
		b := bufPool.free[c][l-1]
		bufPool.free[c][l-1] = nil
		bufPool.free[c] = bufPool.free[c][:l-1]
		bufPool.bytes -= cap(b)
		bufPool.mu.Unlock()
		return b[:n]
	}
	bufPool.mu.Unlock()
	return make([]byte, n, 1<<c)
}

// PutBuffer gives back a buffer that nothing refers to any more (from
// GetBuffer or not).
func PutBuffer(b []byte) {
	if cap(b) < PoolMin {
		return
	}
	c := bits.Len(uint(cap(b))) - 1 // 1<<c <= cap
	bufPool.mu.Lock()
	defer bufPool.mu.Unlock()
	if bufPool.bytes+cap(b) > poolMax {
		return // the collector has it
	}
	bufPool.free[c] = append(bufPool.free[c], b[:0])
	bufPool.bytes += cap(b)
}

// PutBufferWhenUnreachable gives a buffer from GetBuffer back once the
// collector finds it unreachable: for memory handed to JavaScript (an
// ArrayBuffer over it).
func PutBufferWhenUnreachable(b []byte) {
	if cap(b) < PoolMin {
		return
	}
	n := cap(b)
	// GetBuffer's buffers start their allocation, as a finalizer needs.
	runtime.SetFinalizer(unsafe.SliceData(b[:1]), func(p *byte) {
		PutBuffer(unsafe.Slice(p, n))
	})
}
