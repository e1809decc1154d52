package capture

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dop251/goja"
)

// session runs chunks in one goja runtime, the way the script or the REPL
// does, and adds them to a TopLevel. A single chunk is named main.js, several
// are named "<repl N>".
func session(t *testing.T, chunks ...string) (*TopLevel, *goja.Runtime) {
	t.Helper()
	vm := goja.New()
	tl := New()
	for i, c := range chunks {
		name := "main.js"
		if len(chunks) > 1 {
			name = fmt.Sprintf("<repl %d>", i+1)
		}
		if err := tl.Add(name, c); err != nil {
			t.Fatalf("Add(%s): %v", name, err)
		}
		if _, err := vm.RunScript(name, c); err != nil {
			t.Fatalf("running %s: %v", name, err)
		}
	}
	return tl, vm
}

// toString evaluates expr in vm and returns the function's toString text.
func toString(t *testing.T, vm *goja.Runtime, expr string) string {
	t.Helper()
	v, err := vm.RunString("Function.prototype.toString.call(" + expr + ")")
	if err != nil {
		t.Fatalf("toString(%s): %v", expr, err)
	}
	return v.String()
}

func names(bs []Binding) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type analyzeCase struct {
	name    string
	chunks  []string
	target  string   // JS expression evaluating to the target function
	uses    []string // expected Uses names, in order
	globals []string
	closure string // expected ClosureError.Name
	reason  string // substring of ClosureError.Reason
	unsupp  bool   // expect ErrUnsupported
}

func runAnalyzeCases(t *testing.T, cases []analyzeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl, vm := session(t, tc.chunks...)
			src := toString(t, vm, tc.target)
			tg, err := tl.Analyze(src)
			switch {
			case tc.closure != "":
				var ce *ClosureError
				if !errors.As(err, &ce) {
					t.Fatalf("want ClosureError for %q, got target %+v, err %v", tc.closure, tg, err)
				}
				if ce.Name != tc.closure || !strings.Contains(ce.Reason, tc.reason) {
					t.Fatalf("ClosureError = %+v, want name %q reason ~%q", ce, tc.closure, tc.reason)
				}
				if !strings.Contains(ce.Error(), "pass it through args") || !strings.Contains(ce.Error(), fmt.Sprintf("%q", tc.closure)) {
					t.Fatalf("message %q", ce.Error())
				}
				// The reported position is a reference to the name.
				lines := strings.Split(tc.chunks[len(tc.chunks)-1], "\n")
				if ce.Line < 1 || ce.Line > len(lines) || !strings.HasPrefix(lines[ce.Line-1][ce.Col-1:], tc.closure) {
					t.Fatalf("ClosureError position %d:%d does not point at %q", ce.Line, ce.Col, tc.closure)
				}
				return
			case tc.unsupp:
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("want ErrUnsupported, got %+v, %v", tg, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if got := names(tg.Uses); !slices.Equal(got, orEmpty(tc.uses)) {
				t.Errorf("Uses = %v, want %v", got, orEmpty(tc.uses))
			}
			if got := orEmpty(tg.Globals); !slices.Equal(got, orEmpty(tc.globals)) {
				t.Errorf("Globals = %v, want %v", got, orEmpty(tc.globals))
			}
			if _, err := goja.Compile("target", "("+tg.Source+")", false); err != nil {
				t.Errorf("Source %q does not compile: %v", tg.Source, err)
			}
		})
	}
}

