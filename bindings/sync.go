package bindings

import (
	"fmt"
	"os"
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
)

// syncObj is the Go half of a Lock, RLock, Semaphore, BoundedSemaphore,
// Event, Condition or Barrier: a view of its words in shared memory (see
// host/lock.go). It crosses processes by reference.
type syncObj struct {
	sm    *syncMod
	obj   *host.Obj
	kind  host.ObjKind
	owner host.Owner // this process

	mu  host.Mutex
	rm  host.RMutex
	sem host.Semaphore
	ev  host.Event
	cv  host.Cond
	bar host.Barrier

	// A Condition's lock (a Lock or an RLock), and its JavaScript object.
	lock    *syncObj
	lockObj *goja.Object

	// A Barrier's action (may be undefined) and default timeout.
	action  goja.Value
	timeout time.Duration
}

var syncNames = map[host.ObjKind]string{
	host.ObjLock: "Lock", host.ObjRLock: "RLock", host.ObjSemaphore: "Semaphore",
	host.ObjBoundedSemaphore: "BoundedSemaphore", host.ObjEvent: "Event",
	host.ObjCondition: "Condition", host.ObjBarrier: "Barrier",
}

func isSyncKind(k host.ObjKind) bool { _, ok := syncNames[k]; return ok }
func isLockKind(k host.ObjKind) bool { return k == host.ObjLock || k == host.ObjRLock }

// newSyncObj makes the Go half over a shared object and ties the object's
// life in this process to it.
func (sm *syncMod) newSyncObj(o *host.Obj) *syncObj {
	s := &syncObj{sm: sm, obj: o, kind: o.Ref.Kind, owner: sm.me(), timeout: -1, action: goja.Undefined()}
	w := o.Word(0)
	switch s.kind {
	case host.ObjLock:
		s.mu = host.MutexAt(w)
	case host.ObjRLock:
		s.rm = host.RMutexAt(w)
	case host.ObjSemaphore, host.ObjBoundedSemaphore:
		s.sem = host.SemaphoreAt(w)
	case host.ObjEvent:
		s.ev = host.EventAt(w)
	case host.ObjCondition:
		s.cv = host.CondAt(w)
	case host.ObjBarrier:
		s.bar = host.BarrierAt(w)
	}
	keep(sm, s, o)
	return s
}

func (s *syncObj) name() string { return syncNames[s.kind] }

// acquire takes a Lock, an RLock, a unit of a Semaphore, or a Condition's
// lock, waiting at most timeout.
func (s *syncObj) acquire(timeout time.Duration) bool {
	switch s.kind {
	case host.ObjLock:
		return s.mu.Lock(s.owner, timeout)
	case host.ObjRLock:
		return s.rm.Lock(s.owner, timeout)
	case host.ObjSemaphore, host.ObjBoundedSemaphore:
		return s.sem.Acquire(s.owner, timeout)
	case host.ObjCondition:
		return s.lock.acquire(timeout)
	}
	return false
}

// acquireByUser is acquire for the script's own acquire(): in the host it
// gives way to Ctrl-C (the REPL), returning false (see syncMod.wait).
func (s *syncObj) acquireByUser(timeout time.Duration) bool {
	if s.acquire(0) {
		return true
	}
	if timeout == 0 {
		return false
	}
	return s.sm.wait(timeout, s.acquire)
}

func (s *syncObj) release() error {
	switch s.kind {
	case host.ObjLock:
		if !s.mu.Unlock() {
			return host.ErrNotLocked
		}
	case host.ObjRLock:
		return s.rm.Unlock(s.owner)
	case host.ObjSemaphore, host.ObjBoundedSemaphore:
		return s.sem.Release(s.owner)
	case host.ObjCondition:
		return s.lock.release()
	}
	return nil
}

// mine reports whether this process holds the (Lock or RLock) lock.
func (s *syncObj) mine() bool {
	if s.kind == host.ObjRLock {
		return s.rm.Owner() == s.owner
	}
	return s.mu.Owner() == s.owner
}

func (s *syncObj) handleKind() string { return "sync" }

