package capture

import (
	"encoding/json"
	"sort"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/token"
)

// This file holds the scope analysis: one walk over a parsed chunk builds a
// tree of scopes, records every function/class literal and every identifier
// reference, and afterwards resolves each reference, attaching it to every
// literal it escapes from (the literal's free names).

// scopeKind is the kind of a lexical scope.
type scopeKind uint8

const (
	scopeProgram  scopeKind = iota // the top level of a chunk
	scopeFuncName                  // the own name of a named function expression
	scopeParams                    // parameters (and `arguments`) of a function or arrow
	scopeBody                      // body of a function, arrow or class static block: a var scope
	scopeBlock                     // block, for head, switch body
	scopeCatch                     // catch parameter
	scopeClass                     // class name and body
	scopeWith                      // body of a with statement: any name may be a property
)

// declKind is how a name was declared.
type declKind uint8

const (
	declVar declKind = iota
	declLet
	declConst
	declFunction
	declClass
	declParam
	declCatchParam
	declArguments
	declFuncName
	declClassName
)

// decl is one declaration of a name in a scope.
type decl struct {
	kind declKind
	idx  file.Idx
	lit  *literal // the literal a function/class declaration (or own name) declares
}

// scope is one lexical scope of a chunk.
type scope struct {
	kind     scopeKind
	parent   *scope
	lit      *literal // innermost literal this scope belongs to; nil at the top level
	names    map[string]*decl
	idx      file.Idx // for with scopes: position of the with statement
	topClass bool     // class scope of a top-level class declaration
}

// varScope returns the scope that `var` declarations in s hoist to.
func (s *scope) varScope() *scope {
	for ; s.parent != nil; s = s.parent {
		if s.kind == scopeBody {
			return s
		}
	}
	return s
}

// litKind is the syntactic form of a function or class literal.
type litKind uint8

const (
	litFunction litKind = iota // function declaration or expression
	litArrow                   // arrow function
	litClass                   // class declaration or expression
	litMethod                  // method shorthand with a static key (wrapped to compile)
	litAccessor                // getter or setter (rejected)
	litPrivate                 // private method (rejected)
	litComputed                // method with a computed key (rejected)
)

// resolution says what a free name of a literal refers to.
type resolution uint8

const (
	resTop   resolution = iota // a top-level binding or a global
	resLocal                   // a binding of an enclosing function, block, catch or class
	resWith                    // possibly a property of an enclosing with statement's object
)

// freeRef is one name a literal uses from outside itself (first reference).
type freeRef struct {
	name    string
	idx     file.Idx // position of the first reference
	res     resolution
	reason  string   // for resLocal/resWith: what the name is
	declIdx file.Idx // for resLocal/resWith: where it is declared
	declLit *literal // for resLocal: the literal the declaration declares, if any
}

type freeKey struct {
	name    string
	res     resolution
	declIdx file.Idx
}

// literal is one function or class literal of a chunk.
type literal struct {
	chunk    *chunk
	idx      file.Idx // start of source in the chunk
	source   string   // exact text, as Function.prototype.toString returns it
	kind     litKind
	name     string // name for messages ("" if anonymous)
	accessor string // litMethod: member access that reads the method off its wrapper object
	parent   *literal
	free     []freeRef
	seen     map[freeKey]struct{} // dedup while building; nil afterwards
}

func (l *literal) addFree(r freeRef) {
	k := freeKey{r.name, r.res, r.declIdx}
	if _, ok := l.seen[k]; ok {
		return
	}
	if l.seen == nil {
		l.seen = make(map[freeKey]struct{})
	}
	l.seen[k] = struct{}{}
	l.free = append(l.free, r)
}

// topDecl is one declaration of a top-level name in a chunk.
type topDecl struct {
	name    string
	kind    Kind
	idx     file.Idx // position reported in Binding.Line/Col
	at      file.Idx // position of the name itself, for ordering
	lit     *literal
	source  string
	spec    string
	isVar   bool // declared with var (hoisting rules apply)
	hasInit bool // var: has an initializer (or is a for-in/of variable)
}

type pendingRef struct {
	name string
	idx  file.Idx
	sc   *scope
}

