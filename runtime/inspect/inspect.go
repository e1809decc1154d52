// Package inspect renders JavaScript values of a goja runtime the way Node.js's
// util.inspect, util.format and console.log do.
//
// It is a port of Node 20's lib/internal/util/inspect.js working on goja values.
// It never panics and never runs user code: getters are shown as [Getter]
// without being invoked, user-defined toString, valueOf and Symbol.toPrimitive
// methods are not called and Proxy traps are not triggered (a Proxy is shown
// as its target). Objects are looked into through the runtime's built-in
// functions (Object.getOwnPropertyDescriptor, Map.prototype.forEach, ...),
// read from its global object when Inspect or Format is called (getters
// defined on globals are not invoked, but a script that overwrites those
// built-ins gets its replacements called). The only exception to "no user
// code" is %j, which is JSON.stringify by definition (toJSON methods and
// getters run).
//
// Go values exposed to the runtime (vm.ToValue of structs, maps and slices,
// DynamicObject, DynamicArray) are shown as the objects and arrays they look
// like from JavaScript; a host object that panics is shown as
// [Inspection failed].
package inspect

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Options controls Inspect and Format. The zero value is valid; see
// DefaultOptions for the values Node uses.
type Options struct {
	// Depth is the nesting depth shown before "[Object]" (Node's default 2);
	// negative means unlimited.
	Depth int
	// Colors adds ANSI colours as Node's REPL does on a terminal (numbers
	// yellow, strings green, null bold, undefined grey, ...).
	Colors bool
	// BreakLength is the line length above which an object is printed one
	// entry per line; 0 means Node's default 80.
	BreakLength int
	// Compact is the number of innermost nesting levels that are joined on a
	// single line when they fit in BreakLength (it also limits the columns of
	// grouped arrays); 0 means Node's default 3, negative means Node's
	// compact: false (every entry on its own line).
	Compact int
	// MaxArrayLength is the number of array, Set and Map entries shown;
	// 0 means Node's default 100, negative means unlimited.
	MaxArrayLength int
	// MaxStringLength is the number of characters of a string shown;
	// 0 means Node's default 10000, negative means unlimited.
	MaxStringLength int
	// ShowHidden shows non-enumerable properties, as Node's showHidden.
	ShowHidden bool
	// ShowProxy shows a Proxy as Proxy [ target, handler ] instead of its target.
	ShowProxy bool
}

// DefaultOptions returns the options console.log uses in Node (depth 2, no colours).
func DefaultOptions() Options {
	return Options{Depth: 2}
}

// withDefaults fills in Node's defaults for the zero values.
func (o Options) withDefaults() Options {
	if o.BreakLength <= 0 {
		o.BreakLength = 80
	}
	if o.Compact == 0 {
		o.Compact = 3
	}
	o.MaxArrayLength = limit(o.MaxArrayLength, 100)
	o.MaxStringLength = limit(o.MaxStringLength, 10000)
	return o
}

func limit(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return int(^uint(0) >> 1)
	}
	return n
}

// Inspect renders v as util.inspect(v, opts) would in Node. It never panics and
// never runs user code.
func Inspect(vm *goja.Runtime, v goja.Value, opts Options) string {
	s := opts.withDefaults()
	if _, isObj := v.(*goja.Object); !isObj {
		return string(appendPrimitive(nil, v, &s, 0))
	}
	return newInspector(vm, s).inspect(v)
}

// inspector holds the state of one util.inspect call (Node's ctx).
type inspector struct {
	vm   *goja.Runtime
	opts Options
	rt   *realm

	indentationLvl int
	currentDepth   int
	seen           []*goja.Object
	circular       map[*goja.Object]int
	interrupted    bool
}

func newInspector(vm *goja.Runtime, s Options) *inspector {
	return &inspector{vm: vm, opts: s, rt: newRealm(vm)}
}

// maxRecursion bounds the nesting with unlimited depth, as the call stack
// size does in Node (which goes a bit deeper): output grows quadratically with
// the nesting.
const maxRecursion = 500

func (c *inspector) inspect(v goja.Value) (res string) {
	defer func() {
		if x := recover(); x != nil {
			c.recovered(x)
			res = c.stylize("[Inspection failed]", styleSpecial)
		}
	}()
	return c.formatValue(v, 0, false)
}

// recovered handles a panic caught while inspecting (see rearm).
func (c *inspector) recovered(x any) {
	if rearm(c.vm, x) {
		c.interrupted = true
	}
}

