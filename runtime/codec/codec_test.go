package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// sameJS defines same(a, b): a deep structural comparison of two values of
// one VM that understands every type the codec carries, holes, -0, NaN,
// identity (a shared object must map to one shared object) and cycles.
const sameJS = `
function same(a, b, fwd, back) {
	if (Object.is(a, b)) return true;
	if (typeof a !== typeof b || typeof a !== 'object' || a === null || b === null) return false;
	fwd = fwd || new Map(); back = back || new Map();
	if (fwd.has(a) || back.has(b)) return fwd.get(a) === b && back.get(b) === a;
	fwd.set(a, b); back.set(b, a);
	const tag = Object.prototype.toString;
	if (tag.call(a) !== tag.call(b) || Array.isArray(a) !== Array.isArray(b)) return false;
	const s = (x, y) => same(x, y, fwd, back);
	if (a instanceof Date) return Object.is(a.getTime(), b.getTime());
	if (a instanceof RegExp) return a.source === b.source && a.flags === b.flags;
	if (a instanceof Error) {
		return a.constructor === b.constructor && a.name === b.name && a.message === b.message &&
			('cause' in a) === ('cause' in b) && s(a.cause, b.cause);
	}
	if (a instanceof Map) {
		if (a.size !== b.size) return false;
		const ea = [...a], eb = [...b];
		return ea.every((e, i) => s(e[0], eb[i][0]) && s(e[1], eb[i][1]));
	}
	if (a instanceof Set) {
		if (a.size !== b.size) return false;
		const ea = [...a], eb = [...b];
		return ea.every((e, i) => s(e, eb[i]));
	}
	if (a instanceof ArrayBuffer) {
		if (a.byteLength !== b.byteLength) return false;
		const x = new Uint8Array(a), y = new Uint8Array(b);
		return x.every((e, i) => e === y[i]);
	}
	if (ArrayBuffer.isView(a)) {
		return a.constructor === b.constructor && a.byteOffset === b.byteOffset &&
			a.byteLength === b.byteLength && s(a.buffer, b.buffer);
	}
	for (const k of ['Number', 'String', 'Boolean', 'BigInt']) {
		if (tag.call(a) === '[object ' + k + ']') return Object.is(a.valueOf(), b.valueOf());
	}
	if (Array.isArray(a) && a.length !== b.length) return false;
	const ka = Object.keys(a), kb = Object.keys(b);
	return ka.length === kb.length && ka.every((k, i) => k === kb[i] && s(a[k], b[k]));
}
`

func newVM(t testing.TB) *goja.Runtime {
	t.Helper()
	vm := goja.New()
	if _, err := vm.RunString(sameJS); err != nil {
		t.Fatal(err)
	}
	return vm
}

