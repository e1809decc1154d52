package inspect

import (
	"strings"

	"github.com/dop251/goja"
)

// Format renders console.log's arguments as Node's util.format (util.formatWithOptions
// with opts): a first string argument may hold %s %d %i %f %j %o %O %c and %%
// directives, the remaining arguments are inspected and joined by spaces;
// strings are printed unquoted at top level. It never panics.
func Format(vm *goja.Runtime, args []goja.Value, opts Options) (res string) {
	if len(args) == 0 {
		return ""
	}
	defer func() {
		if x := recover(); x != nil {
			rearm(vm, x)
			res = "[Inspection failed]"
		}
	}()
	f := formatter{vm: vm, opts: opts.withDefaults()}
	var buf []byte
	a := 0
	if first, ok := args[0].(goja.String); ok {
		str := first.String()
		if len(args) == 1 {
			return str
		}
		lastPos := 0
		for i := 0; i < len(str)-1; i++ {
			if str[i] != '%' {
				continue
			}
			i++
			next := str[i]
			if a+1 == len(args) {
				if next == '%' {
					buf = append(buf, str[lastPos:i]...)
					lastPos = i + 1
				}
				continue
			}
			switch next {
			case 's', 'j', 'd', 'i', 'f', 'O', 'o', 'c':
			case '%':
				buf = append(buf, str[lastPos:i]...)
				lastPos = i + 1
				continue
			default:
				continue
			}
			a++
			temp := f.directive(next, args[a])
			if lastPos != i-1 {
				buf = append(buf, str[lastPos:i-1]...)
			}
			buf = append(buf, temp...)
			lastPos = i + 1
		}
		if lastPos != 0 {
			a++
			buf = append(buf, str[lastPos:]...)
		}
	}
	for ; a < len(args); a++ {
		if a > 0 {
			buf = append(buf, ' ')
		}
		buf = f.append(buf, args[a])
	}
	return string(buf)
}

// directive renders v for the directive %verb.
func (f *formatter) directive(verb byte, v goja.Value) string {
	switch verb {
	case 's':
		return f.directiveS(v)
	case 'j':
		return f.json(v)
	case 'd', 'i', 'f':
		return f.number(v, verb)
	case 'O':
		return f.inspect(v, f.opts)
	case 'o':
		s := f.opts
		s.ShowHidden, s.ShowProxy, s.Depth = true, true, 4
		return f.inspect(v, s)
	}
	return "" // %c: CSS is ignored
}

// formatter shares the built-ins lookups between the arguments of Format.
type formatter struct {
	vm   *goja.Runtime
	opts Options
	rt   *realm
}

func (f *formatter) realm() *realm {
	if f.rt == nil {
		f.rt = newRealm(f.vm)
	}
	return f.rt
}

// append appends an argument printed by console.log: strings as they are,
// anything else inspected.
func (f *formatter) append(buf []byte, v goja.Value) []byte {
	switch v.(type) {
	case goja.String:
		return append(buf, v.String()...)
	case *goja.Object:
		return append(buf, f.inspect(v, f.opts)...)
	}
	return appendPrimitive(buf, v, &f.opts, 0)
}

func (f *formatter) inspect(v goja.Value, s Options) string {
	if !isObject(v) {
		return string(appendPrimitive(nil, v, &s, 0))
	}
	return (&inspector{vm: f.vm, opts: s, rt: f.realm()}).inspect(v)
}

// directiveS is %s: primitives as String() (numbers as inspect), objects
// inspected with depth 0 and no colours. Unlike Node, a user-defined toString
// is never called: such objects are inspected too.
func (f *formatter) directiveS(v goja.Value) string {
	switch x := v.(type) {
	case goja.String:
		return x.String()
	case *goja.Symbol:
		return symbolString(x)
	case *goja.Object:
		if isFunction(x) {
			if src, ok := f.realm().call(f.realm().builtin("Function", "toString", false), x); ok {
				return src.String()
			}
		}
		s := f.opts
		s.Depth, s.Colors, s.Compact = 0, false, 3
		return f.inspect(v, s)
	}
	s := f.opts
	s.Colors = false
	return string(appendPrimitive(nil, v, &s, 0))
}

// json is %j: JSON.stringify, "[Circular]" for circular structures.
func (f *formatter) json(v goja.Value) (res string) {
	defer func() {
		if x := recover(); x != nil {
			rearm(f.vm, x)
			res = "undefined"
		}
	}()
	r := f.realm()
	stringify := r.builtin("JSON", "stringify", true)
	if stringify == nil {
		return "undefined"
	}
	out, err := stringify(goja.Undefined(), v)
	if err != nil {
		ex, ok := err.(*goja.Exception)
		if !ok {
			panic(err)
		}
		msg := ""
		if o, ok := ex.Value().(*goja.Object); ok {
			msg = (&inspector{vm: f.vm, opts: f.opts, rt: r}).errorToString(o)
		}
		if strings.Contains(strings.ToLower(msg), "circular") {
			return "[Circular]"
		}
		return "[" + msg + "]"
	}
	return primString(out)
}

// number is %d (Number(v)), %i (parseInt(v)) and %f (parseFloat(v)). Objects
// other than boxed primitives and Dates give NaN (their toString/valueOf are
// not called).
func (f *formatter) number(v goja.Value, verb byte) string {
	if o, ok := v.(*goja.Object); ok {
		r := f.realm()
		if _, prim, ok := r.boxed(o); ok {
			v = prim
		} else if o.ClassName() == "Date" && verb == 'd' {
			v = goja.NaN()
			if t, ok := r.call(r.builtin("Date", "getTime", false), o); ok {
				v = t
			}
		} else {
			return "NaN"
		}
	}
	switch {
	case goja.IsBigInt(v):
		return v.String() + "n"
	case isSymbol(v):
		return "NaN"
	case verb == 'd':
		return numberString(v.ToNumber())
	}
	name := "parseInt"
	if verb == 'f' {
		name = "parseFloat"
	}
	r := f.realm()
	if res, ok := r.call(r.builtin("Number", name, true), goja.Undefined(), v); ok {
		if res.ToFloat() == 0 && strings.HasPrefix(strings.TrimSpace(v.String()), "-") {
			return "-0" // goja's parseInt loses the sign of zero
		}
		return numberString(res)
	}
	return "NaN"
}

func isSymbol(v goja.Value) bool {
	_, ok := v.(*goja.Symbol)
	return ok
}
