package bindings

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

// poolWorker is the loop of a pool worker process: a reader goroutine
// takes the owner's frames into the inbox, and the VM's loop runs the tasks
// one after the other, waiting for a task's promises when the function is
// async. Each result is written as soon as its task ends. A task still in
// the inbox can be revoked by the owner (another worker is idle): the
// reader answers for it at once, even while the loop runs a long task.
type poolWorker struct {
	m    *Module
	pm   *poolModule
	conn *host.PoolWorkerConn
	self host.ProcInfo

	mu        sync.Mutex
	inbox     []workItem // not started yet
	scheduled bool

	// loop goroutine only
	waiting bool // a task's promise is pending
	running bool // run is on the stack
	fns     map[uint32]poolFn
	buf     []byte // the last result's encoding
}

// workItem is one thing for the loop to do: exactly one field is set.
type workItem struct {
	def    *host.PoolDef
	forget []uint32
	task   *host.PoolWorkerTask
	eof    bool
}

type poolFn struct {
	fn  goja.Value
	err goja.Value // what instantiating it threw
	// raw is the function's own call, without the exception guard
	// goja.AssertFunction puts around each call (nil if fn has none).
	raw func(goja.FunctionCall) goja.Value
}

// runPoolWorker is RunTarget for a pool worker's bundle (loop goroutine).
func (m *Module) runPoolWorker(bundle *goja.Object, self host.ProcInfo) error {
	pm := m.poolState()
	chObj, _ := bundle.Get("poolWorker").(*goja.Object)
	var ch *poolChannel
	if chObj != nil {
		if v := chObj.GetSymbol(m.state); v != nil {
			ch, _ = v.Export().(*poolChannel)
		}
	}
	if ch == nil {
		return errors.New("pool worker: the channel to the pool is missing")
	}
	conn, err := host.NewPoolWorkerConn(ch.file)
	if err != nil {
		return fmt.Errorf("pool worker: %w", err)
	}
	w := &poolWorker{m: m, pm: pm, conn: conn, self: self, fns: map[uint32]poolFn{}}
	init, ok := bundle.Get("init").(*goja.Object)
	if !ok {
		w.start()
		return nil
	}
	fn, err := m.rt.Instantiate(init)
	if err != nil {
		return w.initFailed(err)
	}
	call, ok := goja.AssertFunction(fn)
	if !ok {
		return w.initFailed(errors.New("the initializer is not a function in the worker"))
	}
	var args []goja.Value
	if a, ok := bundle.Get("initargs").(*goja.Object); ok {
		m.vm.ForOf(a, func(x goja.Value) bool { args = append(args, x); return true })
	}
	res, err := call(goja.Undefined(), args...)
	if err != nil {
		return w.initFailed(err)
	}
	if pm.call("isPromise", res).ToBoolean() {
		pm.call("settle", res, m.vm.ToValue(func(goja.FunctionCall) goja.Value {
			w.start()
			return goja.Undefined()
		}), m.vm.ToValue(func(c goja.FunctionCall) goja.Value {
			w.initFailed(&runtime.UncaughtError{Value: c.Argument(0), Rejection: true})
			return goja.Undefined()
		}))
		return nil
	}
	w.start()
	return nil
}

// initFailed reports the initializer's failure on stderr (as any failed
// target), then tells the owner, which breaks the pool and stops the
// workers, and ends this process.
func (w *poolWorker) initFailed(err error) error {
	m := w.m
	m.rt.Errf("%s", FailureReport(m.rt, w.self, err))
	desc := strings.TrimPrefix(m.rt.Describe(err), "Uncaught (in promise) ")
	if i := strings.IndexByte(desc, '\n'); i >= 0 {
		desc = desc[:i]
	}
	w.conn.InitFailed(desc)
	m.rt.Exit(1)
	return err
}

func (w *poolWorker) start() {
	// From now on the owner decides when this process ends (the end of its
	// channel).
	w.m.rt.Loop.SetTimeout(func(*goja.Runtime) {}, 100*365*24*time.Hour)
	if err := w.conn.Ready(); err != nil {
		w.m.rt.Exit(1)
	}
	go w.read()
}

// read runs on its own goroutine: it hands the owner's messages to the loop.
func (w *poolWorker) read() {
	for {
		msg, err := w.conn.Read()
		if err != nil {
			fmt.Fprintf(os.Stderr, "mpjs: pool worker %s: %v\n", w.self.Name, err)
			msg = host.PoolMessage{EOF: true}
		}
		if msg.Revoke != 0 {
			w.revoke(msg.Revoke)
			continue
		}
		w.mu.Lock()
		switch {
		case msg.EOF:
			w.inbox = append(w.inbox, workItem{eof: true})
		case msg.Def != nil:
			w.inbox = append(w.inbox, workItem{def: msg.Def})
		case msg.Forget != nil:
			w.inbox = append(w.inbox, workItem{forget: msg.Forget})
		}
		for i := range msg.Tasks {
			w.inbox = append(w.inbox, workItem{task: &msg.Tasks[i]})
		}
		schedule := !w.scheduled
		w.scheduled = true
		w.mu.Unlock()
		if schedule {
			w.m.rt.Loop.RunOnLoop(w.run)
		}
		if msg.EOF {
			return
		}
	}
}