func TestScoping(t *testing.T) {
	runAnalyzeCases(t, []analyzeCase{
		{
			name: "params with defaults, destructuring and rest",
			chunks: []string{`var cfg = 1, other = 2;
function worker(a, {b, c: [d]}, e = a + cfg, ...rest) { return a + b + d + e + rest.length + other }`},
			target: "worker", uses: []string{"cfg", "other"},
		},
		{
			name: "param default sees outer name, not a body var",
			chunks: []string{`var x = 1;
function worker(a = x) { var x = 2; return a + x }`},
			target: "worker", uses: []string{"x"},
		},
		{
			name:   "var hoists to the function",
			chunks: []string{`var top = 1; function worker(){ if (cond) { var v = 1 } return v + top }`},
			target: "worker", uses: []string{"top"}, globals: []string{"cond"},
		},
		{
			name:   "let is block scoped",
			chunks: []string{`const y = 5; function worker(){ { let y = 1; y++ } return y }`},
			target: "worker", uses: []string{"y"},
		},
		{
			name:   "function declaration in a block is block scoped",
			chunks: []string{`function worker(){ { function inner(){} } return inner }`},
			target: "worker", globals: []string{"inner"},
		},
		{
			name: "function declaration in a block shadows the top level inside",
			chunks: []string{`function inner(){}
function worker(){ { function inner(){} inner() } return 1 }`},
			target: "worker",
		},
		{
			name:   "catch parameter",
			chunks: []string{`function worker(){ try { f() } catch ({message: err}) { return err } return err2 }`},
			target: "worker", globals: []string{"err2", "f"},
		},
		{
			name:   "for heads with let and const",
			chunks: []string{`function worker(xs){ for (let i = 0; i < 3; i++) {} for (const k in xs) {} for (const [a, b] of xs) { a + b } return i + k + a }`},
			target: "worker", globals: []string{"a", "i", "k"},
		},
		{
			name:   "for var heads hoist",
			chunks: []string{`function worker(xs){ for (var i = 0; i < 3; i++) {} for (var k in xs) {} return i + k }`},
			target: "worker",
		},
		{
			name:   "named function expression binds its own name",
			chunks: []string{`var fact = function f(n){ return n ? n * f(n - 1) : 1 }`},
			target: "fact",
		},
		{
			name:   "class name inside a class expression",
			chunks: []string{`var K = class Inner { static make(){ return new Inner() } }`},
			target: "K",
		},
		{
			name:   "arguments of the function itself",
			chunks: []string{`function worker(){ return arguments.length }`},
			target: "worker",
		},
		{
			name:   "arguments in a top-level arrow is free",
			chunks: []string{`var worker = () => arguments`},
			target: "worker", globals: []string{"arguments"},
		},
		{
			name: "this, super and new.target are not variables",
			chunks: []string{`class Base { m(){ return 1 } }
class A extends Base { constructor(){ super(); this.t = new.target } m(){ return super.m() + this.t } }`},
			target: "A", uses: []string{"Base"},
		},
		{
			name:   "labels are not variables",
			chunks: []string{`function worker(){ outer: for (;;) { inner: for (;;) { continue outer } break outer } }`},
			target: "worker",
		},
		{
			name:   "object keys and member names are not references, shorthand is",
			chunks: []string{`function worker(){ return {b: 1, c, 'd': 2, [e]: 3}.b + obj.prop + obj?.deep?.[key] }`},
			target: "worker", globals: []string{"c", "e", "key", "obj"},
		},
		{
			name:   "template literals and tagged templates",
			chunks: []string{"function worker(){ return tag`x${a}y${b.c}` + `${d}` }"},
			target: "worker", globals: []string{"a", "b", "d", "tag"},
		},
		{
			name:   "spread",
			chunks: []string{`function worker(xs){ return [...xs, ...more, {...extra}, f(...args)] }`},
			target: "worker", globals: []string{"args", "extra", "f", "more"},
		},
		{
			name:   "async and await",
			chunks: []string{`var p = 1; async function worker(){ return await p + await q }`},
			target: "worker", uses: []string{"p"}, globals: []string{"q"},
		},
		{
			name:   "generators",
			chunks: []string{`function* worker(){ yield q; yield* r }`},
			target: "worker", globals: []string{"q", "r"},
		},
		{
			name:   "arrow parameters",
			chunks: []string{`var worker = (a, [b] = def, {c} = {}, ...d) => a + b + c + d + e`},
			target: "worker", globals: []string{"def", "e"},
		},
		{
			name:   "async arrow with one parameter",
			chunks: []string{`var worker = async x => x + y`},
			target: "worker", globals: []string{"y"},
		},
		{
			name: "class fields, static blocks and computed keys",
			chunks: []string{`var computedKey = 'k', staticInit = 1, blockVar = 2;
class S { x = fieldInit; static y = staticInit; static { let z = blockVar; var w = z } [computedKey]() { return this.x } #p = 1 }`},
			target: "S", uses: []string{"computedKey", "staticInit", "blockVar"}, globals: []string{"fieldInit"},
		},
		{
			name:   "typeof is a reference",
			chunks: []string{`var maybe; function worker(){ return typeof maybe + typeof nothing }`},
			target: "worker", uses: []string{"maybe"}, globals: []string{"nothing"},
		},
		{
			name:   "assignment targets are references",
			chunks: []string{`var counter = 0; function worker(){ counter = counter + 1; [sa, sb] = [1, 2]; ({p: sc, sd} = {p: 3}); total += 1 }`},
			target: "worker", uses: []string{"counter"}, globals: []string{"sa", "sb", "sc", "sd", "total"},
		},
		{
			name:   "nested functions resolve to their own locals",
			chunks: []string{`function worker(a){ const g = (b) => { const h = function(c){ return a + b + c + d } ; return h }; return g }`},
			target: "worker", globals: []string{"d"},
		},
		{
			name:   "switch cases",
			chunks: []string{`function worker(v){ switch (v) { case one: let r = 1; return r; default: return two } }`},
			target: "worker", globals: []string{"one", "two"},
		},
		{
			name:   "later top-level declarations",
			chunks: []string{`function worker(){ return later() } function later(){ return laterVar } var laterVar = 1`},
			target: "worker", uses: []string{"later", "laterVar"},
		},
		{
			name:   "top-level var inside a block is top level",
			chunks: []string{`var out = []; if (true) { var tv = 3; out.push(() => tv) }`},
			target: "out[0]", uses: []string{"tv"},
		},
		{
			name:   "top-level for var is top level",
			chunks: []string{`var out = []; for (var i = 0; i < 1; i++) { out.push(() => i) }`},
			target: "out[0]", uses: []string{"i"},
		},
		{
			name:   "function local not captured is fine",
			chunks: []string{`var out = []; function main(){ out.push((x) => x * 2) } main()`},
			target: "out[0]",
		},
		{
			name:   "same text twice at top level",
			chunks: []string{`var g1 = 1, out = []; out.push(() => g1); out.push(() => g1)`},
			target: "out[1]", uses: []string{"g1"},
		},
	})
}