// run evaluates src in vm.
func run(t testing.TB, vm *goja.Runtime, src string) goja.Value {
	t.Helper()
	v, err := vm.RunString(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// roundTrip evaluates src in one VM, encodes it, decodes it in another VM
// and returns the result with that VM.
func roundTrip(t testing.TB, src string, h1, h2 Handles) (goja.Value, *goja.Runtime, []byte) {
	t.Helper()
	vm1, vm2 := newVM(t), newVM(t)
	b, err := NewEncoder(vm1, h1).Encode(nil, run(t, vm1, src), "value")
	if err != nil {
		t.Fatalf("encode %s: %v", src, err)
	}
	v, err := NewDecoder(vm2, h2).Decode(b)
	if err != nil {
		t.Fatalf("decode %s: %v (% x)", src, err, b)
	}
	return v, vm2, b
}

// roundTripCases are values whose copy must be same() as the value
// re-evaluated in the receiving VM, plus an optional extra check on v.
var roundTripCases = []struct{ src, check string }{
	{"undefined", ""},
	{"null", ""},
	{"true", ""},
	{"false", ""},
	{"0", ""},
	{"-0", "Object.is(v, -0)"},
	{"42", ""},
	{"-7", ""},
	{"2**53", ""},
	{"-(2**53) - 2", ""},
	{"2**60", ""},
	{"1.5", ""},
	{"0.1 + 0.2", "v === 0.1 + 0.2"},
	{"NaN", "Number.isNaN(v)"},
	{"Infinity", ""},
	{"-Infinity", ""},
	{"5e-324", ""},
	{"1.7976931348623157e308", ""},
	{"0n", "typeof v === 'bigint'"},
	{"123n", ""},
	{"-123n", ""},
	{"255n", ""},
	{"-256n", ""},
	{"2n ** 200n + 1n", ""},
	{"-(2n ** 100n)", ""},
	{`""`, ""},
	{`"abc"`, ""},
	{`"héllo wörld"`, ""},
	{`"日本語"`, ""},
	{`"😀 emoji"`, "v.length === 8"},
	{`"\uD800"`, "v.length === 1 && v.charCodeAt(0) === 0xD800"},
	{`"a\uDC00b"`, "v.charCodeAt(1) === 0xDC00"},
	{`"\uDBFF\uDFFF"`, "v.codePointAt(0) === 0x10FFFF"},
	{`"\uDC00\uD800"`, "v.charCodeAt(0) === 0xDC00 && v.charCodeAt(1) === 0xD800"},
	{`"x\uD83D"`, ""},
	{`"\uFFFD"`, ""},
	{`"\uFFFD\uD800é"`, "v.charCodeAt(1) === 0xD800"},
	{`"abcdefghij".repeat(100)`, ""},
	{`"é".repeat(40) + "\uDFFF"`, ""},
	{"({})", ""},
	{"({a: 1, b: 'x', c: null, d: undefined, e: [1, 2], f: {g: {h: true}}})", "'d' in v"},
	{"({2: 'two', b: 1, 0: 'zero', a: 2})", "Object.keys(v).join() === '0,2,b,a'"},
	{`JSON.parse('{"__proto__": 1, "x": 2}')`, "Object.getPrototypeOf(v) === Object.prototype && Object.keys(v)[0] === '__proto__'"},
	{`({"clé": 1, "日本": 2, "a b": 3, "": 4})`, ""},
	{`({"\uD800": 1, "\uFFFD": 2, "a\uDC00": 3})`, "v['\\uD800'] === 1 && v['\\uFFFD'] === 2 && v['a\\uDC00'] === 3"},
	{"(() => { const o = Object.create(null); o.x = 1; return o })()", "Object.getPrototypeOf(v) === Object.prototype"},
	{"[]", ""},
	{"[1, 'two', 3.5, null, undefined, [4]]", ""},
	{"[1, , 3]", "!(1 in v) && v.length === 3"},
	{"[, , ]", "v.length === 2 && !(0 in v)"},
	{"new Array(5)", "v.length === 5 && Object.keys(v).length === 0"},
	{"(() => { const a = []; a[1000000] = 1; return a })()", "v.length === 1000001 && v[1000000] === 1"},
	{"(() => { const a = []; a[4294967294] = 'last'; return a })()", "v.length === 4294967295"},
	{"(() => { const a = [1, 2]; a.foo = 'x'; a[5] = 6; return a })()", "v.foo === 'x' && v.length === 6 && !(3 in v)"},
	{"[[1, [2, [3, [4]]]]]", ""},
	{"[undefined]", "0 in v"},
	{"new Date(0)", ""},
	{"new Date(8.64e15)", ""},
	{"new Date(-8.64e15)", ""},
	{"new Date(-1)", "v.getTime() === -1"},
	{"new Date(1700000000123)", ""},
	{"new Date(NaN)", "isNaN(v.getTime())"},
	{"/a+b/gi", "v.test('xAAB')"},
	{`new RegExp("\\/x", "y")`, ""},
	{"/[a-z]\\d*$/msu", ""},
	{"new Map()", ""},
	{"new Map([[1, 'a'], ['k', {x: 1}], [{o: 1}, [2]], [NaN, 'nan'], [null, undefined]])", "v.get(NaN) === 'nan'"},
	{"new Set()", ""},
	{"new Set([1, 'a', {}, [1], NaN, -0])", "v.has(0)"},
	{"new Map([[new Map([[1, new Set([2])]]), new Set([new Map()])]])", ""},
	{"new ArrayBuffer(0)", ""},
	{"new Uint8Array([1, 2, 3, 255]).buffer", ""},
	{"new Int8Array([-128, 0, 127])", ""},
	{"new Uint8Array([0, 1, 255])", ""},
	{"new Uint8ClampedArray([0, 300, -5])", "v instanceof Uint8ClampedArray && v[1] === 255"},
	{"new Int16Array([-32768, 32767])", ""},
	{"new Uint16Array([65535, 1])", ""},
	{"new Int32Array([-(2**31), 2**31 - 1])", ""},
	{"new Uint32Array([2**32 - 1])", ""},
	{"new Float32Array([1.5, NaN, -0, Infinity])", "Object.is(v[2], -0)"},
	{"new Float64Array([Math.PI, -Infinity])", "v[0] === Math.PI"},
	{"new BigInt64Array([-(2n**63n), 2n**63n - 1n])", "v[0] === -(2n**63n)"},
	{"new BigUint64Array([2n**64n - 1n])", ""},
	{"new Int16Array(new ArrayBuffer(16), 4, 3)", "v.byteOffset === 4 && v.length === 3 && v.buffer.byteLength === 16"},
	{"new Float64Array(new ArrayBuffer(24), 8)", "v.byteOffset === 8 && v.length === 2"},
	{"new Uint8Array(new ArrayBuffer(8), 8)", "v.byteOffset === 8 && v.length === 0"},
	{"new Uint8Array(0)", ""},
	{"(() => { const d = new DataView(new ArrayBuffer(8), 2, 4); d.setInt16(0, -2); return d })()", "v instanceof DataView && v.byteOffset === 2 && v.byteLength === 4 && v.getInt16(0) === -2"},
	{"(() => { const b = new ArrayBuffer(8); return [new Uint8Array(b), new Uint16Array(b, 2, 2), new DataView(b, 4), b] })()",
		"v[0].buffer === v[1].buffer && v[2].buffer === v[0].buffer && v[3] === v[0].buffer && (v[0][2] = 7, v[1][0] === 7)"},
	{"new Error('boom')", "v instanceof Error && v.message === 'boom'"},
	{"new Error()", "!Object.prototype.hasOwnProperty.call(v, 'message')"},
	{"new EvalError('e')", "v instanceof EvalError"},
	{"new RangeError('r')", "v instanceof RangeError"},
	{"new ReferenceError('r')", "v instanceof ReferenceError"},
	{"new SyntaxError('s')", "v instanceof SyntaxError"},
	{"new TypeError('t')", "v instanceof TypeError && v.name === 'TypeError'"},
	{"new URIError('u')", "v instanceof URIError"},
	{"new Error('outer', {cause: new TypeError('inner')})", "v.cause instanceof TypeError && v.cause.message === 'inner'"},
	{"new Error('c', {cause: {code: 42}})", "v.cause.code === 42 && !Object.keys(v).includes('cause')"},
	{"new Error('c', {cause: undefined})", "'cause' in v"},
	{"(() => { try { null.x } catch (e) { return e } })()", "v instanceof TypeError"},
	{"({e: new RangeError('x'), list: [new Error('y')]})", ""},
	{"new Number(1.5)", "typeof v === 'object' && v.valueOf() === 1.5"},
	{"new Number(-0)", "Object.is(v.valueOf(), -0)"},
	{"new String('abc')", "v instanceof String && v.length === 3"},
	{"new String('\\uD800')", "v.charCodeAt(0) === 0xD800"},
	{"new Boolean(false)", "typeof v === 'object' && v.valueOf() === false"},
	{"Object(10n)", "typeof v === 'object' && v.valueOf() === 10n"},
	{"(() => { const o = {n: 1}; return {a: o, b: o, c: [o]} })()", "v.a === v.b && v.c[0] === v.a"},
	{"(() => { const o = {}; o.self = o; return o })()", "v.self === v"},
	{"(() => { const a = [1]; a.push(a); return a })()", "v[1] === v && v.length === 2"},
	{"(() => { const a = []; const b = [a]; a.push(b); return a })()", "v[0][0] === v"},
	{"(() => { const a = [1, 2]; a.push({back: a}); return a })()", "v[2].back === v && v[0] === 1"},
	{"(() => { const m = new Map(); m.set('m', m); m.set(m, 1); return m })()", "v.get('m') === v && v.get(v) === 1"},
	{"(() => { const s = new Set(); s.add(s); return s })()", "v.has(v)"},
	{"(() => { const e = new Error('loop'); e.cause = e; return e })()", "v.cause === v"},
	{"(() => { const x = {k: 1}; return Array.from({length: 100}, (_, i) => ({i, x})) })()", "v.every(o => o.x === v[0].x) && v[99].i === 99"},
	{"(() => { const os = Array.from({length: 40}, (_, i) => ({i})); return [os, os.slice().reverse()] })()", "v[0][0] === v[1][39] && v[0][39] === v[1][0]"},
	{"(() => { const d = new Date(5); const r = /x/; const s = new Number(3); return [d, r, s, d, r, s] })()", "v[0] === v[3] && v[1] === v[4] && v[2] === v[5]"},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases {
		t.Run(tc.src, func(t *testing.T) {
			v, vm2, _ := roundTrip(t, tc.src, nil, nil)
			vm2.Set("v", v)
			if ok := run(t, vm2, "same(v, ("+tc.src+"))"); !ok.ToBoolean() {
				t.Errorf("copy differs from the original")
			}
			if tc.check != "" {
				if ok := run(t, vm2, tc.check); !ok.ToBoolean() {
					t.Errorf("check failed: %s", tc.check)
				}
			}
		})
	}
}

// TestCopySemantics covers values that structured clone changes on purpose.
func TestCopySemantics(t *testing.T) {
	for _, tc := range []struct{ src, check string }{
		{"(() => { class P { constructor() { this.x = 1; this.y = [2] } get z() { return 3 } m() {} }; return new P() })()",
			"Object.getPrototypeOf(v) === Object.prototype && v.x === 1 && v.y[0] === 2 && !('z' in v) && !('m' in v)"},
		{"({get g() { return {deep: 'value'} }, plain: 1})", "v.g.deep === 'value' && Object.getOwnPropertyDescriptor(v, 'g').value !== undefined"},
		{"(() => { const o = {a: 1}; Object.defineProperty(o, 'hidden', {value: 2, enumerable: false}); o[Symbol('s')] = 3; return o })()",
			"Object.keys(v).join() === 'a' && !('hidden' in v) && Object.getOwnPropertySymbols(v).length === 0"},
		{"(() => { class E extends TypeError { constructor(m) { super(m); this.name = 'ValidationError'; this.code = 7 } }; return new E('bad') })()",
			"v instanceof TypeError && v.name === 'ValidationError' && v.message === 'bad' && !('code' in v)"},
		{"(() => { const e = new Error('m'); e.name = 'CustomError'; return e })()", "v instanceof Error && v.name === 'CustomError'"},
		{"(() => { const e = new RangeError('m'); e.name = 'TypeError'; return e })()", "v instanceof TypeError"},
		{"(() => { class M extends Map {}; return new M([[1, 2]]) })()", "v instanceof Map && v.get(1) === 2"},
		{"(() => { const r = /a/g; r.lastIndex = 3; return r })()", "v.lastIndex === 0 && v.global"},
		{"(function() { return arguments })(1, 'b')", "v[0] === 1 && v[1] === 'b' && !Array.isArray(v)"},
		{"Math", "Object.keys(v).length === 0"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, vm2, _ := roundTrip(t, tc.src, nil, nil)
			vm2.Set("v", v)
			if ok := run(t, vm2, tc.check); !ok.ToBoolean() {
				t.Errorf("check failed: %s", tc.check)
			}
		})
	}
}

func TestErrorStackKept(t *testing.T) {
	v, vm2, _ := roundTrip(t, "(() => { const e = new TypeError('x'); return {e, s: e.stack} })()", nil, nil)
	vm2.Set("v", v)
	if ok := run(t, vm2, "typeof v.s === 'string' && v.s.length > 0 && v.e.stack === v.s"); !ok.ToBoolean() {
		t.Errorf("stack not kept: %v", run(t, vm2, "[v.s, v.e.stack]"))
	}
}

func TestCloneErrors(t *testing.T) {
	vm := goja.New()
	type host struct{ A int }
	vm.Set("host", &host{1})
	vm.Set("hostChan", vm.ToValue(struct{ X chan int }{}))
	vm.Set("print", func() {})
	for _, tc := range []struct{ src, path, reason string }{
		{"(function f() {})", "value", "a function cannot be sent"},
		{"({a: {cb: () => 1}})", "value.a.cb", "make it a top-level function"},
		{"[1, Symbol('s')]", "value[1]", "a Symbol cannot be sent"},
		{"Symbol.iterator", "value", "a Symbol"},
		{"({m: new Map([['k', function() {}]])})", `value.m.get("k")`, "a function"},
		{"new Map([[1, {x: [0, async () => 1]}]])", "value.get(1).x[1]", "a function"},
		{"new Map([[() => 1, 1]])", "value.<map key 0>", "a function"},
		{"new Map([[{}, Symbol()]])", "value.get(<object>)", "a Symbol"},
		{"new Set([1, new WeakMap()])", "value.<set element 1>", "a WeakMap cannot be sent"},
		{"({w: new WeakSet()})", "value.w", "a WeakSet"},
		{"({p: new Proxy({}, {})})", "value.p", "a Proxy cannot be sent"},
		{"[new Proxy([], {})]", "value[0]", "a Proxy"},
		{"(() => { const r = Proxy.revocable({}, {}); r.revoke(); return [r.proxy] })()", "value[0]", "a Proxy"},
		{"({'a b': {'0': [Promise.resolve(1)]}})", `value["a b"][0][0]`, "a Promise"},
		{"(function*() {})()", "value", "a generator"},
		{"[[1].values()]", "value[0]", "an iterator"},
		{"new Map().entries()", "value", "an iterator"},
		{"(class K {})", "value", "a function"},
		{"[async function() {}, 1]", "value[0]", "a function"},
		{"({f: function*() {}})", "value.f", "a function"},
		{"({f: print})", "value.f", "a function"},
		{"[Math.max]", "value[0]", "a function"},
		{"[(() => 1).bind(null)]", "value[0]", "a function"},
		{"({k: class {}})", "value.k", "a function"},
		{"Object(Symbol())", "value", "a Symbol object"},
		{"({h: host})", "value.h", "Go host object"},
		{"[hostChan]", "value[0]", "Go host object"},
		{"new Error('x', {cause: () => 1})", "value.cause", "a function"},
		{"(() => { const a = [1, 2, 3]; a.extra = Symbol(); return a })()", "value.extra", "a Symbol"},
		{"(() => { const a = []; a[10] = () => 1; return a })()", "value[10]", "a function"},
		{"({'\\uD800': Symbol()})", "value[\"\uFFFD\"]", "a Symbol"},
		{"(() => { const b = new ArrayBuffer(8); const u = new Uint8Array(b); return {u, f: [u, print] } })()", "value.f[1]", "a function"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			dst := []byte("prefix")
			b, err := NewEncoder(vm, nil).Encode(dst, run(t, vm, tc.src), "value")
			var ce *CloneError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CloneError", err)
			}
			if ce.Path != tc.path || !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("got %q, want path %q and a reason with %q", err, tc.path, tc.reason)
			}
			if ce.Error() != ce.Path+": "+ce.Reason {
				t.Errorf("Error() = %q", ce.Error())
			}
			if string(b) != "prefix" {
				t.Errorf("dst changed on error: %q", b)
			}
		})
	}
}