// walker performs the scope analysis of one chunk.
type walker struct {
	c    *chunk
	src  string
	base int
	refs []pendingRef
	lits []*literal
	top  []topDecl
}

func newWalker(c *chunk) *walker {
	return &walker{c: c, src: c.file.Source(), base: c.file.Base()}
}

func (w *walker) text(from, to file.Idx) string {
	a, b := int(from)-w.base, int(to)-w.base
	if a < 0 || b > len(w.src) || a > b {
		return ""
	}
	return w.src[a:b]
}

func (w *walker) newScope(kind scopeKind, parent *scope, lit *literal) *scope {
	return &scope{kind: kind, parent: parent, lit: lit}
}

func (w *walker) blockScope(parent *scope) *scope {
	return w.newScope(scopeBlock, parent, parent.lit)
}

func (w *walker) newLit(source string, idx file.Idx, parent *literal, kind litKind, name string) *literal {
	l := &literal{chunk: w.c, idx: idx, source: source, kind: kind, name: name, parent: parent}
	w.lits = append(w.lits, l)
	return l
}

// declare adds a declaration of name to s. A function declaration is not
// replaced by a later non-function declaration of the same name.
func (w *walker) declare(s *scope, name string, idx file.Idx, kind declKind, lit *literal) {
	if s.names == nil {
		s.names = make(map[string]*decl)
	}
	if old := s.names[name]; old != nil && old.kind == declFunction && kind != declFunction {
		return
	}
	s.names[name] = &decl{kind: kind, idx: idx, lit: lit}
}

func (w *walker) ref(id *ast.Identifier, s *scope) {
	w.refs = append(w.refs, pendingRef{name: id.Name.String(), idx: id.Idx, sc: s})
}

// program walks a whole chunk and resolves its references.
func (w *walker) program(p *ast.Program) {
	s := &scope{kind: scopeProgram}
	for _, st := range p.Body {
		w.stmt(st, s)
	}
	w.finish()
}

// finish resolves every reference and attaches it to each literal it escapes.
func (w *walker) finish() {
	sort.SliceStable(w.refs, func(i, j int) bool { return w.refs[i].idx < w.refs[j].idx })
	for _, r := range w.refs {
		w.resolve(r)
	}
	for _, l := range w.lits {
		l.seen = nil
	}
	w.refs = nil
}

func (w *walker) resolve(r pendingRef) {
	l := r.sc.lit
	s := r.sc
	for {
		var d *decl
		for ; s != nil; s = s.parent {
			if s.kind == scopeWith {
				break
			}
			if d = s.names[r.name]; d != nil {
				break
			}
		}
		var boundary *literal
		if s != nil {
			boundary = s.lit
		}
		fr := freeRef{name: r.name, idx: r.idx}
		switch {
		case s == nil || s.kind == scopeProgram:
			fr.res = resTop
		case s.kind == scopeWith:
			fr.res, fr.declIdx = resWith, s.idx
			fr.reason = "possibly a property of the object of an enclosing with statement"
		case s.kind == scopeClass && s.topClass:
			// The own name of a top-level class declaration is the top-level
			// binding of that name.
			fr.res = resTop
		default:
			fr.res, fr.declIdx, fr.declLit = resLocal, d.idx, d.lit
			fr.reason = describe(s.kind, d.kind)
		}
		for ; l != boundary && l != nil; l = l.parent {
			l.addFree(fr)
		}
		if s == nil || d != nil {
			return
		}
		s = s.parent // a with scope: the name may also come from further out
	}
}

// describe says what a local name is, for ClosureError messages.
func describe(sk scopeKind, dk declKind) string {
	switch dk {
	case declParam:
		return "a parameter of an enclosing function"
	case declArguments:
		return "the arguments object of an enclosing function"
	case declCatchParam:
		return "the catch parameter of an enclosing catch clause"
	case declFuncName:
		return "the name of an enclosing function expression"
	case declClassName:
		return "the name of an enclosing class"
	}
	what := "variable"
	switch dk {
	case declFunction:
		what = "function"
	case declClass:
		what = "class"
	}
	if sk == scopeBody {
		return "a local " + what + " of an enclosing function"
	}
	return "a block-scoped " + what + " of an enclosing block"
}