func TestTransitive(t *testing.T) {
	runAnalyzeCases(t, []analyzeCase{
		{
			name: "function, class and variable",
			chunks: []string{`function h(){ return new K() }
class K { constructor(){ this.v = cfg.n + Math.max(1, 2) } }
const cfg = {n: 1};
function worker(){ return h() }`},
			target: "worker", uses: []string{"h", "K", "cfg"}, globals: []string{"Math"},
		},
		{
			name: "not through variables' values",
			chunks: []string{`const fn = function(){ return hidden };
var hidden = 1;
function worker(){ return fn() }`},
			target: "worker", uses: []string{"fn"},
		},
		{
			name:   "non-recursive function does not use itself",
			chunks: []string{`function worker(n){ return n + 1 }`},
			target: "worker",
		},
		{
			name:   "recursive function uses itself",
			chunks: []string{`function worker(n){ return n ? worker(n - 1) : 0 }`},
			target: "worker", uses: []string{"worker"},
		},
		{
			name: "mutual recursion",
			chunks: []string{`function even(n){ return n ? odd(n - 1) : true }
function odd(n){ return n ? even(n - 1) : false }`},
			target: "even", uses: []string{"even", "odd"},
		},
		{
			name: "method of a top-level class using the class",
			chunks: []string{`class C { run(){ return C.k + helper() } }
function helper(){ return 1 }`},
			target: "C.prototype.run", uses: []string{"C", "helper"},
		},
		{
			name:   "nested function declaration calling itself",
			chunks: []string{`var out = []; function main(){ function worker(n){ return n ? worker(n - 1) : 0 } out.push(worker) } main()`},
			target: "out[0]",
		},
		{
			name: "function declaration vs var",
			chunks: []string{`function f(){ return 1 }
var f = 2;
var g;
function g(){ return 3 }
function worker(){ return f + g() }`},
			target: "worker", uses: []string{"f", "g"},
		},
	})

	tl, _ := session(t, `function f(){ return 1 }
var f = 2;
var g;
function g(){ return 3 }`)
	if b, _ := tl.Lookup("f"); b.Kind != Variable {
		t.Errorf("f: %+v, want Variable (var with initializer wins)", b)
	}
	if b, _ := tl.Lookup("g"); b.Kind != FunctionDecl || b.Source != "function g(){ return 3 }" {
		t.Errorf("g: %+v, want FunctionDecl", b)
	}
}

