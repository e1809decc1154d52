package codec

import (
	"testing"

	"github.com/dop251/goja"
)

// benchValues are the benchmark messages: a small int, a short string and
// an object that encodes to about 1 KB.
var benchValues = []struct{ name, src string }{
	{"int", "42"},
	{"string", "'hello, worker'"},
	{"object1KB", `({id: 12345, name: "worker-7", ok: true, ratio: 0.75, tags: ["alpha", "beta", "gamma"],
		meta: {host: "node-1", pid: 4242, args: ["--fast", "--verbose"]},
		items: Array.from({length: 24}, (_, i) => ({i, sku: "SKU-" + (1000 + i), qty: i * 3, price: i + 0.99}))})`},
}

func BenchmarkCodec(b *testing.B) {
	for _, bv := range benchValues {
		vm1, vm2 := goja.New(), goja.New()
		v := run(b, vm1, bv.src)
		enc, dec := NewEncoder(vm1, nil), NewDecoder(vm2, nil)
		msg, err := enc.Encode(nil, v, "item")
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Encode/"+bv.name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(msg))
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				buf, _ = enc.Encode(buf[:0], v, "item")
			}
		})
		b.Run("Decode/"+bv.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := dec.Decode(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("RoundTrip/"+bv.name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(msg))
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				buf, _ = enc.Encode(buf[:0], v, "item")
				if _, err := dec.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
