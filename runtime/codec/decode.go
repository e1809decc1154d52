package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/dop251/goja"
)

// Decoder decodes values into one VM. Reusable (keeps its scratch space
// between calls); not safe for concurrent use.
//
// Decode accepts any bytes: malformed input is an error, never a panic, and
// the decoder allocates no more than the input can justify (every element a
// count claims needs at least one byte of input).
type Decoder struct {
	vm    *goja.Runtime
	h     Handles
	in    intrinsics
	data  []byte
	pos   int
	objs  []slot                // decoded objects by back-reference index
	items []any                 // stack of array elements being decoded
	keys  map[string]string     // interned property names, kept across messages
	strs  map[string]goja.Value // interned short string values, kept across messages
	depth int
	busy  bool
}

// slot is one back-referenceable object. An array is created only once its
// elements are decoded (goja builds it in one go); until then v is nil and
// pending is set, and a back-reference to it creates it early.
type slot struct {
	v       goja.Value
	pending bool
}

var errTruncated = errors.New("codec: truncated input")

// NewDecoder returns a Decoder that creates values in vm. h may be nil: then
// input holding handle objects is an error.
func NewDecoder(vm *goja.Runtime, h Handles) *Decoder {
	return &Decoder{vm: vm, h: h, in: intrinsics{vm: vm}}
}

// Decode decodes exactly one value from data; trailing bytes are an error.
func (d *Decoder) Decode(data []byte) (v goja.Value, err error) {
	if d.busy { // called again from a Handles method
		return NewDecoder(d.vm, d.h).Decode(data)
	}
	d.busy, d.data, d.pos, d.depth = true, data, 0, 0
	defer func() {
		if r := recover(); r != nil { // safety net only; all input is checked
			v, err = nil, fmt.Errorf("codec: internal error decoding at byte %d: %v", d.pos, r)
		}
		clear(d.objs)
		d.objs = d.objs[:0]
		clear(d.items)
		d.items = d.items[:0]
		d.data, d.busy = nil, false
	}()
	if v, err = d.value(); err != nil {
		return nil, err
	}
	if d.pos != len(d.data) {
		return nil, fmt.Errorf("codec: %d trailing bytes after the value", len(d.data)-d.pos)
	}
	return v, nil
}

func (d *Decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("codec: at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *Decoder) byte() (byte, error) {
	if d.pos >= len(d.data) {
		return 0, errTruncated
	}
	c := d.data[d.pos]
	d.pos++
	return c, nil
}

func (d *Decoder) uvarint() (uint64, error) {
	n, k := binary.Uvarint(d.data[d.pos:])
	if k <= 0 {
		if k == 0 {
			return 0, errTruncated
		}
		return 0, d.errorf("varint overflows 64 bits")
	}
	d.pos += k
	return n, nil
}

// count reads an element count, each element needing at least min bytes.
func (d *Decoder) count(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.data)-d.pos)/uint64(min) {
		return 0, d.errorf("count %d exceeds the remaining input", n)
	}
	return int(n), nil
}