// revoke gives a task that has not started back to the owner.
func (w *poolWorker) revoke(seq uint64) {
	w.mu.Lock()
	var t *host.PoolWorkerTask
	for i, it := range w.inbox {
		if it.task != nil && it.task.Seq == seq {
			t = it.task
			w.inbox = append(w.inbox[:i], w.inbox[i+1:]...)
			break
		}
	}
	w.mu.Unlock()
	if t != nil { // else it has started: its result will come
		closePoolFiles(t.Files)
		w.conn.Revoked(seq)
	}
}

// run works through the inbox (loop goroutine).
func (w *poolWorker) run(*goja.Runtime) {
	if w.running {
		return // the run below on the stack goes on
	}
	w.running = true
	defer func() { w.running = false }()
	for !w.waiting {
		w.mu.Lock()
		if len(w.inbox) == 0 {
			w.scheduled = false
			w.mu.Unlock()
			return
		}
		it := w.inbox[0]
		w.inbox[0] = workItem{}
		w.inbox = w.inbox[1:]
		w.mu.Unlock()
		switch {
		case it.eof:
			w.conn.Bye()
			w.m.rt.Exit(0)
			return
		case it.def != nil:
			w.define(it.def)
		case it.forget != nil:
			for _, id := range it.forget {
				delete(w.fns, id)
			}
		case it.task != nil:
			w.runTask(*it.task)
		}
	}
}

func (w *poolWorker) define(d *host.PoolDef) {
	m := w.m
	v, err := m.decode(d.Code, d.Files)
	if err == nil {
		if o, ok := v.(*goja.Object); ok {
			v, err = m.rt.Instantiate(o)
		} else {
			err = errors.New("the pool function did not arrive as a captured function")
		}
	}
	if err != nil {
		w.fns[d.ID] = poolFn{err: w.thrown(err)}
		return
	}
	raw, _ := v.Export().(func(goja.FunctionCall) goja.Value)
	w.fns[d.ID] = poolFn{fn: v, raw: raw}
}

// thrown turns a Go error from the VM into the JS value to report.
func (w *poolWorker) thrown(err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	return w.m.vm.NewGoError(err)
}

func (w *poolWorker) runTask(t host.PoolWorkerTask) {
	m := w.m
	start := time.Now()
	f, ok := w.fns[t.Fn]
	if !ok {
		closePoolFiles(t.Files)
		w.fail(t, start, m.vm.NewGoError(fmt.Errorf("pool worker: unknown function %d", t.Fn)))
		return
	}
	if f.err != nil {
		closePoolFiles(t.Files)
		w.fail(t, start, f.err)
		return
	}
	vals, _, err := w.pm.decodeItems(t.Args, t.Files, nil)
	if err != nil {
		w.fail(t, start, m.vm.NewGoError(fmt.Errorf("pool worker: cannot decode the task: %w", err)))
		return
	}
	var res []goja.Value
	switch t.Mode {
	case modeApply:
		call, _ := goja.AssertFunction(f.fn)
		r, err := call(goja.Undefined(), vals...)
		if err != nil {
			w.fail(t, start, w.thrown(err))
			return
		}
		res = []goja.Value{r}
	case modeMap:
		if res, err = w.mapChunk(f, vals); err != nil {
			w.fail(t, start, w.thrown(err))
			return
		}
	default:
		out, err := w.apply(f.fn, w.pm.array(vals), true)
		if err != nil {
			w.fail(t, start, w.thrown(err))
			return
		}
		res = w.pm.values(out)
	}
	w.ok(t, start, res, false)
}

// mapChunk calls fn(item) for each item in order, writing the results
// over the items. The calls are a Go loop inside a single guarded call:
// each goja.AssertFunction call sets up its own exception guard, and
// Array.prototype.map through a JavaScript arrow makes two calls per
// item, either way about twice the cost of the plain call. What fn throws
// ends the loop and comes back as the error.
func (w *poolWorker) mapChunk(f poolFn, items []goja.Value) ([]goja.Value, error) {
	if f.raw == nil {
		out, err := w.apply(f.fn, w.pm.array(items), false)
		if err != nil {
			return nil, err
		}
		return w.pm.values(out), nil
	}
	loop, _ := goja.AssertFunction(w.m.vm.ToValue(func(goja.FunctionCall) goja.Value {
		arg := []goja.Value{nil}
		call := goja.FunctionCall{This: goja.Undefined(), Arguments: arg}
		for i, x := range items {
			arg[0] = x
			items[i] = f.raw(call)
		}
		return goja.Undefined()
	}))
	if _, err := loop(goja.Undefined()); err != nil {
		return nil, err
	}
	return items, nil
}

