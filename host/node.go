// Package host owns everything that happens between mpjs processes: starting
// children (the same binary re-executed in its hidden child mode), the framed
// wire protocol over the socket each child inherits, the supervisor that runs
// in the first process (the host) and brokers every request, and the child's
// end of the protocol. Both ends offer the same Node interface, so the
// JavaScript bindings do not care in which process they run.
package host

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// ProcInfo identifies one mpjs process.
type ProcInfo struct {
	ID     int64 // unique in a run; the host is 0
	Pid    int
	Name   string
	Daemon bool
}

// MainID is the ProcInfo.ID of the host process.
const MainID = 0

// StartSpec describes a process to start. Payload is opaque to this package:
// the runtime's encoded target.
type StartSpec struct {
	Name    string
	Daemon  bool
	Payload []byte
	// Files travel with the target (pipe ends in its arguments); the
	// payload refers to them by index.
	Files []*os.File
	// Pins are the shared objects (ids) in the payload. The host keeps
	// them alive for the new process until it has them, or has ended: a
	// process killed before it read its arguments leaves nothing pinned.
	Pins []uint64
}

// RunSpec is what a child receives once it is chosen to run a target.
type RunSpec struct {
	Self    ProcInfo
	Parent  ProcInfo
	Payload []byte
	Files   []*os.File
}

// Status is what is known of a started process.
type Status struct {
	Done     bool
	ExitCode int // valid when Done: 0, n, or -signal
}

// Node is one process's door to the others. The host implements it
// in-process; a child implements it over its channel to the host.
type Node interface {
	// Self is this process.
	Self() ProcInfo
	// Parent is the process that started this one; ok is false in the host.
	Parent() (info ProcInfo, ok bool)
	// Start starts a child of this process.
	Start(spec StartSpec) (ProcInfo, error)
	// Join waits up to timeout (forever if negative) for a child to end.
	Join(id int64, timeout time.Duration) (Status, error)
	// Signal sends sig to a child.
	Signal(id int64, sig syscall.Signal) error
	// Active lists this process's children that are still running.
	Active() ([]ProcInfo, error)
	// Call sends a request to a host service and waits for its reply.
	Call(kind Kind, payload []byte, files ...*os.File) (Frame, error)
	// Send sends a one-way request to a host service: when it returns, the
	// host has the message (it is in the kernel's socket buffer) even if
	// this process dies right after.
	Send(kind Kind, payload []byte, files ...*os.File) error
	// OnMessage subscribes to unsolicited messages of one kind from the
	// host. fn runs on the channel's reader goroutine and must not block.
	OnMessage(kind Kind, fn func(Frame))
}

// ProcessError is a failure the user caused or can act on (too many
// processes, joining a process that is not one's child, a daemon starting a
// child). The bindings raise it as mp.ProcessError.
type ProcessError struct{ Msg string }

func (e *ProcessError) Error() string { return e.Msg }

func processErrorf(format string, args ...any) error {
	return &ProcessError{Msg: fmt.Sprintf(format, args...)}
}

func encodeInfo(e *Enc, p ProcInfo) {
	e.Int(p.ID).Int(int64(p.Pid)).String(p.Name).Bool(p.Daemon)
}

func decodeInfo(d *Dec) ProcInfo {
	return ProcInfo{ID: d.Int(), Pid: int(d.Int()), Name: d.String(), Daemon: d.Bool()}
}

func encodeRunSpec(s RunSpec) []byte {
	var e Enc
	encodeInfo(&e, s.Self)
	encodeInfo(&e, s.Parent)
	e.Bytes(s.Payload)
	return e.B
}

func decodeRunSpec(b []byte) (RunSpec, error) {
	d := Dec{B: b}
	s := RunSpec{Self: decodeInfo(&d), Parent: decodeInfo(&d), Payload: d.Bytes()}
	return s, d.Done()
}

func encodeStartSpec(s StartSpec) []byte {
	var e Enc
	e.String(s.Name).Bool(s.Daemon).Bytes(s.Payload).Uint(uint64(len(s.Pins)))
	for _, id := range s.Pins {
		e.Uint(id)
	}
	return e.B
}

func decodeStartSpec(b []byte) (StartSpec, error) {
	d := Dec{B: b}
	s := StartSpec{Name: d.String(), Daemon: d.Bool(), Payload: d.Bytes()}
	n := d.Uint()
	if n > uint64(len(d.B)) { // each id takes a byte at least
		return s, fmt.Errorf("start spec: %d pins in %d bytes", n, len(d.B))
	}
	for ; n > 0 && d.Err == nil; n-- {
		s.Pins = append(s.Pins, d.Uint())
	}
	return s, d.Done()
}

func encodeStatus(s Status) []byte {
	var e Enc
	e.Bool(s.Done).Int(int64(s.ExitCode))
	return e.B
}

func decodeStatus(b []byte) (Status, error) {
	d := Dec{B: b}
	s := Status{Done: d.Bool(), ExitCode: int(d.Int())}
	return s, d.Done()
}

// durationToWire encodes a timeout as milliseconds·1000 (µs), -1 for forever.
func durationToWire(t time.Duration) int64 {
	if t < 0 {
		return -1
	}
	return int64(t / time.Microsecond)
}

func durationFromWire(v int64) time.Duration {
	if v < 0 {
		return -1
	}
	return time.Duration(v) * time.Microsecond
}
