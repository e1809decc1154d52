package inspect

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

var (
	// Compiled on first use: every mpjs process links this package, and
	// most never print a class or an error, so start-up does not pay for them.
	classRe         = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\s+[^(]*?)\s*\{`) })
	stripCommentsRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(//.*?\n)|(/\*(?s:.)*?\*/)`) })
	errorStartRe    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n {4}at)`)
	})
	errorNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z_A-Z0-9-]*Error)$`) })
)

// functionBase is Node's getFunctionBase: "[Function: f]", "[class C]", ...
func (c *inspector) functionBase(o *goja.Object, ctor string, ctorNull bool, tag string) string {
	rt := c.rt
	if o.ExportType() == classType {
		if src, ok := rt.call(rt.builtin("Function", "toString", false), o); ok {
			s := src.String()
			if strings.HasPrefix(s, "class") && strings.HasSuffix(s, "}") {
				slice := s[5 : len(s)-1]
				if i := strings.IndexByte(slice, '{'); i != -1 &&
					(!strings.Contains(slice[:i], "(") || classRe().MatchString(stripCommentsRe().ReplaceAllString(slice, ""))) {
					return c.classBase(o, ctor, ctorNull, tag)
				}
			}
		}
	}
	typ := "Function"
	switch tag {
	case "AsyncFunction", "GeneratorFunction", "AsyncGeneratorFunction":
		typ = tag
	}
	var b strings.Builder
	b.WriteString("[" + typ)
	if ctorNull {
		b.WriteString(" (null prototype)")
	}
	if name, _ := rt.stringProp(o, "name"); name == "" {
		b.WriteString(" (anonymous)")
	} else {
		b.WriteString(": " + name)
	}
	b.WriteByte(']')
	if ctor != typ && !ctorNull {
		b.WriteString(" " + ctor)
	}
	if tag != "" && ctor != tag {
		b.WriteString(" [" + tag + "]")
	}
	return b.String()
}

// classBase is Node's getClassBase.
func (c *inspector) classBase(o *goja.Object, ctor string, ctorNull bool, tag string) string {
	name := c.rt.functionName(o)
	if name == "" {
		name = "(anonymous)"
	}
	base := "class " + name
	if ctor != "Function" && !ctorNull {
		base += " [" + ctor + "]"
	}
	if tag != "" && ctor != tag {
		base += " [" + tag + "]"
	}
	if ctorNull {
		base += " extends [null prototype]"
	} else if p := c.rt.proto(o); p != nil {
		if super, _ := c.rt.stringProp(p, "name"); super != "" {
			base += " extends " + super
		}
	}
	return "[" + base + "]"
}

// regexpString is RegExp.prototype.toString, computed with the built-in
// getters so that no user-defined source or flags property is read.
func (c *inspector) regexpString(o *goja.Object) string {
	var b strings.Builder
	b.WriteByte('/')
	b.WriteString(c.rt.getBuiltin("RegExp", "source", o).String())
	b.WriteByte('/')
	for _, f := range [...]struct{ name, letter string }{
		{"hasIndices", "d"}, {"global", "g"}, {"ignoreCase", "i"}, {"multiline", "m"},
		{"dotAll", "s"}, {"unicode", "u"}, {"unicodeSets", "v"}, {"sticky", "y"},
	} {
		if c.rt.getBuiltin("RegExp", f.name, o).ToBoolean() {
			b.WriteString(f.letter)
		}
	}
	return b.String()
}

// dateString is Date.prototype.toISOString, or "Invalid Date".
func dateString(o *goja.Object) string {
	t, ok := o.Export().(time.Time)
	if !ok {
		return "Invalid Date"
	}
	t = t.UTC()
	var year string
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		year = pad0(y, 4)
	case y < 0:
		year = "-" + pad0(-y, 6)
	default:
		year = "+" + pad0(y, 6)
	}
	return year + t.Format("-01-02T15:04:05.000Z")
}

