package codec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// fuzzHandles returns a fake Handles that knows queues by any ID and one
// shared memory block "m1" (the same bytes for every VM).
func fuzzHandles(mem []byte) *fakeHandles {
	h := newFakeHandles()
	h.buffers["m1"] = mem
	return h
}

// addSeeds adds valid encodings of many values to the corpus: every
// round-trip case, plus messages holding handles.
func addSeeds(f *testing.F) {
	vm := goja.New()
	h := fuzzHandles(make([]byte, 16))
	q, err := h.DecodeHandle(vm, "queue", []byte("q1"))
	if err != nil {
		f.Fatal(err)
	}
	shm, err := h.DecodeHandle(vm, "shm", []byte("m1"))
	if err != nil {
		f.Fatal(err)
	}
	vm.Set("q", q)
	vm.Set("shm", shm)
	srcs := []string{
		"({q, list: [q, q], m: new Map([[q, 1]])})",
		"[new Int32Array(shm, 4, 2), new DataView(shm), shm]",
	}
	for _, tc := range roundTripCases {
		srcs = append(srcs, tc.src)
	}
	e := NewEncoder(vm, h)
	for _, src := range srcs {
		b, err := e.Encode(nil, run(f, vm, src), "value")
		if err != nil {
			f.Fatalf("%s: %v", src, err)
		}
		f.Add(b)
	}
}

// checkDecodeErr fails on a decode error that is not a plain codec error
// (in particular the recover safety net firing, i.e. a panic).
func checkDecodeErr(t *testing.T, err error) {
	if msg := err.Error(); !strings.HasPrefix(msg, "codec: ") || strings.Contains(msg, "internal error") {
		t.Fatalf("bad decode error: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must fail cleanly or
// produce a value that can itself be sent.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	vm := goja.New()
	h := fuzzHandles(make([]byte, 16))
	d, e := NewDecoder(vm, h), NewEncoder(vm, h)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := d.Decode(data)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		if _, err := e.Encode(nil, v, "value"); err != nil {
			t.Fatalf("re-encoding a decoded value: %v", err)
		}
	})
}

// FuzzRoundTrip checks that the format is stable: once bytes decode, the
// encoding of the result decodes (in another VM) to a value that encodes to
// the same bytes.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	mem := make([]byte, 16)
	vm1, vm2 := goja.New(), goja.New()
	h1, h2 := fuzzHandles(mem), fuzzHandles(mem)
	d1, e1 := NewDecoder(vm1, h1), NewEncoder(vm1, h1)
	d2, e2 := NewDecoder(vm2, h2), NewEncoder(vm2, h2)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := d1.Decode(data)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		enc1, err := e1.Encode(nil, v, "value")
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		v2, err := d2.Decode(enc1)
		if err != nil {
			t.Fatalf("decode of % x: %v", enc1, err)
		}
		enc2, err := e2.Encode(nil, v2, "value")
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable encoding:\n% x\n% x", enc1, enc2)
		}
	})
}
