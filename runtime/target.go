package runtime

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dop251/goja"

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
			p := piece(vm, "var "+b.Name+" = "+ft.Source+";", ft.File, ft.Line, ft.Col-len("var "+b.Name+" = "), b.Order)
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
	str := func(o *goja.Object, k string) string { return o.Get(k).String() }
	num := func(o *goja.Object, k string) int { return int(o.Get(k).ToInteger()) }
	names := exportStrings(c.Get("names"))
	file := str(c, "file")
	var b layout
	b.text.WriteString("(function(" + strings.Join(names, ", ") + ") {")
	b.line, b.col = 1, b.text.Len()+1
	var pieces []*goja.Object
	if arr, ok := c.Get("pieces").(*goja.Object); ok {
		vm.ForOf(arr, func(v goja.Value) bool {
			if o, ok := v.(*goja.Object); ok {
				pieces = append(pieces, o)
			}
			return true
		})
	}
	for _, p := range pieces {
		if file == "" {
			file = str(p, "file")
		}
		b.put(str(p, "src"), samefile(str(p, "file"), file), num(p, "line"), num(p, "col"), "\n")
	}
	b.text.WriteString("\nreturn (")
	b.line++
	b.col = len("return (") + 1
	b.put(str(c, "src"), true, num(c, "line"), num(c, "col"), "")
	b.text.WriteString(");\n})")
	if file == "" {
		file = "<target>"
	}
	prg, err := goja.Compile(file, b.text.String(), false)
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

// layout places pieces of source at their original line and column when it
// can (they come in source order and the line is still ahead), so positions
// in the child's stack traces are the user's.
type layout struct {
	text      strings.Builder
	line, col int
}

func (l *layout) put(src string, sameFile bool, line, col int, after string) {
	if sameFile && line > l.line {
		l.text.WriteString(strings.Repeat("\n", line-l.line))
		l.line, l.col = line, 1
	}
	if sameFile && line == l.line && col >= l.col {
		l.text.WriteString(strings.Repeat(" ", col-l.col))
		l.col = col
	} else {
		l.text.WriteString("\n")
		l.line, l.col = l.line+1, 1
	}
	l.text.WriteString(src)
	if n := strings.Count(src, "\n"); n > 0 {
		l.line += n
		l.col = len(src) - strings.LastIndex(src, "\n")
	} else {
		l.col += len(src)
	}
	l.text.WriteString(after)
	if after == "\n" {
		l.line, l.col = l.line+1, 1
	}
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