// rearm handles a panic caught while inspecting: an interrupt of the runtime
// is re-armed so that it still stops the script once Inspect returns (and
// true is returned); anything else (host object failures) is dropped.
func rearm(vm *goja.Runtime, x any) bool {
	var ie *goja.InterruptedError
	if err, ok := x.(error); ok && errors.As(err, &ie) {
		vm.Interrupt(ie.Value())
		return true
	}
	return false
}

func (c *inspector) depthExceeded(recurseTimes int) bool {
	return c.opts.Depth >= 0 && recurseTimes > c.opts.Depth
}

func (c *inspector) formatValue(v goja.Value, recurseTimes int, typedArray bool) string {
	o, ok := v.(*goja.Object)
	if !ok {
		return string(appendPrimitive(nil, v, &c.opts, c.indentationLvl))
	}
	if p, ok := asProxy(o); ok {
		// Proxies are shown as their target, without triggering traps.
		if p.Target() == nil {
			return c.stylize("<Revoked Proxy>", styleSpecial)
		}
		if c.opts.ShowProxy {
			return c.formatProxy(p, recurseTimes)
		}
		if o = proxyTarget(p); o == nil {
			return c.stylize("<Revoked Proxy>", styleSpecial)
		}
	}
	for _, s := range c.seen {
		if s == o {
			if c.circular == nil {
				c.circular = make(map[*goja.Object]int)
			}
			idx, ok := c.circular[o]
			if !ok {
				idx = len(c.circular) + 1
				c.circular[o] = idx
			}
			return c.stylize("[Circular *"+strconv.Itoa(idx)+"]", styleSpecial)
		}
	}
	if c.interrupted {
		return c.stylize("[Object]", styleSpecial)
	}
	return c.formatRawSafe(o, recurseTimes, typedArray)
}

// formatRawSafe is formatRaw with JS exceptions and Go panics (from host
// objects) turned into a placeholder, keeping the inspector state consistent.
func (c *inspector) formatRawSafe(o *goja.Object, recurseTimes int, typedArray bool) (res string) {
	seen, indent := len(c.seen), c.indentationLvl
	defer func() {
		if x := recover(); x != nil {
			c.recovered(x)
			c.seen, c.indentationLvl = c.seen[:seen], indent
			res = c.stylize("[Inspection failed]", styleSpecial)
		}
	}()
	if ex := c.vm.Try(func() { res = c.formatRaw(o, recurseTimes, typedArray) }); ex != nil {
		c.seen, c.indentationLvl = c.seen[:seen], indent
		res = c.stylize("[Inspection failed]", styleSpecial)
	}
	return res
}

func (c *inspector) formatProxy(p goja.Proxy, recurseTimes int) string {
	if c.depthExceeded(recurseTimes) {
		return c.stylize("Proxy [Array]", styleSpecial)
	}
	recurseTimes++
	c.indentationLvl += 2
	res := []string{c.formatValue(p.Target(), recurseTimes, false), c.formatValue(p.Handler(), recurseTimes, false)}
	c.indentationLvl -= 2
	return c.reduceToSingleString(res, "", [2]string{"Proxy [", "]"}, kArrayExtrasType, recurseTimes, nil)
}

// Kinds of extra output of formatProperty, as in Node.
const (
	kObjectType = iota
	kArrayType
	kArrayExtrasType
)

// key is an own property key: a string or a symbol.
type key struct {
	name string
	sym  *goja.Symbol
	// builtin names the global whose prototype has the built-in getter of
	// this key (ArrayBuffer byteLength, ...).
	builtin string
}

func (k key) value(vm *goja.Runtime) goja.Value {
	if k.sym != nil {
		return k.sym
	}
	return vm.ToValue(k.name)
}

func hasKey(keys []key, name string) bool {
	for _, k := range keys {
		if k.sym == nil && k.name == name {
			return true
		}
	}
	return false
}

// object describes how formatRaw prints an object.
type object struct {
	o          *goja.Object
	ctor       string
	ctorNull   bool
	tag        string
	keys       []key
	base       string
	braces     [2]string
	extrasType int
	output     func(recurseTimes int) []string
	numericAt  func(i int) bool
	protoProps []string // showHidden: properties of user prototypes
	showProto  bool     // whether to collect protoProps
}