// encodeHandle implements shared: the object's Ref, and what the kind adds
// (a Condition's lock, a Barrier's timeout and action).
func (s *syncObj) encodeHandle() ([]byte, []*os.File, error) {
	var e host.Enc
	var action []byte
	if s.kind == host.ObjBarrier && !isNullish(s.action) {
		// The action goes as a target does: a snapshot of its source and
		// of the top-level values it uses, taken now.
		captured, err := s.sm.m.rt.Capture(s.action, "the Barrier action")
		if err != nil {
			return nil, nil, err
		}
		if action, err = s.sm.m.rt.EncodeValue(captured, "action"); err != nil {
			return nil, nil, err
		}
	}
	pins := []*host.Obj{s.obj}
	s.obj.Ref.Encode(&e)
	switch s.kind {
	case host.ObjCondition:
		pins = append(pins, s.lock.obj)
		s.lock.obj.Ref.Encode(&e)
	case host.ObjBarrier:
		e.Int(durationToWire(s.timeout)).Bool(action != nil).Bytes(action)
	}
	for _, o := range pins {
		s.sm.m.sendPin(o)
	}
	return e.B, nil, nil
}

// decodeSync re-creates a synchronization object sent by another process
// (or by this one): the object this process has already, if it has one.
func (sm *syncMod) decodeSync(payload []byte, files []*os.File) (goja.Value, error) {
	closeAll(files)
	d := host.Dec{B: payload}
	o, err := sm.attachRef(&d, isSyncKind)
	if err != nil {
		return nil, err
	}
	known := sm.known(o.Ref.ID)
	var s *syncObj
	if known == nil {
		s = sm.newSyncObj(o)
	} else {
		o.Release() // the object we have holds it already
	}
	switch o.Ref.Kind {
	case host.ObjCondition:
		lo, err := sm.attachRef(&d, isLockKind)
		if err != nil {
			return nil, err
		}
		if s == nil {
			lo.Release()
		} else {
			s.lock, s.lockObj = sm.lockFor(lo)
		}
	case host.ObjBarrier:
		timeout := durationFromWire(d.Int())
		has, action := d.Bool(), d.Bytes()
		if d.Err != nil {
			return nil, d.Err
		}
		if s == nil {
			break
		}
		s.timeout = timeout
		if has {
			v, err := sm.m.rt.DecodeValue(action)
			if err != nil {
				return nil, fmt.Errorf("the Barrier action: %w", err)
			}
			bundle, ok := v.(*goja.Object)
			if !ok {
				return nil, fmt.Errorf("the Barrier action: got %s", describe(v))
			}
			if s.action, err = sm.m.rt.Instantiate(bundle); err != nil {
				return nil, fmt.Errorf("the Barrier action: %w", err)
			}
		}
	}
	if err := d.Done(); err != nil {
		return nil, err
	}
	if known != nil {
		return known, nil
	}
	return sm.wrapSync(s), nil
}

// lockFor returns the state and the JavaScript object of a received Lock or
// RLock (the ones this process has already, if any).
func (sm *syncMod) lockFor(lo *host.Obj) (*syncObj, *goja.Object) {
	if w := sm.known(lo.Ref.ID); w != nil {
		if st := w.GetSymbol(sm.m.state); st != nil {
			if s, ok := st.Export().(*syncObj); ok {
				lo.Release()
				return s, w
			}
		}
	}
	s := sm.newSyncObj(lo)
	return s, sm.wrapSync(s)
}

