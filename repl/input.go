package repl

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// This file decides what to do with the text typed so far: ask for more
// (the parser ran out of input), report a syntax error, or run it — and it
// rewrites an input so that the session behaves as a REPL should:
//
//   - An input that starts with `{` and is an object literal is evaluated as
//     one, as Node does ({a: 1} prints { a: 1 }, not 1).
//   - Top-level let, const and class become var-like, so that a later input
//     may declare the same name again (Node 20 refuses: "Identifier 'x' has
//     already been declared"; browsers' consoles allow it, and redefining a
//     function or class while trying ideas is what a REPL is for). `let` and
//     `const` become `var` in place, so that every position stays where the
//     user typed it; `class C {}` becomes `var C = class C {};`. The price:
//     no temporal dead zone, and assigning to a top-level const of the REPL
//     is not an error.
//   - An input that uses await outside any async function runs inside an
//     async arrow function, as in Node. Its top-level declarations are
//     hoisted out of the wrapper (they stay top-level names that a Process
//     target can use) and its last expression is returned: the session
//     waits for the promise and prints what it settles to.

// status says what an input needs.
type status int

const (
	complete   status = iota // run it
	incomplete               // the parser ran out of input: read another line
	invalid                  // a syntax error: report it
)

// input is an analysed input.
type input struct {
	status status
	// src is what to compile (complete inputs), rewritten as above.
	src string
	// async marks an input wrapped for top-level await: its completion
	// value is a promise of the result.
	async bool
	// err is the syntax error (invalid inputs).
	err *parser.Error
}

// endOfInput is the goja parser's message when the source ends too early:
// an open brace, bracket, parenthesis or template, a trailing operator.
const endOfInput = "Unexpected end of input"

// asyncPrefix and asyncSuffix wrap an input that uses top-level await. The
// prefix shares the first line with the input, so that line numbers stay
// right (columns on the first line are off by its length).
const (
	asyncPrefix = "(async () => {"
	asyncSuffix = "\n})()"
)

// analyse classifies src and, when it can run, rewrites it.
func analyse(src string) input {
	if looksLikeObject(src) {
		wrapped := "(" + strings.TrimSpace(src) + ")\n"
		if prog, err := parse(wrapped); err == nil {
			return input{status: complete, src: rewriteScript(prog, wrapped)}
		}
	}
	prog, err := parse(src)
	if err == nil {
		return input{status: complete, src: rewriteScript(prog, src)}
	}
	first := firstError(err)
	if first != nil && first.Message == endOfInput {
		return input{status: incomplete}
	}
	if strings.Contains(src, "await") {
		wrapped := asyncPrefix + src + asyncSuffix
		aprog, aerr := parse(wrapped)
		switch {
		case aerr == nil:
			out, werr := rewriteAsync(aprog, wrapped)
			if werr != nil {
				return input{status: invalid, err: werr}
			}
			return input{status: complete, src: out, async: true}
		case inSuffix(wrapped, len(wrapped)-len(asyncSuffix), firstError(aerr)):
			// The wrapper's own end was taken for the input's: the input
			// is not finished.
			return input{status: incomplete}
		}
	}
	if first == nil {
		first = &parser.Error{Message: err.Error()}
	}
	return input{status: invalid, err: first}
}

// inSuffix reports whether e is at or after offset from in src (or at the
// end of the input).
func inSuffix(src string, from int, e *parser.Error) bool {
	if e == nil {
		return false
	}
	if e.Message == endOfInput {
		return true
	}
	line, col := 1, 1
	for i := 0; i < len(src); i++ {
		if line == e.Position.Line && col == e.Position.Column {
			return i >= from
		}
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return true
}

// looksLikeObject is Node's test for an input that may be an object literal.
func looksLikeObject(src string) bool {
	t := strings.TrimSpace(src)
	return strings.HasPrefix(t, "{") && !strings.HasSuffix(t, ";")
}

func parse(src string) (*ast.Program, error) {
	return parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
}

func firstError(err error) *parser.Error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return list[0]
	}
	var pe *parser.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// edit replaces src[at:at+del] with ins.
