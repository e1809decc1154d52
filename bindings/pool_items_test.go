package bindings

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	goruntime "runtime"
	"testing"

	"github.com/dop251/goja"

	"mpjs/runtime"
)

// runOnLoop runs f with the module's VM on its loop.
func runOnLoop(t testing.TB, rt *runtime.Runtime, f func(vm *goja.Runtime)) {
	t.Helper()
	rt.Loop.Run(f)
}

// The values numberBoxes makes are goja's own: equal to what ToValue
// makes, and numbers to the script.
func TestNumberBoxes(t *testing.T) {
	vm := goja.New()
	b := newNumberBoxes(vm)
	if b == nil {
		t.Fatal("numberBoxes do not work with this goja or this compiler")
	}
	ints := []int64{0, 1, -1, 255, 256, -256, -257, 1 << 31, -1 << 31, maxSafeInt, -maxSafeInt}
	floats := []float64{0.5, -1.5, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e300, 2 * maxSafeInt}
	slab := make([]uint64, 0, len(ints)+len(floats))
	var got, want []goja.Value
	for _, x := range ints {
		slab = append(slab, uint64(x))
		got = append(got, b.int(slab, len(slab)-1))
		want = append(want, vm.ToValue(x))
	}
	for _, f := range floats {
		slab = append(slab, math.Float64bits(f))
		got = append(got, b.float(slab, len(slab)-1))
		want = append(want, vm.ToValue(f))
	}
	slab = nil
	goruntime.GC() // the values alone keep their payloads alive
	for i := range got {
		if !got[i].SameAs(want[i]) || got[i].ExportType() != want[i].ExportType() {
			t.Errorf("value %d: got %v (%v), want %v (%v)", i, got[i], got[i].ExportType(), want[i], want[i].ExportType())
		}
	}
	for i, w := range want {
		bits, isInt, ok := b.payload(w)
		switch {
		case !ok:
			t.Errorf("value %d (%v): no payload", i, w)
		case isInt && int64(bits) != w.ToInteger():
			t.Errorf("value %d (%v): int payload %d", i, w, int64(bits))
		case !isInt && math.Float64bits(w.ToFloat()) != bits:
			t.Errorf("value %d (%v): float payload %v", i, w, math.Float64frombits(bits))
		}
	}
	for _, v := range []goja.Value{vm.ToValue("1"), vm.ToValue(true), goja.Undefined(), goja.Null(), vm.NewObject(), vm.ToValue(big.NewInt(1))} {
		if _, _, ok := b.payload(v); ok {
			t.Errorf("%v has a number's payload", v)
		}
	}
	vm.Set("got", vm.NewArray(anySlice(got)...))
	vm.Set("want", vm.NewArray(anySlice(want)...))
	v, err := vm.RunString(`got.every((x, i) => Object.is(x, want[i]) && Object.is(x * 3 - 1, want[i] * 3 - 1) && String(x) === String(want[i]))`)
	if err != nil || !v.ToBoolean() {
		t.Errorf("the script sees other numbers: %v %v", v, err)
	}
}

func anySlice(vals []goja.Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// Items survive encodeItems and decodeItems: numbers of every kind (in the
// numbers' own encodings) and anything else (in the codec's).
func TestPoolItemsRoundTrip(t *testing.T) {
	rt, m := newTestModule(t)
	runOnLoop(t, rt, func(vm *goja.Runtime) {
		pm := m.poolState()
		src, err := vm.RunString(`[0, 1, -1, 255, 256, -257, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 2 ** 64,
			-0, NaN, Infinity, -Infinity, 0.1, -1e-300, 5e-324, 1.7976931348623157e308,
			'a', '', null, undefined, true, 10n, {a: [1, -0]}, [NaN, 2 ** 60], new Date(5)]`)
		if err != nil {
			t.Fatal(err)
		}
		items := pm.values(src)
		// Whole numbers of more than 53 bits are ints in Go but floats in goja.
		items = append(items, vm.ToValue(int64(1)<<60), vm.ToValue(float64(1<<40)))
		// Runs of numbers of each kind, broken by every other kind of item,
		// and runs of one.
		runs, err := vm.RunString(`[2 ** 31 - 1, -(2 ** 31), 7, 2 ** 31, 8, 9, 0.5, 1.5, -0, NaN, 3, 0.25, 'x', 4, 5, 2.5, 3.5, {}, 6,
			...Array.from({length: 300}, (_, i) => i % 7 ? i * 1000 : i / 8), 1, 2]`)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, pm.values(runs)...)
		b, files, err := m.encodeItems(nil, items, "items", 0)
		if err != nil || len(files) != 0 {
			t.Fatal(err, files)
		}
		for _, prefix := range [][]goja.Value{nil, make([]goja.Value, 2, 50)} {
			got, viaCodec, err := pm.decodeItems(b, nil, prefix)
			if err != nil || !viaCodec {
				t.Fatal(err, viaCodec)
			}
			got = got[len(prefix):]
			goruntime.GC()
			vm.Set("got", pm.array(got))
			vm.Set("want", pm.array(items))
			v, err := vm.RunString(`(() => {
				const same = (a, b) => Object.is(a, b) || typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b) && a.constructor === b.constructor
				const num = (a, b) => typeof a !== 'number' || Object.is(a * 3 + 1, b * 3 + 1)
				return got.length === want.length && got.every((x, i) => same(x, want[i]) && num(x, want[i])) || JSON.stringify(got)
			})()`)
			if err != nil || v.Export() != true {
				t.Fatalf("got back %v (%v)", v, err)
			}
		}
		// Numbers alone do not refer to the bytes they came from.
		nums, _, _ := m.encodeItems(nil, items[:20], "items", 0)
		if _, viaCodec, err := pm.decodeItems(nums, nil, nil); err != nil || viaCodec {
			t.Errorf("numbers: %v, through the codec %v", err, viaCodec)
		}
	})
}