func TestClosureErrors(t *testing.T) {
	runAnalyzeCases(t, []analyzeCase{
		{
			name:   "function local",
			chunks: []string{"var out = [];\nfunction main(){\n  let n = 1;\n  out.push(() => n)\n}\nmain()"},
			target: "out[0]", closure: "n", reason: "local variable of an enclosing function",
		},
		{
			name:   "parameter of enclosing function",
			chunks: []string{"var out = [];\nfunction main(n){ out.push(function worker(){ return n }) }\nmain(1)"},
			target: "out[0]", closure: "n", reason: "parameter",
		},
		{
			name:   "top-level for let",
			chunks: []string{"var out = [];\nfor (let i = 0; i < 1; i++) { out.push(() => use(i)) }"},
			target: "out[0]", closure: "i", reason: "block-scoped variable",
		},
		{
			name:   "top-level block let",
			chunks: []string{"var out = [];\n{ let b = 1; out.push(() => b) }"},
			target: "out[0]", closure: "b", reason: "block-scoped",
		},
		{
			name:   "shadowed top-level name",
			chunks: []string{"var n = 5, out = [];\nfunction main(){ let n = 1; out.push(() => n) }\nmain()"},
			target: "out[0]", closure: "n", reason: "local variable",
		},
		{
			name:   "catch parameter",
			chunks: []string{"var out = [];\ntry { throw 1 } catch (e) { out.push(() => e) }"},
			target: "out[0]", closure: "e", reason: "catch parameter",
		},
		{
			name:   "arguments of enclosing function",
			chunks: []string{"var out = [];\nfunction main(){ out.push(() => arguments[0]) }\nmain(1)"},
			target: "out[0]", closure: "arguments", reason: "arguments object",
		},
		{
			name:   "name of enclosing function expression",
			chunks: []string{"var out = [];\nvar g = function named(){ out.push(() => named) };\ng()"},
			target: "out[0]", closure: "named", reason: "function expression",
		},
		{
			name:   "nested function declaration using a local",
			chunks: []string{"var out = [];\nfunction main(){\n  const k = 2;\n  function worker(x){ return x * k }\n  out.push(worker)\n}\nmain()"},
			target: "out[0]", closure: "k", reason: "local variable",
		},
		{
			name:   "local function",
			chunks: []string{"var out = [];\nfunction main(){ function helper(){} out.push(() => helper()) }\nmain()"},
			target: "out[0]", closure: "helper", reason: "local function",
		},
		{
			name:   "method of a block-level class using the class",
			chunks: []string{"var out = [];\n{ class L { m(){ return L } } out.push(L.prototype.m) }"},
			target: "out[0]", closure: "L", reason: "name of an enclosing class",
		},
		{
			name:   "same text in a local scope wins over top level",
			chunks: []string{"var n = 1, out = [];\nout.push(() => n);\nfunction main(){ let n = 2; out.push(() => n) }\nmain()"},
			target: "out[0]", closure: "n", reason: "local variable",
		},
		{
			name:   "closure through a shorthand property",
			chunks: []string{"var out = [];\nfunction main(opts){ out.push(() => ({opts})) }\nmain()"},
			target: "out[0]", closure: "opts", reason: "parameter",
		},
		{
			name:   "with statement",
			chunks: []string{"var out = [];\nwith ({}) { out.push(() => x) }"},
			target: "out[0]", closure: "x", reason: "with statement",
		},
	})
}

