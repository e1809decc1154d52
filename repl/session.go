package repl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"mpjs/runtime"
	"mpjs/runtime/inspect"
)

// SessionOptions configures a Session.
type SessionOptions struct {
	// Colors prints results with ANSI colours, as Node's REPL does on a
	// terminal.
	Colors bool
	// Output receives what the session reports by itself, between inputs:
	// errors thrown by timer callbacks and promise rejections that nothing
	// handled. Each report is one Write ending in a newline. Nil discards.
	Output io.Writer
}

// Session evaluates REPL inputs in one runtime. It keeps the runtime's event
// loop running in the background, so timers and promises go on between
// inputs, and runs every input on the loop goroutine.
//
// Each input is a script of its own in the global scope, compiled under the
// name REPL1, REPL2, ... (stack traces say REPL3:1:7, as Node's do) and added
// to the runtime's TopLevel, so that functions, classes and variables defined
// in the session can be Process targets and Pool functions.
//
// Eval, Incomplete and Inputs are for one goroutine at a time (the REPL's);
// Interrupt and Complete are safe from any goroutine.
type Session struct {
	rt   *runtime.Runtime
	opts inspect.Options
	out  io.Writer

	n      int      // inputs evaluated, for their names
	inputs []string // evaluated inputs, for .save

	mu    sync.Mutex
	state evalState
	gen   int           // generation of the input in progress
	abort chan struct{} // closed by Interrupt while an input awaits

	// Loop goroutine only.
	last, lastErr   goja.Value // what the session last put in _ and _error
	lastOff, errOff bool       // the user assigned _ (or _error) himself

	tick     *time.Ticker
	tickBusy atomic.Bool
	stop     chan struct{}
	closed   sync.Once
}

type evalState int

const (
	idle     evalState = iota
	running            // an input is queued or runs on the loop
	awaiting           // an input waits for the promise it made
)

// interruptedMsg is the reason given to Runtime.Interrupt, and what the
// REPL says when Ctrl-C stopped an input.
const interruptedMsg = "Script execution was interrupted by Ctrl-C"

// NewSession starts a session on rt, whose loop must not be running: the
// session starts it, and Close stops it.
func NewSession(rt *runtime.Runtime, opts SessionOptions) *Session {
	s := &Session{
		rt:      rt,
		opts:    inspect.DefaultOptions(),
		out:     opts.Output,
		last:    goja.Undefined(),
		lastErr: goja.Undefined(),
		stop:    make(chan struct{}),
	}
	if s.out == nil {
		s.out = io.Discard
	}
	s.opts.Colors = opts.Colors
	s.opts.ShowProxy = true // as Node's REPL writer
	rt.Loop.Run(func(vm *goja.Runtime) {
		g := vm.GlobalObject()
		g.Set("_", goja.Undefined())
		g.Set("_error", goja.Undefined())
		s.rt.OnCallbackError = s.callbackFailed
	})
	rt.Loop.Start()
	s.tick = time.NewTicker(200 * time.Millisecond)
	go s.watchRejections()
	return s
}

// Close stops the session's event loop (waiting at most a second for the
// JavaScript that runs to finish).
func (s *Session) Close() {
	s.closed.Do(func() {
		s.tick.Stop()
		close(s.stop)
		stopped := make(chan struct{})
		go func() { s.rt.Loop.Stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(time.Second):
			s.rt.Interrupt(interruptedMsg)
		}
	})
}

// Incomplete reports whether src needs more lines: the parser ran out of
// input (an open brace, bracket, parenthesis or template literal, a
// trailing operator) rather than finding an error.
func (s *Session) Incomplete(src string) bool {
	return analyse(src).status == incomplete
}

// Inputs returns the inputs evaluated so far, for .save.
func (s *Session) Inputs() []string { return append([]string(nil), s.inputs...) }

// Eval runs one input and returns what the REPL prints for it: the value as
// Node's REPL shows it (undefined for a statement), or the error ("Uncaught
// Name: message" and the stack; a syntax error with the line and a caret).
// It returns when the input is done, for an input that uses top-level await
// when its promise settles, or when Interrupt stops it. The value is kept in
// the global _, the error in _error.
func (s *Session) Eval(src string) string {
	s.n++
	return s.EvalNamed(fmt.Sprintf("REPL%d", s.n), src)
}

