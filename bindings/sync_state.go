package bindings

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sync"
	"time"
	"weak"

	"github.com/dop251/goja"

	"mpjs/host"
)

// syncMod is the part of a Module that locks and shared memory share: the
// process's side of shared memory and the prototypes of their classes.
type syncMod struct {
	m      *Module
	vm     *goja.Runtime
	shm    *host.Shm
	protos map[host.ObjKind]*goja.Object

	owner host.Owner // this process in lock words; known once a target runs

	// The JavaScript object of each shared object this process has, so
	// that one received twice (or sent away and back) is the same object.
	wmu      sync.Mutex
	wrappers map[uint64]weak.Pointer[goja.Object]

	valueProto, rawValueProto *goja.Object
	arrayProto, rawArrayProto *goja.Object
}

// syncState returns the module's syncMod, making it on first use (loop
// goroutine only).
func (m *Module) syncState() *syncMod {
	if m.syncs == nil {
		m.syncs = &syncMod{m: m, vm: m.vm, shm: host.NewShm(m.node), protos: map[host.ObjKind]*goja.Object{},
			wrappers: map[uint64]weak.Pointer[goja.Object]{}}
	}
	return m.syncs
}

// me is this process's Owner. A child learns who it is when it is given a
// target, before any JavaScript runs, so this is only called from then on.
func (sm *syncMod) me() host.Owner {
	if sm.owner == 0 {
		sm.owner = host.OwnerOf(sm.m.node.Self().ID)
	}
	return sm.owner
}

// builtinError makes an instance of one of JavaScript's own error classes.
func (sm *syncMod) builtinError(class, format string, args ...any) *goja.Object {
	ctor, _ := sm.vm.Get(class).(*goja.Object)
	o, err := sm.vm.New(ctor, sm.vm.ToValue(fmt.Sprintf(format, args...)))
	if err != nil {
		panic(err)
	}
	return o
}

// throw raises an error of the primitives as the JavaScript error that fits.
func (sm *syncMod) throw(what string, err error) {
	switch {
	case errors.Is(err, host.ErrBrokenBarrier):
		panic(sm.m.newError("BrokenBarrierError", what+": "+err.Error()))
	case errors.Is(err, host.ErrNotLocked), errors.Is(err, host.ErrNotOwner), errors.Is(err, host.ErrTooManyRelease):
		panic(sm.builtinError("Error", "%s: %s", what, err.Error()))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		panic(ex)
	}
	sm.m.throw(err)
}

// newObj asks the host for a new shared object; errors are thrown.
func (sm *syncMod) newObj(k host.ObjKind, size int64, what string) *host.Obj {
	o, err := sm.shm.New(k, size)
	if err != nil {
		var se *host.ServiceError
		if errors.As(err, &se) && se.Class == "RangeError" {
			panic(sm.builtinError("RangeError", "%s: %s", what, se.Msg))
		}
		sm.m.throw(fmt.Errorf("%s: %w", what, err))
	}
	return o
}

// remember records o as the JavaScript object of shared object id.
func (sm *syncMod) remember(id uint64, o *goja.Object) {
	sm.wmu.Lock()
	defer sm.wmu.Unlock()
	sm.wrappers[id] = weak.Make(o)
}

// known returns the JavaScript object of shared object id, if this process
// has one still.
func (sm *syncMod) known(id uint64) *goja.Object {
	sm.wmu.Lock()
	defer sm.wmu.Unlock()
	if w, ok := sm.wrappers[id]; ok {
		if o := w.Value(); o != nil {
			return o
		}
		delete(sm.wrappers, id)
	}
	return nil
}

// forget drops the entry of an object whose JavaScript object is gone.
func (sm *syncMod) forget(id uint64) {
	sm.wmu.Lock()
	defer sm.wmu.Unlock()
	if w, ok := sm.wrappers[id]; ok && w.Value() == nil {
		delete(sm.wrappers, id)
	}
}

// keep ties the life of a shared object in this process to st, the Go half
// of the JavaScript object that uses it: when st is garbage, this process
// lets go of the object.
func keep[T any](sm *syncMod, st *T, o *host.Obj) {
	goruntime.AddCleanup(st, func(o *host.Obj) {
		o.Release()
		sm.forget(o.Ref.ID)
	}, o)
}

// attachRef reads a Ref from d and attaches its object, checking its kind.
func (sm *syncMod) attachRef(d *host.Dec, ok func(host.ObjKind) bool) (*host.Obj, error) {
	ref := host.DecodeRef(d)
	if d.Err != nil {
		return nil, d.Err
	}
	if !ok(ref.Kind) {
		return nil, fmt.Errorf("shared object %d: unexpected kind %v", ref.ID, ref.Kind)
	}
	return sm.shm.Attach(ref)
}

func closeAll(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// durationToWire and durationFromWire carry a timeout as microseconds, -1
// for none.
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

// getState fetches the Go half of an object made by this file's classes, or
// throws a TypeError naming what was expected.
func getState[T any](sm *syncMod, call goja.FunctionCall, what string) T {
	if o, ok := call.This.(*goja.Object); ok {
		if v := o.GetSymbol(sm.m.state); v != nil {
			if st, ok := v.Export().(T); ok {
				return st
			}
		}
	}
	panic(sm.vm.NewTypeError("%s called on %s, which is not the right kind of object", what, describe(call.This)))
}

// blockTimeout reads Python's (block = true, timeout = null) arguments.
func (sm *syncMod) blockTimeout(fname string, args []goja.Value) time.Duration {
	v := sm.m.bind(fname, args, 0, Param{"block", sm.vm.ToValue(true)}, Param{"timeout", goja.Null()})
	if !isNullish(v[0]) && !v[0].ToBoolean() {
		return 0
	}
	return sm.m.timeout(fname, v[1])
}

// onlyTimeout reads a (timeout = null) argument.
func (sm *syncMod) onlyTimeout(fname string, args []goja.Value) time.Duration {
	return sm.m.timeout(fname, sm.m.bind(fname, args, 0, Param{"timeout", goja.Null()})[0])
}

// callFn calls fn (checked to be a function, named what in errors) with args.
func (sm *syncMod) callFn(fn goja.Value, what string, args ...goja.Value) goja.Value {
	f, ok := goja.AssertFunction(fn)
	if !ok {
		panic(sm.vm.NewTypeError("%s must be a function, got %s", what, describe(fn)))
	}
	res, err := f(goja.Undefined(), args...)
	if err != nil {
		panic(err)
	}
	return res
}

func (sm *syncMod) defineNonEnum(o *goja.Object, name string, f func(goja.FunctionCall) goja.Value) {
	o.DefineDataProperty(name, sm.vm.ToValue(f), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// interruptSlice is how long a wait in the host sleeps before it looks
// whether Ctrl-C (in the REPL) wants it to give up.
const interruptSlice = 50 * time.Millisecond

// wait runs a blocking wait of at most timeout (forever if negative). In the
// host it waits in slices, so that Ctrl-C in the REPL can end it: it then
// returns false, and the VM throws the interruption as soon as the native
// call returns. A child has no Ctrl-C of its own (the host ends it), so it
// waits in one piece.
func (sm *syncMod) wait(timeout time.Duration, try func(time.Duration) bool) bool {
	if timeout == 0 || sm.m.node.Self().ID != host.MainID {
		return try(timeout)
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := interruptSlice
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return try(0)
			}
			slice = min(slice, left)
		}
		if try(slice) {
			return true
		}
		select {
		case <-sm.m.rt.Interrupted():
			return false
		default:
		}
	}
}