func (c *inspector) formatRaw(o *goja.Object, recurseTimes int, typedArray bool) string {
	x := &object{o: o, braces: [2]string{"{", "}"}, extrasType: kObjectType}
	x.showProto = c.opts.ShowHidden && !c.depthExceeded(recurseTimes)
	x.ctor, x.ctorNull = c.constructorName(o, recurseTimes, x)
	x.tag = c.toStringTag(o)
	if res, done := c.classify(x, recurseTimes, typedArray); done {
		return res
	}

	if c.depthExceeded(recurseTimes) {
		name := strings.TrimSuffix(c.ctxStyle(x), " ")
		if !x.ctorNull {
			name = "[" + name + "]"
		}
		return c.stylize(name, styleSpecial)
	}
	if recurseTimes > maxRecursion {
		return c.stylize("["+strings.TrimSuffix(c.ctxStyle(x), " ")+": Inspection interrupted prematurely. Maximum call stack size exceeded.]", styleSpecial)
	}
	recurseTimes++
	c.seen = append(c.seen, o)
	c.currentDepth = recurseTimes
	var output []string
	if x.output != nil {
		output = x.output(recurseTimes)
	}
	for _, k := range x.keys {
		output = append(output, c.formatProperty(o, recurseTimes, k, x.extrasType, o))
	}
	output = append(output, x.protoProps...)
	if idx, ok := c.circular[o]; ok {
		ref := c.stylize("<ref *"+strconv.Itoa(idx)+">", styleSpecial)
		if x.base == "" {
			x.base = ref
		} else {
			x.base = ref + " " + x.base
		}
	}
	c.seen = c.seen[:len(c.seen)-1]
	return c.reduceToSingleString(output, x.base, x.braces, x.extrasType, recurseTimes, x.numericAt)
}

