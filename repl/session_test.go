package repl

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"mpjs/runtime"

	"mpjs/internal/syncbuf"
)

// syncBuffer is an io.Writer for the session's own reports.
type syncBuffer struct{ syncbuf.Buffer }

// waitFor polls until the buffer matches re.
func (s *syncBuffer) waitFor(t *testing.T, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(5 * time.Second)
	for !rx.MatchString(s.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("reports %q do not match %q", s.String(), re)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newSession(t *testing.T, opts SessionOptions) (*Session, *runtime.Runtime, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if opts.Output == nil {
		opts.Output = out
	}
	rt := runtime.New(runtime.Options{Stdout: out, Stderr: out})
	s := NewSession(rt, opts)
	t.Cleanup(s.Close)
	return s, rt, out
}

// TestResults checks the printing of every kind of value, the way Node's
// REPL prints them (the inspect package has the Node-checked details).
func TestResults(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	for _, c := range []struct{ in, want string }{
		{"1 + 1", "2"},
		{"-0", "-0"},
		{"0.1 + 0.2", "0.30000000000000004"},
		{"NaN", "NaN"},
		{"10n ** 20n", "100000000000000000000n"},
		{"'it\\'s'", `"it's"`},
		{"'abc'", "'abc'"},
		{"`two\nlines`", "'two\\nlines'"},
		{"true", "true"},
		{"null", "null"},
		{"undefined", "undefined"},
		{"Symbol('s')", "Symbol(s)"},
		{"[1, 'a', [2, [3, [4, [5]]]]]", "[ 1, 'a', [ 2, [ 3, [Array] ] ] ]"},
		{"({a: 1, b: {c: {d: {e: 1}}}})", "{ a: 1, b: { c: { d: [Object] } } }"},
		{"{a: 1, 'b-c': 2}", "{ a: 1, 'b-c': 2 }"}, // an object literal, not a block
		{"{ let q = 5; q * 2 }", "10"},             // a block
		{"new Map([[1, 'one'], ['k', {x: 1}]])", "Map(2) { 1 => 'one', 'k' => { x: 1 } }"},
		{"new Set(['a', 1])", "Set(2) { 'a', 1 }"},
		{"function named() {}", "undefined"},
		{"named", "[Function: named]"},
		{"(() => {})", "[Function (anonymous)]"},
		{"class Point { constructor() { this.x = 1; this.y = 2 } }", "undefined"},
		{"Point", "[class Point]"},
		{"new Point()", "Point { x: 1, y: 2 }"},
		{"new Uint8Array([1, 2])", "Uint8Array(2) [ 1, 2 ]"},
		{"/ab+c/gi", "/ab+c/gi"},
		{"new Date(0)", "1970-01-01T00:00:00.000Z"},
		{"Object.create(null)", "[Object: null prototype] {}"},
		{"[ , 1]", "[ <1 empty item>, 1 ]"},
		{"Promise.resolve(4)", "Promise { 4 }"},
		{"var v = 1", "undefined"},
		{"if (true) { 'from if' }", "'from if'"},
		{"// only a comment", "undefined"},
	} {
		if got := s.Eval(c.in); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestColors(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{Colors: true})
	if got := s.Eval("[1, 'a', null, undefined]"); got != "[ \x1b[33m1\x1b[39m, \x1b[32m'a'\x1b[39m, \x1b[1mnull\x1b[22m, \x1b[90mundefined\x1b[39m ]" {
		t.Errorf("colours: %q", got)
	}
	s2, _, _ := newSession(t, SessionOptions{})
	if got := s2.Eval("1"); strings.Contains(got, "\x1b") {
		t.Errorf("colours without a terminal: %q", got)
	}
}

func TestUnderscore(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	eval := func(in, want string) {
		t.Helper()
		if got := s.Eval(in); got != want {
			t.Errorf("%s\n got %q\nwant %q", in, got, want)
		}
	}
	eval("_", "undefined")
	eval("[1, 2].map(x => x * 10)", "[ 10, 20 ]")
	eval("_", "[ 10, 20 ]")
	eval("_.length", "2")
	eval("let y = 3", "undefined") // a statement: _ becomes undefined, as in Node
	eval("_", "undefined")
	eval("throw new Error('e1')", "Uncaught Error: e1")
	eval("_error.message", "'e1'")
	eval("_ = 7", "Expression assignment to _ now disabled.\n7")
	eval("1", "1")
	eval("_", "7")
}

func TestErrors(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	eval := func(in, want string) {
		t.Helper()
		if got := s.Eval(in); got != want {
			t.Errorf("%s\n got %q\nwant %q", in, got, want)
		}
	}
	// Thrown by the input itself: no frame (as Node).
	eval("throw new Error('boom')", "Uncaught Error: boom")
	eval("throw 5", "Uncaught 5")
	eval("throw 'text'", "Uncaught 'text'")
	eval("throw {code: 1}", "Uncaught { code: 1 }")
	// From a function of an earlier input: its frame, by input name.
	eval("function f() {\n  throw new TypeError('bad')\n}", "undefined")
	eval("f()", "Uncaught TypeError: bad\n    at f (REPL5:2:9)")
	eval("undefined.x", "Uncaught TypeError: Cannot read property 'x' of undefined")
	eval("nope", "Uncaught ReferenceError: nope is not defined")
	// An error with extra properties.
	eval("throw Object.assign(new Error('x'), {code: 'E1'})", "Uncaught Error: x {\n  code: 'E1'\n}")
	// Syntax errors: the line, a caret, the message.
	eval("1 +* 2", "1 +* 2\n   ^\n\nUncaught SyntaxError: Unexpected token *")
	eval("let a = 1;\nlet = = 2", "let = = 2\n      ^\n\nUncaught SyntaxError: Unexpected token =")
	eval("'unterminated", "'unterminated\n^\n\nUncaught SyntaxError: Unexpected token ILLEGAL")
	eval("return 1", "return 1\n^\n\nUncaught SyntaxError: Illegal return statement")
	// The session goes on.
	eval("40 + 2", "42")
}

func TestIncomplete(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	for _, in := range []string{
		"function f() {", "[1, 2", "foo(", "`abc", "`a ${", "1 +", "/* c", "{a: 1",
		"if (x)", "x.", "let x =", "class A {", "a =>", "x ? y :", "new",
		"async function g() { await", "foo(1,\n2", "({a: 1,", "x = `line1\nline2",
		"const v = await f(", "for (const x of [1]) {",
	} {
		if !s.Incomplete(in) {
			t.Errorf("%q is complete or invalid; want incomplete", in)
		}
	}
	for _, in := range []string{
		"1 + 1", "}", "1 +* 2", "'abc", "/re", "let", "// c", "await 1", "function f() {}",
		"{a: 1}", "x = `a\nb`",
	} {
		if s.Incomplete(in) {
			t.Errorf("%q is incomplete", in)
		}
	}
}

func TestMultiLineEval(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	src := "function add(a,\n  b) {\n  return a + b\n}"
	if got := s.Eval(src); got != "undefined" {
		t.Fatal(got)
	}
	if got := s.Eval("add(2,\n3)"); got != "5" {
		t.Fatal(got)
	}
	if got := s.Eval("`a\nb`"); got != "'a\\nb'" {
		t.Fatal(got)
	}
}

// TestRedeclare: a later input may declare a top-level name again.
func TestRedeclare(t *testing.T) {
	s, rt, _ := newSession(t, SessionOptions{})
	for _, c := range []struct{ in, want string }{
		{"let x = 1", "undefined"},
		{"let x = 2", "undefined"},
		{"x", "2"},
		{"const c = 'a'", "undefined"},
		{"const c = 'b'", "undefined"},
		{"c", "'b'"},
		{"let u", "undefined"},
		{"u = 5; let u", "5"},
		{"u", "undefined"},
		{"class K { m() { return 1 } }", "undefined"},
		{"class K { m() { return 2 } }", "undefined"},
		{"new K().m()", "2"},
		{"K.name", "'K'"},
		{"function x() { return 'fn' }", "undefined"},
		{"x()", "'fn'"},
		{"var x = 9", "undefined"},
		{"x", "9"},
		{"class P {}\n(1 + 1)", "2"}, // the class ends its statement
		{"for (let i = 0; i < 2; i++) {}; typeof i", "'undefined'"},
	} {
		if got := s.Eval(c.in); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	// The last definition is the one the capture sees.
	if b, ok := rt.TopLevel.Lookup("x"); !ok || b.Kind.String() != "Variable" {
		t.Errorf("x: %+v", b)
	}
	// Positions stay where they were typed, for stack traces.
	if got := s.Eval("const g = () => { throw new Error('p') }"); got != "undefined" {
		t.Fatal(got)
	}
	if got := s.Eval("g()"); !regexp.MustCompile(`^Uncaught Error: p\n    at g \(REPL\d+:1:25\)$`).MatchString(got) {
		t.Errorf("got %q", got)
	}
}

func TestTopLevelAwait(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	for _, c := range []struct{ in, want string }{
		{"await Promise.resolve(42)", "42"},
		{"_", "42"},
		{"await new Promise(r => setTimeout(() => r('later'), 50))", "'later'"},
		{"const {a, b: [c]} = await Promise.resolve({a: 1, b: [2]})", "undefined"},
		{"a + c", "3"},
		{"let w = await 5, z\nw", "5"},
		{"z", "undefined"},
		{"(await Promise.resolve([1, 2])).length", "2"},
		{"await Promise.reject(new RangeError('no'))", "Uncaught RangeError: no"},
		{"const r = await 1\nfunction h() {}", "function h() {}\n^\n\nUncaught SyntaxError: await at the top level works in inputs without function or class declarations: declare them in an input of their own (so that they are top-level, and can be Process targets)"},
	} {
		got := s.Eval(c.in)
		if c.want == "Uncaught RangeError: no" {
			got = strings.SplitN(got, "\n", 2)[0]
		}
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestInterrupt: Ctrl-C stops an endless loop, a sleep and an await, and
// the session goes on.
func TestInterrupt(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	s.Eval("function spin() { for (;;) {} }")
	for _, in := range []string{"spin()", "while (true) {}", "sleep(1000)", "await new Promise(() => {})"} {
		done := make(chan string, 1)
		go func() { done <- s.Eval(in) }()
		time.Sleep(100 * time.Millisecond)
		for !s.Interrupt() {
			time.Sleep(10 * time.Millisecond) // not started yet
		}
		select {
		case got := <-done:
			if !strings.HasPrefix(got, "Uncaught Error: Script execution was interrupted by Ctrl-C") {
				t.Errorf("%s: %q", in, got)
			}
			if in == "spin()" && !strings.Contains(got, "at spin (REPL1:") {
				t.Errorf("%s: no frame of spin: %q", in, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: not interrupted", in)
		}
		if got := s.Eval("1 + 1"); got != "2" {
			t.Fatalf("after %s: %q", in, got)
		}
	}
	if s.Interrupt() {
		t.Error("Interrupt with nothing running reported an input")
	}
	time.Sleep(200 * time.Millisecond) // a stale interrupt must not hit the next input
	if got := s.Eval("'still fine'"); got != "'still fine'" {
		t.Errorf("got %q", got)
	}
}

// TestInterruptStuckTimer: Ctrl-C with no input running stops a callback
// that keeps the loop busy.
func TestInterruptStuckTimer(t *testing.T) {
	s, _, out := newSession(t, SessionOptions{})
	s.Eval("setTimeout(function stuck() { for (;;) {} }, 10)")
	time.Sleep(100 * time.Millisecond)
	s.Interrupt()
	out.waitFor(t, `Uncaught Error: Script execution was interrupted by Ctrl-C\n    at stuck \(REPL1:`)
	if got := s.Eval("3"); got != "3" {
		t.Errorf("got %q", got)
	}
}

// TestReports: what goes wrong between inputs is reported, not dropped.
func TestReports(t *testing.T) {
	s, _, out := newSession(t, SessionOptions{})
	if got := s.Eval("setTimeout(() => { throw new RangeError('late') }, 20), 'ok'"); got != "'ok'" {
		t.Fatal(got)
	}
	out.waitFor(t, `Uncaught RangeError: late\n    at REPL1:1:26\n`)
	got := s.Eval("Promise.reject(new Error('nobody')); 1")
	if !strings.HasPrefix(got, "1\nUncaught Error: nobody\n    at REPL2:1:16") {
		t.Errorf("rejection in the input: %q", got)
	}
	s.Eval("setTimeout(() => Promise.reject(new Error('in a timer')), 20)")
	out.waitFor(t, `Uncaught Error: in a timer`)
	s.Eval("var n = 0; var iv = setInterval(() => { if (++n == 2) { clearInterval(iv); throw new Error('tick ' + n) } }, 10)")
	out.waitFor(t, `Uncaught Error: tick 2`)
	s.Eval("setImmediate(() => console.log('immediate'))")
	out.waitFor(t, "immediate\n")
}

// TestCapture: what the session defines can be sent to a child: the capture
// finds REPL functions, classes and variables (var-ified or not).
func TestCapture(t *testing.T) {
	s, rt, _ := newSession(t, SessionOptions{})
	for _, in := range []string{
		"const OFFSET = 10",
		"class Acc {\n  constructor(n) { this.n = n }\n  total() { return this.n + OFFSET }\n}",
		"function work(x) {\n  return new Acc(x).total()\n}",
		"let data = await Promise.resolve([1, 2])",
		"const viaArrow = x => work(x) + data.length",
	} {
		if got := s.Eval(in); got != "undefined" {
			t.Fatalf("%s: %s", in, got)
		}
	}
	for _, name := range []string{"work", "viaArrow"} {
		res := make(chan string, 1)
		rt.Loop.RunOnLoop(func(vm *goja.Runtime) {
			c, err := rt.Capture(vm.Get(name), "the target")
			if err != nil {
				res <- "error: " + err.Error()
				return
			}
			// Re-create it in this VM, as a child would, and call it.
			fn, err := rt.Instantiate(c)
			if err != nil {
				res <- "instantiate: " + err.Error()
				return
			}
			call, _ := goja.AssertFunction(fn)
			v, err := call(goja.Undefined(), vm.ToValue(5))
			if err != nil {
				res <- "call: " + err.Error()
				return
			}
			res <- v.String()
		})
		if got, want := <-res, map[string]string{"work": "15", "viaArrow": "17"}[name]; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	// A closure over a local is still refused.
	s.Eval("function outer() { const local = 1; return () => local }")
	res := make(chan string, 1)
	rt.Loop.RunOnLoop(func(vm *goja.Runtime) {
		_, err := rt.Capture(vm.Get("outer").ToObject(vm).Get("call").ToObject(vm), "t")
		_ = err
		f, _ := goja.AssertFunction(vm.Get("outer"))
		inner, _ := f(goja.Undefined())
		_, err = rt.Capture(inner, "the target")
		if err == nil {
			res <- "no error"
			return
		}
		res <- err.Error()
	})
	if got := <-res; !strings.Contains(got, `"local"`) {
		t.Errorf("closure: %s", got)
	}
}

func TestLoopRunsBetweenInputs(t *testing.T) {
	s, _, out := newSession(t, SessionOptions{})
	s.Eval("setTimeout(() => console.log('fired while idle'), 30)")
	out.waitFor(t, "fired while idle\n")
}

func TestEvalNamed(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	got := s.EvalNamed("/tmp/x.js", "function fx() {\n  throw new Error('in file')\n}\nfx()")
	if got != "Uncaught Error: in file\n    at fx (/tmp/x.js:2:9)" {
		t.Errorf("got %q", got)
	}
	if got := s.EvalNamed("f.js", "function ("); !strings.Contains(got, "Uncaught SyntaxError") {
		t.Errorf("incomplete file: %q", got)
	}
	if got := strings.Join(s.Inputs(), "|"); got != "function fx() {\n  throw new Error('in file')\n}\nfx()" {
		t.Errorf("inputs %q", got)
	}
}
