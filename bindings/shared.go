package bindings

import (
	"fmt"
	"math/big"
	"os"
	"strings"
	"unsafe"

	"github.com/dop251/goja"

	"mpjs/host"
)

// shmData is the Go half of a Value, RawValue, Array or RawArray: typed
// elements in shared memory (a host.Obj of kind ObjData), and for the
// synchronized ones the lock that guards each read and write, as in
// Python's sharedctypes. It crosses processes by reference.
type shmData struct {
	sm    *syncMod
	obj   *host.Obj
	t     *ctype
	n     int  // elements
	array bool // an Array (else a Value)
	base  unsafe.Pointer

	lock    *syncObj     // nil for the raw ones
	lockObj *goja.Object // its JavaScript object, for getLock()

	buffer *goja.Object // arr.buffer, made on first use

	derived bool // made by getObj(): not the object that stands for the memory

	// A Value's last read or written JavaScript value and its bits.
	last     goja.Value
	lastBits uint64
}

func (sm *syncMod) newData(o *host.Obj, t *ctype, n int, array bool) *shmData {
	d := &shmData{sm: sm, obj: o, t: t, n: n, array: array, base: unsafe.Pointer(unsafe.SliceData(o.Mem))}
	keep(sm, d, o)
	return d
}

func (d *shmData) ptr(i int) unsafe.Pointer { return unsafe.Add(d.base, i*d.t.size) }

func (d *shmData) className() string {
	switch {
	case d.array && d.lock != nil:
		return "Array"
	case d.array:
		return "RawArray"
	case d.lock != nil:
		return "Value"
	}
	return "RawValue"
}

// lockFor takes the element lock, if there is one, around a read or write.
func (d *shmData) lockFor() {
	if d.lock != nil {
		d.lock.acquire(-1)
	}
}

func (d *shmData) unlock() {
	if d.lock != nil {
		if err := d.lock.release(); err != nil {
			d.sm.throw(d.className(), err)
		}
	}
}

func (d *shmData) get(i int) goja.Value {
	d.lockFor()
	var v goja.Value
	if d.array {
		v = d.t.load(d.sm.vm, d.ptr(i))
	} else {
		v = d.cached(d.t.loadBits(d.ptr(0)))
	}
	d.unlock()
	return v
}

// cached returns the JavaScript value of a Value's bits, reusing the last
// one read or written when the memory still holds it: a loop such as
// v.value += 1 in one process then allocates nothing to read.
func (d *shmData) cached(bits uint64) goja.Value {
	if d.last != nil && bits == d.lastBits {
		return d.last
	}
	v := d.t.fromBits(d.sm.vm, bits)
	d.last, d.lastBits = v, bits
	return v
}

// set writes element i; it reports false, writing nothing, for a value
// of the wrong type.
func (d *shmData) set(i int, v goja.Value) bool {
	bits, ok := d.t.toBits(v)
	if !ok {
		return false
	}
	d.lockFor()
	d.t.store(d.ptr(i), bits)
	d.unlock()
	if !d.array && d.t.exact(v, bits) {
		d.last, d.lastBits = v, d.t.truncBits(bits)
	}
	return true
}

func (d *shmData) badValue(v goja.Value, what string) {
	want := "a number or a BigInt"
	if d.t.char {
		want = "a one-character string (code below 256) or a number"
	}
	panic(d.sm.vm.NewTypeError("%s: a '%c' (%s) element must be %s, got %s", what, d.t.code, d.t.name, want, describe(v)))
}

// Len, Get, Set and SetLen make an Array a goja.DynamicArray: arr[i] is a
// bounds check and a load or store in shared memory.

// Len implements goja.DynamicArray.
func (d *shmData) Len() int { return d.n }

// Get implements goja.DynamicArray.
func (d *shmData) Get(i int) goja.Value {
	if uint(i) >= uint(d.n) {
		d.outOfRange(i)
	}
	return d.get(i)
}

// Set implements goja.DynamicArray.
func (d *shmData) Set(i int, v goja.Value) bool {
	if uint(i) >= uint(d.n) {
		d.outOfRange(i)
	}
	if !d.set(i, v) {
		d.badValue(v, d.className())
	}
	return true
}

// SetLen implements goja.DynamicArray: the length is fixed.
func (d *shmData) SetLen(n int) bool {
	if n == d.n {
		return true
	}
	panic(d.sm.vm.NewTypeError("%s: the length of shared memory is fixed (%d)", d.className(), d.n))
}