func TestCloneErrorRoot(t *testing.T) {
	vm := goja.New()
	_, err := NewEncoder(vm, nil).Encode(nil, run(t, vm, "[1, {cb() {}}]"), "args")
	if err == nil || err.Error() != "args[1].cb: "+reasonFunction {
		t.Errorf("got %v", err)
	}
	_, err = NewEncoder(vm, nil).Encode(nil, run(t, vm, "Symbol()"), "item")
	if err == nil || err.Error() != "item: "+reasonSymbol {
		t.Errorf("got %v", err)
	}
}

func TestGetterThrows(t *testing.T) {
	vm := goja.New()
	e := NewEncoder(vm, nil)
	_, err := e.Encode(nil, run(t, vm, "({a: {get x() { throw new RangeError('boom') }}})"), "item")
	var ex *goja.Exception
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "item.a.x") || !strings.Contains(ex.Value().String(), "boom") {
		t.Fatalf("got %v", err)
	}
	// The VM and the encoder still work afterwards.
	b, err := e.Encode(nil, run(t, vm, "({ok: true})"), "item")
	if err != nil || len(b) == 0 {
		t.Fatalf("after a throw: %v", err)
	}
	if v := run(t, vm, "1 + 1"); v.ToInteger() != 2 {
		t.Fatal("VM broken")
	}
}