// ---------- statements ----------

func (w *walker) stmts(list []ast.Statement, s *scope) {
	for _, st := range list {
		w.stmt(st, s)
	}
}

func (w *walker) stmt(st ast.Statement, s *scope) {
	switch st := st.(type) {
	case nil:
	case *ast.BlockStatement:
		if st != nil {
			w.stmts(st.List, w.blockScope(s))
		}
	case *ast.ExpressionStatement:
		w.expr(st.Expression, s)
	case *ast.VariableStatement:
		w.bindings(st.List, s, declVar, st.Var, false)
	case *ast.LexicalDeclaration:
		w.bindings(st.List, s, lexKind(st.Token), st.Idx, false)
	case *ast.FunctionDeclaration:
		fn := st.Function
		l := w.function(fn, s, litFunction, "", "", false)
		if fn.Name != nil {
			name := fn.Name.Name.String()
			w.declare(s, name, fn.Name.Idx, declFunction, l)
			if s.kind == scopeProgram {
				w.top = append(w.top, topDecl{name: name, kind: FunctionDecl, idx: fn.Idx0(), at: fn.Idx0(), lit: l, source: l.source})
			}
		}
	case *ast.ClassDeclaration:
		cl := st.Class
		l := w.class(cl, s, "", s.kind == scopeProgram)
		if cl.Name != nil {
			name := cl.Name.Name.String()
			w.declare(s, name, cl.Name.Idx, declClass, l)
			if s.kind == scopeProgram {
				w.top = append(w.top, topDecl{name: name, kind: ClassDecl, idx: cl.Idx0(), at: cl.Idx0(), lit: l, source: l.source})
			}
		}
	case *ast.IfStatement:
		w.expr(st.Test, s)
		w.stmt(st.Consequent, s)
		w.stmt(st.Alternate, s)
	case *ast.ForStatement:
		head := w.blockScope(s)
		switch in := st.Initializer.(type) {
		case *ast.ForLoopInitializerExpression:
			w.expr(in.Expression, head)
		case *ast.ForLoopInitializerVarDeclList:
			w.bindings(in.List, head, declVar, in.Var, false)
		case *ast.ForLoopInitializerLexicalDecl:
			w.bindings(in.LexicalDeclaration.List, head, lexKind(in.LexicalDeclaration.Token), in.LexicalDeclaration.Idx, false)
		}
		w.expr(st.Test, head)
		w.expr(st.Update, head)
		w.stmt(st.Body, head)
	case *ast.ForInStatement:
		head := w.blockScope(s)
		w.forInto(st.Into, head)
		w.expr(st.Source, head)
		w.stmt(st.Body, head)
	case *ast.ForOfStatement:
		head := w.blockScope(s)
		w.forInto(st.Into, head)
		w.expr(st.Source, head)
		w.stmt(st.Body, head)
	case *ast.WhileStatement:
		w.expr(st.Test, s)
		w.stmt(st.Body, s)
	case *ast.DoWhileStatement:
		w.stmt(st.Body, s)
		w.expr(st.Test, s)
	case *ast.SwitchStatement:
		w.expr(st.Discriminant, s)
		b := w.blockScope(s)
		for _, c := range st.Body {
			w.expr(c.Test, b)
			w.stmts(c.Consequent, b)
		}
	case *ast.CaseStatement:
		w.expr(st.Test, s)
		w.stmts(st.Consequent, s)
	case *ast.TryStatement:
		if st.Body != nil {
			w.stmt(st.Body, s)
		}
		if c := st.Catch; c != nil {
			cs := w.newScope(scopeCatch, s, s.lit)
			w.declarePattern(c.Parameter, cs, declCatchParam, cs)
			if c.Body != nil {
				w.stmt(c.Body, cs)
			}
		}
		if st.Finally != nil {
			w.stmt(st.Finally, s)
		}
	case *ast.ThrowStatement:
		w.expr(st.Argument, s)
	case *ast.ReturnStatement:
		w.expr(st.Argument, s)
	case *ast.LabelledStatement:
		w.stmt(st.Statement, s)
	case *ast.WithStatement:
		w.expr(st.Object, s)
		ws := w.newScope(scopeWith, s, s.lit)
		ws.idx = st.With
		w.stmt(st.Body, ws)
	}
	// BranchStatement, EmptyStatement, DebuggerStatement, BadStatement: no names.
}

