// Package runtime owns one JavaScript virtual machine and its standard
// environment: the event loop (one goroutine owns the VM), console, timers,
// sleep, performance, require, process and structuredClone, the loading of
// scripts with errors that name file:line:col, and the bundling of targets
// that are sent to other processes (capture + codec).
package runtime

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja_nodejs/eventloop"
	"github.com/dop251/goja_nodejs/require"
	"golang.org/x/sys/unix"

	"mpjs/runtime/capture"
	"mpjs/runtime/codec"
)

// Options configures a Runtime.
type Options struct {
	// Argv is process.argv: the binary, the script, then its arguments.
	Argv []string
	// Stdout and Stderr receive console output, one Write per line.
	Stdout, Stderr io.Writer
	// Exit ends the process with a code; process.exit calls it. It must not
	// return. Nil means os.Exit.
	Exit func(code int)
}

// Runtime is one VM with its environment. Its methods that touch the VM must
// run on the loop goroutine; RunOnLoop gets there from anywhere.
type Runtime struct {
	Loop     *eventloop.EventLoop
	VM       *goja.Runtime
	Registry *require.Registry
	// TopLevel is the analysed top level of everything the main script (or
	// the REPL) ran, for target capture.
	TopLevel *capture.TopLevel
	// Handles lets objects that cross by reference (queues, locks...) through
	// the codec; the bindings set it.
	Handles codec.Handles

	opts    Options
	start   time.Time
	outMu   sync.Mutex
	timers  map[string]time.Time
	counts  map[string]int
	indent  string
	encoder *codec.Encoder
	decoder *codec.Decoder

	// OnCallbackError, if set, receives errors thrown by timer callbacks
	// (the REPL reports them and goes on). Unset, the first such error ends
	// the run as an uncaught error, as in Node.
	OnCallbackError func(err error)
	callbackErr     error

	arrowFixes map[string]string // see completeArrow

	rejections []*goja.Promise // rejected with no handler yet, in order
	exiting    bool
	intr       interruption // see eval.go
}

// New makes a runtime with its standard environment installed.
func New(opts Options) *Runtime {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Exit == nil {
		opts.Exit = os.Exit
	}
	r := &Runtime{
		opts:     opts,
		start:    time.Now(),
		TopLevel: capture.New(),
		timers:   map[string]time.Time{},
		counts:   map[string]int{},
	}
	r.Registry = require.NewRegistry()
	r.Loop = eventloop.NewEventLoop(eventloop.EnableConsole(false), eventloop.WithRegistry(r.Registry))
	// The loop made the VM; Run hands it over on this goroutine (no jobs are
	// pending yet, so it returns right away) and the globals go in.
	r.Loop.Run(func(vm *goja.Runtime) {
		r.VM = vm
		r.install()
	})
	return r
}

func (r *Runtime) install() {
	vm := r.VM
	vm.SetFieldNameMapper(goja.UncapFieldNameMapper())
	vm.SetPromiseRejectionTracker(r.trackRejection)
	g := vm.GlobalObject()
	r.installConsole()
	r.wrapTimers()
	g.Set("sleep", r.sleep)
	perf := vm.NewObject()
	perf.Set("now", func() float64 { return float64(time.Since(r.start).Nanoseconds()) / 1e6 })
	perf.Set("timeOrigin", float64(r.start.UnixNano())/1e6)
	g.Set("performance", perf)
	g.Set("structuredClone", r.structuredClone)
	g.Set("process", r.processObject())
	g.Set("global", g)
}

// Out writes one line to stdout atomically with respect to other lines.
func (r *Runtime) Out(line string) { r.writeLine(r.opts.Stdout, line) }

// Errf writes one line to stderr.
func (r *Runtime) Errf(format string, args ...any) {
	r.writeLine(r.opts.Stderr, fmt.Sprintf(format, args...))
}

func (r *Runtime) writeLine(w io.Writer, line string) {
	if r.indent != "" {
		line = r.indent + strings.ReplaceAll(line, "\n", "\n"+r.indent)
	}
	b := make([]byte, 0, len(line)+1)
	b = append(append(b, line...), '\n')
	r.outMu.Lock()
	w.Write(b) // one write(2): lines of different processes never interleave
	r.outMu.Unlock()
}

