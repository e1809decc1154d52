package runtime

import (
	"sync"

	"github.com/dop251/goja"
)

// This file holds the hooks an interactive session needs on top of RunMain:
// running one input in the global scope and keeping the loop alive between
// inputs (the REPL drives the loop itself), interrupting what runs (Ctrl-C),
// and collecting unhandled rejections without ending the run.

// interruption is the state behind Interrupt and Interrupted.
type interruption struct {
	mu sync.Mutex
	ch chan struct{} // closed by Interrupt; replaced by ClearInterrupt
}

func (in *interruption) chanLocked() chan struct{} {
	if in.ch == nil {
		in.ch = make(chan struct{})
	}
	return in.ch
}

// Interrupt stops the JavaScript running on the loop, as Ctrl-C does in the
// REPL: the running code ends with a *goja.InterruptedError that carries
// reason and cannot be caught by a try statement, and a native call that
// blocks and watches Interrupted (sleep does) returns early so that the
// interrupt can fire. Safe from any goroutine.
//
// If no JavaScript is running, the next code that runs is interrupted as
// soon as it starts, unless ClearInterrupt is called first.
func (r *Runtime) Interrupt(reason any) {
	r.VM.Interrupt(reason)
	r.intr.mu.Lock()
	ch := r.intr.chanLocked()
	select {
	case <-ch:
	default:
		close(ch)
	}
	r.intr.mu.Unlock()
}

// ClearInterrupt withdraws an interrupt that has not fired yet (goja clears
// one that fired by itself when the interrupted code returns). Call it when
// no JavaScript is running, e.g. on the loop goroutine between two jobs.
func (r *Runtime) ClearInterrupt() {
	r.VM.ClearInterrupt()
	r.intr.mu.Lock()
	select {
	case <-r.intr.chanLocked():
		r.intr.ch = make(chan struct{})
	default:
	}
	r.intr.mu.Unlock()
}

// Interrupted returns a channel that Interrupt closes. A native function that
// blocks for a long time selects on it to give up early; the VM then throws
// the interrupt as soon as the function returns. Safe from any goroutine.
func (r *Runtime) Interrupted() <-chan struct{} {
	r.intr.mu.Lock()
	defer r.intr.mu.Unlock()
	return r.intr.chanLocked()
}

// RunInput compiles src as one chunk named filename, adds its top level to
// TopLevel (so that functions it defines can be sent to other processes, and
// a later chunk may redefine its names), and runs it in the global scope. It
// returns the completion value, as eval would. Unlike RunMain it does not run
// the loop: the caller drives it. Loop goroutine only.
func (r *Runtime) RunInput(filename, src string) (goja.Value, error) {
	prg, err := r.Compile(filename, src)
	if err != nil {
		return nil, err
	}
	return r.VM.RunProgram(prg)
}

// TakeRejections returns the reasons of the promises rejected so far that
// still have no handler, oldest first, and forgets them, so that a session
// reports each once and goes on. Loop goroutine only.
func (r *Runtime) TakeRejections() []goja.Value {
	if len(r.rejections) == 0 {
		return nil
	}
	out := make([]goja.Value, len(r.rejections))
	for i, p := range r.rejections {
		out[i] = p.Result()
	}
	r.rejections = nil
	return out
}