func lexKind(tok token.Token) declKind {
	if tok == token.CONST {
		return declConst
	}
	return declLet
}

func (w *walker) forInto(into ast.ForInto, head *scope) {
	switch in := into.(type) {
	case *ast.ForIntoVar:
		w.bindings([]*ast.Binding{in.Binding}, head, declVar, in.Binding.Idx0(), true)
	case *ast.ForDeclaration:
		kind := declLet
		if in.IsConst {
			kind = declConst
		}
		w.declarePattern(in.Target, head, kind, head)
	case *ast.ForIntoExpression:
		w.expr(in.Expression, head)
	}
}

// bindings declares a var/let/const declaration list found in scope s.
// stmtIdx is the start of the declaration (its keyword); forIn marks the
// variable of a for-in/for-of head.
func (w *walker) bindings(list []*ast.Binding, s *scope, kind declKind, stmtIdx file.Idx, forIn bool) {
	into := s
	if kind == declVar {
		into = s.varScope()
	}
	for _, b := range list {
		w.declarePattern(b.Target, into, kind, s)
		if b.Initializer != nil {
			w.exprNamed(b.Initializer, s, identName(b.Target))
		}
		if into.kind == scopeProgram {
			w.topBinding(b, kind, stmtIdx, len(list) == 1, s.kind == scopeProgram, forIn)
		}
	}
}

// topBinding records the top-level names a declaration binding declares.
// direct reports that the declaration is a statement of the chunk itself
// (not nested in a block), which a Module binding requires.
func (w *walker) topBinding(b *ast.Binding, kind declKind, stmtIdx file.Idx, single, direct, forIn bool) {
	isVar := kind == declVar
	kw := "var"
	switch kind {
	case declLet:
		kw = "let"
	case declConst:
		kw = "const"
	}
	if spec, ok := requireSpec(b.Initializer); ok && direct && !forIn {
		init := w.text(b.Initializer.Idx0(), b.Initializer.Idx1())
		switch t := b.Target.(type) {
		case *ast.Identifier:
			src := kw + " " + w.text(b.Idx0(), b.Idx1())
			if single {
				src = w.text(stmtIdx, b.Idx1())
			}
			w.top = append(w.top, topDecl{name: t.Name.String(), kind: Module, idx: stmtIdx, at: t.Idx, source: src,
				spec: spec, isVar: isVar, hasInit: true})
			return
		case *ast.ObjectPattern:
			if props, ok := w.simplePattern(t); ok {
				for _, p := range props {
					src := kw + " {" + p.text + "} = " + init
					if single && len(props) == 1 {
						src = w.text(stmtIdx, b.Idx1())
					}
					w.top = append(w.top, topDecl{name: p.name, kind: Module, idx: stmtIdx, at: p.at, source: src,
						spec: spec, isVar: isVar, hasInit: true})
				}
				return
			}
		}
	}
	for _, id := range patternNames(b.Target, nil) {
		w.top = append(w.top, topDecl{name: id.Name.String(), kind: Variable, idx: id.Idx, at: id.Idx,
			isVar: isVar, hasInit: forIn || b.Initializer != nil})
	}
}

type patternProp struct {
	name string
	at   file.Idx
	text string
}

