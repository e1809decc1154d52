// Package bindings is the JavaScript face of require('multiprocessing'): the
// mp module object, its globals, and one file per type. It is thin: it checks
// and converts arguments (Python's positional order or one options object,
// camelCase names with snake_case aliases, made in one place here), and hands
// the work to the runtime (capture, codec) and host (processes) packages.
package bindings

import (
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"unicode"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

// Module is the multiprocessing module of one VM.
type Module struct {
	rt   *runtime.Runtime
	vm   *goja.Runtime
	node host.Node
	obj  *goja.Object
	// state is the symbol under which each mp object keeps its Go half.
	state  *goja.Symbol
	errors map[string]*goja.Object
	// prelude holds the few helpers written in JavaScript (see preludeJS).
	prelude *goja.Object
	built   bool        // build has run
	syncs   *syncMod    // locks and shared memory (syncState)
	pools   *poolModule // Pool (definePool)

	decoders map[string]handleDecoder // by handle kind
	outFiles []*os.File               // descriptors gathered by the encode in progress
	outPins  []*host.Obj              // shared objects it met: pinned once it succeeds
	inFiles  []*os.File               // descriptors for the decode in progress

	mu       sync.Mutex
	children map[int64]*process // started in this process, not yet seen ended
	counter  int                // for default names: Process-N
}

// globalNames are the module's names that are globals too (SPEC §2).
var globalNames = []string{"Process", "Pipe", "Queue", "SimpleQueue", "JoinableQueue",
	"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier",
	"Pool", "Value", "RawValue", "RawArray"}

// Install defines the module in rt's VM (loop goroutine only): the
// 'multiprocessing' native module, the global mp, and the main names as
// globals.
func Install(rt *runtime.Runtime, node host.Node) *Module {
	m := newModule(rt, node)
	m.build()
	return m
}

// InstallDeferred is Install for a child process: the module is only built
// when the program first touches it (a global such as mp or Queue,
// require('multiprocessing'), or a shared object arriving in the target's
// arguments). A child whose target never uses the module is spared building
// every class, which is a good part of what a child costs to start.
func InstallDeferred(rt *runtime.Runtime, node host.Node) *Module {
	m := newModule(rt, node)
	g := m.vm.GlobalObject()
	for _, name := range m.globals() {
		get := m.vm.ToValue(func(goja.FunctionCall) goja.Value {
			m.build()
			return g.Get(name)
		})
		set := m.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			m.build()
			g.Set(name, call.Argument(0))
			return goja.Undefined()
		})
		g.DefineAccessorProperty(name, get, set, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	return m
}

func newModule(rt *runtime.Runtime, node host.Node) *Module {
	m := &Module{rt: rt, vm: rt.VM, node: node, state: goja.NewSymbol("mp.state"),
		children: map[int64]*process{}, decoders: map[string]handleDecoder{}}
	rt.Handles = m
	m.obj = m.vm.NewObject()
	rt.Registry.RegisterNativeModule("multiprocessing", func(_ *goja.Runtime, module *goja.Object) {
		m.build()
		module.Set("exports", m.obj)
	})
	return m
}

// globals lists the global names the module defines.
func (m *Module) globals() []string {
	return append([]string{"mp", "SharedArray"}, globalNames...)
}

// build defines every class and function of the module, once, and makes its
// globals plain data properties (replacing InstallDeferred's placeholders).
func (m *Module) build() {
	if m.built {
		return
	}
	m.built = true
	vm := m.vm
	m.prelude = m.runPrelude()
	m.installErrors()
	m.defineProcess()
	m.definePipe()
	m.defineQueues()
	m.defineSync()
	m.defineShared()
	m.definePool()
	m.fn("cpuCount", func(goja.FunctionCall) goja.Value { return vm.ToValue(goruntime.NumCPU()) })
	m.fn("currentProcess", func(goja.FunctionCall) goja.Value { return m.infoObject(m.node.Self()) })
	m.fn("parentProcess", func(goja.FunctionCall) goja.Value {
		if p, ok := m.node.Parent(); ok {
			return m.infoObject(p)
		}
		return goja.Null()
	})
	m.fn("activeChildren", m.activeChildren)
	g := vm.GlobalObject()
	define := func(name string, v goja.Value) {
		g.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	define("mp", m.obj)
	for _, name := range globalNames {
		if v := m.obj.Get(name); v != nil {
			define(name, v)
		}
	}
	if v := m.obj.Get("Array"); v != nil {
		define("SharedArray", v) // the global Array stays JavaScript's own
	}
}

func (m *Module) fn(name string, f func(goja.FunctionCall) goja.Value) {
	v := m.vm.ToValue(f)
	m.obj.Set(name, v)
	if s := snake(name); s != name {
		m.obj.Set(s, v)
	}
}

func (m *Module) infoObject(p host.ProcInfo) goja.Value {
	o := m.vm.NewObject()
	o.Set("name", p.Name)
	o.Set("pid", p.Pid)
	o.Set("daemon", p.Daemon)
	return o
}

// snake turns a camelCase name into Python's snake_case: isAlive → is_alive.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// class builds a constructor that works with and without new and can be
// subclassed with `class W extends X`. init receives the new object and the
// arguments and returns the Go half, kept under m.state.
func (m *Module) class(name string, init func(this *goja.Object, args []goja.Value) any) (ctor, proto *goja.Object) {
	vm := m.vm
	native := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
		st := init(call.This, call.Arguments)
		call.This.DefineDataPropertySymbol(m.state, vm.ToValue(st), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		return nil
	}).(*goja.Object)
	wrap := m.prelude.Get("wrapClass")
	f, _ := goja.AssertFunction(wrap)
	c, err := f(goja.Undefined(), native, vm.ToValue(name))
	if err != nil {
		panic(err)
	}
	ctor = c.(*goja.Object)
	proto = ctor.Get("prototype").(*goja.Object)
	m.obj.Set(name, ctor)
	return ctor, proto
}

// method defines proto[name] and its snake_case alias, non-enumerable.
func (m *Module) method(proto *goja.Object, name string, f func(goja.FunctionCall) goja.Value) {
	v := m.vm.ToValue(f)
	proto.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if s := snake(name); s != name {
		proto.DefineDataProperty(s, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// accessor defines a getter (and setter if set != nil) on proto, with alias.
func (m *Module) accessor(proto *goja.Object, name string, get func(goja.FunctionCall) goja.Value, set func(goja.FunctionCall) goja.Value) {
	g := m.vm.ToValue(get)
	var s goja.Value
	if set != nil {
		s = m.vm.ToValue(set)
	}
	for _, n := range []string{name, snake(name)} {
		proto.DefineAccessorProperty(n, g, s, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// this fetches the Go half of an mp object, or throws a TypeError naming what
// was expected.
func this[T any](m *Module, call goja.FunctionCall, what string) T {
	if o, ok := call.This.(*goja.Object); ok {
		if v := o.GetSymbol(m.state); v != nil {
			if st, ok := v.Export().(T); ok {
				return st
			}
		}
	}
	panic(m.vm.NewTypeError("%s called on %s, which is not a %s", what, describe(call.This), strings.SplitN(what, ".", 2)[0]))
}

func describe(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		return "an object (" + o.ClassName() + ")"
	}
	return fmt.Sprintf("%q", v.String())
}

// Param is one parameter of a Python-style signature.
type Param struct {
	Name    string // camelCase; the snake_case spelling is accepted too
	Default goja.Value
}

// bind matches call arguments to a signature as Python would: positional
// arguments in order, or, after the first `required` ones, one plain options
// object as the last argument. Unknown options and surplus arguments are
// TypeErrors naming the function.
func (m *Module) bind(fname string, args []goja.Value, required int, params ...Param) []goja.Value {
	vals := make([]goja.Value, len(params))
	for i, p := range params {
		vals[i] = p.Default
	}
	n := len(args)
	if n > required && n <= len(params)+1 && isOptions(args[n-1]) && (n-1 < len(params) && !wantsObject(params[n-1])) {
		opts := args[n-1].(*goja.Object)
		n--
		for _, k := range opts.Keys() {
			idx := -1
			for i, p := range params {
				if k == p.Name || k == snake(p.Name) {
					idx = i
					break
				}
			}
			if idx < 0 {
				names := make([]string, len(params))
				for i, p := range params {
					names[i] = p.Name
				}
				panic(m.vm.NewTypeError("%s: unknown option '%s' (options are: %s)", fname, k, strings.Join(names, ", ")))
			}
			if idx < n {
				panic(m.vm.NewTypeError("%s: '%s' given both by position and as an option", fname, k))
			}
			vals[idx] = opts.Get(k)
		}
	}
	if n > len(params) {
		panic(m.vm.NewTypeError("%s takes at most %d arguments, got %d", fname, len(params), len(args)))
	}
	for i := 0; i < n; i++ {
		vals[i] = args[i]
	}
	return vals
}

// wantsObject marks parameters whose positional value may itself be an
// options-shaped object; none so far.
func wantsObject(Param) bool { return false }

// isOptions reports whether v is a plain object literal ({...}).
func isOptions(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Object" {
		return false
	}
	proto := o.Prototype()
	return proto == nil || proto.Get("hasOwnProperty") != nil && proto.Prototype() == nil
}

func isNullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

// preludeJS is the JavaScript the module needs at start-up, compiled once per
// process: the class wrapper that makes native constructors callable without
// new and subclassable, and the maker of mp's error classes.
const preludeJS = `({
	wrapClass(Native, name) {
		const C = function (...args) {
			return Reflect.construct(Native, args, new.target || C);
		};
		Object.defineProperty(C, 'name', {value: name});
		C.prototype = Native.prototype;
		Object.defineProperty(C.prototype, 'constructor', {value: C, writable: true, configurable: true});
		return C;
	},
	makeError(name, Parent) {
		const C = {[name]: class extends Parent {
			constructor(message, options) { super(message, options); }
		}}[name];
		Object.defineProperty(C.prototype, 'name', {value: name, writable: true, configurable: true});
		return C;
	},
})`

func (m *Module) runPrelude() *goja.Object {
	v, err := m.vm.RunScript("mp:prelude", preludeJS)
	if err != nil {
		panic(fmt.Errorf("mp prelude: %w", err))
	}
	return v.(*goja.Object)
}
