package bindings

import (
	"math"
	"reflect"
	"unsafe"

	"github.com/dop251/goja"
)

// numberBoxes makes the goja values of many decoded numbers with one
// allocation for all of them, and reads numbers' payloads directly.
//
// A goja number is a goja.Value interface holding an 8-byte payload (goja's
// own int64 and float64 types), which Go keeps out of line: one small heap
// object per number. For a chunk of results that is one allocation per
// item, a third of what decoding them costs, and most of the owner's
// garbage. numberBoxes writes the payloads of a chunk into one []uint64 and
// makes each value an interface whose data word points into it; the values
// are immutable, as any Go interface's, and the slice lives as long as any
// of them.
//
// That relies on two things outside the language's guarantees: the gc
// compiler's layout of an interface (type word, data pointer) and goja's
// number types being 8-byte scalars. newNumberBoxes checks both on real
// values; when they do not hold, it returns nil and decoding uses
// Runtime.ToValue.
type numberBoxes struct {
	intType, floatType unsafe.Pointer // type words of goja's int and float values
}

// ifaceWords is the layout of a non-empty interface value.
type ifaceWords struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func newNumberBoxes(vm *goja.Runtime) *numberBoxes {
	const i = int64(1<<40 + 3) // neither cached by goja nor by Go
	const f = 1.25
	iv, fv := vm.ToValue(i), vm.ToValue(f)
	if unsafe.Sizeof(iv) != unsafe.Sizeof(ifaceWords{}) {
		return nil
	}
	it, ft := reflect.TypeOf(iv), reflect.TypeOf(fv)
	if it == nil || ft == nil || it.Kind() != reflect.Int64 || ft.Kind() != reflect.Float64 || it.Size() != 8 || ft.Size() != 8 {
		return nil
	}
	iw, fw := (*ifaceWords)(unsafe.Pointer(&iv)), (*ifaceWords)(unsafe.Pointer(&fv))
	if *(*int64)(iw.data) != i || *(*float64)(fw.data) != f {
		return nil
	}
	b := &numberBoxes{intType: iw.typ, floatType: fw.typ}
	// The values it makes must be the same as goja's own.
	slab := []uint64{uint64(i), math.Float64bits(f)}
	if x := b.int(slab, 0); x != iv || x.ToInteger() != i || x.ExportType() != iv.ExportType() {
		return nil
	}
	if x := b.float(slab, 1); x != fv || x.ToFloat() != f || x.ExportType() != fv.ExportType() {
		return nil
	}
	if bits, isInt, ok := b.payload(iv); !ok || !isInt || int64(bits) != i {
		return nil
	}
	if bits, isInt, ok := b.payload(fv); !ok || isInt || math.Float64frombits(bits) != f {
		return nil
	}
	return b
}

// payload returns v's payload if v is one of goja's numbers: its bits and
// whether it is an int (else a float64's bits). It is the same as asking
// v.ExportType() and reading the number, without the two method calls.
func (b *numberBoxes) payload(v goja.Value) (bits uint64, isInt, ok bool) {
	w := (*ifaceWords)(unsafe.Pointer(&v))
	switch w.typ {
	case b.intType:
		return *(*uint64)(w.data), true, true
	case b.floatType:
		return *(*uint64)(w.data), false, true
	}
	return 0, false, false
}

// int returns slab[k], set to an int64 goja keeps as an int (a whole
// number of at most 53 bits), as a goja value.
func (b *numberBoxes) int(slab []uint64, k int) goja.Value {
	var v goja.Value
	*(*ifaceWords)(unsafe.Pointer(&v)) = ifaceWords{b.intType, unsafe.Pointer(&slab[k])}
	return v
}

// float returns slab[k], set to a float64's bits, as a goja value.
func (b *numberBoxes) float(slab []uint64, k int) goja.Value {
	var v goja.Value
	*(*ifaceWords)(unsafe.Pointer(&v)) = ifaceWords{b.floatType, unsafe.Pointer(&slab[k])}
	return v
}