// simplePattern reports the properties of a flat object pattern such as
// `{a, b: c, d = 1}` (no computed keys, nesting or rest), with their text.
func (w *walker) simplePattern(p *ast.ObjectPattern) ([]patternProp, bool) {
	if p.Rest != nil || len(p.Properties) == 0 {
		return nil, false
	}
	props := make([]patternProp, 0, len(p.Properties))
	for _, pr := range p.Properties {
		var id *ast.Identifier
		switch pr := pr.(type) {
		case *ast.PropertyShort:
			id = &pr.Name
		case *ast.PropertyKeyed:
			if pr.Computed {
				return nil, false
			}
			v := pr.Value
			if a, ok := v.(*ast.AssignExpression); ok && a.Operator == token.ASSIGN {
				v = a.Left
			}
			var ok bool
			if id, ok = v.(*ast.Identifier); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
		props = append(props, patternProp{name: id.Name.String(), at: id.Idx, text: w.text(pr.Idx0(), pr.Idx1())})
	}
	return props, true
}

// requireSpec reports whether e is `require('literal')`, possibly followed
// by property accesses (`require('x').y.z`), and returns the literal.
func requireSpec(e ast.Expression) (string, bool) {
	for {
		switch x := e.(type) {
		case *ast.DotExpression:
			e = x.Left
			continue
		case *ast.CallExpression:
			callee, ok := x.Callee.(*ast.Identifier)
			if !ok || callee.Name != "require" || len(x.ArgumentList) != 1 {
				return "", false
			}
			lit, ok := x.ArgumentList[0].(*ast.StringLiteral)
			if !ok {
				return "", false
			}
			return lit.Value.String(), true
		}
		return "", false
	}
}

// patternNames appends the identifiers a binding target declares.
func patternNames(t ast.Expression, out []*ast.Identifier) []*ast.Identifier {
	switch t := t.(type) {
	case *ast.Identifier:
		out = append(out, t)
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			out = patternNames(e, out)
		}
		out = patternNames(t.Rest, out)
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				out = append(out, &p.Name)
			case *ast.PropertyKeyed:
				out = patternNames(p.Value, out)
			case *ast.SpreadElement:
				out = patternNames(p.Expression, out)
			}
		}
		out = patternNames(t.Rest, out)
	case *ast.AssignExpression:
		out = patternNames(t.Left, out)
	case *ast.Binding:
		out = patternNames(t.Target, out)
	}
	return out
}

// declarePattern declares the names of binding target t in scope into;
// default values and computed keys are references evaluated in scope eval.
func (w *walker) declarePattern(t ast.Expression, into *scope, kind declKind, eval *scope) {
	switch t := t.(type) {
	case nil:
	case *ast.Identifier:
		w.declare(into, t.Name.String(), t.Idx, kind, nil)
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			w.declarePattern(e, into, kind, eval)
		}
		w.declarePattern(t.Rest, into, kind, eval)
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				w.declare(into, p.Name.Name.String(), p.Name.Idx, kind, nil)
				if p.Initializer != nil {
					w.exprNamed(p.Initializer, eval, p.Name.Name.String())
				}
			case *ast.PropertyKeyed:
				if p.Computed {
					w.expr(p.Key, eval)
				}
				w.declarePattern(p.Value, into, kind, eval)
			case *ast.SpreadElement:
				w.declarePattern(p.Expression, into, kind, eval)
			}
		}
		w.declarePattern(t.Rest, into, kind, eval)
	case *ast.AssignExpression:
		w.declarePattern(t.Left, into, kind, eval)
		w.exprNamed(t.Right, eval, identName(t.Left))
	case *ast.Binding:
		w.declarePattern(t.Target, into, kind, eval)
		if t.Initializer != nil {
			w.exprNamed(t.Initializer, eval, identName(t.Target))
		}
	default:
		w.expr(t, eval)
	}
}

func identName(e ast.Expression) string {
	if id, ok := e.(*ast.Identifier); ok {
		return id.Name.String()
	}
	return ""
}

// ---------- functions and classes ----------

// function walks a function literal found in scope s. For a function
// expression (isExpr) its own name is bound inside it.
func (w *walker) function(fn *ast.FunctionLiteral, s *scope, kind litKind, name, accessor string, isExpr bool) *literal {
	if fn.Name != nil {
		name = fn.Name.Name.String()
	}
	l := w.newLit(fn.Source, fn.Idx0(), s.lit, kind, name)
	l.accessor = accessor
	outer := s
	if isExpr && fn.Name != nil {
		outer = w.newScope(scopeFuncName, s, l)
		w.declare(outer, fn.Name.Name.String(), fn.Name.Idx, declFuncName, l)
	}
	ps := w.newScope(scopeParams, outer, l)
	w.declare(ps, "arguments", fn.Idx0(), declArguments, nil)
	w.params(fn.ParameterList, ps)
	body := w.newScope(scopeBody, ps, l)
	if fn.Body != nil {
		w.stmts(fn.Body.List, body)
	}
	return l
}