// classify fills x as Node's formatRaw does for each kind of object; done
// reports that res is the complete output.
func (c *inspector) classify(x *object, recurseTimes int, typedArray bool) (res string, done bool) {
	o, rt, class := x.o, c.rt, x.o.ClassName()
	empty := func() bool { return len(x.keys) == 0 && len(x.protoProps) == 0 }
	switch {
	case class == "Array":
		length := toLength(o.Get("length"))
		prefix := ""
		if x.ctor != "Array" || x.ctorNull || x.tag != "" {
			prefix = prefixOf(x.ctor, x.ctorNull, x.tag, "Array", "("+strconv.FormatInt(length, 10)+")")
		}
		all := c.ownKeys(o, c.opts.ShowHidden, length <= maxKeyScan)
		x.keys = nonIndexKeys(all)
		x.braces = [2]string{prefix + "[", "]"}
		if length == 0 && empty() {
			return x.braces[0] + "]", true
		}
		x.extrasType = kArrayExtrasType
		var numeric []bool
		x.output = func(recurseTimes int) []string {
			var out []string
			out, numeric = c.formatArray(o, length, all, length <= maxKeyScan, recurseTimes)
			return out
		}
		x.numericAt = func(i int) bool {
			if i < len(numeric) {
				return numeric[i]
			}
			return int64(i) < length && isNumeric(rt.dataProp(o, c.vm.ToValue(i)))
		}
		return "", false
	case isMapOrSet(o):
		isMap := o.ExportType() == mapType
		var entries []goja.Value
		size, ok := rt.collect(o, isMap, c.opts.MaxArrayLength, &entries)
		if ok {
			fallback := "Set"
			if isMap {
				fallback = "Map"
			}
			prefix := prefixOf(x.ctor, x.ctorNull, x.tag, fallback, "("+strconv.Itoa(size)+")")
			x.keys = c.ownKeys(o, c.opts.ShowHidden, true)
			if size == 0 && empty() {
				return prefix + "{}", true
			}
			x.braces[0] = prefix + "{"
			x.output = func(recurseTimes int) []string {
				return c.formatCollection(entries, isMap, size, recurseTimes)
			}
			return "", false
		}
	case isTypedArray(o):
		arr := o.Export()
		size := reflectLen(arr)
		x.keys = nonIndexKeys(c.ownKeys(o, c.opts.ShowHidden, size <= maxKeyScan))
		fallback := ""
		if x.ctorNull {
			fallback = typedArrayName(reflect.TypeOf(arr))
		}
		prefix := prefixOf(x.ctor, x.ctorNull, x.tag, fallback, "("+strconv.Itoa(size)+")")
		x.braces = [2]string{prefix + "[", "]"}
		if size == 0 && len(x.keys) == 0 && !c.opts.ShowHidden {
			return x.braces[0] + "]", true
		}
		x.extrasType = kArrayExtrasType
		x.output = func(recurseTimes int) []string { return c.formatTypedArray(o, arr, size, recurseTimes) }
		x.numericAt = func(i int) bool { return i < size }
		return "", false
	}

	// Node's "noIterator" branch.
	x.keys = c.ownKeys(o, c.opts.ShowHidden, true)
	switch {
	case isFunction(o):
		x.base = c.functionBase(o, x.ctor, x.ctorNull, x.tag)
		if empty() {
			return c.stylize(x.base, styleSpecial), true
		}
	case x.ctor == "Object" && !x.ctorNull:
		if class == "Arguments" {
			x.braces[0] = "[Arguments] {"
		} else if x.tag != "" {
			x.braces[0] = prefixOf(x.ctor, false, x.tag, "Object", "") + "{"
		}
		if empty() {
			return x.braces[0] + "}", true
		}
	case class == "RegExp":
		x.base = c.regexpString(o)
		if prefix := prefixOf(x.ctor, x.ctorNull, x.tag, "RegExp", ""); prefix != "RegExp " {
			x.base = prefix + x.base
		}
		if empty() || c.depthExceeded(recurseTimes) {
			return c.stylize(x.base, styleRegexp), true
		}
	case class == "Date":
		x.base = dateString(o)
		if prefix := prefixOf(x.ctor, x.ctorNull, x.tag, "Date", ""); prefix != "Date " {
			x.base = prefix + x.base
		}
		if empty() {
			return c.stylize(x.base, styleDate), true
		}
	case rt.isError(o):
		x.base = c.formatError(o, x)
		if empty() {
			return x.base, true
		}
	case o.ExportType() == arrayBufferType:
		prefix := prefixOf(x.ctor, x.ctorNull, x.tag, "ArrayBuffer", "")
		buf := o.Export().(goja.ArrayBuffer)
		if !typedArray {
			x.output = func(int) []string { return []string{c.formatArrayBuffer(buf)} }
		} else if empty() {
			return prefix + "{ byteLength: " + c.stylize(strconv.Itoa(len(buf.Bytes())), styleNumber) + " }", true
		}
		x.braces[0] = prefix + "{"
		x.keys = append([]key{{name: "byteLength", builtin: "ArrayBuffer"}}, x.keys...)
	case o.ExportType() == promiseType:
		x.braces[0] = prefixOf(x.ctor, x.ctorNull, x.tag, "Promise", "") + "{"
		p := o.Export().(*goja.Promise)
		x.output = func(recurseTimes int) []string { return c.formatPromise(p, recurseTimes) }
	default:
		if rt.isDataView(o) {
			x.braces[0] = prefixOf(x.ctor, x.ctorNull, x.tag, "DataView", "") + "{"
			x.keys = append([]key{{name: "byteLength", builtin: "DataView"}, {name: "byteOffset", builtin: "DataView"}, {name: "buffer", builtin: "DataView"}}, x.keys...)
			break
		}
		if weak := rt.weakKind(o); weak != "" {
			x.braces[0] = prefixOf(x.ctor, x.ctorNull, x.tag, weak, "") + "{"
			x.output = func(int) []string { return []string{c.stylize("<items unknown>", styleSpecial)} }
			break
		}
		if typ, prim, ok := rt.boxed(o); ok {
			x.base = c.boxedBase(x, typ, prim)
			if empty() {
				return x.base, true
			}
			break
		}
		if empty() {
			return c.ctxStyle(x) + "{}", true
		}
		x.braces[0] = c.ctxStyle(x) + "{"
	}
	return "", false
}

// prefixOf is Node's getPrefix.
func prefixOf(ctor string, ctorNull bool, tag, fallback, size string) string {
	if ctorNull {
		if tag != "" && fallback != tag {
			return "[" + fallback + size + ": null prototype] [" + tag + "] "
		}
		return "[" + fallback + size + ": null prototype] "
	}
	if tag != "" && ctor != tag {
		return ctor + size + " [" + tag + "] "
	}
	return ctor + size + " "
}

// ctxStyle is Node's getCtxStyle.
func (c *inspector) ctxStyle(x *object) string {
	fallback := ""
	if x.ctorNull {
		fallback = internalClassName(x.o)
		if fallback == x.tag {
			fallback = "Object"
		}
	}
	return prefixOf(x.ctor, x.ctorNull, x.tag, fallback, "")
}

// internalClassName approximates V8's internal constructor name of an object.
func internalClassName(o *goja.Object) string {
	switch class := o.ClassName(); class {
	case "Array", "Function", "Error", "Date", "RegExp", "Number", "String", "Boolean":
		return class
	}
	return "Object"
}

