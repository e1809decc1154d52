// Package codec owns mpjs's structured-clone wire format: it turns a goja.Value
// of one VM into bytes and those bytes back into an equal value in another VM,
// usually in another OS process.
//
// The semantics are those of the HTML structured clone algorithm: primitives
// (undefined, null, booleans, numbers including NaN, ±Infinity and -0, BigInt,
// strings including lone surrogates), plain objects, arrays (length, holes and
// extra properties kept), Date, RegExp, Map, Set, ArrayBuffer, typed arrays and
// DataView (views of one buffer still share it), boxed primitives, and Errors
// (name, message, stack, cause; re-created as the same built-in error type),
// with shared references and cycles preserved. Objects that cross by reference
// (queues, locks, shared memory, ...) are delegated to a Handles
// implementation. Anything else (functions, symbols, WeakMap, WeakSet,
// Proxy, Promise, generators, iterators, Go host objects) is refused with a
// *CloneError naming where the value sits, e.g. "args[1].cb: a function
// cannot be sent to another process ...". Nothing is silently dropped.
//
// Class instances are copied as plain objects of their own enumerable
// string-keyed properties (getters are invoked, the prototype is not kept,
// symbol-keyed properties are skipped), as structured clone does.
//
// Built-ins the Go API of goja does not reach (Map.prototype.forEach, the
// typed-array getters, constructors for decoding...) are taken from the VM's
// global object the first time an Encoder or Decoder needs them. As with any
// call from Go into a goja VM outside a running script, goja drains the VM's
// promise job queue after such a call.
//
// The wire format is described at the top of encode.go.
package codec