// EvalNamed is Eval with the name the input is compiled under (.load uses
// the file's path).
func (s *Session) EvalNamed(name, src string) string {
	in := analyse(src)
	switch in.status {
	case invalid:
		return syntaxReport(src, in.err)
	case incomplete:
		_, err := parse(src)
		if e := firstError(err); e != nil {
			return syntaxReport(src, e)
		}
		return "Uncaught SyntaxError: " + endOfInput
	}
	s.inputs = append(s.inputs, src)
	done := make(chan string, 1)
	s.mu.Lock()
	s.gen++
	gen := s.gen
	s.state = running
	abort := make(chan struct{})
	s.abort = abort
	s.mu.Unlock()
	if !s.rt.Loop.RunOnLoop(func(*goja.Runtime) { s.run(gen, name, in, done) }) {
		return "Uncaught Error: the session is closed"
	}
	select {
	case out := <-done:
		return out
	case <-abort:
		return "Uncaught Error: " + interruptedMsg + " (the promise it awaited is left to itself)"
	}
}

// run evaluates an input on the loop and sends what to print on done.
func (s *Session) run(gen int, name string, in input, done chan<- string) {
	v, err := s.rt.RunInput(name, in.src)
	s.mu.Lock()
	s.rt.ClearInterrupt() // a Ctrl-C that came too late is dropped here
	if err == nil && in.async {
		s.state = awaiting
	} else {
		s.state = idle
	}
	s.mu.Unlock()
	if err != nil {
		done <- s.failed(err, name) + s.rejections()
		return
	}
	if !in.async {
		done <- s.result(v) + s.rejections()
		return
	}
	settle := func(text func() string) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			s.mu.Lock()
			current := s.gen == gen && s.state == awaiting
			if current {
				s.state = idle
			}
			s.mu.Unlock()
			if current {
				select {
				case done <- text():
				default:
				}
			}
			return goja.Undefined()
		}
	}
	var fulfilled, rejected func(goja.FunctionCall) goja.Value
	fulfilled = func(call goja.FunctionCall) goja.Value {
		return settle(func() string { return s.result(call.Argument(0)) + s.rejections() })(call)
	}
	rejected = func(call goja.FunctionCall) goja.Value {
		return settle(func() string { return s.thrown(call.Argument(0), "", name) + s.rejections() })(call)
	}
	then, ok := goja.AssertFunction(v.ToObject(s.rt.VM).Get("then"))
	if !ok {
		done <- s.result(v)
		return
	}
	if _, err := then(v, s.rt.VM.ToValue(fulfilled), s.rt.VM.ToValue(rejected)); err != nil {
		s.mu.Lock()
		s.state = idle
		s.mu.Unlock()
		done <- s.failed(err, name)
	}
}

// Interrupt is Ctrl-C: JavaScript that an input runs is interrupted where it
// is (even in an endless loop or a sleep), and an input that awaits a
// promise stops waiting. When no input runs, JavaScript that keeps the event
// loop busy (a timer callback that never returns) is interrupted instead.
// It reports whether an input was running. Safe from any goroutine.
func (s *Session) Interrupt() bool {
	s.mu.Lock()
	st := s.state
	switch st {
	case running:
		s.rt.Interrupt(interruptedMsg)
	case awaiting:
		close(s.abort)
		s.state = idle
	}
	s.mu.Unlock()
	if st != running {
		go s.unstick()
	}
	return st != idle
}

// unstick interrupts the loop if it does not answer at once: a callback is
// stuck in it.
func (s *Session) unstick() {
	answered := make(chan struct{})
	s.rt.Loop.RunOnLoop(func(*goja.Runtime) {
		s.mu.Lock()
		close(answered)
		if s.state != running {
			s.rt.ClearInterrupt()
		}
		s.mu.Unlock()
	})
	select {
	case <-answered:
	case <-time.After(100 * time.Millisecond):
		s.mu.Lock()
		select {
		case <-answered:
		default:
			s.rt.Interrupt(interruptedMsg)
		}
		s.mu.Unlock()
	}
}

// result shows a value and keeps it in _ (loop goroutine).
func (s *Session) result(v goja.Value) string {
	var b strings.Builder
	s.keep("_", v, &s.last, &s.lastOff, &b)
	b.WriteString(inspect.Inspect(s.rt.VM, v, s.opts))
	return b.String()
}

