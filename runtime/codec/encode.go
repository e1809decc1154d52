package codec

// Wire format
//
// A message is exactly one value. A value is a one-byte tag followed by its
// body. Integers marked uv are unsigned LEB128 varints (encoding/binary
// Uvarint); "str" is uv byte length + WTF-8 bytes (UTF-8 that may also hold
// lone surrogates, see wtf8.go), with no tag.
//
//	'u'                      undefined
//	'n'                      null
//	'F' / 'T'                false / true
//	'i' zigzag-uv            number that is an integer in ±2^53 (not -0)
//	'f' 8 bytes              any other number: IEEE 754 bits, little endian
//	'I' sign uv n bytes      BigInt: sign 0 (≥0) or 1 (<0), magnitude big endian, no leading zero byte
//	's' str                  string
//	'r' uv                   back-reference to the object with that index
//	'h' str(kind) uv bytes   object crossing by reference, via Handles
//	'o' uv {str value}       plain object: count, then key/value pairs
//	'a' uv uv {value} uv {str value}
//	                         array: length, count of leading present elements
//	                         and those elements, then count and key/value pairs
//	                         of the other enumerable properties (indices after a
//	                         hole, named properties); holes are absent keys
//	'D' 8 bytes              Date: time value in ms as IEEE 754 bits (NaN = invalid date)
//	'R' str str              RegExp: source, flags
//	'M' u32 {value value}    Map: entry count (4 bytes little endian), key/value pairs
//	'S' u32 {value}          Set: element count (4 bytes little endian), elements
//	'B' uv bytes             ArrayBuffer: byte length, contents
//	'V' kind uv uv value     ArrayBuffer view: kind byte (index in viewKinds:
//	                         Int8Array .. BigUint64Array, 11 = DataView),
//	                         byteOffset, length in elements (bytes for DataView),
//	                         then the buffer (a 'B', an 'r' to one, or an 'h')
//	'E' type flags [str] [str] [str] [value]
//	                         Error: type byte (index in errorTypes: Error,
//	                         EvalError, RangeError, ReferenceError, SyntaxError,
//	                         TypeError, URIError), flags (1 name, 2 message,
//	                         4 stack, 8 cause), then name, message, stack, cause
//	                         when flagged
//	'X' primitive            boxed primitive (new Number(1), Object(1n), ...):
//	                         the boolean, number, string or BigInt it wraps
//
// Every object-valued tag (o a D R M S B V E X h) is assigned the next index
// when its tag is written, before its children, so a child may refer back to
// an ancestor: 'r' encodes shared references and cycles. Containers (o a M S
// V E) may nest at most MaxDepth deep.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/dop251/goja"
)

const (
	reasonFunction  = "a function cannot be sent to another process (make it a top-level function the target calls, or pass data)"
	reasonSymbol    = "a Symbol cannot be sent to another process"
	reasonProxy     = "a Proxy cannot be sent to another process"
	reasonPromise   = "a Promise cannot be sent to another process (await it and send the result)"
	reasonWeakMap   = "a WeakMap cannot be sent to another process"
	reasonWeakSet   = "a WeakSet cannot be sent to another process"
	reasonGenerator = "a generator cannot be sent to another process"
	reasonIterator  = "an iterator cannot be sent to another process (spread it into an array first)"
	reasonDetached  = "a detached ArrayBuffer cannot be sent to another process"
	reasonDepth     = "the value is nested too deeply to be sent to another process"
)

// smallMemo is how many objects a message may hold before the encoder
// switches from a linear scan to a map to find back-references.
const smallMemo = 16

// Encoder encodes values of one VM. Reusable (keeps its buffer/maps between calls to avoid allocation); not safe for concurrent use.
type Encoder struct {
	vm      *goja.Runtime
	h       Handles
	in      intrinsics
	plain   reflect.Type            // implementation type of a plain object
	root    string                  // name of the value being encoded, for paths
	objs    []*goja.Object          // objects met so far; the index is the back-reference
	memo    map[*goja.Object]uint32 // index of objs, once there are more than smallMemo
	path    []seg                   // where the encoder is, for errors
	depth   int                     // container nesting
	busy    bool                    // an Encode is running (re-entrant calls get a fresh Encoder)
	it      *iterState              // the Map/Set being walked by forEach
	forEach goja.Value              // Go callback handed to Map/Set.prototype.forEach
}