func (d *Decoder) bytes(n int) ([]byte, error) {
	if n > len(d.data)-d.pos {
		return nil, errTruncated
	}
	b := d.data[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// str reads a length-prefixed string body.
func (d *Decoder) str() ([]byte, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	return d.bytes(n)
}

func (d *Decoder) jsStr() (goja.Value, error) {
	b, err := d.str()
	if err != nil {
		return nil, err
	}
	if len(b) <= maxInternedLen {
		if v, ok := d.strs[string(b)]; ok {
			return v, nil
		}
	}
	v, err := jsString(d.vm, b)
	if err != nil {
		return nil, d.errorf("%v", err)
	}
	if len(b) <= maxInternedLen { // string values are immutable and shareable
		if d.strs == nil || len(d.strs) >= maxInterned {
			d.strs = make(map[string]goja.Value)
		}
		d.strs[string(b)] = v
	}
	return v, nil
}

func (d *Decoder) float() (float64, error) {
	b, err := d.bytes(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// reserve registers the next object index and returns it.
func (d *Decoder) reserve() int {
	d.objs = append(d.objs, slot{})
	return len(d.objs) - 1
}

func (d *Decoder) enter() error {
	if d.depth++; d.depth > MaxDepth {
		return d.errorf("nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (d *Decoder) value() (goja.Value, error) {
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagRef:
		return d.ref()
	case tagHandle:
		return d.handle()
	case tagObject:
		return d.object()
	case tagArray:
		return d.array()
	case tagDate:
		return d.date()
	case tagRegExp:
		return d.regexp()
	case tagMap, tagSet:
		return d.collection(tag == tagMap)
	case tagBuffer:
		return d.arrayBuffer()
	case tagView:
		return d.view()
	case tagError:
		return d.error()
	case tagBoxed:
		i := d.reserve()
		v, err := d.primitive(true)
		if err != nil {
			return nil, err
		}
		o := v.ToObject(d.vm)
		d.objs[i].v = o
		return o, nil
	}
	d.pos--
	return d.primitive(false)
}

// primitive decodes a primitive; boxable restricts it to what a wrapper
// object can hold.
func (d *Decoder) primitive(boxable bool) (goja.Value, error) {
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagUndefined, tagNull:
		if boxable {
			break
		}
		if tag == tagNull {
			return goja.Null(), nil
		}
		return goja.Undefined(), nil
	case tagFalse:
		return d.vm.ToValue(false), nil
	case tagTrue:
		return d.vm.ToValue(true), nil
	case tagInt:
		u, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		return d.vm.ToValue(int64(u>>1) ^ -int64(u&1)), nil
	case tagFloat:
		f, err := d.float()
		if err != nil {
			return nil, err
		}
		return d.vm.ToValue(f), nil
	case tagBigInt:
		return d.bigInt()
	case tagString:
		return d.jsStr()
	}
	return nil, d.errorf("unexpected tag %q", tag)
}

func (d *Decoder) bigInt() (goja.Value, error) {
	sign, err := d.byte()
	if err != nil {
		return nil, err
	}
	b, err := d.str()
	if err != nil {
		return nil, err
	}
	if sign > 1 || len(b) > 0 && b[0] == 0 || sign == 1 && len(b) == 0 {
		return nil, d.errorf("malformed BigInt")
	}
	x := new(big.Int).SetBytes(b)
	if sign == 1 {
		x.Neg(x)
	}
	return d.vm.ToValue(x), nil
}

func (d *Decoder) ref() (goja.Value, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n >= uint64(len(d.objs)) {
		return nil, d.errorf("back-reference %d to an object not seen yet", n)
	}
	s := &d.objs[n]
	if s.v == nil {
		if !s.pending {
			return nil, d.errorf("back-reference %d to an object under construction", n)
		}
		s.v = d.vm.NewArray() // an array referring to itself: create it now, fill it later
	}
	return s.v, nil
}

func (d *Decoder) handle() (goja.Value, error) {
	i := d.reserve()
	kind, err := d.str()
	if err != nil {
		return nil, err
	}
	payload, err := d.str()
	if err != nil {
		return nil, err
	}
	if d.h == nil {
		return nil, d.errorf("a %q handle object, but the decoder has no Handles", kind)
	}
	v, err := d.h.DecodeHandle(d.vm, string(kind), append([]byte(nil), payload...))
	if err != nil {
		return nil, fmt.Errorf("codec: decoding a %q handle: %w", kind, err)
	}
	if v == nil {
		return nil, d.errorf("Handles returned nil for a %q handle", kind)
	}
	d.objs[i].v = v
	return v, nil
}

// define creates an own enumerable data property, like structured clone
// (and unlike assignment, which would call a "__proto__" setter).
func (d *Decoder) define(o *goja.Object, key []byte, v goja.Value) error {
	if k, ok := d.key(key); ok {
		if err := o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			return fmt.Errorf("codec: defining property %q: %w", k, err)
		}
		return nil
	}
	kv, err := jsString(d.vm, key)
	if err != nil {
		return d.errorf("%v", err)
	}
	f, err := d.in.fn(inDefine)
	if err != nil {
		return err
	}
	if _, err := f(goja.Undefined(), o, kv, v); err != nil {
		return fmt.Errorf("codec: defining a property: %w", err)
	}
	return nil
}

// Interning bounds: messages of one program repeat the same few keys and
// many of the same short strings. A full table is emptied and refilled.
const (
	maxInterned    = 4096
	maxInternedLen = 32
)

// key returns key as a Go string, interned when short; ok is false for a
// key with a lone surrogate, which goja's string-keyed API cannot express.
func (d *Decoder) key(key []byte) (string, bool) {
	if len(key) > maxInternedLen {
		return keyString(key)
	}
	if k, ok := d.keys[string(key)]; ok {
		return k, true
	}
	k, ok := keyString(key)
	if ok {
		if d.keys == nil || len(d.keys) >= maxInterned {
			d.keys = make(map[string]string)
		}
		d.keys[k] = k
	}
	return k, ok
}

// props decodes n key/value pairs into o.
func (d *Decoder) props(o *goja.Object, n int) error {
	for range n {
		key, err := d.str()
		if err != nil {
			return err
		}
		v, err := d.value()
		if err != nil {
			return err
		}
		if err := d.define(o, key, v); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) object() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	o := d.vm.NewObject()
	d.objs[d.reserve()].v = o
	n, err := d.count(2)
	if err != nil {
		return nil, err
	}
	if err := d.props(o, n); err != nil {
		return nil, err
	}
	d.depth--
	return o, nil
}

func (d *Decoder) array() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	i := d.reserve()
	d.objs[i].pending = true
	length, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	dense, err := d.count(1)
	if err != nil {
		return nil, err
	}
	if length >= math.MaxUint32+1 || uint64(dense) > length {
		return nil, d.errorf("malformed array (length %d, %d elements)", length, dense)
	}
	base := len(d.items)
	for range dense {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.items = append(d.items, v)
	}
	items := d.items[base:]
	var a *goja.Object
	if s := d.objs[i]; s.v != nil { // created early by a back-reference
		a = s.v.(*goja.Object)
		for j, v := range items {
			if err := a.DefineDataProperty(strconv.Itoa(j), v.(goja.Value), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return nil, fmt.Errorf("codec: filling an array: %w", err)
			}
		}
	} else {
		a = d.vm.NewArray(items...)
		d.objs[i].v = a
	}
	clear(items)
	d.items = d.items[:base]
	d.objs[i].pending = false
	if length > uint64(dense) {
		if err := a.Set("length", length); err != nil {
			return nil, fmt.Errorf("codec: setting an array's length: %w", err)
		}
	}
	n, err := d.count(2)
	if err != nil {
		return nil, err
	}
	if err := d.props(a, n); err != nil {
		return nil, err
	}
	d.depth--
	return a, nil
}

// construct calls built-in constructor i with args.
func (d *Decoder) construct(i int, args ...goja.Value) (*goja.Object, error) {
	c, err := d.in.obj(i)
	if err != nil {
		return nil, err
	}
	o, err := d.vm.New(c, args...)
	if err != nil {
		return nil, fmt.Errorf("codec: creating a %s: %w", intrinsicSrc[i], err)
	}
	return o, nil
}

func (d *Decoder) date() (goja.Value, error) {
	i := d.reserve()
	ms, err := d.float()
	if err != nil {
		return nil, err
	}
	if ms == ms && (ms != math.Trunc(ms) || math.Abs(ms) > 8.64e15) {
		return nil, d.errorf("invalid Date time value %v", ms)
	}
	o, err := d.construct(inDate, d.vm.ToValue(ms))
	if err != nil {
		return nil, err
	}
	d.objs[i].v = o
	return o, nil
}

func (d *Decoder) regexp() (goja.Value, error) {
	i := d.reserve()
	src, err := d.jsStr()
	if err != nil {
		return nil, err
	}
	flags, err := d.jsStr()
	if err != nil {
		return nil, err
	}
	o, err := d.construct(inRegExp, src, flags)
	if err != nil {
		return nil, err
	}
	d.objs[i].v = o
	return o, nil
}

func (d *Decoder) collection(isMap bool) (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	ctor, add, per := inSet, inSetAdd, 1
	if isMap {
		ctor, add, per = inMap, inMapSet, 2
	}
	o, err := d.construct(ctor)
	if err != nil {
		return nil, err
	}
	d.objs[d.reserve()].v = o
	b, err := d.bytes(4)
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(d.data)-d.pos)/uint64(per) {
		return nil, d.errorf("count %d exceeds the remaining input", n)
	}
	f, err := d.in.fn(add)
	if err != nil {
		return nil, err
	}
	var args [2]goja.Value
	for range n {
		for j := range per {
			if args[j], err = d.value(); err != nil {
				return nil, err
			}
		}
		if _, err := f(o, args[:per]...); err != nil {
			return nil, fmt.Errorf("codec: filling a %s: %w", intrinsicSrc[ctor], err)
		}
	}
	d.depth--
	return o, nil
}

func (d *Decoder) arrayBuffer() (goja.Value, error) {
	i := d.reserve()
	b, err := d.str()
	if err != nil {
		return nil, err
	}
	o := d.vm.ToValue(d.vm.NewArrayBuffer(append([]byte(nil), b...))).(*goja.Object)
	d.objs[i].v = o
	return o, nil
}

func (d *Decoder) view() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	i := d.reserve()
	kind, err := d.byte()
	if err != nil {
		return nil, err
	}
	if int(kind) >= len(viewKinds) {
		return nil, d.errorf("unknown view kind %d", kind)
	}
	off, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	bv, err := d.value()
	if err != nil {
		return nil, err
	}
	buf, _ := bv.(*goja.Object)
	if buf == nil || buf.ExportType() != typeArrayBuffer {
		return nil, d.errorf("the buffer of a %s is not an ArrayBuffer", viewKinds[kind].name)
	}
	ab := buf.Export().(goja.ArrayBuffer)
	size, blen := uint64(viewKinds[kind].size), uint64(len(ab.Bytes()))
	if ab.Detached() || off%size != 0 || off > blen || n > (blen-off)/size {
		return nil, d.errorf("a %s (offset %d, length %d) does not fit its %d-byte buffer", viewKinds[kind].name, off, n, blen)
	}
	o, err := d.construct(inView0+int(kind), buf, d.vm.ToValue(off), d.vm.ToValue(n))
	if err != nil {
		return nil, err
	}
	d.objs[i].v = o
	d.depth--
	return o, nil
}

