package runtime

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"mpjs/runtime/capture"
	"mpjs/runtime/codec"
)

// A captured function travels as a plain JS object, so that the codec carries
// the values it closes over (shared references and handles included):
//
//	{ file, src, line, col,             the function's own text and position
//	  pieces: [{src, file, line, col}]   top-level declarations it needs, in source order
//	  names: [...], values: [...] }      top-level variables it needs, by value
//
// In the child, the pieces are laid out at their original lines and columns
// inside one wrapper function whose parameters are the variables, so stack
// traces point into the user's file and nothing leaks into the global scope.

// CaptureError is a target that cannot be sent: a closure over a local, a
// built-in or bound function, or a captured value that cannot be copied.
type CaptureError struct{ Msg string }

func (e *CaptureError) Error() string { return e.Msg }

// Capture snapshots fn and what it needs from the top level. what names the
// function in errors ("target", "the pool function").
func (r *Runtime) Capture(fn goja.Value, what string) (*goja.Object, error) {
	obj, ok := fn.(*goja.Object)
	if _, isFn := goja.AssertFunction(fn); !ok || !isFn {
		return nil, &CaptureError{Msg: fmt.Sprintf("%s must be a function, got %s", what, typeOf(fn))}
	}
	src := obj.String()
	if strings.HasSuffix(src, "{ [native code] }") {
		return nil, &CaptureError{Msg: fmt.Sprintf("%s is a built-in or bound function, which cannot be sent to another process: use a function written in the script (pass extra values through args instead of bind)", what)}
	}
	t, err := r.TopLevel.Analyze(src)
	if err != nil {
		return nil, captureErr(what, err)
	}
	t.Source = r.completeArrow(t.Source)
	vm := r.VM
	if t.Line == 0 {
		// Not written in the script: maybe a function of a module the script
		// requires, which the child re-requires and picks by name.
		if ref := r.moduleRef(obj); ref != nil {
			return ref, nil
		}
	}
	var pieces []any
	var names, values []any
	seen := map[string]bool{}
	work := append([]capture.Binding(nil), t.Uses...)
	for len(work) > 0 {
		b := work[0]
		work = work[1:]
		if seen[b.Name] {
			continue
		}
		seen[b.Name] = true
		if b.Kind != capture.Variable {
			pieces = append(pieces, piece(vm, b.Source, b.File, b.Line, b.Col, b.Order))
			continue
		}
		v, err := r.topLevelValue(b.Name)
		if err != nil {
			return nil, &CaptureError{Msg: fmt.Sprintf("%s uses the top-level variable %s, which cannot be read at start(): %v", what, b.Name, err)}
		}
		vo, isObj := v.(*goja.Object)
		if _, isFn := goja.AssertFunction(v); isObj && isFn {
			// A variable that holds a function travels as source, like a declaration.
			fsrc := vo.String()
			if strings.HasSuffix(fsrc, "{ [native code] }") {
				return nil, &CaptureError{Msg: fmt.Sprintf("%s uses %s, a built-in or bound function, which cannot be sent to another process", what, b.Name)}
			}
			ft, err := r.TopLevel.Analyze(fsrc)
			if err != nil {
				return nil, captureErr(b.Name, err)
			}
			p := piece(vm, "var "+b.Name+" = "+r.completeArrow(ft.Source)+";", ft.File, ft.Line, ft.Col-len("var "+b.Name+" = "), b.Order)
			pieces = append(pieces, p)
			work = append(work, ft.Uses...)
			continue
		}
		names = append(names, b.Name)
		values = append(values, v)
	}
	sort.SliceStable(pieces, func(i, j int) bool {
		return pieces[i].(*goja.Object).Get("order").ToInteger() < pieces[j].(*goja.Object).Get("order").ToInteger()
	})
	o := vm.NewObject()
	o.Set("src", t.Source)
	o.Set("file", t.File)
	o.Set("line", t.Line)
	o.Set("col", t.Col)
	o.Set("pieces", vm.NewArray(pieces...))
	o.Set("names", vm.NewArray(names...))
	o.Set("values", vm.NewArray(values...))
	return o, nil
}