// iterState collects the entries of one Map or Set.
type iterState struct {
	b     []byte
	n     int
	isMap bool
	err   error
}

// NewEncoder returns an Encoder for values of vm. h may be nil: then no handle objects are accepted.
func NewEncoder(vm *goja.Runtime, h Handles) *Encoder {
	return &Encoder{vm: vm, h: h, in: intrinsics{vm: vm}, plain: implType(vm.NewObject())}
}

// Encode appends the encoding of v to dst and returns it. root names the value in errors ("args", "item", "value").
//
// Every object met, except a Proxy or one already encoded in this message,
// is first offered to Handles.EncodeHandle; a handle's error becomes a
// *CloneError at that object's path. A value that cannot be sent yields a
// *CloneError. If reading the value throws (a getter, a toString), the error
// wraps the *goja.Exception, so the caller can rethrow the original JS
// value. On error dst is returned unchanged.
func (e *Encoder) Encode(dst []byte, v goja.Value, root string) ([]byte, error) {
	if root == "" {
		root = "value"
	}
	o, ok := v.(*goja.Object)
	if !ok || o == nil { // primitives run no JS and touch no state
		b, reason := appendPrimitive(dst, v)
		if reason != "" {
			return dst, &CloneError{Path: root, Reason: reason}
		}
		return b, nil
	}
	if e.busy { // called again from a getter or a Handles method
		return NewEncoder(e.vm, e.h).Encode(dst, v, root)
	}
	e.busy, e.root = true, root
	defer e.reset()
	b, start := dst, len(dst)
	var err error
	if ex := e.vm.Try(func() { b, err = e.object(b, o) }); ex != nil && err == nil {
		err = e.exception(ex)
	}
	if err != nil {
		return dst[:start], err
	}
	return b, nil
}

// reset forgets the last message, keeping small buffers for the next one.
func (e *Encoder) reset() {
	if len(e.objs) > smallMemo {
		if len(e.objs) > 1024 {
			e.memo = nil // clearing a big map costs every later call
		} else {
			clear(e.memo)
		}
	}
	clear(e.objs)
	e.objs = e.objs[:0]
	if cap(e.objs) > 1024 {
		e.objs = nil
	}
	clear(e.path)
	e.path = e.path[:0]
	e.depth, e.it, e.busy = 0, nil, false
}

func (e *Encoder) fail(reason string) error {
	return &CloneError{Path: formatPath(e.root, e.path), Reason: reason}
}

func (e *Encoder) exception(err error) error {
	return fmt.Errorf("codec: %s: %w", formatPath(e.root, e.path), err)
}

func (e *Encoder) push(s seg) { e.path = append(e.path, s) }
func (e *Encoder) pop()       { e.path = e.path[:len(e.path)-1] }

func (e *Encoder) enter() error {
	if e.depth++; e.depth > MaxDepth {
		return e.fail(reasonDepth)
	}
	return nil
}

func (e *Encoder) lookup(o *goja.Object) (int, bool) {
	if len(e.objs) > smallMemo {
		i, ok := e.memo[o]
		return int(i), ok
	}
	for i, x := range e.objs {
		if x == o {
			return i, true
		}
	}
	return 0, false
}

func (e *Encoder) register(o *goja.Object) {
	e.objs = append(e.objs, o)
	switch n := len(e.objs); {
	case n == smallMemo+1:
		if e.memo == nil {
			e.memo = make(map[*goja.Object]uint32, 4*smallMemo)
		}
		for i, x := range e.objs {
			e.memo[x] = uint32(i)
		}
	case n > smallMemo+1:
		e.memo[o] = uint32(n - 1)
	}
}

// value encodes any value.
func (e *Encoder) value(b []byte, v goja.Value) ([]byte, error) {
	if o, ok := v.(*goja.Object); ok && o != nil {
		return e.object(b, o)
	}
	b, reason := appendPrimitive(b, v)
	if reason != "" {
		return b, e.fail(reason)
	}
	return b, nil
}