// A getter that sends through the same Encoder (re-entrancy) must not
// corrupt the outer message.
func TestReentrantEncode(t *testing.T) {
	vm := goja.New()
	e := NewEncoder(vm, nil)
	var inner []byte
	vm.Set("send", func(v goja.Value) {
		var err error
		if inner, err = e.Encode(nil, v, "inner"); err != nil {
			t.Error(err)
		}
	})
	outer, err := e.Encode(nil, run(t, vm, "(() => { const s = {s: 1}; return {a: s, get b() { send({x: [1, 2]}); return 2 }, c: s} })()"), "outer")
	if err != nil {
		t.Fatal(err)
	}
	vm2 := newVM(t)
	d := NewDecoder(vm2, nil)
	for _, c := range []struct {
		b     []byte
		check string
	}{{outer, "v.a === v.c && v.b === 2"}, {inner, "v.x[1] === 2"}} {
		v, err := d.Decode(c.b)
		if err != nil {
			t.Fatal(err)
		}
		vm2.Set("v", v)
		if !run(t, vm2, c.check).ToBoolean() {
			t.Errorf("check failed: %s", c.check)
		}
	}
}

func TestEncoderReuse(t *testing.T) {
	vm1, vm2 := goja.New(), newVM(t)
	e, d := NewEncoder(vm1, nil), NewDecoder(vm2, nil)
	var buf []byte
	for i, src := range []string{
		"(() => { const o = {}; return Array.from({length: 2000}, () => o) })()", // grows the memo map
		"({a: 1})", "[1, 2]", "(() => { const x = {}; return [x, x] })()", "7", "'s'",
	} {
		var err error
		if buf, err = e.Encode(buf[:0], run(t, vm1, src), "value"); err != nil {
			t.Fatal(err)
		}
		v, err := d.Decode(buf)
		if err != nil {
			t.Fatal(err)
		}
		vm2.Set("v", v)
		if !run(t, vm2, "same(v, ("+src+"))").ToBoolean() {
			t.Errorf("message %d (%s) differs", i, src)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	vm := goja.New()
	b, err := NewEncoder(vm, nil).Encode([]byte{1, 2}, vm.ToValue(5), "value")
	if err != nil || !bytes.Equal(b, []byte{1, 2, tagInt, 10}) {
		t.Fatalf("got % x, %v", b, err)
	}
}

func TestNoAllocs(t *testing.T) {
	vm := goja.New()
	e := NewEncoder(vm, nil)
	buf := make([]byte, 0, 256)
	for _, v := range []goja.Value{vm.ToValue(7), vm.ToValue(123456789), vm.ToValue(-1.5), vm.ToValue("hello world"),
		run(t, vm, "'short string from JS'"), goja.Undefined(), goja.Null(), vm.ToValue(true)} {
		if n := testing.AllocsPerRun(100, func() { buf, _ = e.Encode(buf[:0], v, "item") }); n != 0 {
			t.Errorf("encoding %v: %v allocs", v, n)
		}
	}
	small := run(t, vm, "({a: 1, b: 'x'})")
	if n := testing.AllocsPerRun(100, func() { buf, _ = e.Encode(buf[:0], small, "item") }); n > 12 { // goja's Object.Keys allocates about 4 times per key
		t.Errorf("encoding a small object: %v allocs", n)
	}
}

// TestGojaShape fails if goja's internals change so that plain objects can
// no longer be told from WeakMaps and DataViews.
func TestGojaShape(t *testing.T) {
	vm := goja.New()
	if selfField < 0 {
		t.Fatal("goja.Object has no self field any more")
	}
	for src, want := range map[string]string{
		"({})": "*goja.baseObject", "new WeakMap()": "*goja.weakMapObject", "new WeakSet()": "*goja.weakSetObject",
		"new DataView(new ArrayBuffer(1))": "*goja.dataViewObject", "(function*(){})()": "*goja.generatorObject",
		"[].values()": "*goja.arrayIterObject",
	} {
		if got := implType(run(t, vm, src).(*goja.Object)).String(); got != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	vm := goja.New()
	deep := run(t, vm, "(() => { let v = 1; for (let i = 0; i < 10000; i++) v = [v]; return v })()")
	var ce *CloneError
	if _, err := NewEncoder(vm, nil).Encode(nil, deep, "value"); !errors.As(err, &ce) || ce.Reason != reasonDepth {
		t.Errorf("encoding 10000 levels: %v", err)
	}
	ok := run(t, vm, fmtDeep(MaxDepth-1))
	b, err := NewEncoder(vm, nil).Encode(nil, ok, "value")
	if err != nil {
		t.Fatalf("encoding %d levels: %v", MaxDepth, err)
	}
	if _, err := NewDecoder(goja.New(), nil).Decode(b); err != nil {
		t.Errorf("decoding %d levels: %v", MaxDepth, err)
	}
	var in []byte
	for range 10000 {
		in = append(in, tagArray, 1, 1)
	}
	in = append(in, tagNull)
	for range 10000 {
		in = append(in, 0)
	}
	if _, err := NewDecoder(goja.New(), nil).Decode(in); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("decoding 10000 levels: %v", err)
	}
}

func fmtDeep(n int) string {
	return "(() => { let v = {}; for (let i = 0; i < " + itoa(n) + "; i++) v = {v}; return v })()"
}

func itoa(n int) string { return string(appendDecimal(nil, n)) }

func appendDecimal(b []byte, n int) []byte {
	if n >= 10 {
		b = appendDecimal(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestDecodeErrors(t *testing.T) {
	vm := goja.New()
	d := NewDecoder(vm, nil)
	huge := appendUvarint(nil, 1<<40)
	for name, in := range map[string][]byte{
		"empty":              {},
		"unknown tag":        {'?'},
		"zero tag":           {0},
		"trailing":           {tagNull, tagNull},
		"truncated int":      {tagInt, 0x80},
		"varint overflow":    {tagInt, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"truncated float":    {tagFloat, 0, 0},
		"huge string":        append(append([]byte{tagString}, huge...), 'a', 'b', 'c', 'd', 'e'),
		"huge object":        append(append([]byte{tagObject}, huge...), 1, 2, 3, 4, 5),
		"huge array length":  append(append([]byte{tagArray}, appendUvarint(nil, 1<<33)...), 0, 0),
		"huge dense":         append(append([]byte{tagArray, 0xff, 0xff, 0xff, 0xff, 0x0f}, huge...), 1, 2, 3),
		"dense over length":  {tagArray, 1, 2, tagNull, tagNull, 0},
		"huge map":           {tagMap, 0xff, 0xff, 0xff, 0xff, tagNull},
		"huge set":           {tagSet, 0xff, 0xff, 0xff, 0x7f, tagNull},
		"huge buffer":        append(append([]byte{tagBuffer}, huge...), 1),
		"huge bigint":        append(append([]byte{tagBigInt, 0}, huge...), 1),
		"bigint leading 0":   {tagBigInt, 0, 2, 0, 1},
		"bigint -0":          {tagBigInt, 1, 0},
		"bigint bad sign":    {tagBigInt, 2, 1, 1},
		"bad ref":            {tagRef, 5},
		"ref at start":       {tagRef, 0},
		"ref to view":        {tagView, 1, 0, 0, tagRef, 0},
		"view of non-buffer": {tagView, 1, 0, 0, tagObject, 0},
		"view kind":          {tagView, 12, 0, 0, tagBuffer, 0},
		"view too long":      {tagView, 4, 0, 3, tagBuffer, 4, 1, 2, 3, 4},
		"view misaligned":    {tagView, 4, 1, 1, tagBuffer, 4, 1, 2, 3, 4},
		"view past end":      {tagView, 1, 5, 0, tagBuffer, 4, 1, 2, 3, 4},
		"handle no Handles":  {tagHandle, 1, 'q', 0},
		"error type":         {tagError, 7, 0},
		"error flags":        {tagError, 0, 0x10},
		"error truncated":    {tagError, 0, errHasMessage, 5, 'a'},
		"bad utf8":           {tagString, 2, 0xff, 0xfe},
		"split surrogates":   {tagString, 6, 0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80},
		"truncated surr":     {tagString, 2, 0xED, 0xA0},
		"date fraction":      append([]byte{tagDate}, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f),
		"date too big":       append([]byte{tagDate}, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f),
		"boxed undefined":    {tagBoxed, tagUndefined},
		"boxed object":       {tagBoxed, tagObject, 0},
		"bad regexp":         {tagRegExp, 1, '(', 0},
		"bad regexp flags":   {tagRegExp, 1, 'a', 2, 'g', 'g'},
		"array length key":   {tagArray, 0, 0, 1, 6, 'l', 'e', 'n', 'g', 't', 'h', tagString, 1, 'x'},
		"unclosed object":    {tagObject, 2, 1, 'a', tagNull},
	} {
		v, err := d.Decode(in)
		if err == nil {
			t.Errorf("%s: decoded %v, want an error", name, v)
		} else if !strings.HasPrefix(err.Error(), "codec: ") || strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: error %q", name, err)
		}
	}
	// Every proper prefix of every valid encoding is an error.
	vm1 := goja.New()
	for _, tc := range roundTripCases {
		b, err := NewEncoder(vm1, nil).Encode(nil, run(t, vm1, tc.src), "value")
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			if _, err := d.Decode(b[:i]); err == nil {
				t.Errorf("%s: prefix %d of % x decoded", tc.src, i, b)
			}
		}
	}
}

// fakeHandles carries objects of the sending VM that stand for shared
// things by a registry ID; decoding the same ID in a VM yields the same object.
type fakeHandles struct {
	ids     map[*goja.Object]string
	objs    map[string]goja.Value
	buffers map[string][]byte // "shared memory"
}

func newFakeHandles() *fakeHandles {
	return &fakeHandles{ids: map[*goja.Object]string{}, objs: map[string]goja.Value{}, buffers: map[string][]byte{}}
}

func (f *fakeHandles) EncodeHandle(obj *goja.Object) (string, []byte, bool, error) {
	id, ok := f.ids[obj]
	if !ok {
		return "", nil, false, nil
	}
	if id == "bad" {
		return "", nil, false, errors.New("this lock is closed and cannot be sent")
	}
	kind := "queue"
	if _, ok := f.buffers[id]; ok {
		kind = "shm"
	}
	return kind, []byte(id), true, nil
}

func (f *fakeHandles) DecodeHandle(vm *goja.Runtime, kind string, payload []byte) (goja.Value, error) {
	id := string(payload)
	if v, ok := f.objs[id]; ok {
		return v, nil
	}
	var o *goja.Object
	switch kind {
	case "queue":
		o = vm.NewObject()
		o.Set("id", id)
	case "shm":
		mem, ok := f.buffers[id]
		if !ok {
			return nil, errors.New("unknown shared memory " + id)
		}
		o = vm.ToValue(vm.NewArrayBuffer(mem)).(*goja.Object)
	default:
		return nil, errors.New("unknown kind " + kind)
	}
	f.objs[id], f.ids[o] = o, id
	return o, nil
}

func TestHandles(t *testing.T) {
	vm1, vm2 := goja.New(), newVM(t)
	h1, h2 := newFakeHandles(), newFakeHandles()
	q := vm1.NewObject()
	q.Set("local", "not sent")
	h1.ids[q] = "q1"
	mem := make([]byte, 8)
	h1.buffers["m1"], h2.buffers["m1"] = mem, mem
	shm := vm1.ToValue(vm1.NewArrayBuffer(mem)).(*goja.Object)
	h1.ids[shm] = "m1"
	vm1.Set("q", q)
	vm1.Set("shm", shm)
	src := "({q, again: q, list: [q, 1], view: new Int32Array(shm, 4, 1), plain: new Uint8Array(2)})"
	b, err := NewEncoder(vm1, h1).Encode(nil, run(t, vm1, src), "args")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(vm2, h2)
	for range 2 {
		v, err := d.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		vm2.Set("v", v)
		if !run(t, vm2, "v.q.id === 'q1' && v.q === v.again && v.list[0] === v.q && !('local' in v.q) && v.view.byteOffset === 4").ToBoolean() {
			t.Error("handles not decoded by reference")
		}
		run(t, vm2, "v.view[0] = 0x01020304")
	}
	if mem[4] != 4 {
		t.Errorf("shared memory not shared: % x", mem)
	}
	// The first decode's objects are the second's.
	if h2.objs["q1"] == nil {
		t.Fatal("no handle decoded")
	}

	bad := vm1.NewObject()
	h1.ids[bad] = "bad"
	vm1.Set("bad", bad)
	_, err = NewEncoder(vm1, h1).Encode(nil, run(t, vm1, "[1, {lock: bad}]"), "args")
	var ce *CloneError
	if !errors.As(err, &ce) || ce.Path != "args[1].lock" || !strings.Contains(ce.Reason, "closed") {
		t.Errorf("got %v", err)
	}
	// Without Handles a handle object is just an object.
	if _, err := NewEncoder(vm1, nil).Encode(nil, q, "q"); err != nil {
		t.Error(err)
	}
	if _, err := NewDecoder(vm2, nil).Decode(b); err == nil {
		t.Error("decoded handles without Handles")
	}
}

func TestDetachedBuffer(t *testing.T) {
	vm := goja.New()
	ab := vm.NewArrayBuffer([]byte{1, 2, 3, 4})
	vm.Set("ab", ab)
	u := run(t, vm, "new Uint8Array(ab, 1, 2)")
	dv := run(t, vm, "new DataView(ab, 1)")
	ab.Detach()
	for _, v := range []goja.Value{vm.ToValue(ab), u, dv} {
		var ce *CloneError
		if _, err := NewEncoder(vm, nil).Encode(nil, v, "value"); !errors.As(err, &ce) || ce.Reason != reasonDetached {
			t.Errorf("got %v", err)
		}
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		path []seg
		want string
	}{
		{nil, "item"},
		{[]seg{{kind: segKey, key: "a"}, {kind: segIndex, n: 3}, {kind: segKey, key: "b c"}, {kind: segKey, key: "7"}}, `item.a[3]["b c"][7]`},
		{[]seg{{kind: segMapKey, n: 2}}, "item.<map key 2>"},
		{[]seg{{kind: segMapValue, val: goja.New().ToValue("k")}, {kind: segSetElem, n: 1}, {kind: segField, key: "cause"}}, `item.get("k").<set element 1>.cause`},
	} {
		if got := formatPath("item", tc.path); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