func (w *walker) params(pl *ast.ParameterList, ps *scope) {
	if pl == nil {
		return
	}
	for _, b := range pl.List {
		w.declarePattern(b.Target, ps, declParam, ps)
		if b.Initializer != nil {
			w.exprNamed(b.Initializer, ps, identName(b.Target))
		}
	}
	w.declarePattern(pl.Rest, ps, declParam, ps)
}

func (w *walker) arrow(a *ast.ArrowFunctionLiteral, s *scope, name string) *literal {
	l := w.newLit(a.Source, a.Start, s.lit, litArrow, name)
	ps := w.newScope(scopeParams, s, l) // no `arguments`: arrows see the enclosing one
	w.params(a.ParameterList, ps)
	body := w.newScope(scopeBody, ps, l)
	switch b := a.Body.(type) {
	case *ast.BlockStatement:
		w.stmts(b.List, body)
	case *ast.ExpressionBody:
		w.expr(b.Expression, body)
	}
	return l
}

// class walks a class literal; top marks a class declaration at the top
// level of the chunk, whose own name inside the class is the top-level name.
func (w *walker) class(c *ast.ClassLiteral, s *scope, name string, top bool) *literal {
	if c.Name != nil {
		name = c.Name.Name.String()
	}
	l := w.newLit(c.Source, c.Class, s.lit, litClass, name)
	cs := w.newScope(scopeClass, s, l)
	cs.topClass = top
	if c.Name != nil {
		w.declare(cs, name, c.Name.Idx, declClassName, l)
	}
	w.expr(c.SuperClass, cs)
	for _, el := range c.Body {
		switch el := el.(type) {
		case *ast.FieldDefinition:
			if el.Computed {
				w.expr(el.Key, cs)
			}
			w.exprNamed(el.Initializer, cs, keyName(el.Key, el.Computed))
		case *ast.MethodDefinition:
			if el.Computed {
				w.expr(el.Key, cs)
			}
			kind, acc, mname := methodInfo(el.Key, el.Computed, el.Kind)
			if el.Body != nil {
				w.function(el.Body, cs, kind, mname, acc, false)
			}
		case *ast.ClassStaticBlock:
			if el.Block != nil {
				w.stmts(el.Block.List, w.newScope(scopeBody, cs, l))
			}
		}
	}
	return l
}

// methodInfo classifies a method by its key and kind and, for a method that
// can be wrapped, returns the member access reading it off an object literal.
func methodInfo(key ast.Expression, computed bool, kind ast.PropertyKind) (litKind, string, string) {
	name := keyName(key, computed)
	if kind == ast.PropertyKindGet || kind == ast.PropertyKindSet {
		return litAccessor, "", name
	}
	if computed {
		return litComputed, "", name
	}
	switch k := key.(type) {
	case *ast.PrivateIdentifier:
		return litPrivate, "", name
	case *ast.StringLiteral:
		if isIdentName(name) {
			return litMethod, "." + name, name
		}
		q, _ := json.Marshal(name) // a JSON string is a valid JS string literal
		return litMethod, "[" + string(q) + "]", name
	case *ast.NumberLiteral:
		return litMethod, "[" + k.Literal + "]", name
	}
	return litComputed, "", name
}

// keyName is the name of a static property key, or "" for a computed one.
func keyName(key ast.Expression, computed bool) string {
	if computed {
		return ""
	}
	switch k := key.(type) {
	case *ast.StringLiteral:
		return k.Value.String()
	case *ast.NumberLiteral:
		return k.Literal
	case *ast.PrivateIdentifier:
		return "#" + k.Name.String()
	case *ast.Identifier:
		return k.Name.String()
	}
	return ""
}

// isIdentName reports whether s is an ASCII IdentifierName usable after a dot.
func isIdentName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// ---------- expressions ----------

