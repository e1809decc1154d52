package bindings

// AsyncResult, and how results reach the VM that waits for them: events
// from the host pool's goroutines, absorbed and settled on the VM's own
// goroutine (see the comment at the top of pool.go); and the errors a task
// can end with.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

func (pm *poolModule) defineResult() {
	m, vm := pm.m, pm.m.vm
	ctor := pm.call("makeClass", vm.ToValue("AsyncResult")).(*goja.Object)
	pm.resProt = ctor.Get("prototype").(*goja.Object)
	get := func(call goja.FunctionCall, what string) *poolJob {
		return this[*poolJob](m, call, "AsyncResult."+what)
	}
	m.method(pm.resProt, "get", func(call goja.FunctionCall) goja.Value {
		j := get(call, "get")
		t := m.timeout("AsyncResult.get", m.bind("AsyncResult.get", call.Arguments, 0, Param{"timeout", goja.Null()})[0])
		ready, interrupted := pm.await(j, t)
		if interrupted {
			return goja.Undefined()
		}
		if !ready {
			panic(m.newError("TimeoutError", "AsyncResult.get: the result was not ready in time"))
		}
		if j.err != nil {
			panic(vm.ToValue(j.err))
		}
		return j.value
	})
	m.method(pm.resProt, "wait", func(call goja.FunctionCall) goja.Value {
		j := get(call, "wait")
		t := m.timeout("AsyncResult.wait", m.bind("AsyncResult.wait", call.Arguments, 0, Param{"timeout", goja.Null()})[0])
		pm.await(j, t)
		return goja.Undefined()
	})
	m.method(pm.resProt, "ready", func(call goja.FunctionCall) goja.Value {
		j := get(call, "ready")
		pm.pump()
		return vm.ToValue(pm.isReady(j))
	})
	m.method(pm.resProt, "successful", func(call goja.FunctionCall) goja.Value {
		j := get(call, "successful")
		pm.pump()
		if !pm.isReady(j) {
			panic(m.newError("ProcessError", "AsyncResult.successful: the result is not ready"))
		}
		return vm.ToValue(j.err == nil)
	})
	m.method(pm.resProt, "then", func(call goja.FunctionCall) goja.Value {
		j := get(call, "then")
		if j.promise == nil {
			p, resolve, reject := vm.NewPromise()
			j.promise, j.resolve, j.reject = p, resolve, reject
			if j.settled {
				pm.resolve(j)
			} else {
				pm.listen(j)
			}
		}
		return pm.call("then", vm.ToValue(j.promise), call.Argument(0), call.Argument(1))
	})
}

// callbacks checks callback and errorCallback.
func (pm *poolModule) callbacks(fname string, cb, eb goja.Value) (goja.Value, goja.Value) {
	for i, v := range []goja.Value{cb, eb} {
		if !isNullish(v) {
			if _, ok := goja.AssertFunction(v); !ok {
				name := [...]string{"callback", "errorCallback"}[i]
				panic(pm.m.vm.NewTypeError("%s: %s must be a function, got %s", fname, name, describe(v)))
			}
		}
	}
	if isNullish(cb) {
		cb = nil
	}
	if isNullish(eb) {
		eb = nil
	}
	return cb, eb
}