// decodeItems turns malformed input into an error, never a panic, and
// what it accepts is what encodeItems would have made of its values.
func FuzzPoolItems(f *testing.F) {
	item := func(b []byte, tag byte, rest ...byte) []byte { return append(append(b, tag), rest...) }
	seeds := [][]byte{
		{0},
		binary.AppendVarint(item([]byte{1}, itemInt), 300),
		binary.AppendVarint(item([]byte{1}, itemInt), 1<<60),
		binary.LittleEndian.AppendUint64(item([]byte{1}, itemFloat), math.Float64bits(math.Copysign(0, -1))),
		binary.LittleEndian.AppendUint64(item([]byte{1}, itemFloat), math.Float64bits(4)),
		binary.LittleEndian.AppendUint64(item([]byte{1}, itemFloat), math.Float64bits(math.NaN())),
		item([]byte{3}, itemInts, 2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, itemInt, 4),
		item([]byte{2}, itemInts, 1, 0, 0, 0, 1, 0, 0, 0, itemInt, 4),
		item([]byte{2}, itemInts, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0),
		item([]byte{2}, itemInts, 2, 0, 0, 0, 1, 0, 0, 0),
		item([]byte{2}, itemInts, 0xff, 0xff, 0xff, 0xff),
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(item([]byte{2}, itemFloats, 2, 0, 0, 0), math.Float64bits(-0.5)), math.Float64bits(3)),
		item([]byte{2}, itemFloats, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f),
		item([]byte{2}, itemInt, 2, itemFloat, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f),
		{1, itemCodec, 0},
		{1, itemCodec, 5, 1, 2},
		{3, itemInt, 1},
		{1, 'x'},
		{0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	rt, m := newTestModule(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		runOnLoop(t, rt, func(vm *goja.Runtime) {
			pm := m.poolState()
			got, _, err := pm.decodeItems(b, nil, nil)
			if err != nil {
				return
			}
			again, _, err := m.encodeItems(nil, got, "items", 0)
			if err != nil {
				return // a codec value that decodes but is not sendable as it is
			}
			back, _, err := pm.decodeItems(again, nil, nil)
			if err != nil {
				t.Fatalf("re-encoded items do not decode: %v", err)
			}
			if len(back) != len(got) {
				t.Fatalf("%d items, then %d", len(got), len(back))
			}
			for i := range got {
				x, y := got[i], back[i]
				if goja.IsNumber(x) && (!goja.IsNumber(y) || !x.SameAs(y)) {
					t.Fatalf("item %d: %v, then %v", i, x, y)
				}
			}
			if again2, _, _ := m.encodeItems(nil, back, "items", 0); !bytes.Equal(again, again2) {
				t.Fatalf("encodings differ: %x, then %x", again, again2)
			}
		})
	})
}

// A map's result array is the storage its chunks are decoded into: what
// is written there is the array's items, and goja keeps counting it as a
// plain dense array.
func TestPrepareResult(t *testing.T) {
	rt, m := newTestModule(t)
	runOnLoop(t, rt, func(vm *goja.Runtime) {
		pm := m.poolState()
		pm.helpers()
		j := &poolJob{size: 5, chunkSize: 2}
		pm.prepareResult(j)
		if j.arr == nil || len(j.all) != 5 {
			t.Fatalf("no direct storage (goja copies an array's items for Reflect.apply?): arr %v, %d items", j.arr, len(j.all))
		}
		src, _ := vm.RunString(`[1.5, 'two', {three: 3}, null, -0]`)
		copy(j.all, pm.values(src))
		vm.Set("arr", j.arr)
		v, err := vm.RunString(`JSON.stringify(arr) + ' ' + arr.length + ' ' + Object.is(arr[4], -0) + ' ' +
			Array.isArray(arr) + ' ' + arr.map(x => typeof x).join(',') + ' ' + [...arr.keys()].length`)
		if err != nil {
			t.Fatal(err)
		}
		if want := `[1.5,"two",{"three":3},null,0] 5 true true number,string,object,object,number 5`; v.String() != want {
			t.Errorf("got %s, want %s", v, want)
		}
		// Still a plain dense array for goja: its items are handed over in
		// one go again (without objects among them, not even copied).
		j.all[2] = vm.ToValue(3)
		if got := pm.values(j.arr); len(got) != 5 || &got[0] != &j.all[0] {
			t.Error("the array is no longer dense")
		}
	})
}

// BenchmarkPoolItems encodes and decodes a chunk of 12500 whole numbers
// (a chunk of a 100k map on Pool(2)).
func BenchmarkPoolItems(b *testing.B) {
	rt, m := newTestModule(b)
	runOnLoop(b, rt, func(vm *goja.Runtime) {
		pm := m.poolState()
		src, err := vm.RunString(`Array.from({length: 12500}, (_, i) => 2 * (i + 50000))`)
		if err != nil {
			b.Fatal(err)
		}
		items := pm.values(src)
		enc, _, _ := m.encodeItems(nil, items, "items", 0)
		out := make([]goja.Value, len(items))
		b.Run("encode", func(b *testing.B) {
			var buf []byte
			for i := 0; i < b.N; i++ {
				buf, _, _ = m.encodeItems(buf[:0], items, "items", 0)
			}
		})
		b.Run("decode", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := pm.decodeItems(enc, nil, out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Logf("%d bytes for %d items", len(enc), len(items))
	})
}