// sleep blocks the VM for the given seconds, as Python's time.sleep.
func (r *Runtime) sleep(call goja.FunctionCall) goja.Value {
	secs := call.Argument(0)
	f := secs.ToFloat()
	if goja.IsUndefined(secs) || f != f || f < 0 {
		panic(r.VM.NewTypeError("sleep(seconds): seconds must be a non-negative number, got %s", secs.String()))
	}
	t := time.NewTimer(time.Duration(f * float64(time.Second)))
	select {
	case <-t.C:
	case <-r.Interrupted(): // Ctrl-C in the REPL: the VM throws once sleep returns
		t.Stop()
	}
	return goja.Undefined()
}

func (r *Runtime) processObject() *goja.Object {
	vm := r.VM
	p := vm.NewObject()
	argv := make([]any, len(r.opts.Argv))
	for i, a := range r.opts.Argv {
		argv[i] = a
	}
	p.Set("argv", vm.NewArray(argv...))
	env := vm.NewObject()
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env.Set(k, v)
		}
	}
	p.Set("env", env)
	p.Set("pid", os.Getpid())
	p.Set("ppid", os.Getppid())
	p.Set("platform", runtime.GOOS)
	p.Set("arch", map[string]string{"amd64": "x64", "386": "ia32"}[runtime.GOARCH])
	p.Set("exit", func(call goja.FunctionCall) goja.Value {
		code := 0
		if a := call.Argument(0); !goja.IsUndefined(a) {
			code = int(a.ToInteger())
		}
		r.Exit(code)
		return nil
	})
	// kill(pid, signal = 'SIGTERM') as Node's: a name or a number.
	p.Set("kill", func(call goja.FunctionCall) goja.Value {
		sig := syscall.SIGTERM
		if a := call.Argument(1); !goja.IsUndefined(a) {
			if goja.IsNumber(a) {
				sig = syscall.Signal(a.ToInteger())
			} else if sig = unix.SignalNum(a.String()); sig == 0 {
				panic(vm.NewTypeError("process.kill: unknown signal %s", a.String()))
			}
		}
		if err := syscall.Kill(int(call.Argument(0).ToInteger()), sig); err != nil {
			panic(vm.NewGoError(fmt.Errorf("process.kill: %w", err)))
		}
		return vm.ToValue(true)
	})
	p.Set("cwd", func() string { d, _ := os.Getwd(); return d })
	// memoryUsage() as Node's: rss is what the OS counts for this process;
	// heapTotal and heapUsed are the Go heap the VM lives in.
	p.Set("memoryUsage", func() map[string]int64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return map[string]int64{"rss": residentBytes(), "heapTotal": int64(ms.HeapSys), "heapUsed": int64(ms.HeapAlloc)}
	})
	p.Set("hrtime", func() []int64 {
		n := time.Since(r.start).Nanoseconds()
		return []int64{n / 1e9, n % 1e9}
	})
	for _, s := range []struct {
		name string
		w    io.Writer
	}{{"stdout", r.opts.Stdout}, {"stderr", r.opts.Stderr}} {
		w := s.w
		o := vm.NewObject()
		o.Set("write", func(str string) bool {
			r.outMu.Lock()
			io.WriteString(w, str)
			r.outMu.Unlock()
			return true
		})
		p.Set(s.name, o)
	}
	return p
}

// Exit runs the exit hook and ends the process with code.
func (r *Runtime) Exit(code int) {
	r.exiting = true
	r.opts.Exit(code)
}

// Codec returns the VM's encoder and decoder (loop goroutine only).
func (r *Runtime) Codec() (*codec.Encoder, *codec.Decoder) {
	if r.encoder == nil {
		r.encoder = codec.NewEncoder(r.VM, r.Handles)
		r.decoder = codec.NewDecoder(r.VM, r.Handles)
	}
	return r.encoder, r.decoder
}

func (r *Runtime) structuredClone(call goja.FunctionCall) goja.Value {
	enc, dec := r.Codec()
	b, err := enc.Encode(nil, call.Argument(0), "value")
	if err != nil {
		panic(r.VM.NewTypeError("structuredClone: %s", err.Error()))
	}
	v, err := dec.Decode(b)
	if err != nil {
		panic(r.VM.NewGoError(err))
	}
	return v
}