// appendPrimitive encodes a non-object value, or returns why it cannot.
func appendPrimitive(b []byte, v goja.Value) ([]byte, string) {
	if v == nil {
		return append(b, tagUndefined), ""
	}
	if o, ok := v.(*goja.Object); ok && o == nil {
		return append(b, tagNull), "" // as vm.ToValue((*goja.Object)(nil))
	}
	switch v.ExportType() {
	case typeInt64:
		return appendInt(b, v.ToInteger()), ""
	case typeFloat64:
		return appendFloat(b, v.ToFloat()), ""
	case typeString:
		if s, ok := v.(goja.String); ok {
			return appendJSString(append(b, tagString), s), ""
		}
	case typeBool:
		if v.ToBoolean() {
			return append(b, tagTrue), ""
		}
		return append(b, tagFalse), ""
	case nil:
		if goja.IsUndefined(v) {
			return append(b, tagUndefined), ""
		}
		if goja.IsNull(v) {
			return append(b, tagNull), ""
		}
	case typeBigInt:
		if x, ok := v.Export().(*big.Int); ok {
			return appendBigInt(b, x), ""
		}
	}
	if _, ok := v.(*goja.Symbol); ok {
		return b, reasonSymbol
	}
	return b, fmt.Sprintf("a value of Go type %T cannot be sent to another process", v)
}

func appendInt(b []byte, i int64) []byte {
	return binary.AppendUvarint(append(b, tagInt), uint64(i<<1)^uint64(i>>63))
}

func appendFloat(b []byte, f float64) []byte {
	if f == math.Trunc(f) && f >= -(1<<53) && f <= 1<<53 && (f != 0 || !math.Signbit(f)) {
		return appendInt(b, int64(f))
	}
	if f != f {
		f = math.NaN() // one NaN on the wire
	}
	return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(f))
}

func appendBigInt(b []byte, x *big.Int) []byte {
	sign := byte(0)
	if x.Sign() < 0 {
		sign = 1
	}
	n := (x.BitLen() + 7) / 8
	b = appendUvarint(append(b, tagBigInt, sign), uint64(n))
	b = slices.Grow(b, n)
	x.FillBytes(b[len(b) : len(b)+n])
	return b[:len(b)+n]
}

// object encodes an object: a back-reference, a handle, or a copy.
func (e *Encoder) object(b []byte, o *goja.Object) ([]byte, error) {
	if i, ok := e.lookup(o); ok {
		return appendUvarint(append(b, tagRef), uint64(i)), nil
	}
	t := o.ExportType()
	if t == typeProxy { // before anything reads it: a Proxy would run its traps, a revoked one throws
		return b, e.fail(reasonProxy)
	}
	if e.h != nil {
		kind, payload, ok, err := e.h.EncodeHandle(o)
		if err != nil {
			return b, e.fail(err.Error())
		}
		if ok {
			e.register(o)
			b = appendStr(append(b, tagHandle), kind)
			return append(appendUvarint(b, uint64(len(payload))), payload...), nil
		}
	}
	switch class := o.ClassName(); class {
	case "Array":
		return e.array(b, o)
	case "Function", "AsyncFunction", "GeneratorFunction", "AsyncGeneratorFunction":
		return b, e.fail(reasonFunction)
	case "Error":
		return e.error(b, o)
	case "Date":
		return e.date(b, o)
	case "RegExp":
		return e.regexp(b, o)
	case "Number", "String", "Boolean":
		if t == typeInt64 || t == typeFloat64 || t == typeBool || t == typeObjectMap {
			return e.boxed(b, o, class)
		}
		return b, e.host(t)
	}
	switch t {
	case typeObjectMap:
		return e.ordinary(b, o)
	case typeMapEntries:
		return e.collection(b, o, true)
	case typeSlice:
		return e.collection(b, o, false)
	case typeArrayBuffer:
		return e.arrayBuffer(b, o)
	case typePromise:
		return b, e.fail(reasonPromise)
	case typeBigInt:
		return e.boxed(b, o, "BigInt")
	case typeString:
		return b, e.fail("a Symbol object cannot be sent to another process")
	}
	if isTypedArrayType(t) {
		return e.view(b, o, false)
	}
	if t != nil && t.Kind() == reflect.Func { // async functions, Go functions
		return b, e.fail(reasonFunction)
	}
	return b, e.host(t)
}

func (e *Encoder) host(t reflect.Type) error {
	if t == nil {
		return e.fail("a Go host object cannot be sent to another process")
	}
	return e.fail(fmt.Sprintf("a Go host object (%v) cannot be sent to another process", t))
}