// constructorName is Node's getConstructorName: the name of the first
// constructor found on the prototype chain; ctorNull reports a null prototype.
func (c *inspector) constructorName(o *goja.Object, recurseTimes int, x *object) (name string, ctorNull bool) {
	rt := c.rt
	var firstProto *goja.Object
	first := true
	for obj := o; obj != nil; {
		if obj == rt.objProto || obj == rt.funcProto {
			name = "Object"
			if obj == rt.funcProto {
				name = "Function"
			}
			if x != nil && x.showProto && (first || firstProto != obj) {
				c.addPrototypeProperties(o, firstProtoOr(firstProto, o), recurseTimes, x)
			}
			return name, false
		}
		if ctor, ok := rt.ownProp(obj, c.vm.ToValue("constructor")).value.(*goja.Object); ok && isFunction(ctor) {
			if n := rt.functionName(ctor); n != "" && rt.instanceOf(o, ctor) {
				if x != nil && x.showProto && (firstProto != obj || !isBuiltinName(n)) {
					c.addPrototypeProperties(o, firstProtoOr(firstProto, o), recurseTimes, x)
				}
				return n, false
			}
		}
		obj = rt.proto(obj)
		if first {
			firstProto, first = obj, false
		}
	}
	if firstProto == nil {
		return "", true
	}
	res := internalClassName(o)
	if c.depthExceeded(recurseTimes) || recurseTimes > maxRecursion {
		return res + " <Complex prototype>", false
	}
	protoName, protoNull := c.constructorName(firstProto, recurseTimes+1, nil)
	if protoNull {
		sub := &inspector{vm: c.vm, opts: c.opts, rt: c.rt}
		sub.opts.Depth = 0
		return res + " <" + sub.formatRaw(firstProto, 1, false) + ">", false
	}
	return res + " <" + protoName + ">", false
}

func firstProtoOr(p, o *goja.Object) *goja.Object {
	if p != nil {
		return p
	}
	return o
}

// isBuiltinName reports whether name is a global constructor of the runtime
// (Node's builtInObjects).
func isBuiltinName(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	switch name {
	case "Object", "Function", "Array", "Number", "Boolean", "String", "Symbol", "Date", "Promise", "RegExp",
		"Error", "AggregateError", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError",
		"URIError", "ArrayBuffer", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array",
		"Int32Array", "Float32Array", "Float64Array", "Uint8ClampedArray", "BigUint64Array", "BigInt64Array",
		"DataView", "Map", "BigInt", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "Math", "JSON":
		return true
	}
	return false
}

// addPrototypeProperties shows the non-function properties of up to three user
// prototypes (showHidden only), as Node does.
func (c *inspector) addPrototypeProperties(main, obj *goja.Object, recurseTimes int, x *object) {
	rt := c.rt
	var keys []key
	keySet := map[key]bool{}
	for depth := 0; depth < 3; depth++ {
		if depth != 0 || main == obj {
			if obj = rt.proto(obj); obj == nil {
				return
			}
			if ctor, ok := rt.ownProp(obj, c.vm.ToValue("constructor")).value.(*goja.Object); ok && isFunction(ctor) && isBuiltinName(rt.functionName(ctor)) {
				return
			}
		}
		for _, k := range keys {
			keySet[k] = true
		}
		keys = c.ownKeys(obj, true, true)
		c.seen = append(c.seen, main)
		for _, k := range keys {
			if (k.sym == nil && k.name == "constructor") || rt.ownProp(main, k.value(c.vm)).found || (depth != 0 && keySet[k]) {
				continue
			}
			d := rt.ownProp(obj, k.value(c.vm))
			if d.value != nil && isFunction(d.value) {
				continue
			}
			s := c.formatProperty(obj, recurseTimes, k, kObjectType, main)
			if c.opts.Colors {
				s = "\x1b[2m" + s + "\x1b[22m"
			}
			x.protoProps = append(x.protoProps, s)
		}
		c.seen = c.seen[:len(c.seen)-1]
	}
}

// toStringTag returns the object's Symbol.toStringTag when Node shows it: a
// string that is not an own enumerable property (any own property with
// showHidden). Accessor tags are not invoked and thus ignored.
func (c *inspector) toStringTag(o *goja.Object) string {
	rt := c.rt
	tagKey := goja.Value(goja.SymToStringTag)
	for obj, own := o, true; obj != nil; obj, own = rt.proto(obj), false {
		d := rt.ownProp(obj, tagKey)
		if !d.found {
			continue
		}
		s, ok := d.value.(goja.String)
		if !ok || (own && (d.enumerable || c.opts.ShowHidden)) {
			return ""
		}
		return s.String()
	}
	return ""
}

