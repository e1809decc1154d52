// Package capture owns the static analysis behind copying a target function
// to a child process: it parses the script (or every REPL input) once,
// records the top-level bindings and every function/class literal with the
// names it uses from outside itself, and, given a target's toString() text,
// finds its literal, rejects variables captured from enclosing functions or
// blocks (ClosureError), and lists the top-level functions, classes,
// variables and modules the child must re-create, transitively.
//
// The package only analyses source text; evaluating anything (reading
// variable values, requiring modules, compiling in the child) is the
// caller's business.
//
// Scoping follows goja: function declarations in blocks are block-scoped
// (no Annex B hoisting), `var` hoists to the enclosing function or to the
// top level. Known limits: code made by a direct eval() inside a function is
// not seen (its text is analysed on its own, against the top level); a name
// used inside a with statement is treated as captured; a method wrapped into
// an object literal gets that object as its home, so `super` in a copied
// class method refers to Object.prototype; source maps are not applied to
// positions.
package capture

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// Kind of a top-level binding.
type Kind int

const (
	// FunctionDecl is a top-level `function f(){}` (also async/generator);
	// the child re-creates it from Binding.Source.
	FunctionDecl Kind = iota + 1
	// ClassDecl is a top-level `class C {}`; the child re-creates it from
	// Binding.Source.
	ClassDecl
	// Variable is a top-level let/const/var name (including names bound by
	// destructuring, for heads and var declarations nested in top-level
	// blocks); the caller copies its current value.
	Variable
	// Module is a name bound directly at top level by
	// `const|let|var x = require('literal')` (optionally followed by
	// `.prop` accesses) or `const {a, b: c} = require('literal')`; the child
	// re-requires it by running Binding.Source.
	Module
)