// wrapSync makes the JavaScript object of s (received, or made for a Value
// or a Condition), as its constructor would.
func (sm *syncMod) wrapSync(s *syncObj) *goja.Object {
	o := sm.vm.CreateObject(sm.protos[s.kind])
	o.DefineDataPropertySymbol(sm.m.state, sm.vm.ToValue(s), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	sm.instanceMethods(o, s)
	sm.remember(s.obj.Ref.ID, o)
	return o
}

// instanceMethods gives a lock its own acquire and release, which find their
// Go half without a lookup: an uncontended acquire + release is then little
// more than two native calls (the prototype has the same methods, for
// .call on another object).
func (sm *syncMod) instanceMethods(o *goja.Object, s *syncObj) {
	what := s.name()
	var acquire, release func(goja.FunctionCall) goja.Value
	slow := func(call goja.FunctionCall) goja.Value {
		return sm.vm.ToValue(s.acquireByUser(sm.blockTimeout(what+".acquire", call.Arguments)))
	}
	switch s.kind {
	case host.ObjLock:
		mu, me := s.mu, s.owner
		acquire = func(call goja.FunctionCall) goja.Value {
			if len(call.Arguments) == 0 && mu.TryLock(me) {
				return sm.vm.ToValue(true)
			}
			return slow(call)
		}
		release = func(goja.FunctionCall) goja.Value {
			if !mu.Unlock() {
				sm.throw("Lock.release", host.ErrNotLocked)
			}
			return goja.Undefined()
		}
	case host.ObjRLock:
		rm, me := s.rm, s.owner
		acquire = func(call goja.FunctionCall) goja.Value {
			if len(call.Arguments) == 0 && rm.Lock(me, 0) {
				return sm.vm.ToValue(true)
			}
			return slow(call)
		}
		release = func(goja.FunctionCall) goja.Value {
			if err := rm.Unlock(me); err != nil {
				sm.throw("RLock.release", err)
			}
			return goja.Undefined()
		}
	case host.ObjSemaphore, host.ObjBoundedSemaphore:
		sem, me := s.sem, s.owner
		acquire = func(call goja.FunctionCall) goja.Value {
			if len(call.Arguments) == 0 && sem.Acquire(me, 0) {
				return sm.vm.ToValue(true)
			}
			return slow(call)
		}
		release = func(goja.FunctionCall) goja.Value {
			if err := sem.Release(me); err != nil {
				sm.throw(what+".release", err)
			}
			return goja.Undefined()
		}
	default:
		return
	}
	sm.defineNonEnum(o, "acquire", acquire)
	sm.defineNonEnum(o, "release", release)
}

func (m *Module) defineSync() {
	sm := m.syncState()
	m.decoders["sync"] = sm.decodeSync
	vm := m.vm

	// construct makes a new object of kind k for a constructor.
	construct := func(this *goja.Object, k host.ObjKind) *syncObj {
		s := sm.newSyncObj(sm.newObj(k, 0, syncNames[k]))
		sm.instanceMethods(this, s)
		sm.remember(s.obj.Ref.ID, this)
		return s
	}
	lockMethods := func(proto *goja.Object, what string) {
		get := func(call goja.FunctionCall, name string) *syncObj {
			return getState[*syncObj](sm, call, what+"."+name)
		}
		m.method(proto, "acquire", func(call goja.FunctionCall) goja.Value {
			s := get(call, "acquire")
			return vm.ToValue(s.acquireByUser(sm.blockTimeout(what+".acquire", call.Arguments)))
		})
		m.method(proto, "release", func(call goja.FunctionCall) goja.Value {
			if err := get(call, "release").release(); err != nil {
				sm.throw(what+".release", err)
			}
			return goja.Undefined()
		})
		m.method(proto, "with", func(call goja.FunctionCall) goja.Value {
			s := get(call, "with")
			fn := call.Argument(0)
			if _, ok := goja.AssertFunction(fn); !ok {
				panic(vm.NewTypeError("%s.with: the argument must be a function, got %s", what, describe(fn)))
			}
			return sm.with(s, call.This, fn, what)
		})
	}

	// Lock
	_, proto := m.class("Lock", func(this *goja.Object, args []goja.Value) any {
		m.bind("Lock", args, 0)
		return construct(this, host.ObjLock)
	})
	sm.protos[host.ObjLock] = proto
	lockMethods(proto, "Lock")
	m.method(proto, "locked", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(getState[*syncObj](sm, call, "Lock.locked").mu.Locked())
	})
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		s := getState[*syncObj](sm, call, "Lock.toString")
		return vm.ToValue(fmt.Sprintf("<Lock(owner=%s)>", sm.ownerName(s.mu.Owner())))
	})

	// RLock
	_, proto = m.class("RLock", func(this *goja.Object, args []goja.Value) any {
		m.bind("RLock", args, 0)
		return construct(this, host.ObjRLock)
	})
	sm.protos[host.ObjRLock] = proto
	lockMethods(proto, "RLock")
	m.method(proto, "locked", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(getState[*syncObj](sm, call, "RLock.locked").rm.Owner() != 0)
	})
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		s := getState[*syncObj](sm, call, "RLock.toString")
		o := s.rm.Owner()
		depth := uint32(0)
		if o != 0 {
			depth = s.rm.Depth()
		}
		return vm.ToValue(fmt.Sprintf("<RLock(%s, %d)>", sm.ownerName(o), depth))
	})

	// Semaphore and BoundedSemaphore
	for _, k := range []host.ObjKind{host.ObjSemaphore, host.ObjBoundedSemaphore} {
		k, what := k, syncNames[k]
		_, proto := m.class(what, func(this *goja.Object, args []goja.Value) any {
			v := m.bind(what, args, 0, Param{"value", vm.ToValue(1)})
			n := v[0].ToFloat()
			if !goja.IsNumber(v[0]) || n != float64(int64(n)) {
				panic(vm.NewTypeError("%s: value must be a whole number, got %s", what, describe(v[0])))
			}
			if n < 0 || n > 1<<30 {
				panic(sm.builtinError("RangeError", "%s: value must be between 0 and 2**30, got %v", what, n))
			}
			s := construct(this, k)
			s.sem.Init(uint32(n), k == host.ObjBoundedSemaphore)
			return s
		})
		sm.protos[k] = proto
		lockMethods(proto, what)
		m.method(proto, "getValue", func(call goja.FunctionCall) goja.Value {
			return vm.ToValue(getState[*syncObj](sm, call, what+".getValue").sem.Value())
		})
		m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
			s := getState[*syncObj](sm, call, what+".toString")
			return vm.ToValue(fmt.Sprintf("<%s(value=%d)>", what, s.sem.Value()))
		})
	}

	// Event
	_, proto = m.class("Event", func(this *goja.Object, args []goja.Value) any {
		m.bind("Event", args, 0)
		return construct(this, host.ObjEvent)
	})
	sm.protos[host.ObjEvent] = proto
	ev := func(call goja.FunctionCall, name string) host.Event {
		return getState[*syncObj](sm, call, "Event."+name).ev
	}
	m.method(proto, "set", func(call goja.FunctionCall) goja.Value { ev(call, "set").Set(); return goja.Undefined() })
	m.method(proto, "clear", func(call goja.FunctionCall) goja.Value { ev(call, "clear").Clear(); return goja.Undefined() })
	m.method(proto, "isSet", func(call goja.FunctionCall) goja.Value { return vm.ToValue(ev(call, "isSet").IsSet()) })
	m.method(proto, "wait", func(call goja.FunctionCall) goja.Value {
		e := ev(call, "wait")
		return vm.ToValue(sm.wait(sm.onlyTimeout("Event.wait", call.Arguments), e.Wait))
	})
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(fmt.Sprintf("<Event(set=%v)>", ev(call, "toString").IsSet()))
	})

	sm.defineCondition()
	sm.defineBarrier()
}