func (d *shmData) outOfRange(i int) {
	panic(d.sm.builtinError("RangeError", "%s index %d out of range (length %d)", d.className(), i, d.n))
}

func (d *shmData) handleKind() string { return "shm" }

// encodeHandle implements shared: typecode, length, the memory's Ref and
// the lock's.
func (d *shmData) encodeHandle() ([]byte, []*os.File, error) {
	var e host.Enc
	e.Uint(uint64(d.t.code)).Uint(uint64(d.n)).Bool(d.array).Bool(d.lock != nil)
	d.obj.Ref.Encode(&e)
	d.sm.m.sendPin(d.obj)
	if d.lock != nil {
		d.lock.obj.Ref.Encode(&e)
		d.sm.m.sendPin(d.lock.obj)
	}
	return e.B, nil, nil
}

func (sm *syncMod) decodeData(payload []byte, files []*os.File) (goja.Value, error) {
	closeAll(files)
	dec := host.Dec{B: payload}
	code, n, array, locked := dec.Uint(), dec.Uint(), dec.Bool(), dec.Bool()
	t := ctypes[byte(code)]
	if dec.Err == nil && (t == nil || code > 255) {
		return nil, fmt.Errorf("shared memory: unknown typecode %d", code)
	}
	o, err := sm.attachRef(&dec, func(k host.ObjKind) bool { return k == host.ObjData })
	if err != nil {
		return nil, err
	}
	if n > uint64(o.Ref.Size)/uint64(t.size) || (!array && n != 1) {
		o.Release()
		return nil, fmt.Errorf("shared memory: %d elements of %d bytes do not fit in %d bytes", n, t.size, o.Ref.Size)
	}
	known := sm.known(o.Ref.ID)
	var d *shmData
	if known == nil {
		d = sm.newData(o, t, int(n), array)
	} else {
		o.Release() // the object we have holds it already
	}
	if locked {
		lo, err := sm.attachRef(&dec, isLockKind)
		if err != nil {
			return nil, err
		}
		if d == nil {
			lo.Release()
		} else {
			d.lock, d.lockObj = sm.lockFor(lo)
		}
	}
	if err := dec.Done(); err != nil {
		return nil, err
	}
	if known != nil {
		return known, nil
	}
	return sm.wrapData(d), nil
}

