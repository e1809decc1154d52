package bindings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"

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
	itemInt    = 'i'
	itemFloat  = 'd'
	itemCodec  = 'c'
	numericTry = 3 // items sampled to decide whether to read an array in one go
)

var (
	poolInt64Type   = reflect.TypeOf(int64(0))
	poolFloat64Type = reflect.TypeOf(float64(0))
)

// items is a run of values to encode: arr[start:start+n], or one value.
type poolItems struct {
	arr   *goja.Object
	start int
	n     int
	one   goja.Value
	flat  []any // arr exported in one go, when it looks like numbers
}

// arrayItems reads arr[start:start+n]; an array whose sampled items are
// numbers is exported in one go (much cheaper than reading by index).
func poolArrayItems(arr *goja.Object, start, n int, flat []any) poolItems {
	it := poolItems{arr: arr, start: start, n: n, flat: flat}
	if flat == nil && n >= 64 {
		total := int(arr.Get("length").ToInteger())
		numeric := true
		for _, k := range [numericTry]int{start, start + n/2, start + n - 1} {
			if t := arr.Get(strconv.Itoa(k)).ExportType(); t != poolInt64Type && t != poolFloat64Type {
				numeric = false
				break
			}
		}
		if numeric {
			if xs, ok := arr.Export().([]any); ok && len(xs) == total {
				it.flat = xs
			}
		}
	}
	return it
}

func (it *poolItems) get(i int) goja.Value {
	if it.arr == nil {
		return it.one
	}
	return it.arr.Get(strconv.Itoa(it.start + i))
}

// encodeItems encodes the items; root names item i as root[first+i] in
// errors. The descriptors of shared objects in the items come with them.
func (m *Module) encodeItems(it poolItems, root string, first int) ([]byte, []*os.File, error) {
	enc, _ := m.rt.Codec()
	m.outFiles = m.outFiles[:0]
	n := it.n
	if it.arr == nil {
		n = 1
	}
	b := binary.AppendUvarint(make([]byte, 0, 16+6*n), uint64(n))
	var one []byte
	for i := 0; i < n; i++ {
		if it.flat != nil {
			switch x := it.flat[it.start+i].(type) {
			case int64:
				b = binary.AppendVarint(append(b, itemInt), x)
				continue
			case float64:
				b = binary.LittleEndian.AppendUint64(append(b, itemFloat), math.Float64bits(x))
				continue
			}
		}
		v := it.get(i)
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

// decodeItems decodes what encodeItems made, taking ownership of files.
func (m *Module) decodeItems(b []byte, files []*os.File) ([]goja.Value, error) {
	_, dec := m.rt.Codec()
	m.inFiles = files
	defer func() {
		closePoolFiles(m.inFiles)
		m.inFiles = nil
	}()
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errPoolItems
	}
	b = b[k:]
	out := make([]goja.Value, 0, n)
	vm := m.vm
	for i := uint64(0); i < n; i++ {
		if len(b) == 0 {
			return nil, errPoolItems
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case itemInt:
			x, k := binary.Varint(b)
			if k <= 0 {
				return nil, errPoolItems
			}
			out = append(out, vm.ToValue(x))
			b = b[k:]
		case itemFloat:
			if len(b) < 8 {
				return nil, errPoolItems
			}
			out = append(out, vm.ToValue(math.Float64frombits(binary.LittleEndian.Uint64(b))))
			b = b[8:]
		case itemCodec:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return nil, errPoolItems
			}
			v, err := dec.Decode(b[k : k+int(l)])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			b = b[k+int(l):]
		default:
			return nil, errPoolItems
		}
	}
	if len(b) != 0 {
		return nil, errPoolItems
	}
	return out, nil
}

// encodeChunk encodes arr[start:end] as one task's items; a value that
// cannot be sent is reported with its index in the whole iterable.
func (pm *poolModule) encodeChunk(fname string, it poolItems, first int) ([]byte, []*os.File) {
	m := pm.m
	b, files, err := m.encodeItems(it, "iterable", first)
	if err != nil {
		var ce *runtime.CaptureError
		if errors.As(err, &ce) {
			panic(m.vm.NewTypeError("%s: %s", fname, ce.Msg))
		}
		m.throw(err)
	}
	return b, files
}
