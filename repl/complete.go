package repl

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/dop251/goja"
)

// keywords are completed at the start of a word, as Node's REPL does.
var keywords = []string{
	"async", "await", "break", "case", "catch", "class", "const", "continue",
	"debugger", "default", "delete", "do", "else", "export", "extends", "false",
	"finally", "for", "function", "if", "import", "in", "instanceof", "let",
	"new", "null", "return", "static", "super", "switch", "this", "throw",
	"true", "try", "typeof", "undefined", "var", "void", "while", "with", "yield",
}

// completeWait bounds how long completion waits for a busy event loop.
const completeWait = 300 * time.Millisecond

// Complete completes the word before the cursor (pos, in runes) of line: a
// global name (a built-in, an mp name, or anything the session defined,
// let and const included) or keyword, or, after `expr.`, a property of expr
// — its own and its prototypes'. expr is a chain of names such as
// `pool.map` or `mp.Process.prototype`, which may start with an array,
// object or string literal (`[1, 2].`, `'abc'.`): completion calls no
// function, getters aside.
// It returns the text before the word, the candidates for the word, and the
// text after the cursor, as liner's WordCompleter does. Safe from any
// goroutine; it waits for the event loop a short while, and offers nothing if
// the loop is busy.
func (s *Session) Complete(line string, pos int) (head string, items []string, tail string) {
	r := []rune(line)
	if pos > len(r) {
		pos = len(r)
	}
	before, tail := string(r[:pos]), string(r[pos:])
	head, recv, word, ok := splitWord(before)
	if !ok {
		return before, nil, tail
	}
	res := make(chan []string, 1)
	if !s.rt.Loop.RunOnLoop(func(vm *goja.Runtime) { res <- s.candidates(vm, recv, word) }) {
		return before, nil, tail
	}
	select {
	case items = <-res:
	case <-time.After(completeWait):
	}
	return head, items, tail
}

// splitWord splits the text before the cursor into what stays, the
// receiver whose properties are wanted (none for globals) and the partial
// word. The receiver is a chain of names (a.b.c, a?.b), possibly starting
// with an array, object or string literal that calls nothing.
func splitWord(before string) (head string, recv receiver, word string, ok bool) {
	r := []rune(before)
	i := len(r)
	for i > 0 && isIdentRune(r[i-1]) {
		i--
	}
	word = string(r[i:])
	if word != "" && unicode.IsDigit(r[i]) {
		return "", receiver{}, "", false // a number
	}
	head = string(r[:i])
	if i == 0 || r[i-1] != '.' {
		if i > 0 && r[i-1] == '#' {
			return "", receiver{}, "", false
		}
		return head, receiver{}, word, true
	}
	j := i - 1 // the dot
	for j > 0 && (isIdentRune(r[j-1]) || r[j-1] == '.' || r[j-1] == '?' && r[j] == '.') {
		j--
	}
	chain := strings.ReplaceAll(string(r[j:i-1]), "?", "")
	if chain == "" || chain[0] == '.' {
		start, ok := literalStart(r, j)
		if !ok {
			return "", receiver{}, "", false
		}
		recv.literal = string(r[start:j])
		chain = strings.TrimPrefix(chain, ".")
	}
	if chain != "" {
		recv.names = strings.Split(chain, ".")
	}
	for _, n := range recv.names {
		if !isIdentifier(n) {
			return "", receiver{}, "", false
		}
	}
	return head, recv, word, true
}

// receiver is the expression before `.` whose properties are completed:
// an optional literal, then names.
type receiver struct {
	literal string
	names   []string
}

func (r receiver) none() bool { return r.literal == "" && len(r.names) == 0 }

// literalStart finds the start of an array, object or string literal that
// ends at end, and that cannot call anything or assign.
func literalStart(r []rune, end int) (int, bool) {
	if end == 0 {
		return 0, false
	}
	switch c := r[end-1]; c {
	case '\'', '"':
		for k := end - 2; k >= 0; k-- {
			if r[k] == c && (k == 0 || r[k-1] != '\\') {
				return k, true
			}
		}
	case ']', '}':
		open := map[rune]rune{']': '[', '}': '{'}[c]
		depth := 0
		for k := end - 1; k >= 0; k-- {
			switch r[k] {
			case '(', ')', '`', '=':
				return 0, false
			case c:
				depth++
			case open:
				depth--
				if depth == 0 {
					if k > 0 && (isIdentRune(r[k-1]) || r[k-1] == ']' || r[k-1] == '.') {
						return 0, false // a member access such as a[0], not a literal
					}
					return k, true
				}
			}
		}
	}
	return 0, false
}

func isIdentRune(c rune) bool {
	return c == '_' || c == '$' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// candidates lists the completions of word (loop goroutine).
func (s *Session) candidates(vm *goja.Runtime, recv receiver, word string) []string {
	var groups [][]string
	if recv.none() {
		groups = append(groups, ownNames(vm.GlobalObject()))
		var top []string
		for _, b := range s.rt.TopLevel.Bindings() {
			top = append(top, b.Name)
		}
		groups = append(groups, top, keywords)
	} else {
		obj := s.resolve(vm, recv)
		if obj == nil {
			return nil
		}
		for o, depth := obj, 0; o != nil && depth < 32; o, depth = o.Prototype(), depth+1 {
			groups = append(groups, ownNames(o))
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, g := range groups {
		var part []string
		for _, n := range g {
			if strings.HasPrefix(n, word) && !seen[n] && isIdentifier(n) {
				seen[n] = true
				part = append(part, n)
			}
		}
		sort.Strings(part)
		out = append(out, part...)
	}
	return out
}

// resolve evaluates a receiver: a literal is evaluated (it calls nothing),
// names are read, properties got (getters run, nothing else).
func (s *Session) resolve(vm *goja.Runtime, recv receiver) (obj *goja.Object) {
	defer func() {
		if recover() != nil {
			obj = nil
		}
	}()
	names := recv.names
	var (
		v   goja.Value
		err error
	)
	if recv.literal != "" {
		v, err = vm.RunString("(" + recv.literal + ")")
	} else {
		// A name: let and const bindings are not on the global object.
		v, err = vm.RunString(names[0])
		names = names[1:]
	}
	if err != nil {
		return nil
	}
	for _, p := range names {
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		v = v.ToObject(vm).Get(p)
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v.ToObject(vm)
}

// ownNames lists an object's own string keys, enumerable or not.
func ownNames(o *goja.Object) (names []string) {
	defer func() {
		if recover() != nil {
			names = nil
		}
	}()
	return slices.Clone(o.GetOwnPropertyNames())
}

// isIdentifier reports whether s can follow a dot.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !isIdentRune(c) || i == 0 && unicode.IsDigit(c) {
			return false
		}
	}
	return true
}