// await waits for the promises among a chunk's results (an async pool
// function), then sends the chunk's outcome.
func (w *poolWorker) await(t host.PoolWorkerTask, start time.Time, results []goja.Value) {
	m, pm := w.m, w.pm
	all := pm.call("all", pm.array(results))
	p := all.Export().(*goja.Promise)
	switch p.State() {
	case goja.PromiseStateFulfilled:
		w.ok(t, start, pm.values(p.Result()), true)
		return
	case goja.PromiseStateRejected:
		w.fail(t, start, p.Result())
		return
	}
	w.waiting = true
	pm.call("settle", all, m.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		w.waiting = false
		w.ok(t, start, pm.values(c.Argument(0)), true)
		w.run(m.vm)
		return goja.Undefined()
	}), m.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		w.waiting = false
		w.fail(t, start, c.Argument(0))
		w.run(m.vm)
		return goja.Undefined()
	}))
}

var poolPromiseType = reflect.TypeOf((*goja.Promise)(nil))

// apply runs the chunk through the JS helper, catching what it throws.
func (w *poolWorker) apply(fn, items goja.Value, star bool) (res goja.Value, err error) {
	pm := w.pm
	pm.helpers()
	return pm.helper("runChunk")(pm.js, fn, items, w.m.vm.ToValue(star))
}

// ok sends a chunk's results, unless some are promises still to wait for
// (settled: they were awaited already).
func (w *poolWorker) ok(t host.PoolWorkerTask, start time.Time, out []goja.Value, settled bool) {
	// The buffer is written before send returns: the next result reuses it.
	b, files, err := w.m.encodeItems(w.buf[:0], out, "result", t.First)
	if err == nil {
		w.buf = b[:0]
	}
	if err != nil && !settled {
		// A promise cannot be sent: an async function's results are awaited.
		for _, v := range out {
			if o, ok := v.(*goja.Object); ok && o.ExportType() == poolPromiseType {
				w.await(t, start, out)
				return
			}
		}
	}
	if err != nil {
		var ce *runtime.CaptureError
		msg := err.Error()
		if errors.As(err, &ce) {
			msg = ce.Msg
		}
		if t.Mode == modeApply {
			msg = strings.Replace(msg, "result[0]", "result", 1)
		}
		w.fail(t, start, w.m.vm.NewTypeError("the pool function returned a value that cannot be sent back: %s", msg))
		return
	}
	w.send(t, host.TaskOK, start, b, files)
}

func (w *poolWorker) fail(t host.PoolWorkerTask, start time.Time, thrown goja.Value) {
	m := w.m
	// What travels: [the thrown value, the name of its constructor], so
	// that the owner can re-create an instance of the script's own class.
	ctor := ""
	if o, ok := thrown.(*goja.Object); ok {
		if st, ok := o.Get("stack").(goja.String); ok {
			o.DefineDataProperty("stack", m.vm.ToValue(cleanWorkerStack(st.String())), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		}
		if c, ok := o.Get("constructor").(*goja.Object); ok {
			if n, ok := c.Get("name").(goja.String); ok {
				ctor = n.String()
			}
		}
	}
	b, files, err := m.encode(m.vm.NewArray(thrown, ctor), "error")
	if err != nil {
		e := m.vm.NewGoError(fmt.Errorf("the pool function threw a value that cannot be sent back: %s", thrown.String()))
		b, files, err = m.encode(m.vm.NewArray(e, ""), "error")
		if err != nil {
			b, files = nil, nil
		}
	}
	w.send(t, host.TaskError, start, b, files)
}

func (w *poolWorker) send(t host.PoolWorkerTask, status byte, start time.Time, payload []byte, files []*os.File) {
	if err := w.conn.Result(t.Seq, status, time.Since(start), payload, files); err != nil {
		// The owner is gone: nobody wants the rest.
		w.m.rt.Exit(1)
	}
}

// cleanWorkerStack drops the frames of mp's own JavaScript (the pool's
// helpers, the error classes) and native frames, keeping the user's.
func cleanWorkerStack(s string) string {
	lines := strings.Split(runtime.CleanStack(s), "\n")
	out := lines[:0]
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if i > 0 && strings.HasPrefix(t, "at ") && (strings.Contains(t, "mp:") || strings.HasSuffix(t, "(native)")) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