func pad0(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// boxedBase is Node's getBoxedBase: "[Number: 3]", "[String: 'x']", ...
func (c *inspector) boxedBase(x *object, typ string, prim goja.Value) string {
	if typ == "String" {
		// The index properties of a String object repeat its value.
		n := prim.(goja.String).Length()
		if n > len(x.keys) {
			n = len(x.keys)
		}
		x.keys = x.keys[n:]
	}
	base := "[" + typ
	if typ != x.ctor || x.ctorNull {
		if x.ctorNull {
			base += " (null prototype)"
		} else {
			base += " (" + x.ctor + ")"
		}
	}
	noColor := c.opts
	noColor.Colors = false
	base += ": " + string(appendPrimitive(nil, prim, &noColor, c.indentationLvl)) + "]"
	if x.tag != "" && x.tag != x.ctor {
		base += " [" + x.tag + "]"
	}
	if len(x.keys) != 0 || !c.opts.Colors {
		return base
	}
	switch typ {
	case "Number", "BigInt":
		return c.stylize(base, styleNumber)
	case "Boolean":
		return c.stylize(base, styleBoolean)
	}
	return c.stylize(base, styleString)
}

// primString converts a primitive to a string as String() would; objects give "".
func primString(v goja.Value) string {
	switch {
	case v == nil:
		return "undefined"
	case isObject(v):
		return ""
	}
	if s, ok := v.(*goja.Symbol); ok {
		return symbolString(s)
	}
	return v.String()
}

func isObject(v goja.Value) bool {
	_, ok := v.(*goja.Object)
	return ok
}

// stackString is Node's getStackString, with goja's stack format ("\tat"
// frames, trailing newline) turned into V8's.
func (c *inspector) stackString(o *goja.Object) string {
	if !c.rt.stackSafe(o) {
		return c.errorToString(o)
	}
	if v := c.rt.dataProp(o, c.vm.ToValue("stack")); v != nil && !isObject(v) && v.ToBoolean() {
		s := primString(v)
		if strings.Contains(s, "\n\tat ") {
			s = strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n\tat ", "\n    at ")
		}
		return strings.TrimSuffix(s, "\n")
	}
	return c.errorToString(o)
}

// errorToString is Error.prototype.toString without calling user code.
func (c *inspector) errorToString(o *goja.Object) string {
	name, msg := "Error", ""
	if v := c.rt.dataProp(o, c.vm.ToValue("name")); v != nil && !goja.IsUndefined(v) {
		name = primString(v)
	}
	if v := c.rt.dataProp(o, c.vm.ToValue("message")); v != nil && !goja.IsUndefined(v) {
		msg = primString(v)
	}
	switch {
	case name == "":
		return msg
	case msg == "":
		return name
	}
	return name + ": " + msg
}

// formatError is Node's formatError: the stack, adjusted to the constructor name.
func (c *inspector) formatError(o *goja.Object, x *object) string {
	rt := c.rt
	name := "Error"
	if v := rt.dataProp(o, c.vm.ToValue("name")); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		name = primString(v)
	}
	stack := c.stackString(o)
	if !c.opts.ShowHidden && len(x.keys) != 0 {
		for _, n := range [...]string{"name", "message", "stack"} {
			for i, k := range x.keys {
				if k.sym == nil && k.name == n {
					if strings.Contains(stack, primString(rt.dataProp(o, c.vm.ToValue(n)))) {
						x.keys = append(x.keys[:i:i], x.keys[i+1:]...)
					}
					break
				}
			}
		}
	}
	if rt.lookup(o, c.vm.ToValue("cause")).found && !hasKey(x.keys, "cause") {
		x.keys = append(x.keys, key{name: "cause"})
	}
	if errs, ok := rt.dataProp(o, c.vm.ToValue("errors")).(*goja.Object); ok && errs.ClassName() == "Array" && !hasKey(x.keys, "errors") {
		x.keys = append(x.keys, key{name: "errors"})
	}
	stack = improveStack(stack, x.ctor, x.ctorNull, name, x.tag)

	pos := -1
	if msg, ok := rt.dataProp(o, c.vm.ToValue("message")).(goja.String); ok && msg.Length() > 0 {
		m := msg.String()
		if pos = strings.Index(stack, m); pos > 0 {
			pos += len(m)
		} else {
			pos = -1 // Node: (err.message && stack.indexOf(err.message)) || -1
		}
	}
	stackStart := -1
	if i := strings.Index(stack[max(pos, 0):], "\n    at"); i != -1 {
		stackStart = i + max(pos, 0)
	}
	if stackStart == -1 {
		stack = "[" + stack + "]"
	} else {
		lines := c.stackFrames(o, stack[stackStart+1:])
		stack = stack[:stackStart] + "\n" + strings.Join(lines, "\n")
	}
	if c.indentationLvl != 0 {
		stack = strings.ReplaceAll(stack, "\n", "\n"+strings.Repeat(" ", c.indentationLvl))
	}
	return stack
}