// with is lock.with(fn): Python's `with lock:`. It acquires, calls fn with
// the object, releases even when fn throws, and returns what fn returns.
func (sm *syncMod) with(s *syncObj, this goja.Value, fn goja.Value, what string) goja.Value {
	s.acquire(-1)
	f, _ := goja.AssertFunction(fn)
	res, err := f(goja.Undefined(), this)
	if rerr := s.release(); rerr != nil && err == nil {
		sm.throw(what+".with", rerr)
	}
	if err != nil {
		panic(err)
	}
	return res
}

// ownerName names the process an Owner stands for, as far as this process
// knows: itself, or the process id.
func (sm *syncMod) ownerName(o host.Owner) string {
	switch o {
	case 0:
		return "None"
	case sm.me():
		return sm.m.node.Self().Name
	}
	return fmt.Sprintf("process #%d", o-1)
}

func (sm *syncMod) defineCondition() {
	m, vm := sm.m, sm.vm
	_, proto := m.class("Condition", func(this *goja.Object, args []goja.Value) any {
		v := m.bind("Condition", args, 0, Param{"lock", goja.Null()})
		var lock *syncObj
		var lockObj *goja.Object
		if isNullish(v[0]) {
			lock = sm.newSyncObj(sm.newObj(host.ObjRLock, 0, "Condition"))
			lockObj = sm.wrapSync(lock)
		} else {
			lock = sm.lockArg(v[0], "Condition: lock")
			lockObj = v[0].(*goja.Object)
		}
		s := sm.newSyncObj(sm.newObj(host.ObjCondition, 0, "Condition"))
		s.lock, s.lockObj = lock, lockObj
		sm.remember(s.obj.Ref.ID, this)
		return s
	})
	sm.protos[host.ObjCondition] = proto
	get := func(call goja.FunctionCall, name string) *syncObj {
		return getState[*syncObj](sm, call, "Condition."+name)
	}
	m.method(proto, "acquire", func(call goja.FunctionCall) goja.Value {
		s := get(call, "acquire")
		return vm.ToValue(s.acquireByUser(sm.blockTimeout("Condition.acquire", call.Arguments)))
	})
	m.method(proto, "release", func(call goja.FunctionCall) goja.Value {
		if err := get(call, "release").release(); err != nil {
			sm.throw("Condition.release", err)
		}
		return goja.Undefined()
	})
	m.method(proto, "with", func(call goja.FunctionCall) goja.Value {
		s := get(call, "with")
		fn := call.Argument(0)
		if _, ok := goja.AssertFunction(fn); !ok {
			panic(vm.NewTypeError("Condition.with: the argument must be a function, got %s", describe(fn)))
		}
		return sm.with(s, call.This, fn, "Condition")
	})
	m.method(proto, "wait", func(call goja.FunctionCall) goja.Value {
		s := get(call, "wait")
		return vm.ToValue(sm.condWait(s, sm.onlyTimeout("Condition.wait", call.Arguments), "Condition.wait"))
	})
	m.method(proto, "waitFor", func(call goja.FunctionCall) goja.Value {
		s := get(call, "waitFor")
		v := m.bind("Condition.waitFor", call.Arguments, 1, Param{"predicate", goja.Undefined()}, Param{"timeout", goja.Null()})
		if _, ok := goja.AssertFunction(v[0]); !ok {
			panic(vm.NewTypeError("Condition.waitFor: predicate must be a function, got %s", describe(v[0])))
		}
		timeout := m.timeout("Condition.waitFor", v[1])
		dl := time.Now().Add(timeout)
		result := sm.callFn(v[0], "predicate")
		for !result.ToBoolean() {
			left := time.Duration(-1)
			if timeout >= 0 {
				if left = time.Until(dl); left <= 0 {
					break
				}
			}
			sm.condWait(s, left, "Condition.waitFor")
			result = sm.callFn(v[0], "predicate")
		}
		return result
	})
	notify := func(call goja.FunctionCall, name string, n int) {
		s := get(call, name)
		if !s.lock.mine() {
			panic(sm.builtinError("Error", "Condition.%s: cannot notify on un-acquired lock", name))
		}
		s.cv.Notify(n)
	}
	m.method(proto, "notify", func(call goja.FunctionCall) goja.Value {
		v := m.bind("Condition.notify", call.Arguments, 0, Param{"n", vm.ToValue(1)})
		if !goja.IsNumber(v[0]) || v[0].ToFloat() < 0 {
			panic(vm.NewTypeError("Condition.notify: n must be a number >= 0, got %s", describe(v[0])))
		}
		n := v[0].ToFloat()
		if n > 1<<30 {
			n = 1 << 30
		}
		notify(call, "notify", int(n))
		return goja.Undefined()
	})
	m.method(proto, "notifyAll", func(call goja.FunctionCall) goja.Value {
		notify(call, "notifyAll", -1)
		return goja.Undefined()
	})
	m.accessor(proto, "lock", func(call goja.FunctionCall) goja.Value { return get(call, "lock").lockObj }, nil)
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		s := get(call, "toString")
		return vm.ToValue(fmt.Sprintf("<Condition(%s)>", s.lockObj.String()))
	})
}

