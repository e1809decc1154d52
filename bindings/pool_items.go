package bindings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"

	"github.com/dop251/goja"

	"mpjs/runtime"
	"mpjs/runtime/codec"
)

// Items of a task or of its result travel as their count, then the items,
// each with a tag, numbers in runs where they follow one another:
//
//	'I' u32 k, k × i32    a run of k ≥ 2 whole numbers that fit 32 bits
//	'D' u32 k, k × 8      a run of k ≥ 2 other numbers, IEEE 754 bits
//	'i' varint            one whole number (goja's int values)
//	'd' 8 bytes           one other number
//	'c' uvarint bytes     anything else, in the codec's encoding
//
// (integers little-endian). Encoding items one by one (rather than one
// array) spares the codec listing every index as a property key and lets
// the receiver take the values straight into a Go slice; numbers, the most
// common items, skip the codec altogether, and a run of them is read
// without a tag or a varint per item. (Shared references between different
// items are not kept: each item is copied on its own, as each task is in
// Python.)
const (
	itemInts   = 'I'
	itemFloats = 'D'
	itemInt    = 'i'
	itemFloat  = 'd'
	itemCodec  = 'c'
)

var (
	poolInt64Type   = reflect.TypeOf(int64(0))
	poolFloat64Type = reflect.TypeOf(float64(0))
)

// values returns the items of an array-like object, read as iteration
// reads an array: holes are undefined, accessors are called.
//
// They are taken in one go rather than by index (Object.Get costs a
// number formatted and parsed per item): Reflect.apply hands them to a
// native function as its arguments, and for a plain dense array goja
// passes the array's own backing store. The slice is then the array's
// storage: when an item is an object, whose encoding may run a getter
// that changes the array, the caller's slice is a copy.
func (pm *poolModule) values(arr goja.Value) []goja.Value {
	vals := pm.items(arr)
	for _, v := range vals {
		if _, ok := v.(*goja.Object); ok {
			return slices.Clone(vals)
		}
	}
	return vals
}

// items returns the items of an array-like object as Reflect.apply lists
// them: for a plain dense array, the array's own storage.
func (pm *poolModule) items(arr goja.Value) []goja.Value {
	pm.helpers()
	pm.sunk = nil
	if _, err := pm.reflectApply(goja.Undefined(), pm.sink, goja.Undefined(), arr); err != nil {
		panic(err)
	}
	vals := pm.sunk
	pm.sunk = nil
	return vals
}

// array makes a JavaScript array of vals (copied) in one go: Array.of
// copies the slice, where NewArray converts each item.
func (pm *poolModule) array(vals []goja.Value) *goja.Object {
	pm.helpers()
	v, err := pm.arrayOf(goja.Undefined(), vals...)
	if err != nil {
		panic(err)
	}
	return v.(*goja.Object)
}

// encodeItems appends the items' encoding to dst; root names item i as
// root[first+i] in errors. The descriptors of shared objects in the items
// come with them.
func (m *Module) encodeItems(dst []byte, vals []goja.Value, root string, first int) ([]byte, []*os.File, error) {
	enc, _ := m.rt.Codec()
	nb := m.poolState().numberBoxes()
	m.beginEncode()
	b := binary.AppendUvarint(dst, uint64(len(vals)))
	var one []byte
	for i := 0; i < len(vals); {
		head, isInt, ok := nb.number(vals[i])
		switch {
		case ok && isInt && !fits32(head):
			b = binary.AppendVarint(append(b, itemInt), int64(head))
			i++
			continue
		case ok:
			// The run of numbers of the same kind (32-bit ints or floats)
			// that starts here; its count is written once it is known.
			start := len(b)
			if isInt {
				b = append(b, itemInts, 0, 0, 0, 0)
			} else {
				b = append(b, itemFloats, 0, 0, 0, 0)
			}
			k := 0
			for ; i < len(vals); i, k = i+1, k+1 {
				bits, isInt2, ok := nb.number(vals[i])
				if !ok || isInt2 != isInt || isInt && !fits32(bits) {
					break
				}
				if isInt {
					b = binary.LittleEndian.AppendUint32(b, uint32(bits))
				} else {
					b = binary.LittleEndian.AppendUint64(b, bits)
				}
			}
			switch {
			case k >= 2:
				binary.LittleEndian.PutUint32(b[start+1:], uint32(k))
			case isInt: // a run of one is one item
				b = binary.AppendVarint(append(b[:start], itemInt), int64(head))
			default:
				b = binary.LittleEndian.AppendUint64(append(b[:start], itemFloat), head)
			}
			continue
		}
		var err error
		if one, err = enc.Encode(one[:0], vals[i], root); err != nil {
			m.endEncode(err)
			var ce *codec.CloneError
			if errors.As(err, &ce) {
				if _, err = enc.Encode(nil, vals[i], fmt.Sprintf("%s[%d]", root, first+i)); errors.As(err, &ce) {
					return nil, nil, &runtime.CaptureError{Msg: ce.Error()}
				}
			}
			return nil, nil, err
		}
		b = binary.AppendUvarint(append(b, itemCodec), uint64(len(one)))
		b = append(b, one...)
		i++
	}
	files, pins := m.endEncode(nil)
	if err := pinAll(pins); err != nil {
		return nil, nil, err
	}
	return b, files, nil
}

// fits32 reports whether an int's payload fits 32 bits.
func fits32(bits uint64) bool { return int64(bits) == int64(int32(bits)) }