// improveStack is Node's improveStack: it puts the constructor name in front
// of the stack of subclassed errors.
func improveStack(stack, ctor string, ctorNull bool, name, tag string) string {
	n := len(name)
	if ctorNull || (strings.HasSuffix(name, "Error") && strings.HasPrefix(stack, name) &&
		(len(stack) == n || stack[n] == ':' || stack[n] == '\n')) {
		fallback := "Error"
		if ctorNull {
			m := errorStartRe().FindStringSubmatch(stack)
			if m == nil {
				m = errorNameRe().FindStringSubmatch(stack)
			}
			fallback = ""
			if m != nil {
				fallback = m[1]
			}
			n = len(fallback)
			if fallback == "" {
				fallback = "Error"
			}
		}
		prefix := strings.TrimSuffix(prefixOf(ctor, ctorNull, tag, fallback, ""), " ")
		if name != prefix {
			switch {
			case strings.Contains(prefix, name) && n == 0:
				stack = prefix + ": " + stack
			case strings.Contains(prefix, name):
				stack = prefix + stack[n:]
			default:
				stack = prefix + " [" + name + "]" + stack[n:]
			}
		}
	}
	return stack
}

// stackFrames is Node's getStackFrames: the frame lines, with those repeated
// from the stack of err.cause elided.
func (c *inspector) stackFrames(o *goja.Object, stack string) []string {
	frames := strings.Split(stack, "\n")
	cause, ok := c.rt.dataProp(o, c.vm.ToValue("cause")).(*goja.Object)
	if !ok {
		return frames
	}
	if _, isProxy := asProxy(cause); isProxy || !c.rt.isError(cause) {
		return frames
	}
	causeStack := c.stackString(cause)
	start := strings.Index(causeStack, "\n    at")
	if start == -1 {
		return frames
	}
	causeFrames := strings.Split(causeStack[start+1:], "\n")
	if n, offset := identicalSequenceRange(frames, causeFrames); n > 0 {
		skipped := n - 2
		msg := c.stylize("    ... "+strconv.Itoa(skipped)+" lines matching cause stack trace ...", styleUndefined)
		frames = append(frames[:offset+1], append([]string{msg}, frames[offset+1+skipped:]...)...)
	}
	return frames
}

func identicalSequenceRange(a, b []string) (n, offset int) {
	for i := 0; i < len(a)-3; i++ {
		pos := -1
		for j, s := range b {
			if s == a[i] {
				pos = j
				break
			}
		}
		if pos == -1 {
			continue
		}
		if rest := len(b) - pos; rest > 3 {
			l := 1
			maxLen := min(len(a)-i, rest)
			for maxLen > l && a[i+l] == b[pos+l] {
				l++
			}
			if l > 3 {
				return l, i
			}
		}
	}
	return 0, 0
}