// lockArg checks that v is a Lock or an RLock of this module.
func (sm *syncMod) lockArg(v goja.Value, what string) *syncObj {
	if o, ok := v.(*goja.Object); ok {
		if st := o.GetSymbol(sm.m.state); st != nil {
			if s, ok := st.Export().(*syncObj); ok && isLockKind(s.kind) {
				return s
			}
		}
	}
	panic(sm.vm.NewTypeError("%s must be a Lock or an RLock, got %s", what, describe(v)))
}

// condWait is Condition.wait: release the lock entirely, sleep until a
// notify or the timeout, take the lock back (at its depth, for an RLock).
func (sm *syncMod) condWait(s *syncObj, timeout time.Duration, what string) bool {
	l := s.lock
	if !l.mine() {
		panic(sm.builtinError("Error", "%s: cannot wait on un-acquired lock", what))
	}
	seq := s.cv.Prepare()
	var depth uint32
	if l.kind == host.ObjRLock {
		depth, _ = l.rm.UnlockAll(l.owner)
	} else {
		l.mu.Unlock()
	}
	ok := s.cv.Wait(seq, timeout)
	if l.kind == host.ObjRLock {
		l.rm.RestoreLock(l.owner, depth)
	} else {
		l.mu.Lock(l.owner, -1)
	}
	return ok
}

