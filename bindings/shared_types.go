package bindings

import (
	"math"
	"math/big"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/dop251/goja"
)

// ctype is one of Python's array/ctypes typecodes: how an element of a
// Value or an Array is stored in shared memory and read back in JavaScript.
type ctype struct {
	code   byte
	size   int
	signed bool
	float  bool
	char   bool   // 'c': a byte, read as a one-character string
	name   string // the C type, for messages
}

var ctypes = map[byte]*ctype{
	'c': {code: 'c', size: 1, char: true, name: "char"},
	'b': {code: 'b', size: 1, signed: true, name: "signed char"},
	'B': {code: 'B', size: 1, name: "unsigned char"},
	'h': {code: 'h', size: 2, signed: true, name: "short"},
	'H': {code: 'H', size: 2, name: "unsigned short"},
	'i': {code: 'i', size: 4, signed: true, name: "int"},
	'I': {code: 'I', size: 4, name: "unsigned int"},
	'l': {code: 'l', size: 8, signed: true, name: "long"},
	'L': {code: 'L', size: 8, name: "unsigned long"},
	'q': {code: 'q', size: 8, signed: true, name: "long long"},
	'Q': {code: 'Q', size: 8, name: "unsigned long long"},
	'f': {code: 'f', size: 4, float: true, name: "float"},
	'd': {code: 'd', size: 8, float: true, name: "double"},
}

const typecodeList = "'c', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'f', 'd'"

// pythonTypes maps ctypes names (Python's c_int...) to typecodes.
var pythonTypes = map[string]byte{
	"c_char": 'c', "c_byte": 'b', "c_ubyte": 'B', "c_short": 'h', "c_ushort": 'H',
	"c_int": 'i', "c_uint": 'I', "c_long": 'l', "c_ulong": 'L', "c_longlong": 'q',
	"c_ulonglong": 'Q', "c_float": 'f', "c_double": 'd', "c_int8": 'b', "c_uint8": 'B',
	"c_int16": 'h', "c_uint16": 'H', "c_int32": 'i', "c_uint32": 'I', "c_int64": 'q',
	"c_uint64": 'Q', "c_bool": 'B', "c_size_t": 'L', "c_ssize_t": 'l',
}

// lookupCtype finds the ctype of a typecode argument, or nil.
func lookupCtype(v goja.Value) *ctype {
	s, ok := v.Export().(string)
	if !ok {
		return nil
	}
	if len(s) == 1 {
		return ctypes[s[0]]
	}
	if c, ok := pythonTypes[strings.TrimPrefix(s, "ctypes.")]; ok {
		return ctypes[c]
	}
	return nil
}

func (t *ctype) integer() bool { return !t.float && !t.char }

const maxSafe = 1<<53 - 1

// load reads the element at p.
func (t *ctype) load(vm *goja.Runtime, p unsafe.Pointer) goja.Value {
	switch t.code {
	case 'c':
		return vm.ToValue(string(rune(*(*uint8)(p))))
	case 'b':
		return vm.ToValue(int64(*(*int8)(p)))
	case 'B':
		return vm.ToValue(int64(*(*uint8)(p)))
	case 'h':
		return vm.ToValue(int64(*(*int16)(p)))
	case 'H':
		return vm.ToValue(int64(*(*uint16)(p)))
	case 'i':
		return vm.ToValue(int64(*(*int32)(p)))
	case 'I':
		return vm.ToValue(int64(*(*uint32)(p)))
	case 'f':
		return vm.ToValue(float64(*(*float32)(p)))
	case 'd':
		return vm.ToValue(*(*float64)(p))
	}
	return t.fromBits(vm, *(*uint64)(p))
}