// keep stores v in the global name unless the user assigned it himself
// (Node then stops, and says so).
func (s *Session) keep(name string, v goja.Value, last *goja.Value, off *bool, b *strings.Builder) {
	if *off {
		return
	}
	g := s.rt.VM.GlobalObject()
	cur := g.Get(name)
	if cur == nil {
		cur = goja.Undefined()
	}
	if !cur.SameAs(*last) {
		*off = true
		fmt.Fprintf(b, "Expression assignment to %s now disabled.\n", name)
		return
	}
	g.Set(name, v)
	*last = v
}

// failed shows why an input failed (loop goroutine).
func (s *Session) failed(err error, name string) string {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return interrupted(ie, name)
	}
	var se *runtime.SyntaxError
	if errors.As(err, &se) {
		return "Uncaught SyntaxError: " + se.Msg
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return s.thrown(ex.Value(), ex.String(), name)
	}
	return "Uncaught " + err.Error()
}

// thrown shows a thrown value as Node's REPL does, and keeps it in _error.
// The stack frame of the input's own top level is left out (the error was
// thrown "at REPL3:1:7" is said by the frames above it, or by nothing when
// the input threw it itself).
func (s *Session) thrown(v goja.Value, stack, name string) string {
	var b strings.Builder
	s.keep("_error", v, &s.lastErr, &s.errOff, &b)
	text := trimInputFrame(s.rt.DescribeValue(v, stack), name)
	if !strings.HasPrefix(text, "Uncaught ") {
		text = "Uncaught " + text
	}
	b.WriteString(text)
	return b.String()
}

// trimInputFrame drops the last frame of a stack if it is the top level of
// the input called name.
func trimInputFrame(text, name string) string {
	if name == "" {
		return text
	}
	re := regexp.MustCompile(`^    at ` + regexp.QuoteMeta(name) + `:\d+:\d+( \{)?$`)
	lines := strings.Split(text, "\n")
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "    at ") {
			last = i
		}
	}
	if last < 1 || !re.MatchString(lines[last]) {
		return text
	}
	if strings.HasSuffix(lines[last], " {") {
		lines[last-1] += " {"
	}
	return strings.Join(append(lines[:last], lines[last+1:]...), "\n")
}

// interrupted shows where Ctrl-C stopped the code.
func interrupted(ie *goja.InterruptedError, name string) string {
	var b bytes.Buffer
	b.WriteString("Error: " + interruptedMsg)
	for _, f := range ie.Stack() {
		b.WriteString("\n\tat ")
		f.Write(&b)
	}
	return "Uncaught " + trimInputFrame(runtime.CleanStack(b.String()), name)
}

// rejections reports the promises rejected with no handler (loop goroutine).
func (s *Session) rejections() string {
	var b strings.Builder
	for _, reason := range s.rt.TakeRejections() {
		text := s.rt.DescribeValue(reason, "")
		if !strings.HasPrefix(text, "Uncaught ") {
			text = "Uncaught " + text
		}
		b.WriteString("\n" + text)
	}
	return b.String()
}

// watchRejections reports rejections that happen between inputs (in timer
// callbacks, or in promise chains an input left running).
func (s *Session) watchRejections() {
	for {
		select {
		case <-s.stop:
			return
		case <-s.tick.C:
		}
		if !s.tickBusy.CompareAndSwap(false, true) {
			continue // the loop has not run the last check yet
		}
		s.rt.Loop.RunOnLoop(func(*goja.Runtime) {
			defer s.tickBusy.Store(false)
			s.mu.Lock()
			st := s.state
			s.mu.Unlock()
			if st == running {
				return // the input's result will say
			}
			if text := s.rejections(); text != "" {
				s.report(strings.TrimPrefix(text, "\n"))
			}
		})
	}
}

// report prints a message of the session's own (loop goroutine).
func (s *Session) report(text string) {
	io.WriteString(s.out, text+"\n")
}

// callbackFailed reports an error thrown by a timer callback (loop goroutine).
func (s *Session) callbackFailed(err error) {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		// Ctrl-C stopped a callback that kept the loop busy; nothing else
		// must be interrupted by it.
		s.mu.Lock()
		s.rt.ClearInterrupt()
		s.mu.Unlock()
		s.report(interrupted(ie, ""))
		return
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		text := s.rt.DescribeValue(ex.Value(), ex.String())
		if !strings.HasPrefix(text, "Uncaught ") {
			text = "Uncaught " + text
		}
		s.report(text)
		return
	}
	s.report("Uncaught " + err.Error())
}