import (
	"encoding/binary"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// MaxDepth is the deepest nesting of containers (objects, arrays, maps,
// sets, errors, views) the codec encodes or decodes; deeper values are
// refused rather than risking stack exhaustion.
const MaxDepth = 4096

// Handles lets the codec carry objects that cross by reference (queues, locks, shared memory...).
type Handles interface {
	// EncodeHandle reports whether obj is such an object; if so it returns a short kind tag and an opaque payload.
	EncodeHandle(obj *goja.Object) (kind string, payload []byte, ok bool, err error)
	// DecodeHandle re-creates the object in vm from what EncodeHandle produced.
	DecodeHandle(vm *goja.Runtime, kind string, payload []byte) (goja.Value, error)
}

// CloneError is returned by Encode for a value that cannot be copied.
// Path locates the value inside the root (e.g. `args[1].cb`) and Reason says
// what it is and why it cannot be sent.
type CloneError struct {
	Path   string
	Reason string
}

// Error returns Path + ": " + Reason.
func (e *CloneError) Error() string { return e.Path + ": " + e.Reason }

// Wire tags; see the format description in encode.go.
const (
	tagUndefined = 'u'
	tagNull      = 'n'
	tagFalse     = 'F'
	tagTrue      = 'T'
	tagInt       = 'i'
	tagFloat     = 'f'
	tagBigInt    = 'I'
	tagString    = 's'
	tagRef       = 'r'
	tagHandle    = 'h'
	tagObject    = 'o'
	tagArray     = 'a'
	tagDate      = 'D'
	tagRegExp    = 'R'
	tagMap       = 'M'
	tagSet       = 'S'
	tagBuffer    = 'B'
	tagView      = 'V'
	tagError     = 'E'
	tagBoxed     = 'X'
)

// Error flags (the byte after the error type).
const (
	errHasName    = 1 << iota // a name that is not the type's own
	errHasMessage             // an own message property
	errHasStack               // a string stack
	errHasCause               // an own cause property (a full value)
	errFlagsMask  = errHasName | errHasMessage | errHasStack | errHasCause
)

// errorTypes are the built-in error constructors, indexed by the error type byte.
var errorTypes = [...]string{"Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"}

// viewKind is an ArrayBuffer view constructor and its element size.
type viewKind struct {
	name string
	size int
}

// viewKinds are the ArrayBuffer views, indexed by the view kind byte.
var viewKinds = [...]viewKind{
	{"Int8Array", 1}, {"Uint8Array", 1}, {"Uint8ClampedArray", 1},
	{"Int16Array", 2}, {"Uint16Array", 2}, {"Int32Array", 4}, {"Uint32Array", 4},
	{"Float32Array", 4}, {"Float64Array", 8}, {"BigInt64Array", 8}, {"BigUint64Array", 8},
	{"DataView", 1},
}

// Go types goja reports through ExportType; comparing them is a pointer compare.
var (
	typeInt64       = reflect.TypeFor[int64]()
	typeFloat64     = reflect.TypeFor[float64]()
	typeBool        = reflect.TypeFor[bool]()
	typeString      = reflect.TypeFor[string]()
	typeObjectMap   = reflect.TypeFor[map[string]any]()
	typeSlice       = reflect.TypeFor[[]any]()
	typeMapEntries  = reflect.TypeFor[[][2]any]()
	typeArrayBuffer = reflect.TypeFor[goja.ArrayBuffer]()
	typeProxy       = reflect.TypeFor[goja.Proxy]()
	typePromise     = reflect.TypeFor[*goja.Promise]()
	typeBigInt      = reflect.TypeFor[*big.Int]()
)

// selfField is the index of goja.Object's internal implementation field. The
// dynamic type of that field is the only exact way to tell a plain object
// from a WeakMap, a DataView or an iterator through goja's public API (they
// all report class "Object" and export as map[string]any). -1 if goja changes
// shape; then such objects are treated as plain (TestGojaShape catches this).
var selfField = func() int {
	f, ok := reflect.TypeFor[goja.Object]().FieldByName("self")
	if !ok || f.Type.Kind() != reflect.Interface || len(f.Index) != 1 {
		return -1
	}
	return f.Index[0]
}()

// implType returns the dynamic type of goja's implementation of o (e.g.
// *goja.baseObject), or nil if it cannot be told.
func implType(o *goja.Object) reflect.Type {
	if selfField < 0 {
		return nil
	}
	v := reflect.ValueOf(o).Elem().Field(selfField).Elem()
	if !v.IsValid() {
		return nil
	}
	return v.Type()
}

// seg is one step of the path from the root to the value being encoded.
type seg struct {
	kind uint8
	n    int
	key  string
	val  goja.Value
}

const (
	segKey      = iota // .key or ["key"]
	segIndex           // [n]
	segField           // .key, literal
	segMapKey          // .<map key n>
	segMapValue        // .get(<key>)
	segSetElem         // .<set element n>
)

func formatPath(root string, path []seg) string {
	var sb strings.Builder
	sb.WriteString(root)
	for _, s := range path {
		switch s.kind {
		case segKey:
			if isIdent(s.key) {
				sb.WriteByte('.')
				sb.WriteString(s.key)
			} else if isCanonicalIndex(s.key) {
				sb.WriteString("[" + s.key + "]")
			} else {
				sb.WriteString("[" + strconv.Quote(s.key) + "]")
			}
		case segIndex:
			sb.WriteString("[" + strconv.Itoa(s.n) + "]")
		case segField:
			sb.WriteString("." + s.key)
		case segMapKey:
			sb.WriteString(".<map key " + strconv.Itoa(s.n) + ">")
		case segMapValue:
			sb.WriteString(".get(" + describe(s.val) + ")")
		case segSetElem:
			sb.WriteString(".<set element " + strconv.Itoa(s.n) + ">")
		}
	}
	return sb.String()
}

// describe renders a Map key for a path.
func describe(v goja.Value) string {
	switch {
	case v == nil:
		return "undefined"
	case goja.IsString(v):
		s := v.String()
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return strconv.Quote(s)
	case goja.IsBigInt(v):
		return v.String() + "n"
	}
	if _, ok := v.(*goja.Object); ok {
		return "<object>"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "<symbol>"
	}
	return v.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// isCanonicalIndex reports whether s is an array index in canonical form
// ("0", "17", not "017"), i.e. a key JS stores as an integer.
func isCanonicalIndex(s string) bool {
	_, ok := parseIndex(s)
	return ok
}

// parseIndex parses a canonical array index (0 .. 2^32-2).
func parseIndex(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

func appendUvarint(b []byte, n uint64) []byte { return binary.AppendUvarint(b, n) }

// appendStr appends a length-prefixed Go string (already valid UTF-8).
func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