// maxKeyScan is the length of arrays and typed arrays above which their string
// keys are not listed (goja can only list them all, indices included): extra
// properties of larger arrays are not shown.
const maxKeyScan = 1 << 16

// ownKeys is Node's getKeys: own enumerable string keys (if listNames) then
// enumerable symbols (all own keys with showHidden).
func (c *inspector) ownKeys(o *goja.Object, all, listNames bool) []key {
	var names []string
	switch {
	case !listNames:
	case !c.rt.stackSafe(o):
		// Listing the keys would compute the stack, running user code.
	case all:
		names = o.GetOwnPropertyNames()
	default:
		names = o.Keys()
	}
	syms := o.Symbols()
	keys := make([]key, 0, len(names)+len(syms))
	for _, n := range names {
		keys = append(keys, key{name: n})
	}
	for _, s := range syms {
		if all || c.rt.ownProp(o, s).enumerable {
			keys = append(keys, key{sym: s})
		}
	}
	return keys
}

// isIndex reports whether s is a canonical array index.
func isIndex(s string) bool {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	n := uint64(0)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n < 1<<32-1
}

func nonIndexKeys(keys []key) []key {
	var res []key
	for _, k := range keys {
		if k.sym != nil || !isIndex(k.name) {
			res = append(res, k)
		}
	}
	return res
}

func isNumeric(v goja.Value) bool {
	return v != nil && (goja.IsNumber(v) || goja.IsBigInt(v))
}

func toLength(v goja.Value) int64 {
	if v == nil {
		return 0
	}
	n := v.ToInteger()
	if n < 0 {
		return 0
	}
	return n
}

func remainingText(n int64) string {
	if n > 1 {
		return "... " + strconv.FormatInt(n, 10) + " more items"
	}
	return "... 1 more item"
}

// formatArray is Node's formatArray (with formatSpecialArray for holes); it
// also reports which entries are numbers, for groupArrayElements.
func (c *inspector) formatArray(o *goja.Object, length int64, keys []key, haveKeys bool, recurseTimes int) ([]string, []bool) {
	n := min(int64(c.opts.MaxArrayLength), length)
	var out []string
	var numeric []bool
	for i := int64(0); i < n; i++ {
		d := c.rt.ownProp(o, c.vm.ToValue(i))
		if !d.found {
			if !haveKeys {
				keys = c.ownKeys(o, false, true)
			}
			return c.formatSpecialArray(o, length, keys, recurseTimes, int(n), out, numeric, int(i))
		}
		out = append(out, c.formatPropertyValue(d, recurseTimes, kArrayType))
		numeric = append(numeric, isNumeric(d.value))
	}
	if length > n {
		out = append(out, remainingText(length-n))
	}
	return out, numeric
}

func (c *inspector) formatSpecialArray(o *goja.Object, length int64, keys []key, recurseTimes, maxLength int, out []string, numeric []bool, i int) ([]string, []bool) {
	index := int64(i)
	for ; i < len(keys) && len(out) < maxLength; i++ {
		k := keys[i]
		if k.sym != nil || !isIndex(k.name) {
			break
		}
		tmp, _ := strconv.ParseInt(k.name, 10, 64)
		if tmp != index {
			out = append(out, c.stylize(emptyItems(tmp-index), styleUndefined))
			numeric = append(numeric, false)
			index = tmp
			if len(out) == maxLength {
				break
			}
		}
		d := c.rt.ownProp(o, c.vm.ToValue(k.name))
		out = append(out, c.formatPropertyValue(d, recurseTimes, kArrayType))
		numeric = append(numeric, isNumeric(d.value))
		index++
	}
	remaining := length - index
	if len(out) != maxLength {
		if remaining > 0 {
			out = append(out, c.stylize(emptyItems(remaining), styleUndefined))
		}
	} else if remaining > 0 {
		out = append(out, remainingText(remaining))
	}
	return out, numeric
}

func emptyItems(n int64) string {
	if n > 1 {
		return "<" + strconv.FormatInt(n, 10) + " empty items>"
	}
	return "<1 empty item>"
}

func (c *inspector) formatCollection(entries []goja.Value, isMap bool, size int, recurseTimes int) []string {
	var out []string
	c.indentationLvl += 2
	if isMap {
		for i := 0; i+1 < len(entries); i += 2 {
			out = append(out, c.formatValue(entries[i], recurseTimes, false)+" => "+c.formatValue(entries[i+1], recurseTimes, false))
		}
	} else {
		for _, v := range entries {
			out = append(out, c.formatValue(v, recurseTimes, false))
		}
	}
	if shown := len(out); size > shown {
		out = append(out, remainingText(int64(size-shown)))
	}
	c.indentationLvl -= 2
	return out
}