// completeArrow mends goja's text of an arrow function whose body is a
// parenthesised expression: Function.prototype.toString (and the parser's
// node positions) leave out the closing parenthesis, "() => ({a: 1}" for
// "() => ({a: 1})". The mended text is cached per source.
func (r *Runtime) completeArrow(src string) string {
	if !strings.Contains(src, "=>") {
		return src
	}
	if fixed, ok := r.arrowFixes[src]; ok {
		return fixed
	}
	fixed := src
	if _, err := parser.ParseFile(nil, "", "("+src+")", 0, parser.WithDisableSourceMaps); err != nil {
		if _, err := parser.ParseFile(nil, "", "("+src+"))", 0, parser.WithDisableSourceMaps); err == nil {
			fixed = src + ")"
		}
	}
	if r.arrowFixes == nil {
		r.arrowFixes = map[string]string{}
	}
	r.arrowFixes[src] = fixed
	return fixed
}

func piece(vm *goja.Runtime, src, file string, line, col, order int) *goja.Object {
	o := vm.NewObject()
	o.Set("src", src)
	o.Set("file", file)
	o.Set("line", line)
	o.Set("col", col)
	o.Set("order", order)
	return o
}

func captureErr(what string, err error) error {
	var ce *capture.ClosureError
	if errors.As(err, &ce) {
		return &CaptureError{Msg: ce.Error()}
	}
	return &CaptureError{Msg: fmt.Sprintf("%s: %v", what, err)}
}

func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		return "an object (" + o.ClassName() + ")"
	}
	return fmt.Sprintf("%s %s", v.ExportType().Kind(), v.String())
}

// topLevelValue reads a top-level binding (let, const, var or function).
func (r *Runtime) topLevelValue(name string) (goja.Value, error) {
	v, err := r.VM.RunString(name)
	if err != nil {
		var ex *goja.Exception
		if errors.As(err, &ex) {
			return nil, errors.New(ex.Value().String())
		}
		return nil, err
	}
	return v, nil
}

// Instantiate re-creates a captured function in this VM and returns it.
func (r *Runtime) Instantiate(c *goja.Object) (goja.Value, error) {
	vm := r.VM
	src, err := r.layoutCaptured(c)
	if err != nil {
		return nil, err
	}
	file := c.Get("file").String()
	if file == "" {
		file = "<target>"
	}
	prg, err := goja.Compile(file, src, false)
	if err != nil {
		return nil, fmt.Errorf("compile the target in the child: %w", err)
	}
	wrapper, err := vm.RunProgram(prg)
	if err != nil {
		return nil, err
	}
	call, _ := goja.AssertFunction(wrapper)
	var args []goja.Value
	if arr, ok := c.Get("values").(*goja.Object); ok {
		vm.ForOf(arr, func(v goja.Value) bool { args = append(args, v); return true })
	}
	return call(goja.Undefined(), args...)
}

// targetVar holds the re-created target inside the wrapper.
const targetVar = "__mpjs_target"

// layoutCaptured writes the wrapper function's source: the captured pieces
// and the target in source order, each at its original line and column when
// the order allows, so that stack traces in the child name the user's
// positions. The target is an expression assigned to targetVar; its prefix
// goes just before it on its line, or at the end of the line above.
func (r *Runtime) layoutCaptured(c *goja.Object) (string, error) {
	vm := r.VM
	str := func(o *goja.Object, k string) string { return o.Get(k).String() }
	num := func(o *goja.Object, k string) int { return int(o.Get(k).ToInteger()) }
	file := str(c, "file")
	type item struct {
		src       string
		line, col int
		sameFile  bool
		target    bool
	}
	target := item{src: str(c, "src"), line: num(c, "line"), col: num(c, "col"), sameFile: true, target: true}
	var placed, loose []item // with a position in the target's file, and the rest
	if arr, ok := c.Get("pieces").(*goja.Object); ok {
		vm.ForOf(arr, func(v goja.Value) bool {
			if o, ok := v.(*goja.Object); ok {
				it := item{src: str(o, "src"), line: num(o, "line"), col: num(o, "col"),
					sameFile: file == "" || samefile(str(o, "file"), file)}
				if it.sameFile && it.line > 0 {
					placed = append(placed, it)
				} else {
					loose = append(loose, it)
				}
			}
			return true
		})
	}
	if target.line > 0 {
		placed = append(placed, target)
	}
	sort.SliceStable(placed, func(i, j int) bool {
		a, b := placed[i], placed[j]
		return a.line < b.line || a.line == b.line && a.col < b.col
	})
	// Pieces from elsewhere (other REPL inputs, modules) come first, in
	// their given order; an unplaced target comes last.
	items := append(loose, placed...)
	if target.line <= 0 {
		items = append(items, target)
	}
	var l layout
	l.text.WriteString("(function(" + strings.Join(exportStrings(c.Get("names")), ", ") + ") { var " + targetVar + ";")
	l.line, l.col = 1, l.text.Len()+1
	for _, it := range items {
		if !it.target {
			l.put(it.src, it.sameFile && it.line > 0, it.line, it.col)
			l.write(";")
			continue
		}
		prefix := targetVar + " = ("
		switch {
		case it.line > 0 && it.line == l.line && it.col-len(prefix) >= l.col:
			l.pad(it.line, it.col-len(prefix))
			l.write(prefix)
		case it.line > l.line:
			l.pad(it.line-1, l.col)
			l.write(prefix)
		default:
			l.newline()
			l.write(prefix)
		}
		l.put(it.src, it.line > 0, it.line, it.col)
		l.write(");")
	}
	l.write("\nreturn " + targetVar + ";\n})")
	return l.text.String(), nil
}