func (pm *poolModule) asyncResult(j *poolJob, cb, eb goja.Value) goja.Value {
	j.callback, j.errback = cb, eb
	if cb != nil || eb != nil {
		pm.listen(j)
	}
	pm.helpers()
	o := pm.m.vm.CreateObject(pm.resProt)
	o.DefineDataPropertySymbol(pm.m.state, pm.m.vm.ToValue(j), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return o
}

// listen counts a job someone waits on asynchronously: the script does not
// end before it settles.
func (pm *poolModule) listen(j *poolJob) {
	if j.listened || j.settled {
		return
	}
	j.listened = true
	pm.listeners++
	if pm.listeners == 1 {
		pm.keep = pm.m.rt.Loop.SetTimeout(func(*goja.Runtime) {}, 100*365*24*time.Hour)
	}
}

func (pm *poolModule) unlisten(j *poolJob) {
	if !j.listened {
		return
	}
	j.listened = false
	pm.listeners--
	if pm.listeners == 0 && pm.keep != nil {
		pm.m.rt.Loop.ClearTimeout(pm.keep)
		pm.keep = nil
	}
}

func (pm *poolModule) isReady(j *poolJob) bool { return j.done && (j.settled || pm.settling) }

// await pumps until j is done or the timeout (negative: none) runs out. It
// gives way to an interrupt (Ctrl-C in the REPL): the VM throws it as soon
// as the caller returns.
func (pm *poolModule) await(j *poolJob, timeout time.Duration) (ready, interrupted bool) {
	w := poolWaiter{timeout: timeout}
	defer w.stop()
	for {
		pm.pump()
		if pm.isReady(j) {
			return true, false
		}
		if timeout == 0 {
			return false, false
		}
		switch pm.wait(&w) {
		case waitExpired:
			pm.pump()
			return pm.isReady(j), false
		case waitInterrupted:
			return false, true
		}
	}
}

// poolWaiter is one blocking call's wait for results: its timeout
// (negative: none) and the timer for it, made when first needed.
type poolWaiter struct {
	timeout time.Duration
	timer   *time.Timer
}

func (w *poolWaiter) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

type waitEnd int

const (
	waitWoken       waitEnd = iota // the pool has news: pump
	waitExpired                    // w's timeout ran out
	waitInterrupted                // Ctrl-C in the REPL: the VM throws it once the caller returns
)

// wait blocks until the pool has news, w's timeout runs out, or an
// interrupt comes.
func (pm *poolModule) wait(w *poolWaiter) waitEnd {
	var expired <-chan time.Time
	if w.timeout > 0 {
		if w.timer == nil {
			w.timer = time.NewTimer(w.timeout)
		}
		expired = w.timer.C
	}
	select {
	case <-pm.wake:
		return waitWoken
	case <-expired:
		return waitExpired
	case <-pm.m.rt.Interrupted():
		return waitInterrupted
	}
}

// result blocks for a synchronous call's value (map, apply, starmap).
func (pm *poolModule) result(j *poolJob, timeout time.Duration) goja.Value {
	if _, interrupted := pm.await(j, timeout); interrupted {
		j.hj.Cancel()
		return goja.Undefined()
	}
	if j.err != nil {
		panic(pm.m.vm.ToValue(j.err))
	}
	return j.value
}

// deliver is the host pool's Deliver: any goroutine, pool lock held.
func (pm *poolModule) deliver(r host.PoolResult) {
	pm.mu.Lock()
	pm.events = append(pm.events, r)
	schedule := !pm.queued
	pm.queued = true
	pm.mu.Unlock()
	select {
	case pm.wake <- struct{}{}:
	default:
	}
	if schedule {
		pm.m.rt.Loop.RunOnLoop(func(*goja.Runtime) { pm.pump() })
	}
}

// pump absorbs the events that arrived and settles finished jobs (loop
// goroutine only).
func (pm *poolModule) pump() {
	pm.mu.Lock()
	events := pm.events
	pm.events = nil
	pm.queued = false
	pm.mu.Unlock()
	for i := range events {
		pm.absorb(&events[i])
		events[i] = host.PoolResult{}
	}
	pm.settle()
}

// absorb records one task's outcome in its job.
func (pm *poolModule) absorb(r *host.PoolResult) {
	j := r.Job.Tag.(*poolJob)
	if j.done && (j.kind == jobMap || j.kind == jobApply) {
		closePoolFiles(r.Files) // already failed: later chunks do not matter
		return
	}
	var vals []goja.Value
	var errv goja.Value
	switch {
	case r.Err != nil:
		closePoolFiles(r.Files)
		errv = pm.hostError(r.Err)
	case r.Status == host.TaskError:
		v, err := pm.m.decode(r.Payload, r.Files)
		env, ok := v.(*goja.Object)
		if err != nil || !ok {
			errv = pm.m.vm.NewGoError(fmt.Errorf("cannot decode the error a pool task threw: %v", err))
		} else {
			errv = pm.remoteError(env.Get("0"), env.Get("1").String())
		}
	case j.size > 0:
		// A map's chunk: its results go to their place in the whole.
		if j.all == nil {
			pm.prepareResult(j)
		}
		lo := r.Chunk * j.chunkSize
		hi := min(lo+j.chunkSize, j.size)
		v, viaCodec, err := pm.decodeItems(r.Payload, r.Files, j.all[lo:lo:hi])
		if !viaCodec {
			j.pl.h.Recycle(r.Payload) // nothing refers to it
		}
		if err == nil && len(v) != hi-lo {
			err = fmt.Errorf("%d results for %d items", len(v), hi-lo)
		}
		if err != nil {
			errv = pm.m.vm.NewGoError(fmt.Errorf("cannot decode a pool task's result: %w", err))
		}
	default:
		v, _, err := pm.decodeItems(r.Payload, r.Files, nil)
		if err != nil {
			errv = pm.m.vm.NewGoError(fmt.Errorf("cannot decode a pool task's result: %w", err))
		} else {
			vals = v
		}
	}
	for len(j.chunks) <= r.Chunk {
		j.chunks = append(j.chunks, chunkResult{})
	}
	j.chunks[r.Chunk] = chunkResult{set: true, vals: vals, err: errv}
	j.got++
	j.arrive = append(j.arrive, r.Chunk)
	switch j.kind {
	case jobMap, jobApply:
		if errv != nil {
			j.err, j.done = errv, true
			j.chunks, j.all, j.arr = nil, nil, nil
			pm.settleQ = append(pm.settleQ, j)
			return
		}
		if j.got == j.total {
			pm.finishJob(j)
		}
	}
}

// finishJob assembles a map's or apply's value.
func (pm *poolModule) finishJob(j *poolJob) {
	if j.kind == jobApply {
		j.value = goja.Undefined()
		if c := j.chunks[0]; len(c.vals) == 1 {
			j.value = c.vals[0]
		}
	} else {
		if j.arr != nil {
			j.value = j.arr
		} else {
			j.value = pm.array(j.all)
		}
		j.all, j.arr = nil, nil
	}
	j.chunks = nil
	j.done = true
	pm.settleQ = append(pm.settleQ, j)
}

// prepareResult makes the array a map's results go to: n undefined items
// to start with, whose storage the chunks are decoded into as they arrive
// (j.all), so that the array is complete when the last chunk is. Copying
// 100k results into an array at the end took about a millisecond (a 1.6
// MB allocation, page faults, write barriers) between the last result's
// arrival and map's return; the array is made here instead, right after
// the chunks are sent, while the workers run them.
//
// The storage is reached the way values() reads an array's items (items):
// for a plain dense array, Reflect.apply hands a native function the
// array's own backing store as its arguments. Writing values into it keeps what goja
// tracks of the array true (its length, n items present, none of them an
// accessor). Whether the slice is the array's storage is checked on the
// first item; if it is not, the results are assembled apart and copied
// into an array at the end.
func (pm *poolModule) prepareResult(j *poolJob) {
	n := j.size
	if len(pm.undef) < n {
		pm.undef = make([]goja.Value, n)
		for i := range pm.undef {
			pm.undef[i] = goja.Undefined()
		}
	}
	arr := pm.array(pm.undef[:n])
	if len(pm.undef) > maxUndefined {
		pm.undef = nil
	}
	store := pm.items(arr)
	if len(store) == n {
		store[0] = goja.Null()
		aliased := arr.Get("0") == goja.Null()
		store[0] = goja.Undefined()
		if aliased {
			j.arr, j.all = arr, store
			return
		}
	}
	j.all = make([]goja.Value, n)
}

// maxUndefined bounds the run of undefined values kept for prepareResult.
const maxUndefined = 1 << 20

// settle runs the callbacks of finished jobs in order, one at a time.
func (pm *poolModule) settle() {
	if pm.settling {
		return
	}
	pm.settling = true
	defer func() { pm.settling = false }()
	for len(pm.settleQ) > 0 {
		j := pm.settleQ[0]
		pm.settleQ[0] = nil
		pm.settleQ = pm.settleQ[1:]
		j.settled = true
		cb, arg := j.callback, j.value
		if j.err != nil {
			cb, arg = j.errback, j.err
		}
		if cb != nil {
			f, _ := goja.AssertFunction(cb)
			if _, err := f(goja.Undefined(), arg); err != nil {
				pm.m.rt.Errf("%s", "Error in a Pool callback (the pool goes on):\n"+pm.m.rt.Describe(err))
			}
		}
		if j.promise != nil {
			pm.resolve(j)
		}
		pm.unlisten(j)
	}
	pm.settleQ = nil
}

func (pm *poolModule) resolve(j *poolJob) {
	if j.err != nil {
		j.reject(j.err)
	} else {
		j.resolve(j.value)
	}
}

// hostError turns a pool failure (a dead worker, a terminated pool) into
// the mp error of its class.
func (pm *poolModule) hostError(err error) goja.Value {
	var se *host.ServiceError
	var pe *host.ProcessError
	switch {
	case errors.As(err, &se) && pm.m.errors[se.Class] != nil:
		return pm.m.newError(se.Class, se.Msg)
	case errors.As(err, &pe):
		return pm.m.newError("ProcessError", pe.Msg)
	}
	return pm.m.newError("ProcessError", err.Error())
}

// remoteError prepares what a task threw for re-throwing here: an Error
// keeps its type (the built-in one the codec re-creates, or the class of
// this script or of mp its constructor is named after), gets the worker's
// stack in remoteStack, and this process's stack in stack.
func (pm *poolModule) remoteError(v goja.Value, ctorName string) goja.Value {
	vm := pm.m.vm
	o, ok := v.(*goja.Object)
	if !ok {
		return v
	}
	st := o.Get("stack")
	if st == nil || goja.IsUndefined(st) {
		return v
	}
	name := o.Get("name").String()
	cls := name
	if ctorName != "" && ctorName != name {
		cls = ctorName
	}
	if c := pm.errorClass(cls); c != nil {
		if proto, ok := c.Get("prototype").(*goja.Object); ok && proto != o.Prototype() {
			o.SetPrototype(proto)
		}
	}
	remote := st.String()
	head := name
	if msg := o.Get("message"); msg != nil && msg.String() != "" {
		head += ": " + msg.String()
	}
	o.DefineDataProperty("stack", vm.ToValue(head+"\n"+pm.callerStack()), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	o.Set("remoteStack", remote)
	return o
}

// errorClass finds the class an error's name refers to: one of mp's, or a
// top-level class of the script that extends Error.
func (pm *poolModule) errorClass(name string) *goja.Object {
	m := pm.m
	if c := m.errors[name]; c != nil {
		return c
	}
	switch name {
	case "Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "AggregateError":
		return nil
	}
	b, ok := m.rt.TopLevel.Lookup(name)
	if !ok || b.Name != name || !isPoolIdent(name) {
		return nil
	}
	v, err := m.vm.RunString(name)
	if err != nil {
		return nil
	}
	c, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	errProto := m.vm.Get("Error").(*goja.Object).Get("prototype").(*goja.Object)
	proto, _ := c.Get("prototype").(*goja.Object)
	for p := proto; p != nil; p = p.Prototype() {
		if p == errProto {
			return c
		}
	}
	return nil
}

func isPoolIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// callerStack renders the script's current stack, Node style, without
// native frames and mp's own helpers.
func (pm *poolModule) callerStack() string {
	var lines []string
	var buf bytes.Buffer
	for _, f := range pm.m.vm.CaptureCallStack(0, nil) {
		if f.SrcName() == "<native>" || strings.HasPrefix(f.SrcName(), "mp:") {
			continue
		}
		buf.Reset()
		buf.WriteString("\tat ")
		f.Write(&buf)
		lines = append(lines, buf.String())
	}
	return runtime.CleanStack(strings.Join(lines, "\n"))
}