func (c *inspector) formatPromise(p *goja.Promise, recurseTimes int) []string {
	if p.State() == goja.PromiseStatePending {
		return []string{c.stylize("<pending>", styleSpecial)}
	}
	c.indentationLvl += 2
	str := c.formatValue(p.Result(), recurseTimes, false)
	c.indentationLvl -= 2
	if p.State() == goja.PromiseStateRejected {
		str = c.stylize("<rejected>", styleSpecial) + " " + str
	}
	return []string{str}
}

func (c *inspector) formatArrayBuffer(buf goja.ArrayBuffer) string {
	if buf.Detached() {
		return c.stylize("(detached)", styleSpecial)
	}
	data := buf.Bytes()
	n := min(len(data), c.opts.MaxArrayLength)
	var b strings.Builder
	const hex = "0123456789abcdef"
	for i, x := range data[:n] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(hex[x>>4])
		b.WriteByte(hex[x&15])
	}
	if rest := len(data) - n; rest > 0 {
		b.WriteString(" ... " + strconv.Itoa(rest) + " more byte")
		if rest > 1 {
			b.WriteByte('s')
		}
	}
	return c.stylize("[Uint8Contents]", styleSpecial) + ": <" + b.String() + ">"
}

func (c *inspector) formatTypedArray(o *goja.Object, arr any, size int, recurseTimes int) []string {
	n := min(size, c.opts.MaxArrayLength)
	out := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		out = append(out, c.stylizeNumber(typedArrayElem(c.vm, arr, i)))
	}
	if size > n {
		out = append(out, remainingText(int64(size-n)))
	}
	if c.opts.ShowHidden {
		c.indentationLvl += 2
		out = append(out, "[BYTES_PER_ELEMENT]: "+c.stylizeNumber(c.vm.ToValue(int(reflect.TypeOf(arr).Elem().Size()))))
		for _, k := range []string{"length", "byteLength", "byteOffset", "buffer"} {
			out = append(out, "["+k+"]: "+c.formatValue(c.rt.getBuiltin("Uint8Array", k, o), recurseTimes, true))
		}
		c.indentationLvl -= 2
	}
	return out
}

func (c *inspector) stylizeNumber(v goja.Value) string {
	return string(appendPrimitive(nil, v, &c.opts, 0))
}

// formatProperty is Node's formatProperty: "key: value" (just the value for
// array elements), reading the property without invoking getters.
func (c *inspector) formatProperty(o *goja.Object, recurseTimes int, k key, typ int, original *goja.Object) string {
	var d propDesc
	if k.builtin != "" {
		d = propDesc{found: true, value: c.rt.getBuiltin(k.builtin, k.name, o), enumerable: true}
	} else if d = c.rt.ownProp(o, k.value(c.vm)); !d.found {
		d = c.rt.lookup(o, k.value(c.vm))
		d.found, d.enumerable = true, true
	}
	str := c.formatPropertyValue(d, recurseTimes, typ)
	if typ == kArrayType {
		return str
	}
	var name string
	switch {
	case k.sym != nil:
		name = "[" + c.stylize(escapeAll(symbolString(k.sym)), styleSymbol) + "]"
	case k.name == "__proto__":
		name = "['__proto__']"
	case !d.enumerable:
		name = "[" + escapeAll(k.name) + "]"
	case isIdentifier(k.name):
		name = k.name
	default:
		name = c.stylize(quote(k.name), styleString)
	}
	return name + ": " + str
}

func (c *inspector) formatPropertyValue(d propDesc, recurseTimes int, typ int) string {
	switch {
	case d.value != nil && !goja.IsUndefined(d.value):
		c.indentationLvl += 2
		s := c.formatValue(d.value, recurseTimes, false)
		c.indentationLvl -= 2
		return s
	case d.getter && d.setter:
		return c.stylize("[Getter/Setter]", styleSpecial)
	case d.getter:
		return c.stylize("[Getter]", styleSpecial)
	case d.setter:
		return c.stylize("[Setter]", styleSpecial)
	}
	return c.stylize("undefined", styleUndefined)
}

func isIdentifier(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
			return false
		}
	}
	return true
}

