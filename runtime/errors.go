package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"mpjs/runtime/inspect"
)

// SyntaxError is a script that does not parse: file, line, column and what
// the parser expected.
type SyntaxError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("SyntaxError: %s\n    at %s:%d:%d", e.Msg, e.File, e.Line, e.Col)
}

func syntaxError(err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		return &SyntaxError{File: e.Position.Filename, Line: e.Position.Line, Col: e.Position.Column, Msg: e.Message}
	}
	var pe *parser.Error
	if errors.As(err, &pe) {
		return &SyntaxError{File: pe.Position.Filename, Line: pe.Position.Line, Col: pe.Position.Column, Msg: pe.Message}
	}
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) {
		se := &SyntaxError{Msg: ce.Message}
		if ce.File != nil {
			p := ce.File.Position(ce.Offset)
			se.File, se.Line, se.Col = p.Filename, p.Line, p.Column
		}
		return se
	}
	return err
}

// UncaughtError is a JavaScript value that was thrown and not caught, or a
// promise rejection that nothing handled.
type UncaughtError struct {
	Value     goja.Value
	Stack     string // goja's stack of the throw, for values that are not Errors
	Rejection bool
}

func (e *UncaughtError) Error() string { return "uncaught JavaScript exception" }

// CleanStack turns goja's stack text into Node's shape: "    at fn (file:line:col)",
// dropping goja's program-counter note after each position ("file.js:3:5(12)").
func CleanStack(stack string) string {
	lines := strings.Split(strings.TrimRight(stack, "\n"), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "\tat "); ok {
			l = "    at " + dropPC(rest)
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// dropPC removes "(12)" that directly follows a ":line:col" position.
func dropPC(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '(' && i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == ')' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Describe renders an uncaught error as the user should see it:
// "Name: message" and the stack with file:line:col. Must run on the loop.
func (r *Runtime) Describe(err error) string {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return r.DescribeValue(ex.Value(), ex.String())
	}
	var ue *UncaughtError
	if errors.As(err, &ue) {
		s := r.DescribeValue(ue.Value, ue.Stack)
		if ue.Rejection {
			s = "Uncaught (in promise) " + s
		}
		return s
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return "Interrupted"
	}
	return err.Error()
}

// DescribeValue renders a thrown value: an Error by its stack (which starts
// with "Name: message"), anything else inspected, followed by where it was
// thrown when known.
func (r *Runtime) DescribeValue(v goja.Value, fallbackStack string) string {
	if o, ok := v.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			s := CleanStack(st.String())
			if extra := r.errorExtras(o); extra != "" {
				s += " " + extra
			}
			return s
		}
	}
	head := "Uncaught " + inspect.Inspect(r.VM, v, inspect.Options{Depth: 2})
	if fallbackStack != "" {
		if i := strings.Index(fallbackStack, "\n"); i >= 0 {
			return head + "\n" + CleanStack(fallbackStack[i+1:])
		}
	}
	return head
}

// errorExtras shows own properties an Error carries besides the usual ones
// (err.remoteStack from a worker, a code...), as Node does.
func (r *Runtime) errorExtras(o *goja.Object) string {
	var parts []string
	for _, k := range o.Keys() {
		if k == "stack" || k == "message" {
			continue
		}
		parts = append(parts, k+": "+inspect.Inspect(r.VM, o.Get(k), inspect.Options{Depth: 1}))
	}
	if len(parts) == 0 {
		return ""
	}
	return "{\n  " + strings.Join(parts, ",\n  ") + "\n}"
}