// wrapData makes the JavaScript object of d.
func (sm *syncMod) wrapData(d *shmData) *goja.Object {
	vm := sm.vm
	state := vm.ToValue(d)
	if d.array {
		// A dynamic array cannot hold a symbol, so its Go half sits on a
		// prototype of its own, between it and Array.prototype's heirs.
		proto := sm.arrayProto
		if d.lock == nil {
			proto = sm.rawArrayProto
		}
		own := vm.CreateObject(proto)
		own.DefineDataPropertySymbol(sm.m.state, state, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		o := vm.NewDynamicArray(d)
		o.SetPrototype(own)
		if !d.derived {
			sm.remember(d.obj.Ref.ID, o)
		}
		return o
	}
	// A dynamic object, so that v.value goes straight to Get and Set below
	// (an accessor would cost a function call and an argument slice); its
	// Go half sits on a prototype of its own, like an Array's.
	proto := sm.valueProto
	if d.lock == nil {
		proto = sm.rawValueProto
	}
	own := vm.CreateObject(proto)
	own.DefineDataPropertySymbol(sm.m.state, state, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	o := vm.NewDynamicObject(valueProps{d})
	o.SetPrototype(own)
	if !d.derived {
		sm.remember(d.obj.Ref.ID, o)
	}
	return o
}

// valueProps makes a Value a goja.DynamicObject with one property, value.
type valueProps struct{ d *shmData }

// Get implements goja.DynamicObject.
func (p valueProps) Get(key string) goja.Value {
	if key == "value" {
		return p.d.get(0)
	}
	return nil
}

// Set implements goja.DynamicObject.
func (p valueProps) Set(key string, v goja.Value) bool {
	if key != "value" {
		panic(p.d.sm.vm.NewTypeError("%s has no property '%s' to set (only value)", p.d.className(), key))
	}
	if !p.d.set(0, v) {
		p.d.badValue(v, p.d.className()+".value")
	}
	return true
}

// Has implements goja.DynamicObject.
func (p valueProps) Has(key string) bool { return key == "value" }

// Delete implements goja.DynamicObject.
func (p valueProps) Delete(string) bool { return false }

// Keys implements goja.DynamicObject.
func (p valueProps) Keys() []string { return []string{"value"} }

// ctypeArg reads a typecode argument.
func (sm *syncMod) ctypeArg(fname string, v goja.Value) *ctype {
	t := lookupCtype(v)
	if t == nil {
		panic(sm.vm.NewTypeError("%s: unknown typecode %s; valid typecodes are %s", fname, describe(v), typecodeList))
	}
	return t
}

// lockOption turns the lock option (true, false, or a Lock or RLock) into
// the lock to use: nil for none.
func (sm *syncMod) lockOption(fname string, v goja.Value) (*syncObj, *goja.Object) {
	if isNullish(v) {
		v = sm.vm.ToValue(true)
	}
	if b, ok := v.Export().(bool); ok {
		if !b {
			return nil, nil
		}
		l := sm.newSyncObj(sm.newObj(host.ObjRLock, 0, fname))
		return l, sm.wrapSync(l)
	}
	return sm.lockArg(v, fname+": lock"), v.(*goja.Object)
}

// initialValues reads an Array's sizeOrValues: a length (zeros), or the
// elements (an array, an iterable, or for 'c' a string).
func (sm *syncMod) initialValues(fname string, t *ctype, v goja.Value) (int, []goja.Value) {
	vm := sm.vm
	if goja.IsNumber(v) {
		f := v.ToFloat()
		if f != float64(int64(f)) {
			panic(vm.NewTypeError("%s: size must be a whole number, got %s", fname, describe(v)))
		}
		if f < 0 || f > 1<<40 {
			panic(sm.builtinError("RangeError", "%s: size must be between 0 and 2**40, got %v", fname, f))
		}
		return int(f), nil
	}
	if s, ok := v.Export().(string); ok && t.char {
		var vals []goja.Value
		for _, r := range s {
			vals = append(vals, vm.ToValue(string(r)))
		}
		return len(vals), vals
	}
	o, ok := v.(*goja.Object)
	if !ok || o.GetSymbol(goja.SymIterator) == nil {
		panic(vm.NewTypeError("%s: sizeOrValues must be a length or an array of values, got %s", fname, describe(v)))
	}
	var vals []goja.Value
	vm.ForOf(v, func(x goja.Value) bool { vals = append(vals, x); return true })
	return len(vals), vals
}

func (m *Module) defineShared() {
	sm := m.syncState()
	m.decoders["shm"] = sm.decodeData
	vm := m.vm

	newValue := func(fname string, args []goja.Value, raw bool) *shmData {
		params := []Param{{"typecode", goja.Undefined()}, {"value", vm.ToValue(0)}}
		if !raw {
			params = append(params, Param{"lock", sm.vm.ToValue(true)})
		}
		v := m.bind(fname, args, 1, params...)
		t := sm.ctypeArg(fname, v[0])
		init := v[1]
		if t.char && goja.IsNumber(init) && init.ToFloat() == 0 {
			init = vm.ToValue("\x00")
		}
		bits, ok := t.toBits(init)
		if !ok {
			d := &shmData{sm: sm, t: t}
			d.badValue(init, fname)
		}
		var lock *syncObj
		var lockObj *goja.Object
		if !raw {
			lock, lockObj = sm.lockOption(fname, v[2])
		}
		d := sm.newData(sm.newObj(host.ObjData, int64(t.size), fname), t, 1, false)
		d.t.store(d.ptr(0), bits)
		d.lock, d.lockObj = lock, lockObj
		return d
	}
	newArray := func(fname string, args []goja.Value, raw bool) *shmData {
		params := []Param{{"typecode", goja.Undefined()}, {"sizeOrValues", goja.Undefined()}}
		if !raw {
			params = append(params, Param{"lock", sm.vm.ToValue(true)})
		}
		v := m.bind(fname, args, 2, params...)
		t := sm.ctypeArg(fname, v[0])
		n, vals := sm.initialValues(fname, t, v[1])
		bits := make([]uint64, len(vals))
		for i, x := range vals {
			var ok bool
			if bits[i], ok = t.toBits(x); !ok {
				d := &shmData{sm: sm, t: t}
				d.badValue(x, fmt.Sprintf("%s: sizeOrValues[%d]", fname, i))
			}
		}
		var lock *syncObj
		var lockObj *goja.Object
		if !raw {
			lock, lockObj = sm.lockOption(fname, v[2])
		}
		d := sm.newData(sm.newObj(host.ObjData, int64(n*t.size), fname), t, n, true)
		for i, b := range bits {
			t.store(d.ptr(i), b)
		}
		d.lock, d.lockObj = lock, lockObj
		return d
	}

	// Value and RawValue. Value(..., {lock: false}) is a RawValue, as in Python.
	valueCtor := func(name string, raw bool) *goja.Object {
		ctor := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
			return sm.wrapData(newValue(name, call.Arguments, raw))
		}).(*goja.Object)
		ctor.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		m.obj.Set(name, ctor)
		return ctor
	}
	valueCtor("Value", false)
	valueCtor("RawValue", true)
	sm.valueProto = m.obj.Get("Value").(*goja.Object).Get("prototype").(*goja.Object)
	sm.rawValueProto = m.obj.Get("RawValue").(*goja.Object).Get("prototype").(*goja.Object)

	// mp.Array (the global SharedArray) and RawArray.
	arrayCtor := func(name, className string, raw bool) *goja.Object {
		ctor := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
			return sm.wrapData(newArray(name, call.Arguments, raw))
		}).(*goja.Object)
		ctor.DefineDataProperty("name", vm.ToValue(className), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		m.obj.Set(name, ctor)
		proto := ctor.Get("prototype").(*goja.Object)
		proto.SetPrototype(vm.Get("Array").(*goja.Object).Get("prototype").(*goja.Object))
		return proto
	}
	sm.arrayProto = arrayCtor("Array", "SharedArray", false)
	sm.rawArrayProto = arrayCtor("RawArray", "RawArray", true)

	sm.dataMethods(sm.valueProto, false, true)
	sm.dataMethods(sm.rawValueProto, false, false)
	sm.dataMethods(sm.arrayProto, true, true)
	sm.dataMethods(sm.rawArrayProto, true, false)
}