func (c *inspector) isBelowBreakLength(output []string, start int, base string) bool {
	total := len(output) + start
	if total+len(output) > c.opts.BreakLength {
		return false
	}
	for _, s := range output {
		if c.opts.Colors {
			s = stripColors(s)
		}
		total += jsLen(s)
		if total > c.opts.BreakLength {
			return false
		}
	}
	return base == "" || !strings.Contains(base, "\n")
}

func (c *inspector) reduceToSingleString(output []string, base string, braces [2]string, extrasType, recurseTimes int, numericAt func(int) bool) string {
	if c.opts.Compact >= 1 {
		entries := len(output)
		if extrasType == kArrayExtrasType && entries > 6 {
			output = c.groupArrayElements(output, numericAt)
		}
		if c.currentDepth-recurseTimes < c.opts.Compact && entries == len(output) {
			start := len(output) + c.indentationLvl + jsLen(braces[0]) + jsLen(base) + 10
			if c.isBelowBreakLength(output, start, base) {
				joined := strings.Join(output, ", ")
				if !strings.Contains(joined, "\n") {
					if base != "" {
						base += " "
					}
					return base + braces[0] + " " + joined + " " + braces[1]
				}
			}
		}
	}
	// Line up each entry on an individual line.
	indentation := "\n" + strings.Repeat(" ", c.indentationLvl)
	n := len(base) + len(braces[0]) + len(braces[1]) + (len(indentation)+3)*(len(output)+1)
	for _, s := range output {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	if base != "" {
		b.WriteString(base)
		b.WriteByte(' ')
	}
	b.WriteString(braces[0])
	for i, s := range output {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(indentation)
		b.WriteString("  ")
		b.WriteString(s)
	}
	b.WriteString(indentation)
	b.WriteString(braces[1])
	return b.String()
}

// groupArrayElements is Node's column layout of long arrays.
func (c *inspector) groupArrayElements(output []string, numericAt func(int) bool) []string {
	totalLength, maxLength := 0, 0
	outputLength := len(output)
	if c.opts.MaxArrayLength < outputLength {
		// The "... n more items" entry is not grouped.
		outputLength--
	}
	const separatorSpace = 2
	dataLen := make([]int, outputLength)
	for i := 0; i < outputLength; i++ {
		l := stringWidth(output[i], c.opts.Colors)
		dataLen[i] = l
		totalLength += l + separatorSpace
		maxLength = max(maxLength, l)
	}
	actualMax := maxLength + separatorSpace
	if actualMax*3+c.indentationLvl < c.opts.BreakLength &&
		(float64(totalLength)/float64(actualMax) > 5 || maxLength <= 6) {
		const approxCharHeights = 2.5
		averageBias := math.Sqrt(float64(actualMax) - float64(totalLength)/float64(len(output)))
		biasedMax := math.Max(float64(actualMax)-3-averageBias, 1)
		columns := min(
			int(math.Round(math.Sqrt(approxCharHeights*biasedMax*float64(outputLength))/biasedMax)),
			(c.opts.BreakLength-c.indentationLvl)/actualMax,
			c.opts.Compact*4,
			15,
		)
		if columns <= 1 {
			return output
		}
		var maxLineLength []int
		for i := 0; i < columns; i++ {
			lineMax := 0
			for j := i; j < len(output); j += columns {
				if j < outputLength && dataLen[j] > lineMax {
					lineMax = dataLen[j]
				}
			}
			maxLineLength = append(maxLineLength, lineMax+separatorSpace)
		}
		padStart := true
		if numericAt != nil {
			for i := 0; i < len(output); i++ {
				if !numericAt(i) {
					padStart = false
					break
				}
			}
		}
		var tmp []string
		for i := 0; i < outputLength; i += columns {
			maxI := min(i+columns, outputLength)
			var b strings.Builder
			j := i
			for ; j < maxI-1; j++ {
				padding := maxLineLength[j-i] + jsLen(output[j]) - dataLen[j]
				pad(&b, output[j]+", ", padding, padStart)
			}
			if padStart {
				padding := maxLineLength[j-i] + jsLen(output[j]) - dataLen[j] - separatorSpace
				pad(&b, output[j], padding, true)
			} else {
				b.WriteString(output[j])
			}
			tmp = append(tmp, b.String())
		}
		if outputLength < len(output) {
			tmp = append(tmp, output[outputLength])
		}
		return tmp
	}
	return output
}

func pad(b *strings.Builder, s string, width int, start bool) {
	n := width - jsLen(s)
	if !start {
		b.WriteString(s)
	}
	for ; n > 0; n-- {
		b.WriteByte(' ')
	}
	if start {
		b.WriteString(s)
	}
}
