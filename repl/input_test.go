package repl

import "testing"

func TestAnalyse(t *testing.T) {
	for _, c := range []struct {
		in, want string
		async    bool
	}{
		{"let x = 1", "var x = 1", false},
		{"const y = 1, z = 2", "var   y = 1, z = 2", false},
		{"let a, b = 2", "var a = void 0, b = 2", false},
		{"class C extends B { m() {} }", "var C = class C extends B { m() {} };", false},
		{"class C {}\n(1)", "var C = class C {};\n(1)", false},
		{"{a: 1}", "({a: 1})\n", false},
		{"{ let q = 1 }", "{ let q = 1 }", false}, // a block: nested declarations stay
		{"for (let i of x) {}", "for (let i of x) {}", false},
		{"function f() { let l = 1 }", "function f() { let l = 1 }", false},
		{"await p", "(async () => {return (await p);\n})()", true},
		{"const v = await p", "var v = void 0; (async () => {(     v = await p);\n})()", true},
		{"let {a, b: [c]} = await p;", "var a = void 0, c = void 0; (async () => {(   {a, b: [c]} = await p);;\n})()", true},
		{"let m = (await p)\nm", "var m = void 0; (async () => {(   m = (await p));\nreturn (m);\n})()", true},
		{"(await p)", "(async () => {return ((await p));\n})()", true},
		{"let w = await 5, z", "var w = void 0, z = void 0; (async () => {(   w = await 5, z = void 0);\n})()", true},
	} {
		in := analyse(c.in)
		if in.status != complete || in.src != c.want || in.async != c.async {
			t.Errorf("%q\n got %q (status %d, async %v)\nwant %q", c.in, in.src, in.status, in.async, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want status
	}{
		{"await f(", incomplete},
		{"const v = await f(", incomplete},
		{"await `x", incomplete},
		{"await 1 +* 2", invalid},
		{"return await 1", invalid},
		{"await 1\nfunction h() {}", invalid},
	} {
		if got := analyse(c.in).status; got != c.want {
			t.Errorf("%q: status %d, want %d", c.in, got, c.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		line, cmd, arg string
		ok             bool
	}{
		{".help", ".help", "", true},
		{"  .load  some file.js ", ".load", "some file.js", true},
		{".5 + 1", "", "", false},
		{".", "", "", false},
		{"x.y", "", "", false},
	} {
		cmd, arg, ok := command(c.line)
		if cmd != c.cmd || arg != c.arg || ok != c.ok {
			t.Errorf("%q: %q %q %v", c.line, cmd, arg, ok)
		}
	}
}