// dataMethods defines the methods of Value, RawValue, Array and RawArray.
func (sm *syncMod) dataMethods(proto *goja.Object, array, locked bool) {
	m, vm := sm.m, sm.vm
	cls := map[[2]bool]string{{false, true}: "Value", {false, false}: "RawValue", {true, true}: "Array", {true, false}: "RawArray"}[[2]bool{array, locked}]
	get := func(call goja.FunctionCall, name string) *shmData {
		d := getState[*shmData](sm, call, cls+"."+name)
		if d.array != array {
			panic(vm.NewTypeError("%s.%s called on a %s", cls, name, d.className()))
		}
		return d
	}
	if locked {
		m.method(proto, "getLock", func(call goja.FunctionCall) goja.Value { return get(call, "getLock").lockObj })
		m.method(proto, "getObj", func(call goja.FunctionCall) goja.Value {
			// Python's get_obj(): the same memory without the lock.
			d := get(call, "getObj")
			raw := *d
			raw.lock, raw.lockObj, raw.buffer, raw.derived = nil, nil, nil, true
			raw.obj.Hold()
			keep(sm, &raw, raw.obj)
			return sm.wrapData(&raw)
		})
		m.method(proto, "with", func(call goja.FunctionCall) goja.Value {
			d := get(call, "with")
			fn := call.Argument(0)
			if _, ok := goja.AssertFunction(fn); !ok {
				panic(vm.NewTypeError("%s.with: the argument must be a function, got %s", cls, describe(fn)))
			}
			return sm.with(d.lock, call.This, fn, cls)
		})
	}
	// index reads the element index argument of an Array's atomics; a
	// Value has none.
	index := func(d *shmData, args []goja.Value, name string) (int, []goja.Value) {
		if !d.array {
			return 0, args
		}
		v := goja.Undefined()
		if len(args) > 0 {
			v, args = args[0], args[1:]
		}
		f := v.ToFloat()
		if !goja.IsNumber(v) || f != float64(int64(f)) {
			panic(vm.NewTypeError("%s.%s: index must be a whole number, got %s", cls, name, describe(v)))
		}
		if f < 0 || f >= float64(d.n) {
			d.outOfRange(int(max(min(f, 1<<62), -1<<62)))
		}
		return int(f), args
	}
	atomicOp := func(name string, nargs int, op func(d *shmData, args []uint64) func(uint64) (uint64, bool)) {
		m.method(proto, name, func(call goja.FunctionCall) goja.Value {
			d := get(call, name)
			if !d.t.integer() {
				panic(vm.NewTypeError("%s.%s: atomic operations need an integer typecode, not '%c'", cls, name, d.t.code))
			}
			i, rest := index(d, call.Arguments, name)
			bits := make([]uint64, nargs)
			for k := range bits {
				a := goja.Undefined()
				if k < len(rest) {
					a = rest[k]
				}
				var ok bool
				if bits[k], ok = d.t.toBits(a); !ok {
					d.badValue(a, cls+"."+name)
				}
			}
			old := d.t.rmw(d.ptr(i), op(d, bits))
			return d.t.fromBits(vm, old)
		})
	}
	atomicOp("add", 1, func(d *shmData, a []uint64) func(uint64) (uint64, bool) {
		return func(old uint64) (uint64, bool) { return d.t.truncBits(old + a[0]), true }
	})
	atomicOp("sub", 1, func(d *shmData, a []uint64) func(uint64) (uint64, bool) {
		return func(old uint64) (uint64, bool) { return d.t.truncBits(old - a[0]), true }
	})
	atomicOp("exchange", 1, func(d *shmData, a []uint64) func(uint64) (uint64, bool) {
		return func(uint64) (uint64, bool) { return d.t.truncBits(a[0]), true }
	})
	atomicOp("compareExchange", 2, func(d *shmData, a []uint64) func(uint64) (uint64, bool) {
		want := d.t.truncBits(a[0])
		return func(old uint64) (uint64, bool) { return d.t.truncBits(a[1]), d.t.truncBits(old) == want }
	})
	m.accessor(proto, "typecode", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(string(rune(get(call, "typecode").t.code)))
	}, nil)
	if !array {
		m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
			d := get(call, "toString")
			return vm.ToValue(fmt.Sprintf("%s('%c', %s)", cls, d.t.code, sm.show(d.get(0))))
		})
		return
	}
	m.accessor(proto, "buffer", func(call goja.FunctionCall) goja.Value {
		d := get(call, "buffer")
		if d.buffer == nil {
			// Over the mapping itself, not a copy. The buffer keeps the Go
			// half (and so the mapping) alive as long as it lives.
			ab := vm.NewArrayBuffer(d.obj.Mem[: d.n*d.t.size : d.n*d.t.size])
			o := vm.ToValue(ab).(*goja.Object)
			o.DefineDataPropertySymbol(m.state, vm.ToValue(d), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
			d.buffer = o
		}
		return d.buffer
	}, nil)
	m.method(proto, "toArray", func(call goja.FunctionCall) goja.Value {
		d := get(call, "toArray")
		return vm.NewArray(d.elements(0, d.n)...)
	})
	m.method(proto, "slice", func(call goja.FunctionCall) goja.Value {
		d := get(call, "slice")
		start, end := relIndex(call.Argument(0), d.n, 0), relIndex(call.Argument(1), d.n, d.n)
		if end < start {
			end = start
		}
		return vm.NewArray(d.elements(start, end)...)
	})
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		d := get(call, "toString")
		parts := make([]string, 0, min(d.n, 101))
		for _, v := range d.elements(0, min(d.n, 100)) {
			parts = append(parts, sm.show(v.(goja.Value)))
		}
		if d.n > 100 {
			parts = append(parts, fmt.Sprintf("... %d more", d.n-100))
		}
		return vm.ToValue(fmt.Sprintf("%s('%c', [%s])", cls, d.t.code, strings.Join(parts, ", ")))
	})
}

// elements reads elements [start, end) under the lock, at once.
func (d *shmData) elements(start, end int) []any {
	out := make([]any, 0, end-start)
	d.lockFor()
	for i := start; i < end; i++ {
		out = append(out, d.t.load(d.sm.vm, d.ptr(i)))
	}
	d.unlock()
	return out
}

// show renders an element for toString: strings quoted, BigInts with n.
func (sm *syncMod) show(v goja.Value) string {
	switch x := v.Export().(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case *big.Int:
		return x.String() + "n"
	}
	return v.String()
}

// relIndex is Array.prototype.slice's reading of a position: negative
// counts from the end, undefined is def, clamped to [0, n].
func relIndex(v goja.Value, n, def int) int {
	if isNullish(v) {
		return def
	}
	f := v.ToFloat()
	switch {
	case f != f:
		return 0
	case f < 0:
		return int(max(f+float64(n), 0))
	case f > float64(n):
		return n
	}
	return int(f)
}
