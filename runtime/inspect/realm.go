package inspect

import (
	"math/big"
	"reflect"

	"github.com/dop251/goja"
)

var (
	mapType         = reflect.TypeOf([][2]any(nil))
	setType         = reflect.TypeOf([]any(nil))
	proxyType       = reflect.TypeOf(goja.Proxy{})
	promiseType     = reflect.TypeOf((*goja.Promise)(nil))
	arrayBufferType = reflect.TypeOf(goja.ArrayBuffer{})
	bigIntType      = reflect.TypeOf((*big.Int)(nil))
	stringType      = reflect.TypeOf("")
	classType       = reflect.TypeOf((func(goja.ConstructorCall) *goja.Object)(nil))
)

// realm gives access to the runtime's built-ins used to look into objects
// without running user code. It is created per Inspect call; built-ins other
// than the prototypes and Object.getOwnPropertyDescriptor are looked up lazily.
type realm struct {
	vm        *goja.Runtime
	objProto  *goja.Object
	funcProto *goja.Object
	gopd      goja.Callable
	cache     map[string]goja.Callable
}

func newRealm(vm *goja.Runtime) *realm {
	r := &realm{vm: vm, objProto: vm.NewObject().Prototype()}
	vm.Try(func() {
		ctor, _ := vm.Get("Object").(*goja.Object)
		if ctor == nil || ctor.Get("prototype") != r.objProto {
			ctor, _ = r.objProto.Get("constructor").(*goja.Object)
		}
		if ctor != nil {
			r.funcProto = ctor.Prototype()
			r.gopd, _ = goja.AssertFunction(ctor.Get("getOwnPropertyDescriptor"))
		}
	})
	return r
}

// global returns the data property globalThis[name] if it is an object.
func (r *realm) global(name string) *goja.Object {
	o, _ := r.ownProp(r.vm.GlobalObject(), r.vm.ToValue(name)).value.(*goja.Object)
	return o
}

// prototype returns the data property globalThis[name].prototype.
func (r *realm) prototype(name string) *goja.Object {
	if g := r.global(name); g != nil {
		p, _ := r.ownProp(g, r.vm.ToValue("prototype")).value.(*goja.Object)
		return p
	}
	return nil
}

// cached memoizes the built-in functions looked up by builtin and getBuiltin.
func (r *realm) cached(id string, lookup func() *goja.Object) goja.Callable {
	if f, ok := r.cache[id]; ok {
		return f
	}
	var f goja.Callable
	if o := lookup(); o != nil {
		f, _ = goja.AssertFunction(o)
	}
	if r.cache == nil {
		r.cache = make(map[string]goja.Callable)
	}
	r.cache[id] = f
	return f
}

// builtin returns the method globalThis[global].prototype[method] (or
// globalThis[global][method] when static), or nil.
func (r *realm) builtin(global, method string, static bool) goja.Callable {
	return r.cached(global+"."+method, func() *goja.Object {
		g := r.global(global)
		if !static {
			g = r.prototype(global)
		}
		if g == nil {
			return nil
		}
		f, _ := r.ownProp(g, r.vm.ToValue(method)).value.(*goja.Object)
		return f
	})
}

// getBuiltin calls the built-in getter of globalThis[global].prototype[name]
// (found on its prototype chain) on o; it returns undefined on failure.
func (r *realm) getBuiltin(global, name string, o *goja.Object) goja.Value {
	f := r.cached(global+"#"+name, func() *goja.Object {
		if p := r.prototype(global); p != nil {
			return r.lookup(p, r.vm.ToValue(name)).get
		}
		return nil
	})
	if v, ok := r.call(f, o); ok {
		return v
	}
	return goja.Undefined()
}

// stackSafe reports whether the stack of a goja error can be read without
// running user code: goja computes it lazily from the name and message
// properties, invoking getters and toString methods.
func (r *realm) stackSafe(o *goja.Object) bool {
	if o.ClassName() != "Error" {
		return true
	}
	for _, k := range [...]string{"name", "message"} {
		d := r.lookup(o, r.vm.ToValue(k))
		if d.getter || d.setter || isObject(d.value) || isSymbol(d.value) {
			return false
		}
	}
	return true
}