func samefile(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

func exportStrings(v goja.Value) []string {
	var out []string
	if o, ok := v.(*goja.Object); ok {
		for _, k := range o.Keys() {
			out = append(out, o.Get(k).String())
		}
	}
	return out
}

// layout writes source text while tracking the line and column it is at.
type layout struct {
	text      strings.Builder
	line, col int
}

// write appends s, which may contain newlines.
func (l *layout) write(s string) {
	l.text.WriteString(s)
	if n := strings.Count(s, "\n"); n > 0 {
		l.line += n
		l.col = len(s) - strings.LastIndex(s, "\n")
	} else {
		l.col += len(s)
	}
}

func (l *layout) newline() { l.write("\n") }

// pad moves forward to line, col if that is still ahead.
func (l *layout) pad(line, col int) {
	if line > l.line {
		l.text.WriteString(strings.Repeat("\n", line-l.line))
		l.line, l.col = line, 1
	}
	if line == l.line && col > l.col {
		l.text.WriteString(strings.Repeat(" ", col-l.col))
		l.col = col
	}
}

// put writes src at line, col when positioned and still ahead, else on a
// line of its own.
func (l *layout) put(src string, positioned bool, line, col int) {
	switch {
	case positioned && (line > l.line || line == l.line && col >= l.col):
		l.pad(line, col)
	case positioned && line == l.line:
		l.write(" ") // the line is right, the column a little off
	case l.col > 1:
		l.newline()
	}
	l.write(src)
}

// EncodeValue encodes v for another process; root names it in errors.
func (r *Runtime) EncodeValue(v goja.Value, root string) ([]byte, error) {
	enc, _ := r.Codec()
	b, err := enc.Encode(nil, v, root)
	if err != nil {
		var ce *codec.CloneError
		if errors.As(err, &ce) {
			return nil, &CaptureError{Msg: ce.Error()}
		}
		return nil, err
	}
	return b, nil
}

// DecodeValue decodes what EncodeValue made, in this VM.
func (r *Runtime) DecodeValue(b []byte) (goja.Value, error) {
	_, dec := r.Codec()
	return dec.Decode(b)
}

// moduleRef finds fn among the exports of the modules the script binds at
// top level with require(), and describes it as "that module's export".
func (r *Runtime) moduleRef(fn *goja.Object) *goja.Object {
	for _, b := range r.TopLevel.Bindings() {
		if b.Kind != capture.Module {
			continue
		}
		v, err := r.topLevelValue(b.Name)
		if err != nil {
			continue
		}
		expr := ""
		if v.SameAs(fn) {
			expr = b.Name
		} else if o, ok := v.(*goja.Object); ok {
			for _, k := range o.Keys() {
				if o.Get(k).SameAs(fn) {
					expr = fmt.Sprintf("%s[%q]", b.Name, k)
					break
				}
			}
		}
		if expr == "" {
			continue
		}
		vm := r.VM
		o := vm.NewObject()
		o.Set("src", expr)
		o.Set("file", b.File)
		o.Set("line", 0)
		o.Set("col", 0)
		o.Set("pieces", vm.NewArray(piece(vm, b.Source, b.File, b.Line, b.Col, b.Order)))
		o.Set("names", vm.NewArray())
		o.Set("values", vm.NewArray())
		return o
	}
	return nil
}