type edit struct {
	at, del int
	ins     string
}

// apply applies edits; insertions at the same place keep their order.
func apply(src string, edits []edit) string {
	order := make([]int, len(edits))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := edits[order[i]], edits[order[j]]
		if a.at != b.at {
			return a.at > b.at
		}
		return order[i] > order[j]
	})
	for _, i := range order {
		e := edits[i]
		src = src[:e.at] + e.ins + src[e.at+e.del:]
	}
	return src
}

// offsetOf converts a parser position to a byte offset in src.
func offsetOf(prog *ast.Program, idx file.Idx) int {
	return int(idx) - prog.File.Base()
}

// rewriteScript makes the top-level let, const and class declarations of a
// script var-like (see the comment at the top of this file).
func rewriteScript(prog *ast.Program, src string) string {
	var edits []edit
	for _, st := range prog.Body {
		switch st := st.(type) {
		case *ast.LexicalDeclaration:
			at := offsetOf(prog, st.Idx)
			n := len(st.Token.String()) // "let" or "const"
			edits = append(edits, edit{at, n, "var" + strings.Repeat(" ", n-3)})
			for _, b := range st.List {
				if b.Initializer == nil { // let x; makes x undefined, as before
					edits = append(edits, edit{offsetOf(prog, b.Target.Idx1()), 0, " = void 0"})
				}
			}
		case *ast.ClassDeclaration:
			c := st.Class
			if c.Name == nil {
				continue
			}
			edits = append(edits,
				edit{offsetOf(prog, c.Class), 0, "var " + c.Name.Name.String() + " = "},
				edit{offsetOf(prog, c.Idx1()), 0, ";"})
		}
	}
	if len(edits) == 0 {
		return src
	}
	return apply(src, edits)
}

// rewriteAsync turns the body of the async wrapper into code whose
// declarations are top-level names and whose last expression is returned.
func rewriteAsync(prog *ast.Program, src string) (string, *parser.Error) {
	body := asyncBody(prog)
	if body == nil {
		return "", &parser.Error{Message: "cannot use await here"}
	}
	var (
		edits []edit
		names []string
		seen  = map[string]bool{}
	)
	for i, st := range body {
		switch st := st.(type) {
		case *ast.VariableStatement:
			names = declare(names, seen, st.List)
			edits = append(edits, assignments(prog, src, st.Var, len("var"), st.List)...)
		case *ast.LexicalDeclaration:
			names = declare(names, seen, st.List)
			edits = append(edits, assignments(prog, src, st.Idx, len(st.Token.String()), st.List)...)
		case *ast.FunctionDeclaration, *ast.ClassDeclaration:
			return "", &parser.Error{Position: userPosition(prog, st.Idx0()),
				Message: "await at the top level works in inputs without function or class declarations: declare them in an input of their own (so that they are top-level, and can be Process targets)"}
		case *ast.ReturnStatement:
			return "", &parser.Error{Position: userPosition(prog, st.Return), Message: "Illegal return statement"}
		case *ast.ExpressionStatement:
			if i == len(body)-1 {
				start := exprStart(src, offsetOf(prog, st.Idx0()))
				end := exprEnd(src, offsetOf(prog, st.Idx1()))
				edits = append(edits, edit{start, 0, "return ("}, edit{end, 0, ");"})
			}
		}
	}
	out := apply(src, edits)
	if len(names) > 0 {
		decl := make([]string, len(names))
		for i, n := range names {
			decl[i] = n + " = void 0"
		}
		// A var with an initializer: the capture's top level then knows the
		// name as a variable (whatever it was before).
		out = "var " + strings.Join(decl, ", ") + "; " + out
	}
	return out, nil
}

