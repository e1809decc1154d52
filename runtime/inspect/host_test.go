package inspect

import (
	"errors"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

type hostStruct struct {
	Name  string
	Tags  []string
	Inner *hostStruct
}

type hostDynamic struct{ panics bool }

func (d hostDynamic) Get(k string) goja.Value {
	if d.panics {
		panic("host failure")
	}
	return goja.Undefined()
}
func (d hostDynamic) Set(string, goja.Value) bool { return false }
func (d hostDynamic) Has(k string) bool           { return k == "a" }
func (d hostDynamic) Delete(string) bool          { return false }
func (d hostDynamic) Keys() []string              { return []string{"a"} }

func TestHostObjects(t *testing.T) {
	vm := goja.New()
	for _, c := range []struct {
		value any
		want  string
	}{
		{hostStruct{Name: "x", Tags: []string{"a"}, Inner: &hostStruct{Name: "in"}},
			"{\n  Name: 'x',\n  Tags: [ 'a' ],\n  Inner: { Name: 'in', Tags: [], Inner: null }\n}"},
		{map[string]any{"z": []int{1, 2}}, "{ z: [ 1, 2 ] }"},
		{[]any{1, "a", nil, 2.5}, "[ 1, 'a', null, 2.5 ]"},
		{vm.NewDynamicObject(hostDynamic{}), "{ a: undefined }"},
		{vm.NewDynamicObject(hostDynamic{panics: true}), "[Inspection failed]"},
		{[]any{vm.NewDynamicObject(hostDynamic{panics: true}), 1}, "[ [Inspection failed], 1 ]"},
		{vm.NewGoError(errors.New("go failure")), "[GoError: go failure] {\n  value: { Error: [Function: reflect.methodValueCall] }\n}"},
	} {
		if got := Inspect(vm, vm.ToValue(c.value), def); got != c.want {
			t.Errorf("Inspect(%#v)\n got: %q\nwant: %q", c.value, got, c.want)
		}
	}
}

func TestGojaErrors(t *testing.T) {
	vm := goja.New()
	for expr, want := range map[string]string{
		`(() => { try { null.x } catch (e) { return e } })()`:       "TypeError: Cannot read property 'x' of undefined\n    at <eval>:1:",
		`(() => { try { nope } catch (e) { return { e } } })()`:     "{\n  e: ReferenceError: nope is not defined\n      at <eval>:1:",
		`(() => { class E extends Error {}; return new E('m') })()`: "E [Error]: m\n    at <eval>:1:",
	} {
		got := Inspect(vm, eval(t, vm, expr), def)
		if !strings.HasPrefix(got, want) || strings.Contains(got, "\t") || strings.HasSuffix(got, "\n") {
			t.Errorf("Inspect(%s) = %q, want prefix %q", expr, got, want)
		}
	}
}

// TestNoUserCode checks that getters, traps and toString are never run and
// that nothing panics.
func TestNoUserCode(t *testing.T) {
	vm := goja.New()
	if _, err := vm.RunString(`var calls = 0; function hit() { calls++; throw new Error('user code ran') }`); err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{
		`({ get a() { hit() }, toString: hit, valueOf: hit, [Symbol.toPrimitive]: hit })`,
		`new Proxy({}, { get: hit, has: hit, ownKeys: hit, getOwnPropertyDescriptor: hit, getPrototypeOf: hit })`,
		`new Proxy(function () {}, { get: hit, apply: hit, ownKeys: hit })`,
		`Object.create(new Proxy({}, { get: hit, getOwnPropertyDescriptor: hit, getPrototypeOf: hit }))`,
		`Object.defineProperty([1, 2], 0, { get: hit, enumerable: true })`,
		`(() => { class A { static get name() { hit() } }; return [A, new A()] })()`,
		`(() => { const e = new Error('x'); Object.defineProperty(e, 'message', { get: hit }); return e })()`,
		`new Map([[{ get k() { hit() } }, 1]])`,
		`(() => { const r = Proxy.revocable({}, {}); r.revoke(); return { p: r.proxy } })()`,
		`(() => { const e = new Error('x'); e.cause = new Proxy({}, { getPrototypeOf: hit, getOwnPropertyDescriptor: hit, get: hit }); return e })()`,
		`(() => { class A {}; Object.setPrototypeOf(A, new Proxy(function () {}, { getOwnPropertyDescriptor: hit, get: hit })); return A })()`,
		`({ constructor: new Proxy(function F() {}, { getOwnPropertyDescriptor: hit, get: hit }) })`,
		`Object.defineProperty(/x/, 'source', { get: hit })`,
		`globalThis`,
	} {
		v := eval(t, vm, expr)
		for _, opts := range []Options{def, {Depth: -1, ShowHidden: true}, {ShowProxy: true, Colors: true}} {
			if Inspect(vm, v, opts) == "" {
				t.Errorf("Inspect(%s) is empty", expr)
			}
		}
		if Format(vm, []goja.Value{vm.ToValue("%s %d %i %f %o"), v, v, v, v, v}, def) == "" {
			t.Errorf("Format(%s) is empty", expr)
		}
	}
	if calls := vm.Get("calls").ToInteger(); calls != 0 {
		t.Errorf("user code ran %d times", calls)
	}
}

// TestFromScript calls Format from a Go function called by the script, as
// console.log does, and checks that the runtime stays usable.
func TestFromScript(t *testing.T) {
	vm := goja.New()
	var out []string
	vm.Set("log", func(call goja.FunctionCall) goja.Value {
		out = append(out, Format(vm, call.Arguments, def))
		return goja.Undefined()
	})
	vm.Set("bad", vm.NewDynamicObject(hostDynamic{panics: true}))
	v, err := vm.RunString(`
		const o = { n: 1 }; o.self = o;
		log('%s=%d', 'x', 42, o);
		try { log(bad, [1, 2]) } catch (e) { log('caught', e) }
		Promise.resolve(7).then(v => log('then', v));
		(function f(n) { return n ? f(n - 1) : (log(new Map([[1, 2]])), 'done') })(50);
	`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x=42 <ref *1> { n: 1, self: [Circular *1] }", "[Inspection failed] [ 1, 2 ]", "Map(1) { 1 => 2 }", "then 7"}
	if v.String() != "done" || strings.Join(out, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, %q", v, out)
	}
}

func TestDeepUnlimited(t *testing.T) {
	vm := goja.New()
	v := eval(t, vm, `(() => { let l = null; for (let i = 0; i < 600; i++) l = { l }; return l })()`)
	got := Inspect(vm, v, Options{Depth: -1})
	if !strings.Contains(got, "l: [Object: Inspection interrupted prematurely. Maximum call stack size exceeded.]") || strings.Count(got, "{") < maxRecursion {
		t.Errorf("unexpected output of a deep list: %.200q", got)
	}
}

func TestFormatPrimitivesAllocs(t *testing.T) {
	vm := goja.New()
	args := []goja.Value{vm.ToValue("text"), vm.ToValue(1), vm.ToValue(2.5), vm.ToValue(true)}
	if n := testing.AllocsPerRun(100, func() { Format(vm, args, def) }); n > 4 {
		t.Errorf("Format of primitives: %v allocations", n)
	}
}

// TestTamperedGlobals checks that getters on globalThis are not invoked to
// find the built-ins.
func TestTamperedGlobals(t *testing.T) {
	vm := goja.New()
	v := eval(t, vm, `(() => {
		const values = [new Map([[1, 2]]), new Set([1]), /r/g, new WeakMap(), new Number(1), new Error('e'), { a: 1 }];
		globalThis.calls = 0;
		const hit = () => { calls++; throw 'user code ran' };
		for (const name of ['Map', 'Set', 'RegExp', 'WeakMap', 'Number', 'Error', 'JSON', 'Function'])
			Object.defineProperty(globalThis, name, { get: hit });
		return values;
	})()`)
	for _, opts := range []Options{def, {Depth: -1, ShowHidden: true}} {
		if Inspect(vm, v, opts) == "" || Format(vm, []goja.Value{vm.ToValue("%s %d %j"), v, v, v}, opts) == "" {
			t.Error("empty output")
		}
	}
	if calls := vm.Get("calls").ToInteger(); calls != 0 {
		t.Errorf("user code ran %d times", calls)
	}
}