// call calls a built-in, reporting whether it returned normally.
func (r *realm) call(f goja.Callable, this goja.Value, args ...goja.Value) (goja.Value, bool) {
	if f == nil {
		return nil, false
	}
	v, err := f(this, args...)
	if err != nil {
		if _, ok := err.(*goja.Exception); !ok {
			panic(err) // uncatchable (interrupt): handled by inspector.recovered
		}
		return nil, false
	}
	return v, true
}

// propDesc is a property descriptor; value is nil for accessors.
type propDesc struct {
	found          bool
	value          goja.Value
	getter, setter bool
	get            *goja.Object // the getter, if any
	enumerable     bool
}

// ownProp is Object.getOwnPropertyDescriptor(o, k).
func (r *realm) ownProp(o *goja.Object, k goja.Value) propDesc {
	v, ok := r.call(r.gopd, goja.Undefined(), o, k)
	d, _ := v.(*goja.Object)
	if !ok || d == nil {
		return propDesc{}
	}
	res := propDesc{found: true, enumerable: d.Get("enumerable").ToBoolean()}
	if res.value = d.Get("value"); res.value == nil {
		res.get, _ = d.Get("get").(*goja.Object)
		res.getter = res.get != nil
		res.setter = !goja.IsUndefined(d.Get("set"))
	}
	return res
}

// lookup finds k on o or its prototype chain without invoking getters.
func (r *realm) lookup(o *goja.Object, k goja.Value) propDesc {
	for ; o != nil; o = r.proto(o) {
		if d := r.ownProp(o, k); d.found {
			return d
		}
	}
	return propDesc{}
}

// dataProp returns the value of the data property k of o or its prototypes,
// or nil if there is none (or it is an accessor).
func (r *realm) dataProp(o *goja.Object, k goja.Value) goja.Value {
	return r.lookup(o, k).value
}

func (r *realm) stringProp(o *goja.Object, k string) (string, bool) {
	if s, ok := r.dataProp(o, r.vm.ToValue(k)).(goja.String); ok {
		return s.String(), true
	}
	return "", false
}

// proto is Object.getPrototypeOf(o); a Proxy prototype is replaced by its
// target so that no trap is triggered.
func (r *realm) proto(o *goja.Object) *goja.Object {
	p := o.Prototype()
	if p == nil {
		return nil
	}
	if px, ok := asProxy(p); ok {
		return proxyTarget(px)
	}
	return p
}

// inChain reports whether p is on the prototype chain of o.
func (r *realm) inChain(o, p *goja.Object) bool {
	for n := r.proto(o); n != nil; n = r.proto(n) {
		if n == p {
			return true
		}
	}
	return false
}

// functionName is the own data property "name" of f.
func (r *realm) functionName(f *goja.Object) string {
	if s, ok := r.ownProp(f, r.vm.ToValue("name")).value.(goja.String); ok {
		return s.String()
	}
	return ""
}

// instanceOf is o instanceof f, ignoring Symbol.hasInstance.
func (r *realm) instanceOf(o, f *goja.Object) bool {
	p, ok := r.ownProp(f, r.vm.ToValue("prototype")).value.(*goja.Object)
	return ok && r.inChain(o, p)
}

// isError is Node's isError: a native error or an instance of Error.
func (r *realm) isError(o *goja.Object) bool {
	if o.ClassName() == "Error" {
		return true
	}
	p := r.prototype("Error")
	return p != nil && r.inChain(o, p)
}

// collect gathers the first max entries of a Map (key, value, key, value, ...)
// or a Set and returns its size; ok is false if o is not a Map or Set.
func (r *realm) collect(o *goja.Object, isMap bool, max int, entries *[]goja.Value) (size int, ok bool) {
	global := "Set"
	if isMap {
		global = "Map"
	}
	stop := r.vm.NewObject()
	n := 0
	cb := r.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		if n == max {
			panic(stop) // thrown in JS: ends forEach
		}
		if isMap {
			*entries = append(*entries, call.Argument(1), call.Argument(0))
		} else {
			*entries = append(*entries, call.Argument(0))
		}
		n++
		return goja.Undefined()
	})
	if _, ok = r.call(r.builtin(global, "forEach", false), o, cb); !ok && n < max {
		return 0, false
	}
	return int(toLength(r.getBuiltin(global, "size", o))), true
}