// isTypedArrayType reports whether t is a Go slice type a typed array
// exports ([]int8 ... []uint64); the exact kind is read later from the view.
func isTypedArrayType(t reflect.Type) bool {
	if t == nil || t.Kind() != reflect.Slice {
		return false
	}
	switch t.Elem().Kind() {
	case reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16, reflect.Int32, reflect.Uint32,
		reflect.Float32, reflect.Float64, reflect.Int64, reflect.Uint64:
		return true
	}
	return false
}

// ordinary encodes an object of class "Object" that exports as a map: a
// plain object, or one of the built-ins goja cannot tell apart through its
// public API (WeakMap, DataView, iterators...).
func (e *Encoder) ordinary(b []byte, o *goja.Object) ([]byte, error) {
	if it := implType(o); it != e.plain && it != nil {
		switch name := strings.TrimPrefix(it.String(), "*goja."); name {
		case "baseObject", "templatedObject", "guardedObject", "objectGoMapSimple", "argumentsObject", "destructKeyedSource":
		case "dataViewObject":
			return e.view(b, o, true)
		case "weakMapObject":
			return b, e.fail(reasonWeakMap)
		case "weakSetObject":
			return b, e.fail(reasonWeakSet)
		case "generatorObject":
			return b, e.fail(reasonGenerator)
		case "arrayIterObject", "mapIterObject", "setIterObject", "stringIterObject", "regExpStringIterObject":
			return b, e.fail(reasonIterator)
		default:
			return b, e.fail("an object of internal kind " + name + " cannot be sent to another process")
		}
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	e.register(o)
	p, err := e.props(o)
	if err != nil {
		return b, err
	}
	n := p.len()
	b = appendUvarint(append(b, tagObject), uint64(n))
	for i := 0; i < n; i++ {
		e.push(seg{kind: segKey, key: p.key(i)})
		b = p.appendKey(b, i)
		if b, err = e.value(b, p.get(o, i)); err != nil {
			return b, err
		}
		e.pop()
	}
	e.depth--
	return b, nil
}

// props lists the enumerable own string-keyed properties of an object. Keys
// come from Object.Keys as Go strings, which is exact unless a key holds a
// lone surrogate (shown as U+FFFD); then the exact keys and their values are
// fetched through a JS helper.
type props struct {
	keys  []string
	pairs []goja.Value // k0, v0, k1, v1, ... in exact mode
}

func (e *Encoder) props(o *goja.Object) (props, error) {
	keys := o.Keys()
	for _, k := range keys {
		if strings.Contains(k, "\uFFFD") {
			f, err := e.in.fn(inOwnEntries)
			if err != nil {
				return props{}, err
			}
			r, err := f(goja.Undefined(), o)
			if err != nil {
				return props{}, e.exception(err)
			}
			arr, _ := r.(*goja.Object)
			if arr == nil {
				return props{}, e.fail("cannot list its properties")
			}
			var pairs []goja.Value
			e.vm.ForOf(arr, func(v goja.Value) bool { pairs = append(pairs, v); return true })
			return props{pairs: pairs}, nil
		}
	}
	return props{keys: keys}, nil
}

func (p *props) len() int {
	if p.pairs != nil {
		return len(p.pairs) / 2
	}
	return len(p.keys)
}

// key returns key i as a Go string (lossy for lone surrogates: for paths and index checks only).
func (p *props) key(i int) string {
	if p.pairs != nil {
		return p.pairs[2*i].String()
	}
	return p.keys[i]
}

func (p *props) appendKey(b []byte, i int) []byte {
	if p.pairs != nil {
		s, ok := p.pairs[2*i].(goja.String)
		if !ok {
			s = p.pairs[2*i].ToString().(goja.String)
		}
		return appendJSString(b, s)
	}
	return appendStr(b, p.keys[i])
}

func (p *props) get(o *goja.Object, i int) goja.Value {
	if p.pairs != nil {
		return p.pairs[2*i+1]
	}
	return o.Get(p.keys[i])
}

// array encodes an Array (or an array-like Go slice) keeping its length,
// holes and non-index properties.
func (e *Encoder) array(b []byte, o *goja.Object) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	e.register(o)
	length := o.Get("length").ToInteger()
	if length < 0 || length > math.MaxUint32 {
		return b, e.fail("an array with an invalid length cannot be sent to another process")
	}
	p, err := e.props(o)
	if err != nil {
		return b, err
	}
	n, dense := p.len(), 0
	for dense < n && int64(dense) < length {
		if i, ok := parseIndex(p.key(dense)); !ok || int(i) != dense {
			break
		}
		dense++
	}
	b = appendUvarint(appendUvarint(append(b, tagArray), uint64(length)), uint64(dense))
	for i := 0; i < dense; i++ {
		e.push(seg{kind: segIndex, n: i})
		if b, err = e.value(b, p.get(o, i)); err != nil {
			return b, err
		}
		e.pop()
	}
	b = appendUvarint(b, uint64(n-dense))
	for i := dense; i < n; i++ {
		e.push(seg{kind: segKey, key: p.key(i)})
		b = p.appendKey(b, i)
		if b, err = e.value(b, p.get(o, i)); err != nil {
			return b, err
		}
		e.pop()
	}
	e.depth--
	return b, nil
}