// number returns v's payload if v is a number: its bits and whether it is
// one of goja's ints (else a float64's bits). b may be nil (numberBoxes
// unusable).
func (b *numberBoxes) number(v goja.Value) (bits uint64, isInt, ok bool) {
	if b != nil {
		return b.payload(v)
	}
	switch v.ExportType() {
	case poolInt64Type:
		return uint64(v.ToInteger()), true, true
	case poolFloat64Type:
		return math.Float64bits(v.ToFloat()), false, true
	}
	return 0, false, false
}

var errPoolItems = errors.New("malformed items")

// itemsSize guesses the size of the items' encoding (small numbers).
func itemsSize(items []goja.Value) int { return 16 + 4*len(items) }

// decodeItems decodes what encodeItems made, appending the values to out;
// it takes ownership of files. The numbers' payloads share one allocation
// (see numberBoxes) instead of one each. Unless viaCodec reports that some
// items went through the codec, no value refers to b.
func (pm *poolModule) decodeItems(b []byte, files []*os.File, out []goja.Value) (_ []goja.Value, viaCodec bool, err error) {
	m := pm.m
	_, dec := m.rt.Codec()
	m.inFiles = files
	defer func() {
		closePoolFiles(m.inFiles)
		m.inFiles = nil
	}()
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, viaCodec, errPoolItems
	}
	b = b[k:]
	out = slices.Grow(out, int(n))
	d := numberDecoder{vm: m.vm, boxes: pm.numberBoxes()}
	for i := uint64(0); i < n; {
		if len(b) == 0 {
			return nil, viaCodec, errPoolItems
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case itemInts, itemFloats:
			size := uint64(4)
			if tag == itemFloats {
				size = 8
			}
			if len(b) < 4 {
				return nil, viaCodec, errPoolItems
			}
			k := uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
			if k < 2 || k > n-i || k*size > uint64(len(b)) {
				return nil, viaCodec, errPoolItems
			}
			d.reserve(n - i)
			if tag == itemInts {
				for j := uint64(0); j < k; j++ {
					out = append(out, d.int(int64(int32(binary.LittleEndian.Uint32(b[4*j:])))))
				}
			} else {
				for j := uint64(0); j < k; j++ {
					out = append(out, d.float(math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:]))))
				}
			}
			b = b[k*size:]
			i += k
			continue
		case itemInt:
			x, k := binary.Varint(b)
			if k <= 0 {
				return nil, viaCodec, errPoolItems
			}
			b = b[k:]
			d.reserve(n - i)
			out = append(out, d.int(x))
		case itemFloat:
			if len(b) < 8 {
				return nil, viaCodec, errPoolItems
			}
			d.reserve(n - i)
			out = append(out, d.float(math.Float64frombits(binary.LittleEndian.Uint64(b))))
			b = b[8:]
		case itemCodec:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return nil, viaCodec, errPoolItems
			}
			viaCodec = true
			v, err := dec.Decode(b[k : k+int(l)])
			if err != nil {
				return nil, viaCodec, err
			}
			out = append(out, v)
			b = b[k+int(l):]
		default:
			return nil, viaCodec, errPoolItems
		}
		i++
	}
	if len(b) != 0 {
		return nil, viaCodec, errPoolItems
	}
	return out, viaCodec, nil
}

// numberDecoder makes the values of decoded numbers as goja would: whole
// numbers up to 2^53 are ints, others floats, -0, NaN and the infinities
// goja's own constants. Their payloads go to one slab (see numberBoxes),
// which reserve makes room in.
type numberDecoder struct {
	vm    *goja.Runtime
	boxes *numberBoxes // nil: Runtime.ToValue
	slab  []uint64
}

// reserve makes sure the slab has room for the numbers among the next n
// items (assumed all numbers: no more than 8 bytes an item are lost).
func (d *numberDecoder) reserve(n uint64) {
	if d.boxes != nil && len(d.slab) == cap(d.slab) {
		d.slab = make([]uint64, 0, n)
	}
}

func (d *numberDecoder) int(x int64) goja.Value {
	switch {
	case d.boxes == nil:
		return d.vm.ToValue(x)
	case x >= -maxSafeInt && x <= maxSafeInt:
		d.slab = append(d.slab, uint64(x))
		return d.boxes.int(d.slab, len(d.slab)-1)
	}
	return d.float(float64(x)) // as goja keeps it
}

func (d *numberDecoder) float(f float64) goja.Value {
	switch {
	case d.boxes == nil || f == 0 && math.Signbit(f) || math.IsNaN(f) || math.IsInf(f, 0):
		return d.vm.ToValue(f) // goja's constants
	case f == math.Trunc(f) && f >= -maxSafeInt && f <= maxSafeInt:
		d.slab = append(d.slab, uint64(int64(f))) // a whole number: goja keeps it as an int
		return d.boxes.int(d.slab, len(d.slab)-1)
	}
	d.slab = append(d.slab, math.Float64bits(f))
	return d.boxes.float(d.slab, len(d.slab)-1)
}

// maxSafeInt is 2^53: goja keeps whole numbers up to it as ints.
const maxSafeInt = 1 << 53

// encodeChunk encodes items as one task's; a value that cannot be sent
// is reported with its index in the whole iterable (first is the index of
// items[0]).
func (pm *poolModule) encodeChunk(pl *pool, fname string, items []goja.Value, first int) ([]byte, []*os.File) {
	m := pm.m
	b, files, err := m.encodeItems(pl.h.Buffer(itemsSize(items)), items, "iterable", first)
	if err != nil {
		var ce *runtime.CaptureError
		if errors.As(err, &ce) {
			panic(m.vm.NewTypeError("%s: %s", fname, ce.Msg))
		}
		m.throw(err)
	}
	return b, files
}