// loadBits reads the bits of the element at p, zero-extended.
func (t *ctype) loadBits(p unsafe.Pointer) uint64 {
	switch t.size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// exact reports whether v, just stored as bits, is what reading the
// element back gives: a Number that fits the type unchanged (not -0).
func (t *ctype) exact(v goja.Value, bits uint64) bool {
	if !goja.IsNumber(v) || t.char || t.code == 'f' {
		return false
	}
	f := v.ToFloat()
	switch {
	case t.code == 'd':
		return math.Float64bits(f) == bits
	case f == 0 && math.Signbit(f), f != math.Trunc(f), f > maxSafe || f < -maxSafe:
		return false
	case t.size < 8:
		return f == float64(t.signExtend(bits))
	case t.signed:
		return f == float64(int64(bits))
	}
	return f == float64(bits)
}

// fromBits turns the bits of an element into its JavaScript value: Numbers,
// except a 64-bit integer beyond the safe range, which is a BigInt.
func (t *ctype) fromBits(vm *goja.Runtime, bits uint64) goja.Value {
	switch {
	case t.code == 'f':
		return vm.ToValue(float64(math.Float32frombits(uint32(bits))))
	case t.code == 'd':
		return vm.ToValue(math.Float64frombits(bits))
	case t.code == 'c':
		return vm.ToValue(string(rune(uint8(bits))))
	case t.size < 8:
		return vm.ToValue(t.signExtend(bits))
	case t.signed:
		if v := int64(bits); v >= -maxSafe && v <= maxSafe {
			return vm.ToValue(v)
		}
		return vm.ToValue(big.NewInt(int64(bits)))
	}
	if bits <= maxSafe {
		return vm.ToValue(int64(bits))
	}
	return vm.ToValue(new(big.Int).SetUint64(bits))
}

// signExtend reads the low size bytes of bits as the element's integer.
func (t *ctype) signExtend(bits uint64) int64 {
	shift := 64 - 8*uint(t.size)
	if t.signed {
		return int64(bits<<shift) >> shift
	}
	return int64(bits << shift >> shift)
}

// toBits converts a JavaScript value to the bits of an element: integers
// wrap as the C type does, non-integral numbers are truncated toward zero
// (NaN and the infinities give 0) as typed arrays do; a BigInt is taken
// modulo 2**64. ok is false for a value that is not a number or a BigInt
// (or, for 'c', a one-character string).
func (t *ctype) toBits(v goja.Value) (bits uint64, ok bool) {
	switch {
	case goja.IsNumber(v):
		f := v.ToFloat()
		if t.float {
			return t.floatBits(f), true
		}
		if f >= -(1<<63) && f < 1<<63 {
			return uint64(v.ToInteger()), true // exact for an int64 held as such
		}
		return floatToUint64(f), true
	case goja.IsBigInt(v):
		b := v.Export().(*big.Int)
		if t.float {
			f, _ := new(big.Float).SetInt(b).Float64()
			return t.floatBits(f), true
		}
		return bigLow64(b), true
	case t.char && goja.IsString(v):
		r := []rune(v.String())
		if len(r) != 1 || r[0] > 255 {
			return 0, false
		}
		return uint64(r[0]), true
	}
	return 0, false
}

func (t *ctype) floatBits(f float64) uint64 {
	if t.code == 'f' {
		return uint64(math.Float32bits(float32(f)))
	}
	return math.Float64bits(f)
}

// floatToUint64 is ToIntegerOrInfinity followed by modulo 2**64.
func floatToUint64(f float64) uint64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	f = math.Trunc(f)
	if f >= -(1<<63) && f < 1<<63 {
		return uint64(int64(f))
	}
	m := math.Mod(f, 1<<64) // exact for floats this large
	if m < 0 {
		m += 1 << 64
	}
	if m >= 1<<63 {
		return uint64(int64(m - (1 << 64))) // exact: m-2**64 is in int64's range
	}
	return uint64(m)
}

var two64 = new(big.Int).Lsh(big.NewInt(1), 64)

func bigLow64(b *big.Int) uint64 {
	if b.Sign() >= 0 && b.BitLen() <= 64 {
		return b.Uint64()
	}
	return new(big.Int).Mod(b, two64).Uint64()
}

// store writes bits to the element at p.
func (t *ctype) store(p unsafe.Pointer, bits uint64) {
	switch t.size {
	case 1:
		*(*uint8)(p) = uint8(bits)
	case 2:
		*(*uint16)(p) = uint16(bits)
	case 4:
		*(*uint32)(p) = uint32(bits)
	default:
		*(*uint64)(p) = bits
	}
}

// rmw atomically applies f to the element at p (an integer type) and
// returns the old bits. Elements of one and two bytes are updated through
// the aligned 32-bit word that contains them.
func (t *ctype) rmw(p unsafe.Pointer, f func(old uint64) (uint64, bool)) uint64 {
	switch t.size {
	case 8:
		w := (*uint64)(p)
		for {
			old := atomic.LoadUint64(w)
			nv, ok := f(old)
			if !ok || atomic.CompareAndSwapUint64(w, old, nv) {
				return old
			}
		}
	case 4:
		w := (*uint32)(p)
		for {
			old := atomic.LoadUint32(w)
			nv, ok := f(uint64(old))
			if !ok || atomic.CompareAndSwapUint32(w, old, uint32(nv)) {
				return uint64(old)
			}
		}
	}
	skew := uintptr(p) & 3
	w := (*uint32)(unsafe.Add(p, -int(skew)))
	shift := 8 * uint(skew) // little-endian
	mask := uint32(1)<<(8*uint(t.size)) - 1
	for {
		word := atomic.LoadUint32(w)
		old := uint64(word>>shift) & uint64(mask)
		nv, ok := f(old)
		if !ok {
			return old
		}
		nw := word&^(mask<<shift) | (uint32(nv)&mask)<<shift
		if atomic.CompareAndSwapUint32(w, word, nw) {
			return old
		}
	}
}

// truncBits keeps the bytes of the element.
func (t *ctype) truncBits(b uint64) uint64 {
	if t.size == 8 {
		return b
	}
	return b & (1<<(8*uint(t.size)) - 1)
}