// toJSString converts v like String(v) does.
func toJSString(v goja.Value) goja.String {
	if s, ok := v.(goja.String); ok {
		return s
	}
	if v == nil {
		v = goja.Undefined()
	}
	if s, ok := v.ToString().(goja.String); ok {
		return s
	}
	return goja.StringFromUTF16(nil)
}

// error encodes an Error as the built-in type its name says; an unknown
// name keeps the nearest built-in error prototype and the name itself.
func (e *Encoder) error(b []byte, o *goja.Object) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	e.register(o)
	own := o.GetOwnPropertyNames()
	typ, flags := -1, 0
	var name, message, stack goja.String
	if s, ok := o.Get("name").(goja.String); ok {
		typ = slices.Index(errorTypes[:], s.String())
		if typ < 0 {
			name, flags = s, flags|errHasName
		}
	}
	if typ < 0 {
		typ = e.errorBase(o)
	}
	if slices.Contains(own, "message") {
		message, flags = toJSString(o.Get("message")), flags|errHasMessage
	}
	if slices.Contains(own, "stack") {
		if s, ok := o.Get("stack").(goja.String); ok {
			stack, flags = s, flags|errHasStack
		}
	}
	if slices.Contains(own, "cause") {
		flags |= errHasCause
	}
	b = append(b, tagError, byte(typ), byte(flags))
	for _, s := range [...]goja.String{name, message, stack} {
		if s != nil {
			b = appendJSString(b, s)
		}
	}
	if flags&errHasCause != 0 {
		e.push(seg{kind: segField, key: "cause"})
		var err error
		if b, err = e.value(b, o.Get("cause")); err != nil {
			return b, err
		}
		e.pop()
	}
	e.depth--
	return b, nil
}

// errorBase finds the built-in error type whose prototype o inherits from.
func (e *Encoder) errorBase(o *goja.Object) int {
	var protos [len(errorTypes)]*goja.Object
	for i := 1; i < len(errorTypes); i++ {
		if c, err := e.in.obj(inError0 + i); err == nil {
			protos[i], _ = c.Get("prototype").(*goja.Object)
		}
	}
	for p := o.Prototype(); p != nil; p = p.Prototype() {
		for i := 1; i < len(protos); i++ {
			if protos[i] == p {
				return i
			}
		}
	}
	return 0
}

func (e *Encoder) date(b []byte, o *goja.Object) ([]byte, error) {
	e.register(o)
	ms := math.NaN()
	if t, ok := o.Export().(time.Time); ok {
		ms = float64(t.UnixMilli())
	}
	return binary.LittleEndian.AppendUint64(append(b, tagDate), math.Float64bits(ms)), nil
}

func (e *Encoder) regexp(b []byte, o *goja.Object) ([]byte, error) {
	e.register(o)
	b = appendJSString(append(b, tagRegExp), toJSString(o.Get("source")))
	return appendJSString(b, toJSString(o.Get("flags"))), nil
}

