package repl

import (
	"slices"
	"testing"
)

func TestComplete(t *testing.T) {
	s, _, _ := newSession(t, SessionOptions{})
	s.Eval("const arr = [1, 2]")
	s.Eval("class Shape { area() { return 0 } }\nclass Square extends Shape { constructor() { super(); this.side = 2 } }")
	s.Eval("const sq = new Square()")
	s.Eval("let nested = {inner: {deep: 1, deeper: 2}}")
	for _, c := range []struct {
		line, head string
		want       []string // exactly, or (with a leading "+") these among others
	}{
		{"arr.fil", "arr.", []string{"fill", "filter"}},
		{"arr.le", "arr.", []string{"length"}},
		{"[1,2,3].ma", "[1,2,3].", []string{"map"}},
		{"'abc'.toUp", "'abc'.", []string{"toUpperCase"}},
		{"x = {a: {bb: 1}}.a.b", "x = {a: {bb: 1}}.a.", []string{"bb"}},
		{"Math.ma", "Math.", []string{"max"}},
		{"nested.inner.de", "nested.inner.", []string{"deep", "deeper"}},
		{"nested?.inner.de", "nested?.inner.", []string{"deep", "deeper"}},
		// Own properties first, then each prototype's.
		{"sq.", "sq.", []string{"+side", "+constructor", "+area", "+hasOwnProperty"}},
		{"con", "", []string{"console", "const", "continue"}},
		{"Squ", "", []string{"Square"}}, // a class of the session (var-ified)
		{"arr", "", []string{"arr"}},
		{"if (ne", "if (", []string{"nested", "new"}},
		{"foo(1).ba", "foo(1).ba", nil}, // calls are not made
		{"a[0].x", "a[0].x", nil},
		{"1.to", "1.to", nil},
		{"nothing.x", "nothing.", nil},
	} {
		head, items, tail := s.Complete(c.line, len([]rune(c.line)))
		if head != c.head || tail != "" {
			t.Errorf("%q: head %q tail %q", c.line, head, tail)
		}
		if len(c.want) > 0 && c.want[0][0] == '+' {
			last := -1
			for _, w := range c.want {
				i := slices.Index(items, w[1:])
				if i < 0 || i < last {
					t.Errorf("%q: %q missing or out of order in %q", c.line, w[1:], items)
				}
				last = i
			}
			continue
		}
		if !slices.Equal(items, c.want) {
			t.Errorf("%q: %q, want %q", c.line, items, c.want)
		}
	}
	// The cursor in the middle of the line.
	head, items, tail := s.Complete("arr.le + 1", 6)
	if head != "arr." || tail != " + 1" || !slices.Equal(items, []string{"length"}) {
		t.Errorf("middle: %q %q %q", head, items, tail)
	}
}