// String returns the Go name of the kind.
func (k Kind) String() string {
	switch k {
	case FunctionDecl:
		return "FunctionDecl"
	case ClassDecl:
		return "ClassDecl"
	case Variable:
		return "Variable"
	case Module:
		return "Module"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Binding is one top-level name.
type Binding struct {
	// Name is the bound name.
	Name string
	// Kind says how the child gets the name.
	Kind Kind
	// Source is, for FunctionDecl/ClassDecl, the declaration's exact source
	// text; for Module, a declaration statement that binds only Name, e.g.
	// "const fs = require('fs')" (the statement's own text, without the
	// semicolon, when it binds nothing else; otherwise rebuilt from the
	// keyword, the binding and the require call, e.g. "const {a} = require('x')"
	// for one name of `const {a, b} = require('x')`); for Variable, empty.
	Source string
	// File, Line and Col locate the binding in its chunk (1-based; Col in
	// bytes, as goja counts): the start of Source for FunctionDecl/ClassDecl,
	// the declaration keyword for Module, the declared identifier for
	// Variable.
	File      string
	Line, Col int
	// Order is the global order of declaration across chunks: bindings with
	// smaller Order were declared first. A name redefined by a later chunk
	// gets a new, larger Order.
	Order int
	// Spec is, for Module, the argument of require().
	Spec string
}

// Target is the analysis of one function to be sent to a child.
type Target struct {
	// Name is the target's name for messages: its own name, the method key,
	// the variable or property it is assigned to, or "anonymous".
	Name string
	// Source is an expression that evaluates to the function when compiled
	// in expression position (e.g. after `(` or `=`; a function or class
	// declaration text is not a statement-level expression by itself):
	// function, arrow and class text as is, and a method shorthand wrapped
	// as `({m(a){...}}).m` (or `({'a b'(){...}})["a b"]`, `({1(){...}})[1]`).
	Source string
	// File, Line and Col say where the first byte of Source must be placed
	// (by padding with Line-1 newlines and Col-1 spaces) so that the
	// function text lands at its original file:line:col and stack traces
	// in the child match the parent. For unwrapped text that is the
	// function's own position. For a wrapped method it is 2 bytes before
	// the method on the same line when the method starts at column 3 or
	// later; otherwise Source gets a newline and padding after `({` and
	// Line/Col point to column 1 of the previous line; only a method on
	// line 1 before column 3 (which JS syntax hardly allows) is shifted.
	// Line and Col are 0 (and File empty) when the text was not found in
	// any chunk.
	File      string
	Line, Col int
	// Uses are the top-level bindings the target needs: those its text
	// refers to and, transitively, those the FunctionDecl/ClassDecl
	// bindings among them refer to (not through variables' values). Each
	// once, sorted by Order. A top-level function target is itself in Uses
	// only if it is referred to (recursion, directly or through other
	// functions); the caller then defines it once and uses that definition.
	// A class's (or named function expression's) own name used inside it is
	// bound by the text itself and is not in Uses. A Variable may hold a
	// function that refers back to the target: a caller that analyses
	// function values must guard against cycles.
	Uses []Binding
	// Globals are the free names (of the target and the used functions and
	// classes) that are not top-level bindings: built-ins, host bindings or
	// typos. Sorted, deduplicated.
	Globals []string
}

func (t *Target) clone() *Target {
	if t == nil {
		return nil
	}
	c := *t
	c.Uses = slices.Clone(t.Uses)
	c.Globals = slices.Clone(t.Globals)
	return &c
}

// ClosureError: the target (or a top-level function it uses) refers to a
// variable of an enclosing function or block scope, which cannot be copied.
type ClosureError struct {
	// Name is the captured variable.
	Name string
	// Function is the target's name, or "anonymous".
	Function string
	// File, Line and Col locate the (first) reference to Name.
	File      string
	Line, Col int
	// Reason says what Name is, e.g. "a local variable of an enclosing
	// function" or "a block-scoped variable of an enclosing block".
	Reason string
	// DeclLine and DeclCol locate Name's declaration (0 if unknown).
	DeclLine, DeclCol int
}

// Error implements error.
func (e *ClosureError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	}
	fmt.Fprintf(&b, "target %s uses %q, %s", e.Function, e.Name, e.Reason)
	if e.DeclLine > 0 {
		fmt.Fprintf(&b, " (line %d)", e.DeclLine)
	}
	b.WriteString(", which cannot be copied to the child process: pass it through args")
	return b.String()
}

// ErrUnsupported is wrapped by the errors Analyze returns for a function
// that cannot be sent to a child at all (a getter or setter, a private
// method, a method with a computed key, or text that is not a function).
var ErrUnsupported = errors.New("unsupported target")

// chunk is one added source.
type chunk struct {
	name string
	file *file.File
}

func (c *chunk) position(idx file.Idx) (line, col int) {
	p := c.file.Position(int(idx) - c.file.Base())
	return p.Line, p.Column
}

// entry is a top-level binding with the literal it declares.
type entry struct {
	b   Binding
	lit *literal // FunctionDecl, ClassDecl
	// weak marks a `var x` without initializer: it does not replace an
	// earlier binding of x.
	weak bool
}

type result struct {
	target *Target
	err    error
}

// maxCache bounds the Analyze cache (targets made by new Function could
// otherwise grow it without limit).
const maxCache = 4096

// TopLevel is the analysed top level of a script or REPL session: every
// top-level binding, where it is declared, and every function/class literal
// in the sources with its enclosing scopes.
//
// A TopLevel is safe for concurrent use.
type TopLevel struct {
	mu       sync.Mutex
	bindings map[string]*entry
	literals map[string][]*literal // by exact source text, in source order
	order    int
	cache    map[string]result
}

// New returns an empty TopLevel.
func New() *TopLevel {
	return &TopLevel{
		bindings: make(map[string]*entry),
		literals: make(map[string][]*literal),
		cache:    make(map[string]result),
	}
}

// Add parses one chunk of source (the script, or one REPL input) and adds
// its top level; a later chunk's binding of a name replaces an earlier one
// (except a bare `var x;`, which redeclares without changing anything).
// Returns the parse error (goja's message, with file, line and column).
func (t *TopLevel) Add(filename, src string) error {
	prog, err := parser.ParseFile(nil, filename, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return err
	}
	c := &chunk{name: filename, file: prog.File}
	w := newWalker(c)
	w.program(prog)
	decls := winners(w.top)

	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range w.lits {
		t.literals[l.source] = append(t.literals[l.source], l)
	}
	for _, d := range decls {
		weak := d.isVar && !d.hasInit
		if old := t.bindings[d.name]; old != nil && weak {
			continue
		}
		t.order++
		line, col := c.position(d.idx)
		t.bindings[d.name] = &entry{
			b: Binding{Name: d.name, Kind: d.kind, Source: d.source, File: filename,
				Line: line, Col: col, Order: t.order, Spec: d.spec},
			lit:  d.lit,
			weak: weak,
		}
	}
	clear(t.cache)
	return nil
}

// winners picks, for each top-level name of a chunk, the declaration whose
// value the name has after the chunk ran, and returns them in source order.
func winners(top []topDecl) []*topDecl {
	win := make(map[string]*topDecl, len(top))
	for i := range top {
		d := &top[i]
		cur := win[d.name]
		switch {
		case cur == nil:
		case d.isVar && !d.hasInit:
			continue // `var x;` changes nothing
		case d.kind == FunctionDecl && cur.isVar && cur.hasInit:
			continue // the function is hoisted; the var assignment runs later
		}
		win[d.name] = d
	}
	out := make([]*topDecl, 0, len(win))
	for _, d := range win {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].at < out[j].at
	})
	return out
}