// exprNamed walks e; if e is an anonymous function or class literal, name is
// the name it gets from its context (for messages).
func (w *walker) exprNamed(e ast.Expression, s *scope, name string) {
	switch e := e.(type) {
	case *ast.FunctionLiteral:
		w.function(e, s, litFunction, name, "", true)
	case *ast.ArrowFunctionLiteral:
		w.arrow(e, s, name)
	case *ast.ClassLiteral:
		w.class(e, s, name, false)
	default:
		w.expr(e, s)
	}
}

func (w *walker) exprs(list []ast.Expression, s *scope) {
	for _, e := range list {
		w.expr(e, s)
	}
}

func (w *walker) expr(e ast.Expression, s *scope) {
	switch e := e.(type) {
	case nil:
	case *ast.Identifier:
		w.ref(e, s)
	case *ast.FunctionLiteral, *ast.ArrowFunctionLiteral, *ast.ClassLiteral:
		w.exprNamed(e, s, "")
	case *ast.DotExpression:
		w.expr(e.Left, s) // the property name is not a reference
	case *ast.PrivateDotExpression:
		w.expr(e.Left, s)
	case *ast.BracketExpression:
		w.expr(e.Left, s)
		w.expr(e.Member, s)
	case *ast.CallExpression:
		w.expr(e.Callee, s)
		w.exprs(e.ArgumentList, s)
	case *ast.NewExpression:
		w.expr(e.Callee, s)
		w.exprs(e.ArgumentList, s)
	case *ast.AssignExpression:
		w.expr(e.Left, s)
		name := ""
		if e.Operator == token.ASSIGN {
			name = identName(e.Left)
		}
		w.exprNamed(e.Right, s, name)
	case *ast.BinaryExpression:
		w.expr(e.Left, s)
		w.expr(e.Right, s)
	case *ast.ConditionalExpression:
		w.expr(e.Test, s)
		w.expr(e.Consequent, s)
		w.expr(e.Alternate, s)
	case *ast.SequenceExpression:
		w.exprs(e.Sequence, s)
	case *ast.UnaryExpression:
		w.expr(e.Operand, s) // typeof x and delete x still refer to x
	case *ast.YieldExpression:
		w.expr(e.Argument, s)
	case *ast.AwaitExpression:
		w.expr(e.Argument, s)
	case *ast.SpreadElement:
		w.expr(e.Expression, s)
	case *ast.OptionalChain:
		w.expr(e.Expression, s)
	case *ast.Optional:
		w.expr(e.Expression, s)
	case *ast.TemplateLiteral:
		w.expr(e.Tag, s)
		w.exprs(e.Expressions, s)
	case *ast.ArrayLiteral:
		w.exprs(e.Value, s)
	case *ast.ArrayPattern: // destructuring assignment target
		w.exprs(e.Elements, s)
		w.expr(e.Rest, s)
	case *ast.ObjectLiteral:
		for _, p := range e.Value {
			w.property(p, s)
		}
	case *ast.ObjectPattern: // destructuring assignment target
		for _, p := range e.Properties {
			w.property(p, s)
		}
		w.expr(e.Rest, s)
	case *ast.PropertyShort, *ast.PropertyKeyed:
		w.property(e.(ast.Property), s)
	case *ast.Binding:
		w.expr(e.Target, s)
		w.expr(e.Initializer, s)
	}
	// Literals, this, super, new.target and bad expressions have no names.
}

func (w *walker) property(p ast.Property, s *scope) {
	switch p := p.(type) {
	case *ast.PropertyShort:
		w.ref(&p.Name, s) // {b} is a reference to b
		if p.Initializer != nil {
			w.expr(p.Initializer, s)
		}
	case *ast.PropertyKeyed:
		if p.Computed {
			w.expr(p.Key, s)
		}
		switch p.Kind {
		case ast.PropertyKindMethod, ast.PropertyKindGet, ast.PropertyKindSet:
			if fn, ok := p.Value.(*ast.FunctionLiteral); ok {
				kind, acc, name := methodInfo(p.Key, p.Computed, p.Kind)
				w.function(fn, s, kind, name, acc, false)
				return
			}
			w.expr(p.Value, s)
		default:
			w.exprNamed(p.Value, s, keyName(p.Key, p.Computed))
		}
	case *ast.SpreadElement:
		w.expr(p.Expression, s)
	}
}