func (r *realm) isDataView(o *goja.Object) bool {
	v, ok := r.call(r.builtin("ArrayBuffer", "isView", true), goja.Undefined(), o)
	return ok && v.ToBoolean() && !isTypedArray(o)
}

// weakKind returns "WeakMap" or "WeakSet" for those, "" otherwise.
func (r *realm) weakKind(o *goja.Object) string {
	for _, name := range [...]string{"WeakSet", "WeakMap"} {
		if _, ok := r.call(r.builtin(name, "has", false), o, o); ok {
			return name
		}
	}
	return ""
}

// boxed returns the type and primitive value of a boxed primitive.
func (r *realm) boxed(o *goja.Object) (typ string, prim goja.Value, ok bool) {
	switch class := o.ClassName(); {
	case class == "Number" || class == "String" || class == "Boolean":
		typ = class
	case o.ExportType() == bigIntType:
		typ = "BigInt"
	case o.ExportType() == stringType:
		typ = "Symbol"
	default:
		return "", nil, false
	}
	prim, ok = r.call(r.builtin(typ, "valueOf", false), o)
	return typ, prim, ok
}

func asProxy(o *goja.Object) (goja.Proxy, bool) {
	if o.ExportType() != proxyType {
		return goja.Proxy{}, false
	}
	p, ok := o.Export().(goja.Proxy)
	return p, ok
}

// proxyTarget returns the innermost target of a Proxy, nil if revoked.
func proxyTarget(p goja.Proxy) *goja.Object {
	for {
		t := p.Target()
		if t == nil {
			return nil
		}
		next, ok := asProxy(t)
		if !ok {
			return t
		}
		p = next
	}
}

// isFunction reports whether v is a function that is not a Proxy.
func isFunction(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	if !ok {
		return false
	}
	t := o.ExportType()
	if t == nil || t.Kind() != reflect.Func {
		return false // e.g. Proxies (of functions too)
	}
	if o.ClassName() == "Function" {
		return true
	}
	// Some callables (async arrow functions) have another class.
	_, ok = goja.AssertFunction(o)
	return ok
}

func isMapOrSet(o *goja.Object) bool {
	t := o.ExportType()
	return (t == mapType || t == setType) && o.ClassName() == "Object"
}

func isTypedArray(o *goja.Object) bool {
	return o.ClassName() == "Object" && typedArrayName(o.ExportType()) != ""
}

// typedArrayName is the name of the typed array exported as a slice of type t.
func typedArrayName(t reflect.Type) string {
	if t == nil || t.Kind() != reflect.Slice || t.Name() != "" || t.Elem().PkgPath() != "" {
		return ""
	}
	switch t.Elem().Kind() {
	case reflect.Uint8:
		return "Uint8Array"
	case reflect.Int8:
		return "Int8Array"
	case reflect.Uint16:
		return "Uint16Array"
	case reflect.Int16:
		return "Int16Array"
	case reflect.Uint32:
		return "Uint32Array"
	case reflect.Int32:
		return "Int32Array"
	case reflect.Float32:
		return "Float32Array"
	case reflect.Float64:
		return "Float64Array"
	case reflect.Int64:
		return "BigInt64Array"
	case reflect.Uint64:
		return "BigUint64Array"
	}
	return ""
}

func reflectLen(a any) int {
	return reflect.ValueOf(a).Len()
}

func typedArrayElem(vm *goja.Runtime, a any, i int) goja.Value {
	switch a := a.(type) {
	case []uint8:
		return vm.ToValue(a[i])
	case []int8:
		return vm.ToValue(a[i])
	case []uint16:
		return vm.ToValue(a[i])
	case []int16:
		return vm.ToValue(a[i])
	case []uint32:
		return vm.ToValue(a[i])
	case []int32:
		return vm.ToValue(a[i])
	case []float32:
		return vm.ToValue(float64(a[i]))
	case []float64:
		return vm.ToValue(a[i])
	case []int64:
		return vm.ToValue(new(big.Int).SetInt64(a[i]))
	case []uint64:
		return vm.ToValue(new(big.Int).SetUint64(a[i]))
	}
	return goja.Undefined()
}
