package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// A child's puts on unbounded queues do not go over its channel but over a
// pipe of their own, made by the child at its first such put, whose read
// end it hands to the host (KindQueuePipe). Writing a few bytes to a pipe
// costs a quarter of what a send on a socket costs, and a put is one write;
// like the channel, the pipe keeps what was written when its writer dies,
// so a put that returned is still delivered when its process is killed
// right after. Each message on the pipe is a u32 length (little endian) of
// what follows, a payload and a kind byte: a put (pipePut: a KindQueuePut
// payload), or the acknowledgement of a take (pipeAck: a KindQueueAck
// payload) or the return of leased items (pipeReturn: a KindQueueReturn
// payload), which go this way because it is the cheaper one; a get() writes
// one acknowledgement each. (The kind comes last so that a put's item starts
// its buffer.)
//
// The pipe and the channel are two streams, so a request on the channel
// that must see this process's earlier puts (a get, qsize, taskDone, join)
// carries the count of messages the process wrote to its pipe, and the host
// serves it once it has read that many. A process's exit is settled after its
// pipe is read to the end.
const (
	// KindQueuePipe is a one-way message carrying the read end of a
	// process's put pipe.
	KindQueuePipe Kind = KindQueueBase + 15

	putPipeSize  = 1 << 20 // asked of the kernel (F_SETPIPE_SZ)
	pipeReadSize = 64 << 10

	// Kinds of put pipe messages.
	pipePut    = 0
	pipeAck    = 1
	pipeReturn = 2
)

// putPipe is the host's end of one process's put pipe.
type putPipe struct {
	f    *os.File
	proc int64

	mu      sync.Mutex
	read    uint64 // messages read and put
	ended   bool
	waiting []pipeWaiter
	done    chan struct{} // closed at the end of the stream
}

type pipeWaiter struct {
	seq uint64
	fn  func()
}

func (qs *queueService) handlePipe(p *Peer, f Frame) error {
	if len(f.Files) != 1 || len(f.Payload) != 0 {
		closeFiles(f.Files)
		return errors.New("queue pipe: malformed")
	}
	// A non-blocking descriptor, so that the reader waits in the
	// netpoller rather than on a thread of its own.
	fd, err := dupCloexec(int(f.Files[0].Fd()))
	f.Files[0].Close()
	if err != nil {
		return fmt.Errorf("queue pipe: %w", err)
	}
	syscall.SetNonblock(fd, true)
	proc := p.Info().ID
	pp := &putPipe{f: os.NewFile(uintptr(fd), "mpjs-put-pipe"), proc: proc, done: make(chan struct{})}
	qs.mu.Lock()
	if qs.pipes[proc] != nil {
		qs.mu.Unlock()
		pp.f.Close()
		return errors.New("queue pipe: a second put pipe")
	}
	qs.pipes[proc] = pp
	qs.mu.Unlock()
	go qs.readPipe(pp)
	return nil
}

// after runs fn once the host has read seq messages of proc's put pipe: at
// once, or later on the pipe's reader goroutine.
func (qs *queueService) after(proc int64, seq uint64, fn func()) {
	if seq == 0 {
		fn()
		return
	}
	qs.mu.RLock()
	pp := qs.pipes[proc]
	qs.mu.RUnlock()
	if pp == nil {
		// The pipe's frame is on the channel before any request that
		// counts its messages: this process broke the protocol.
		fn()
		return
	}
	pp.mu.Lock()
	if pp.read >= seq || pp.ended {
		pp.mu.Unlock()
		fn()
		return
	}
	pp.waiting = append(pp.waiting, pipeWaiter{seq, fn})
	pp.mu.Unlock()
}

// advance records n more messages read and runs the requests they unblock.
func (pp *putPipe) advance(n uint64, ended bool) {
	pp.mu.Lock()
	pp.read += n
	if ended {
		pp.ended = true
	}
	var run []func()
	kept := pp.waiting[:0]
	for _, w := range pp.waiting {
		if w.seq <= pp.read || pp.ended {
			run = append(run, w.fn)
		} else {
			kept = append(kept, w)
		}
	}
	clear(pp.waiting[len(kept):])
	pp.waiting = kept
	pp.mu.Unlock()
	for _, fn := range run {
		fn()
	}
}

func (qs *queueService) readPipe(pp *putPipe) {
	defer func() {
		pp.f.Close()
		pp.advance(0, true)
		close(pp.done)
	}()
	buf := make([]byte, pipeReadSize)
	off, end := 0, 0
	for {
		n, err := pp.f.Read(buf[end:])
		end += n
		var count uint64
		for end-off >= 4 {
			size := int(binary.LittleEndian.Uint32(buf[off:]))
			if size > MaxFrame || size < 1 {
				qs.warnPipe(pp, fmt.Errorf("a message of %d bytes", size))
				return
			}
			if end-off-4 < size {
				if size+4 <= len(buf) {
					break // wait for the rest in the buffer
				}
				// A large item is read straight into its own buffer.
				item := GetBuffer(size)
				got := copy(item, buf[off+4:end])
				if _, err := io.ReadFull(pp.f, item[got:]); err != nil {
					PutBuffer(item)
					pp.advance(count, false)
					return // the writer died in the middle: that put never returned
				}
				off = end
				if err := qs.fromPipe(pp, item); err != nil {
					qs.warnPipe(pp, err)
					return
				}
				count++
				continue
			}
			var err error
			if buf[off+4+size-1] == pipePut {
				item := GetBuffer(size)
				copy(item, buf[off+4:off+4+size])
				err = qs.fromPipe(pp, item)
			} else {
				err = qs.fromPipe(pp, buf[off+4:off+4+size])
			}
			off += 4 + size
			count++
			if err != nil {
				qs.warnPipe(pp, err)
				return
			}
		}
		if off == end {
			off, end = 0, 0
		} else if off > 0 && end == len(buf) {
			end = copy(buf, buf[off:end])
			off = 0
		}
		pp.advance(count, false)
		if err != nil {
			return // the end of the stream: the process has ended
		}
	}
}

// fromPipe handles one message of a put pipe: its payload and kind byte. A
// put's message is its own buffer, which the item keeps.
func (qs *queueService) fromPipe(pp *putPipe, msg []byte) error {
	payload := msg[:len(msg)-1]
	switch msg[len(msg)-1] {
	case pipeAck:
		return qs.ack(pp.proc, payload)
	case pipeReturn:
		return qs.giveBack(pp.proc, payload)
	case pipePut:
	default:
		return fmt.Errorf("a message of kind %d", msg[len(msg)-1])
	}
	item, h, ok := parsePutTrailer(payload)
	if !ok {
		return errors.New("a truncated put")
	}
	q, err := qs.lookup(h.id)
	if err != nil {
		return err
	}
	if !qs.put(q, requester{}, qitem{data: item}, false, 0) {
		return fmt.Errorf("a put on bounded queue %d", h.id)
	}
	return nil
}

func (qs *queueService) warnPipe(pp *putPipe, err error) {
	fmt.Fprintf(qs.warn, "mpjs: process %d broke the queue protocol on its put pipe (%v); the rest of the pipe is ignored\n", pp.proc, err)
}

// drainPipe waits until proc's put pipe, if it has one, is read to the end
// (the process has ended, so the end comes) and forgets it.
func (qs *queueService) drainPipe(proc int64) {
	qs.mu.Lock()
	pp := qs.pipes[proc]
	delete(qs.pipes, proc)
	qs.mu.Unlock()
	if pp == nil {
		return
	}
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-pp.done:
	case <-t.C:
		pp.f.Close()
	}
}