// userPosition is where idx of the wrapped source was in what the user typed.
func userPosition(prog *ast.Program, idx file.Idx) file.Position {
	pos := prog.File.Position(int(idx) - prog.File.Base())
	if pos.Line == 1 {
		pos.Column = max(pos.Column-len(asyncPrefix), 1)
	}
	return pos
}

// asyncBody returns the statements of the arrow function made by asyncPrefix.
func asyncBody(prog *ast.Program) []ast.Statement {
	if len(prog.Body) != 1 {
		return nil
	}
	es, ok := prog.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return nil
	}
	call, ok := es.Expression.(*ast.CallExpression)
	if !ok {
		return nil
	}
	arrow, ok := call.Callee.(*ast.ArrowFunctionLiteral)
	if !ok {
		return nil
	}
	block, ok := arrow.Body.(*ast.BlockStatement)
	if !ok {
		return nil
	}
	return block.List
}

// declare adds the names bound by a declaration list.
func declare(names []string, seen map[string]bool, list []*ast.Binding) []string {
	for _, b := range list {
		for _, n := range boundNames(b.Target, nil) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

// boundNames lists the identifiers a binding target declares.
func boundNames(t ast.Node, out []string) []string {
	switch t := t.(type) {
	case *ast.Identifier:
		out = append(out, t.Name.String())
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			out = boundNames(e, out)
		}
		out = boundNames(t.Rest, out)
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				out = append(out, p.Name.Name.String())
			case *ast.PropertyKeyed:
				out = boundNames(p.Value, out)
			}
		}
		out = boundNames(t.Rest, out)
	case *ast.AssignExpression:
		out = boundNames(t.Left, out)
	case *ast.Binding:
		out = boundNames(t.Target, out)
	}
	return out
}

// assignments turns `const a = 1, {b} = o;` into `(     a = 1, {b} = o);;`
// in place: the keyword becomes an opening parenthesis padded to its length.
func assignments(prog *ast.Program, src string, kw file.Idx, kwLen int, list []*ast.Binding) []edit {
	edits := []edit{{offsetOf(prog, kw), kwLen, "(" + strings.Repeat(" ", kwLen-1)}}
	for _, b := range list {
		if b.Initializer == nil {
			edits = append(edits, edit{offsetOf(prog, b.Target.Idx1()), 0, " = void 0"})
		}
	}
	last := list[len(list)-1]
	end := offsetOf(prog, last.Target.Idx1())
	if last.Initializer != nil {
		end = exprEnd(src, offsetOf(prog, last.Initializer.Idx1()))
	}
	return append(edits, edit{end, 0, ");"})
}

// exprEnd moves an expression's end past the closing parentheses that
// wrapped it (the parser keeps no node for parentheses). At the top level
// of a statement list, a `)` after an expression can only be one of those.
func exprEnd(src string, end int) int {
	for i := end; i < len(src); i++ {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
		case ')':
			end = i + 1
		default:
			return end
		}
	}
	return end
}

// exprStart moves an expression statement's start before the opening
// parentheses that wrapped it.
func exprStart(src string, start int) int {
	for i := start - 1; i >= 0; i-- {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
		case '(':
			start = i
		default:
			return start
		}
	}
	return start
}

// syntaxReport renders an invalid input as Node does: the line, a caret
// under the column, and the error.
func syntaxReport(src string, e *parser.Error) string {
	var b strings.Builder
	lines := strings.Split(src, "\n")
	if l := e.Position.Line; l >= 1 && l <= len(lines) && e.Position.Column >= 1 {
		line := lines[l-1]
		col := e.Position.Column - 1
		if col > len(line) {
			col = len(line)
		}
		b.WriteString(line + "\n")
		b.WriteString(strings.Repeat(" ", len([]rune(line[:col]))) + "^\n\n")
	}
	fmt.Fprintf(&b, "Uncaught SyntaxError: %s", e.Message)
	return b.String()
}