func (sm *syncMod) defineBarrier() {
	m, vm := sm.m, sm.vm
	_, proto := m.class("Barrier", func(this *goja.Object, args []goja.Value) any {
		v := m.bind("Barrier", args, 1, Param{"parties", goja.Undefined()}, Param{"action", goja.Null()}, Param{"timeout", goja.Null()})
		n := v[0].ToFloat()
		if !goja.IsNumber(v[0]) || n != float64(int64(n)) {
			panic(vm.NewTypeError("Barrier: parties must be a whole number, got %s", describe(v[0])))
		}
		if n < 1 || n > 1<<30 {
			panic(sm.builtinError("RangeError", "Barrier: parties must be at least 1, got %v", n))
		}
		if !isNullish(v[1]) {
			if _, ok := goja.AssertFunction(v[1]); !ok {
				panic(vm.NewTypeError("Barrier: action must be a function, got %s", describe(v[1])))
			}
		}
		timeout := m.timeout("Barrier", v[2])
		s := sm.newSyncObj(sm.newObj(host.ObjBarrier, 0, "Barrier"))
		s.bar.Init(uint32(n))
		s.action, s.timeout = v[1], timeout
		sm.remember(s.obj.Ref.ID, this)
		return s
	})
	sm.protos[host.ObjBarrier] = proto
	get := func(call goja.FunctionCall, name string) *syncObj {
		return getState[*syncObj](sm, call, "Barrier."+name)
	}
	m.method(proto, "wait", func(call goja.FunctionCall) goja.Value {
		s := get(call, "wait")
		v := m.bind("Barrier.wait", call.Arguments, 0, Param{"timeout", goja.Null()})
		timeout := s.timeout
		if !isNullish(v[0]) {
			timeout = m.timeout("Barrier.wait", v[0])
		}
		var action func() error
		if !isNullish(s.action) {
			action = func() error {
				f, _ := goja.AssertFunction(s.action)
				_, err := f(goja.Undefined())
				return err
			}
		}
		i, err := s.bar.Wait(s.owner, timeout, action)
		if err != nil {
			sm.throw("Barrier.wait", err)
		}
		return vm.ToValue(i)
	})
	m.method(proto, "reset", func(call goja.FunctionCall) goja.Value {
		s := get(call, "reset")
		s.bar.Reset(s.owner)
		return goja.Undefined()
	})
	m.method(proto, "abort", func(call goja.FunctionCall) goja.Value {
		s := get(call, "abort")
		s.bar.Abort(s.owner)
		return goja.Undefined()
	})
	m.accessor(proto, "parties", func(call goja.FunctionCall) goja.Value { return vm.ToValue(get(call, "parties").bar.Parties()) }, nil)
	m.accessor(proto, "nWaiting", func(call goja.FunctionCall) goja.Value { return vm.ToValue(get(call, "nWaiting").bar.NWaiting()) }, nil)
	m.accessor(proto, "broken", func(call goja.FunctionCall) goja.Value { return vm.ToValue(get(call, "broken").bar.Broken()) }, nil)
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		s := get(call, "toString")
		return vm.ToValue(fmt.Sprintf("<Barrier(parties=%d, nWaiting=%d, broken=%v)>", s.bar.Parties(), s.bar.NWaiting(), s.bar.Broken()))
	})
}