// boxed encodes a primitive wrapper object by the primitive it holds, read
// with the built-in valueOf (which checks the internal slot, not the
// prototype chain).
func (e *Encoder) boxed(b []byte, o *goja.Object, class string) ([]byte, error) {
	e.register(o)
	i := inBigIntValueOf
	switch class {
	case "String":
		i = inStringValueOf
	case "Number":
		i = inNumberValueOf
	case "Boolean":
		i = inBooleanValueOf
	}
	f, err := e.in.fn(i)
	if err != nil {
		return b, err
	}
	v, err := f(o)
	if err != nil {
		return b, e.exception(err)
	}
	b, reason := appendPrimitive(append(b, tagBoxed), v)
	if reason != "" {
		return b, e.fail(reason)
	}
	return b, nil
}

// collection encodes a Map or a Set through the built-in forEach, which
// walks the internal entry list in insertion order.
func (e *Encoder) collection(b []byte, o *goja.Object, isMap bool) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	e.register(o)
	tag, fi := byte(tagSet), inSetForEach
	if isMap {
		tag, fi = tagMap, inMapForEach
	}
	forEach, err := e.in.fn(fi)
	if err != nil {
		return b, err
	}
	if e.forEach == nil {
		e.forEach = e.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			e.entry(call.Argument(1), call.Argument(0))
			return goja.Undefined()
		})
	}
	b = append(b, tag, 0, 0, 0, 0)
	countAt := len(b) - 4
	st := &iterState{b: b, isMap: isMap}
	saved := e.it
	e.it = st
	_, ex := forEach(o, e.forEach)
	e.it = saved
	b = st.b
	if st.err != nil {
		return b, st.err
	}
	if ex != nil {
		return b, e.exception(ex)
	}
	binary.LittleEndian.PutUint32(b[countAt:], uint32(st.n))
	e.depth--
	return b, nil
}

// entry is called by forEach for each Map entry or Set element.
func (e *Encoder) entry(key, val goja.Value) {
	st := e.it
	if st == nil || st.err != nil {
		return
	}
	var err error
	if st.isMap {
		e.push(seg{kind: segMapKey, n: st.n})
		if st.b, err = e.value(st.b, key); err == nil {
			e.path[len(e.path)-1] = seg{kind: segMapValue, val: key}
			st.b, err = e.value(st.b, val)
		}
	} else {
		e.push(seg{kind: segSetElem, n: st.n})
		st.b, err = e.value(st.b, val)
	}
	if err != nil {
		st.err = err
		return
	}
	e.pop()
	st.n++
}

func (e *Encoder) arrayBuffer(b []byte, o *goja.Object) ([]byte, error) {
	e.register(o)
	ab, _ := o.Export().(goja.ArrayBuffer)
	if ab.Detached() {
		return b, e.fail(reasonDetached)
	}
	data := ab.Bytes()
	return append(appendUvarint(append(b, tagBuffer), uint64(len(data))), data...), nil
}

// view encodes a typed array or DataView as kind, offset and length over
// its buffer, which is encoded (or referenced) as a child. The fields are
// read with the built-in getters, which see the internal slots even if the
// view has own properties shadowing them.
func (e *Encoder) view(b []byte, o *goja.Object, dataView bool) ([]byte, error) {
	if err := e.enter(); err != nil {
		return b, err
	}
	e.register(o)
	f, err := e.in.fn(inViewInfo)
	if err != nil {
		return b, err
	}
	r, err := f(goja.Undefined(), o, e.vm.ToValue(dataView))
	if err != nil {
		return b, e.exception(err)
	}
	info := r.(*goja.Object)
	buf, _ := info.Get("0").(*goja.Object)
	if buf == nil || buf.ExportType() != typeArrayBuffer {
		return b, e.fail("a view whose buffer is not an ArrayBuffer cannot be sent to another process")
	}
	if buf.Export().(goja.ArrayBuffer).Detached() {
		return b, e.fail(reasonDetached)
	}
	name := info.Get("3").String()
	kind := slices.IndexFunc(viewKinds[:], func(k viewKind) bool { return k.name == name })
	if kind < 0 {
		return b, e.fail("a " + name + " cannot be sent to another process")
	}
	off, n := info.Get("1").ToInteger(), info.Get("2").ToInteger()
	b = appendUvarint(appendUvarint(append(b, tagView, byte(kind)), uint64(off)), uint64(n))
	e.push(seg{kind: segField, key: "buffer"})
	if b, err = e.object(b, buf); err != nil {
		return b, err
	}
	e.pop()
	e.depth--
	return b, nil
}