func TestClosureErrorMessage(t *testing.T) {
	tl, vm := session(t, "var out = [];\nfunction main() {\n  let n = 1;\n  const worker = () => n + 1;\n  out.push(worker);\n}\nmain();\n")
	_, err := tl.Analyze(toString(t, vm, "out[0]"))
	var ce *ClosureError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	want := `main.js:4:24: target worker uses "n", a local variable of an enclosing function (line 3), which cannot be copied to the child process: pass it through args`
	if ce.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", ce.Error(), want)
	}
	if ce.Function != "worker" || ce.DeclLine != 3 || ce.DeclCol != 7 {
		t.Fatalf("%+v", ce)
	}
}

func TestMethods(t *testing.T) {
	tl, vm := session(t, `var topVal = 10;
var o = {
  m(a) { return a + topVal },
  async am() { return 2 },
  *gen() { yield 3 },
  'a b'(x) { return x * 2 },
  42() { return 42 },
  get x() { return 1 },
  [Symbol.iterator]() { return 1 },
};
class C2 {
  run() { return 2 }
  static sm(v) { return v + 1 }
  static async sam() { return 5 }
  #p() { return 1 }
  peek() { return this.#p }
}`)
	cases := []struct {
		expr   string
		source string
		call   string // JS evaluated in a fresh VM with the target bound to t
		want   string
		uses   []string
	}{
		{"o.m", "({m(a) { return a + topVal }}).m", "t(1)", "11", []string{"topVal"}},
		{"o.am", "({async am() { return 2 }}).am", "typeof t().then", "function", nil},
		{"o.gen", "({*gen() { yield 3 }}).gen", "t().next().value", "3", nil},
		{`o["a b"]`, `({'a b'(x) { return x * 2 }})["a b"]`, "t(4)", "8", nil},
		{"o[42]", "({42() { return 42 }})[42]", "t()", "42", nil},
		{"C2.prototype.run", "({run() { return 2 }}).run", "t()", "2", nil},
		{"C2.sm", "({sm(v) { return v + 1 }}).sm", "t(1)", "2", nil},
		{"C2.sam", "({async sam() { return 5 }}).sam", "typeof t().then", "function", nil},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			tg, err := tl.Analyze(toString(t, vm, c.expr))
			if err != nil {
				t.Fatal(err)
			}
			if tg.Source != c.source {
				t.Fatalf("Source = %q, want %q", tg.Source, c.source)
			}
			if got := names(tg.Uses); !slices.Equal(got, orEmpty(c.uses)) {
				t.Errorf("Uses = %v, want %v", got, orEmpty(c.uses))
			}
			child := goja.New()
			prg, err := goja.Compile("child.js", "var topVal = 10; var t = "+tg.Source, false)
			if err != nil {
				t.Fatalf("compile %q: %v", tg.Source, err)
			}
			if _, err := child.RunProgram(prg); err != nil {
				t.Fatal(err)
			}
			v, err := child.RunString(c.call)
			if err != nil {
				t.Fatal(err)
			}
			if v.String() != c.want {
				t.Errorf("%s = %s, want %s", c.call, v, c.want)
			}
		})
	}
	for _, expr := range []string{
		"Object.getOwnPropertyDescriptor(o, 'x').get",
		"o[Symbol.iterator]",
		"new C2().peek()",
	} {
		t.Run(expr, func(t *testing.T) {
			_, err := tl.Analyze(toString(t, vm, expr))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

var stackPos = regexp.MustCompile(`main\.js:\d+:\d+`)

// childStack compiles tg the way a child would (padding so that the text
// keeps its position), calls it with call and returns the first main.js
// position of the thrown error's stack.
func childStack(t *testing.T, tg *Target) string {
	t.Helper()
	var b strings.Builder
	switch {
	case tg.Line > 1: // bind on the previous line, which the padding leaves empty
		b.WriteString(strings.Repeat("\n", tg.Line-2))
		b.WriteString("__t =\n")
		b.WriteString(strings.Repeat(" ", tg.Col-1))
	case tg.Col > len("__t ="):
		b.WriteString("__t =")
		b.WriteString(strings.Repeat(" ", tg.Col-1-len("__t =")))
	default:
		t.Fatalf("cannot place %d:%d", tg.Line, tg.Col)
	}
	b.WriteString(tg.Source)
	vm := goja.New()
	if _, err := vm.RunScript(tg.File, b.String()); err != nil {
		t.Fatalf("compile in child: %v\n%s", err, b.String())
	}
	v, err := vm.RunString(`(function(){ try { __t(1) } catch (e) { return e.stack } })()`)
	if err != nil {
		t.Fatal(err)
	}
	return stackPos.FindString(v.String())
}

func TestPositions(t *testing.T) {
	src := "var a = 1;\n" +
		"function worker(x) {\n" +
		"  throw new Error('w' + x)\n" +
		"}\n" +
		"var o = {\n" +
		"    m(y) { throw new Error('m' + y) },\n" +
		"};\n" +
		"var p = {\n" +
		"m(y) { throw new Error('p' + y) }\n" +
		"};\n" +
		"var arrow =  (z) => { throw new Error('a' + z) };\n" +
		"class K {\n" +
		"  static run(v) {\n" +
		"    throw new Error('k' + v) } }\n"
	tl, vm := session(t, src)
	cases := []struct {
		expr       string
		line, col  int
		sourceHead string
	}{
		{"worker", 2, 1, "function worker"},
		{"o.m", 6, 3, "({m(y)"},
		{"p.m", 8, 1, "({\nm(y)"},
		{"arrow", 11, 14, "(z) =>"},
		{"K.run", 13, 8, "({run(v)"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			tg, err := tl.Analyze(toString(t, vm, c.expr))
			if err != nil {
				t.Fatal(err)
			}
			if tg.File != "main.js" || tg.Line != c.line || tg.Col != c.col || !strings.HasPrefix(tg.Source, c.sourceHead) {
				t.Fatalf("got %s:%d:%d %q, want main.js:%d:%d %q...", tg.File, tg.Line, tg.Col, tg.Source, c.line, c.col, c.sourceHead)
			}
			v, err := vm.RunString(`(function(){ try { (` + c.expr + `)(1) } catch (e) { return e.stack } })()`)
			if err != nil {
				t.Fatal(err)
			}
			want := stackPos.FindString(v.String())
			if want == "" {
				t.Fatalf("no position in parent stack %q", v)
			}
			if got := childStack(t, tg); got != want {
				t.Errorf("child stack position %s, parent %s", got, want)
			}
		})
	}
}

func TestREPLRedefinition(t *testing.T) {
	tl, vm := session(t,
		"var cfg = 1; function helper(){ return cfg }\nvar oldHelper = helper",
		"function helper(){ return other }\nvar other = 2",
		"var worker = () => helper() + cfg2\nvar cfg2 = 3",
	)
	tg, err := tl.Analyze(toString(t, vm, "worker"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tg.Uses); !slices.Equal(got, []string{"helper", "other", "cfg2"}) {
		t.Fatalf("Uses = %v", got)
	}
	h := tg.Uses[0]
	if h.File != "<repl 2>" || h.Source != "function helper(){ return other }" || h.Line != 1 || h.Col != 1 {
		t.Fatalf("helper = %+v", h)
	}
	if tg.File != "<repl 3>" || tg.Line != 1 || tg.Col != 14 {
		t.Fatalf("position %s:%d:%d", tg.File, tg.Line, tg.Col)
	}
	// The old definition, still reachable through a variable, is analysed
	// from its own text.
	old, err := tl.Analyze(toString(t, vm, "oldHelper"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(old.Uses); !slices.Equal(got, []string{"cfg"}) || old.File != "<repl 1>" {
		t.Fatalf("old helper: %+v", old)
	}
	// Orders: cfg, helper(1), oldHelper, helper(2) replaces, other, worker, cfg2.
	var order []string
	for _, b := range tl.Bindings() {
		order = append(order, fmt.Sprintf("%s@%d", b.Name, b.Order))
	}
	if want := "cfg@1 oldHelper@3 helper@4 other@5 worker@6 cfg2@7"; strings.Join(order, " ") != want {
		t.Fatalf("bindings %v, want %s", order, want)
	}

	// A bare `var x;` in a later chunk keeps the earlier binding.
	if err := tl.Add("<repl 4>", "var helper;"); err != nil {
		t.Fatal(err)
	}
	if b, _ := tl.Lookup("helper"); b.Kind != FunctionDecl || b.File != "<repl 2>" {
		t.Fatalf("helper after var: %+v", b)
	}
	// A redefinition invalidates cached analyses.
	if err := tl.Add("<repl 5>", "function helper(){ return 0 }"); err != nil {
		t.Fatal(err)
	}
	tg, err = tl.Analyze(toString(t, vm, "worker"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tg.Uses); !slices.Equal(got, []string{"cfg2", "helper"}) {
		t.Fatalf("Uses after redefinition = %v", got)
	}
}

func TestModules(t *testing.T) {
	src := `function require(name){ var r = [name]; r.inspect = name; r.join = 1; r.resolve = 2; return r }
var name = 'x';
const fs = require('fs');
const {join, resolve: res = 0} = require('path');
let util = require('util').inspect, os = require("os");
var notmod = require(name);
const [arr] = require('arr');
if (true) { var nested = require('nested') }
function worker(){ return fs.x + join + res + util + os + notmod + arr + nested }`
	tl, vm := session(t, src)
	tg, err := tl.Analyze(toString(t, vm, "worker"))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind      Kind
		source    string
		spec      string
		line, col int
	}
	wants := map[string]want{
		"fs":     {Module, "const fs = require('fs')", "fs", 3, 1},
		"join":   {Module, "const {join} = require('path')", "path", 4, 1},
		"res":    {Module, "const {resolve: res = 0} = require('path')", "path", 4, 1},
		"util":   {Module, "let util = require('util').inspect", "util", 5, 1},
		"os":     {Module, `let os = require("os")`, "os", 5, 1},
		"notmod": {Variable, "", "", 6, 5},
		"arr":    {Variable, "", "", 7, 8},
		"nested": {Variable, "", "", 8, 17},
	}
	if got := names(tg.Uses); !slices.Equal(got, []string{"fs", "join", "res", "util", "os", "notmod", "arr", "nested"}) {
		t.Fatalf("Uses = %v", got)
	}
	for _, b := range tg.Uses {
		w := wants[b.Name]
		if b.Kind != w.kind || b.Source != w.source || b.Spec != w.spec || b.Line != w.line || b.Col != w.col {
			t.Errorf("%s = %+v, want %+v", b.Name, b, w)
		}
	}
	// Module sources run on their own in a child.
	child := goja.New()
	if _, err := child.RunString(`function require(name){ var r = [name]; r.inspect = name; r.join = 1; r.resolve = 2; return r }`); err != nil {
		t.Fatal(err)
	}
	for _, b := range tg.Uses {
		if b.Kind == Module {
			if _, err := child.RunString(b.Source); err != nil {
				t.Errorf("%s: %v", b.Source, err)
			}
		}
	}
}

func TestDetached(t *testing.T) {
	tl, vm := session(t, `var topVar = 1; function helper(){ return 2 }
var made = new Function('a', 'return a + topVar + helper() + Math.PI');`)
	tg, err := tl.Analyze(toString(t, vm, "made"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tg.Uses); !slices.Equal(got, []string{"topVar", "helper"}) || !slices.Equal(tg.Globals, []string{"Math"}) {
		t.Fatalf("Uses %v Globals %v", got, tg.Globals)
	}
	if tg.Line != 0 || tg.Col != 0 || tg.File != "" {
		t.Fatalf("position %s:%d:%d", tg.File, tg.Line, tg.Col)
	}
	m, err := tl.Analyze("m(a){ return a + topVar }")
	if err != nil || m.Source != "({m(a){ return a + topVar }}).m" || !slices.Equal(names(m.Uses), []string{"topVar"}) {
		t.Fatalf("detached method: %+v, %v", m, err)
	}
	for _, bad := range []string{"function () { [native code] }", "get x(){ return 1 }", "1 + 2", "a) + (b"} {
		if _, err := tl.Analyze(bad); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Analyze(%q) = %v, want ErrUnsupported", bad, err)
		}
	}
}

func TestAddParseError(t *testing.T) {
	tl := New()
	err := tl.Add("bad.js", "var ok = 1;\nfunction (")
	if err == nil || !strings.Contains(err.Error(), "bad.js") || !strings.Contains(err.Error(), "Line 2:") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := tl.Lookup("ok"); ok {
		t.Fatal("a chunk that does not parse must not be added")
	}
}

func TestAnalyzeName(t *testing.T) {
	tl, _ := session(t, `var k = 1, out = [];
function worker(){ return k }
function main(){ let k = 2; out.push(function worker(){ return k }) }
main()`)
	// The same text occurs nested with a captured local: Analyze prefers
	// the error, AnalyzeName analyses the declaration itself.
	if _, err := tl.Analyze("function worker(){ return k }"); !errors.As(err, new(*ClosureError)) {
		t.Fatalf("Analyze: %v", err)
	}
	tg, err := tl.AnalyzeName("worker")
	if err != nil || !slices.Equal(names(tg.Uses), []string{"k"}) || tg.Line != 2 {
		t.Fatalf("AnalyzeName: %+v, %v", tg, err)
	}
	if _, err := tl.AnalyzeName("k"); err == nil {
		t.Fatal("AnalyzeName of a variable must fail")
	}
	if _, err := tl.AnalyzeName("nope"); err == nil {
		t.Fatal("AnalyzeName of an unknown name must fail")
	}
}

func TestCacheReturnsCopies(t *testing.T) {
	tl, vm := session(t, `var a = 1; function worker(){ return a + b }`)
	src := toString(t, vm, "worker")
	tg1, err := tl.Analyze(src)
	if err != nil {
		t.Fatal(err)
	}
	tg1.Uses[0].Name = "mutated"
	tg1.Globals[0] = "mutated"
	tg2, _ := tl.Analyze(src)
	if tg2.Uses[0].Name != "a" || tg2.Globals[0] != "b" {
		t.Fatalf("cache shares slices: %+v", tg2)
	}
}

// TestLiteralIndex checks that every recorded literal's text sits at its
// recorded position, and that goja's toString of every function of a script
// is found.
func TestLiteralIndex(t *testing.T) {
	src := `var fns = [];
function a(x, y = () => x) { return class { m(){ return y } static s(){} } }
fns.push(a, a(1), a(1).s, a(1).prototype.m, async function(){}, function*(){}, async () => 1, x => x);
var o = { f: function(){}, g: () => 2, h() {}, async i() {}, *j() {}, 'k-l'() {} };
for (var k in o) fns.push(o[k]);
class Z extends Object { static #q() {} }
fns.push(Z);`
	tl, vm := session(t, src)
	for text, occ := range tl.literals {
		for _, l := range occ {
			off := int(l.idx) - l.chunk.file.Base()
			if !strings.HasPrefix(src[off:], text) {
				t.Errorf("literal %q not at offset %d", text, off)
			}
		}
	}
	v, err := vm.RunString(`fns.map(f => Function.prototype.toString.call(f))`)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range v.Export().([]any) {
		if len(tl.literals[text.(string)]) == 0 {
			t.Errorf("toString text %q not indexed", text)
		}
	}
}

func TestConcurrent(t *testing.T) {
	tl, vm := session(t, `var a = 1; function worker(){ return a } var w2 = () => worker()`)
	srcs := []string{toString(t, vm, "worker"), toString(t, vm, "w2")}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if _, err := tl.Analyze(srcs[(i+j)%2]); err != nil {
					t.Error(err)
					return
				}
				if j%10 == 0 {
					if err := tl.Add(fmt.Sprintf("<repl %d.%d>", i, j), fmt.Sprintf("var v%d_%d = %d", i, j, j)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkAddAnalyze(b *testing.B) {
	var sb strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&sb, "function f%d(x) {\n  const y = x + %d;\n  return f%d(y) + [1, 2].map(z => z * y).length\n}\n", i, i, (i+1)%2000)
	}
	src := sb.String()
	for b.Loop() {
		tl := New()
		if err := tl.Add("big.js", src); err != nil {
			b.Fatal(err)
		}
		if _, err := tl.AnalyzeName("f0"); err != nil {
			b.Fatal(err)
		}
	}
}