// Lookup returns the current top-level binding of name.
func (t *TopLevel) Lookup(name string) (Binding, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.bindings[name]
	if e == nil {
		return Binding{}, false
	}
	return e.b, true
}

// Bindings returns every current top-level binding, sorted by Order.
func (t *TopLevel) Bindings() []Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Binding, 0, len(t.bindings))
	for _, e := range t.bindings {
		out = append(out, e.b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// Analyze finds fnSource (the target's toString text) among the
// function/class literals of the added chunks and computes what it needs.
// If the text occurs several times, every occurrence is checked and the
// first error wins (a local is never silently replaced by a top-level
// value); otherwise the first occurrence gives the position. If the text
// appears nowhere (e.g. a function made by `new Function`), it is parsed on
// its own and every free name is resolved against the top level.
//
// The error is a *ClosureError for a captured local, wraps ErrUnsupported
// for a function that cannot be sent, or is a parse error. Results are
// cached per fnSource until the next Add.
func (t *TopLevel) Analyze(fnSource string) (*Target, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.cache[fnSource]; ok {
		return r.target.clone(), r.err
	}
	var (
		tg  *Target
		err error
	)
	if occ := t.literals[fnSource]; len(occ) > 0 {
		for _, l := range occ {
			one, oneErr := t.analyze(l, true)
			if oneErr != nil {
				tg, err = nil, oneErr
				break
			}
			if tg == nil {
				tg = one
			}
		}
	} else {
		tg, err = t.analyzeDetached(fnSource)
	}
	if len(t.cache) >= maxCache {
		clear(t.cache)
	}
	t.cache[fnSource] = result{tg, err}
	return tg.clone(), err
}

// AnalyzeName analyses the current top-level function or class declaration
// called name, like Analyze does for its text but for that declaration only
// (the same text elsewhere, e.g. inside a function, does not matter).
func (t *TopLevel) AnalyzeName(name string) (*Target, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.bindings[name]
	if e == nil {
		return nil, fmt.Errorf("capture: %q is not a top-level binding", name)
	}
	if e.lit == nil {
		return nil, fmt.Errorf("capture: top-level %q is a %v, not a function or class declaration", name, e.b.Kind)
	}
	return t.analyze(e.lit, true)
}

// analyzeDetached parses text found in no chunk on its own: as an
// expression, or else as a method shorthand.
func (t *TopLevel) analyzeDetached(src string) (*Target, error) {
	var firstErr error
	for _, wrap := range [][2]string{{"(", ")"}, {"({", "})"}} {
		prog, err := parser.ParseFile(nil, "", wrap[0]+src+wrap[1], 0, parser.WithDisableSourceMaps)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		w := newWalker(&chunk{file: prog.File})
		w.program(prog)
		for _, l := range w.lits {
			if l.parent == nil && l.source == src {
				return t.analyze(l, false)
			}
		}
	}
	if firstErr == nil {
		firstErr = errors.New("not a single function, method or class")
	}
	return nil, fmt.Errorf("capture: %w: cannot analyse target source %q: %v", ErrUnsupported, abbrev(src), firstErr)
}

func abbrev(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// analyze computes the Target of literal l; located says whether l is in an
// added chunk (so that positions are meaningful).
func (t *TopLevel) analyze(l *literal, located bool) (*Target, error) {
	name := l.name
	if name == "" {
		name = "anonymous"
	}
	var file string
	var line, col int
	if located {
		file = l.chunk.name
		line, col = l.chunk.position(l.idx)
	}
	where := ""
	if line > 0 {
		where = fmt.Sprintf(" (%s:%d:%d)", file, line, col)
	}
	switch l.kind {
	case litAccessor:
		return nil, fmt.Errorf("capture: %w: target %s%s is a getter or setter; only functions, arrow functions, methods and classes can run in a child process", ErrUnsupported, name, where)
	case litPrivate:
		return nil, fmt.Errorf("capture: %w: target %s%s is a private method, which cannot be compiled outside its class: use a function", ErrUnsupported, name, where)
	case litComputed:
		return nil, fmt.Errorf("capture: %w: target%s is a method with a computed key, which cannot be re-created in a child process: use a function", ErrUnsupported, where)
	}

	// Free names of the target itself: captured locals are errors.
	var roots []string
	for _, fr := range l.free {
		switch fr.res {
		case resTop:
			roots = append(roots, fr.name)
			continue
		case resLocal:
			if fr.declLit == l {
				continue // a function declaration calling itself: its name is bound in the child
			}
		}
		ce := &ClosureError{Name: fr.name, Function: name, Reason: fr.reason}
		if located {
			ce.File = file
			ce.Line, ce.Col = l.chunk.position(fr.idx)
			ce.DeclLine, ce.DeclCol = l.chunk.position(fr.declIdx)
		}
		return nil, ce
	}

	tg := &Target{Name: name, Source: l.source, File: file, Line: line, Col: col}
	if l.kind == litMethod {
		tg.Source, tg.Line, tg.Col = wrapMethod(l.source, l.accessor, line, col)
	}
	tg.Uses, tg.Globals = t.uses(roots)
	return tg, nil
}

// wrapMethod wraps method shorthand text so it compiles as an expression and
// returns where the wrapper must be placed for the method text to keep its
// original position (see Target.Line).
func wrapMethod(text, accessor string, line, col int) (string, int, int) {
	const open, closing = "({", "})"
	switch {
	case line == 0:
		return open + text + closing + accessor, 0, 0
	case col > len(open):
		return open + text + closing + accessor, line, col - len(open)
	case line > 1:
		return open + "\n" + strings.Repeat(" ", col-1) + text + closing + accessor, line - 1, 1
	default:
		return open + text + closing + accessor, line, col
	}
}

// uses computes the transitive top-level bindings reachable from names, and
// the names that are not top-level bindings.
func (t *TopLevel) uses(names []string) ([]Binding, []string) {
	var (
		uses    []Binding
		globals []string
		seen    = make(map[string]bool)
		stack   = slices.Clone(names)
	)
	slices.Reverse(stack)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		e := t.bindings[n]
		if e == nil {
			globals = append(globals, n)
			continue
		}
		uses = append(uses, e.b)
		if e.lit == nil {
			continue
		}
		for i := len(e.lit.free) - 1; i >= 0; i-- {
			if fr := e.lit.free[i]; fr.res == resTop && !seen[fr.name] {
				stack = append(stack, fr.name)
			}
		}
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].Order < uses[j].Order })
	sort.Strings(globals)
	return uses, globals
}