func (d *Decoder) error() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	typ, err := d.byte()
	if err != nil {
		return nil, err
	}
	flags, err := d.byte()
	if err != nil {
		return nil, err
	}
	if int(typ) >= len(errorTypes) || flags&^errFlagsMask != 0 {
		return nil, d.errorf("malformed Error (type %d, flags %#x)", typ, flags)
	}
	var strs [3]goja.Value // name, message, stack
	for j, f := range [...]byte{errHasName, errHasMessage, errHasStack} {
		if flags&f != 0 {
			if strs[j], err = d.jsStr(); err != nil {
				return nil, err
			}
		}
	}
	var args []goja.Value
	if strs[1] != nil {
		args = strs[1:2]
	}
	o, err := d.construct(inError0+int(typ), args...)
	if err != nil {
		return nil, err
	}
	d.objs[d.reserve()].v = o
	hidden := func(name string, v goja.Value) error {
		if err := o.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("codec: setting an Error's %s: %w", name, err)
		}
		return nil
	}
	if strs[0] != nil {
		if err := hidden("name", strs[0]); err != nil {
			return nil, err
		}
	}
	if strs[2] != nil {
		if err := hidden("stack", strs[2]); err != nil {
			return nil, err
		}
	}
	if flags&errHasCause != 0 {
		cause, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := hidden("cause", cause); err != nil {
			return nil, err
		}
	}
	d.depth--
	return o, nil
}
