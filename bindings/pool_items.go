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

// Items of a task or of its result travel as their count, then per item
// a tag and its value:
//
//	'i' varint            a number that is a whole int64 (goja's int values)
//	'd' 8 bytes           any other number, IEEE 754 bits
//	'c' uvarint bytes     anything else, in the codec's encoding
//
// Encoding items one by one (rather than one array) spares the codec
// listing every index as a property key and lets the receiver take the
// values straight into a Go slice; numbers, the most common items, skip
// the codec altogether. (Shared references between different items are
// not kept: each item is copied on its own, as each task is in Python.)
const (
	itemInt   = 'i'
	itemFloat = 'd'
	itemCodec = 'c'
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
	boxes := m.poolState().numberBoxes()
	m.outFiles = m.outFiles[:0]
	b := binary.AppendUvarint(dst, uint64(len(vals)))
	var one []byte
	for i, v := range vals {
		if boxes != nil {
			bits, isInt, ok := boxes.payload(v)
			switch {
			case ok && isInt:
				b = binary.AppendVarint(append(b, itemInt), int64(bits))
				continue
			case ok:
				b = binary.LittleEndian.AppendUint64(append(b, itemFloat), bits)
				continue
			}
		}
		switch v.ExportType() {
		case poolInt64Type:
			b = binary.AppendVarint(append(b, itemInt), v.ToInteger())
			continue
		case poolFloat64Type:
			b = binary.LittleEndian.AppendUint64(append(b, itemFloat), math.Float64bits(v.ToFloat()))
			continue
		}
		var err error
		if one, err = enc.Encode(one[:0], v, root); err != nil {
			m.outFiles = nil
			var ce *codec.CloneError
			if errors.As(err, &ce) {
				if _, err = enc.Encode(nil, v, fmt.Sprintf("%s[%d]", root, first+i)); errors.As(err, &ce) {
					return nil, nil, &runtime.CaptureError{Msg: ce.Error()}
				}
			}
			return nil, nil, err
		}
		b = binary.AppendUvarint(append(b, itemCodec), uint64(len(one)))
		b = append(b, one...)
	}
	files := m.outFiles
	m.outFiles = nil
	return b, files, nil
}

var errPoolItems = errors.New("malformed items")

// itemsSize guesses the size of the items' encoding (small numbers).
func itemsSize(items []goja.Value) int { return 16 + 4*len(items) }

// decodeItems decodes what encodeItems made, appending the values to out;
// it takes ownership of files. The numbers' payloads share a few
// allocations (see numberBoxes) instead of one each. Unless viaCodec
// reports that some items went through the codec, no value refers to b.
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
	vm := m.vm
	boxes := pm.numberBoxes()
	var slab []uint64 // the payloads of the numbers (see numberBoxes)
	number := func(x uint64, isInt bool, left uint64) goja.Value {
		if len(slab) == cap(slab) {
			slab = make([]uint64, 0, min(max(2*cap(slab), 64), int(left)))
		}
		slab = append(slab, x)
		if isInt {
			return boxes.int(slab, len(slab)-1)
		}
		return boxes.float(slab, len(slab)-1)
	}
	for i := uint64(0); i < n; i++ {
		if len(b) == 0 {
			return nil, viaCodec, errPoolItems
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case itemInt:
			x, k := binary.Varint(b)
			if k <= 0 {
				return nil, viaCodec, errPoolItems
			}
			b = b[k:]
			switch {
			case boxes == nil:
				out = append(out, vm.ToValue(x))
			case x >= -maxSafeInt && x <= maxSafeInt:
				out = append(out, number(uint64(x), true, n-i))
			default: // as goja keeps it
				out = append(out, number(math.Float64bits(float64(x)), false, n-i))
			}
		case itemFloat:
			if len(b) < 8 {
				return nil, viaCodec, errPoolItems
			}
			f := math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
			switch {
			case boxes == nil || f == 0 && math.Signbit(f) || math.IsNaN(f) || math.IsInf(f, 0):
				out = append(out, vm.ToValue(f)) // -0, NaN and the infinities are goja's own constants
			case f == math.Trunc(f) && f >= -maxSafeInt && f <= maxSafeInt:
				// A whole number: goja keeps it as an int.
				out = append(out, number(uint64(int64(f)), true, n-i))
			default:
				out = append(out, number(math.Float64bits(f), false, n-i))
			}
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
	}
	if len(b) != 0 {
		return nil, viaCodec, errPoolItems
	}
	return out, viaCodec, nil
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