func (r *Runtime) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		r.rejections = append(r.rejections, p)
	case goja.PromiseRejectionHandle:
		for i, q := range r.rejections {
			if q == p {
				r.rejections = append(r.rejections[:i], r.rejections[i+1:]...)
				break
			}
		}
	}
}

// UnhandledRejection returns the reason of the first promise rejected with
// no handler, if any (loop goroutine only).
func (r *Runtime) UnhandledRejection() (goja.Value, bool) {
	if len(r.rejections) == 0 {
		return nil, false
	}
	return r.rejections[0].Result(), true
}

// Compile parses and compiles a script, keeping its top level for capture.
// Syntax errors come back as *SyntaxError with file, line and column.
func (r *Runtime) Compile(filename, src string) (*goja.Program, error) {
	ast, err := parser.ParseFile(nil, filename, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err)
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, syntaxError(err)
	}
	if err := r.TopLevel.Add(filename, src); err != nil {
		return nil, syntaxError(err)
	}
	return prg, nil
}

// RunMain runs a script as the main program on the loop and then runs the
// loop until no work is left. It returns the uncaught error, if any.
func (r *Runtime) RunMain(filename, src string) (err error) {
	r.Loop.Run(func(vm *goja.Runtime) {
		var prg *goja.Program
		if prg, err = r.Compile(filename, src); err != nil {
			return
		}
		r.defineModuleGlobals(filename)
		_, err = vm.RunProgram(prg)
	})
	if err == nil {
		err = r.callbackErr
	}
	if err == nil {
		err = r.rejectionError()
	}
	return err
}

// wrapTimers makes an error thrown by a setTimeout, setInterval or
// setImmediate callback count (the event loop alone would drop it).
func (r *Runtime) wrapTimers() {
	vm := r.VM
	for _, name := range []string{"setTimeout", "setInterval", "setImmediate"} {
		orig, ok := goja.AssertFunction(vm.Get(name))
		if !ok {
			continue
		}
		f := vm.ToValue(func(call goja.FunctionCall) goja.Value {
			args := append([]goja.Value(nil), call.Arguments...)
			if len(args) > 0 {
				if fn, ok := goja.AssertFunction(args[0]); ok {
					args[0] = vm.ToValue(func(c goja.FunctionCall) goja.Value {
						v, err := fn(c.This, c.Arguments...)
						if err != nil {
							r.callbackFailed(err)
							return goja.Undefined()
						}
						return v
					})
				}
			}
			v, err := orig(call.This, args...)
			if err != nil {
				panic(err)
			}
			return v
		}).(*goja.Object)
		f.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		vm.Set(name, f)
	}
}

// callbackFailed handles an error thrown by a timer callback (loop goroutine).
func (r *Runtime) callbackFailed(err error) {
	if r.OnCallbackError != nil {
		r.OnCallbackError(err)
		return
	}
	if r.callbackErr == nil {
		r.callbackErr = err
	}
	r.Loop.StopNoWait()
}

// defineModuleGlobals gives the main script Node's module-scope names.
func (r *Runtime) defineModuleGlobals(filename string) {
	abs, _ := filepath.Abs(filename)
	g := r.VM.GlobalObject()
	g.Set("__filename", abs)
	g.Set("__dirname", filepath.Dir(abs))
	module := r.VM.NewObject()
	exports := r.VM.NewObject()
	module.Set("exports", exports)
	g.Set("module", module)
	g.Set("exports", exports)
}

// Run runs fn on the loop, then the loop until no work is left, and returns
// fn's error or the first unhandled rejection.
func (r *Runtime) Run(fn func(vm *goja.Runtime) error) (err error) {
	r.Loop.Run(func(vm *goja.Runtime) { err = fn(vm) })
	if err == nil {
		err = r.callbackErr
	}
	if err == nil {
		err = r.rejectionError()
	}
	return err
}

func (r *Runtime) rejectionError() error {
	var reason goja.Value
	var ok bool
	r.Loop.Run(func(*goja.Runtime) { reason, ok = r.UnhandledRejection() })
	if !ok {
		return nil
	}
	return &UncaughtError{Value: reason, Rejection: true}
}

// residentBytes is this process's resident set size, from /proc/self/statm.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	var pages int64
	fmt.Sscan(f[1], &pages)
	return pages * int64(os.Getpagesize())
}
