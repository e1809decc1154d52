package bindings

import (
	"math"
	"math/big"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// JavaScript objects that are garbage let go of their shared memory: the
// process's holds drop to nothing, and the host frees the objects (their
// arena blocks are reused, so the arena does not grow).
func TestSharedObjectsAreReleased(t *testing.T) {
	rt, m := newTestModule(t)
	sm := m.syncState()
	run := func(src string) {
		rt.Loop.Run(func(vm *goja.Runtime) {
			if _, err := vm.RunString(src); err != nil {
				t.Fatal(err)
			}
		})
	}
	run(`globalThis.keep = new Value('d', 1.5); globalThis.big = new SharedArray('i', 100000)`)
	base := sm.shm.Held()
	run(`for (let i = 0; i < 2000; i++) { new Value('i', i); new Lock(); new SharedArray('b', 100000); new Condition() }; null`)
	run(`'clear the last completion value'`)
	deadline := time.Now().Add(10 * time.Second)
	for sm.shm.Held() > base && time.Now().Before(deadline) {
		goruntime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if held := sm.shm.Held(); held != base {
		t.Fatalf("%d shared objects still held after GC, want %d", held, base)
	}
	run(`if (keep.value !== 1.5 || big.length !== 100000) throw new Error('a live object was released')`)
}

func TestCtypeConversions(t *testing.T) {
	vm := goja.New()
	big2 := func(s string) goja.Value { b, _ := new(big.Int).SetString(s, 10); return vm.ToValue(b) }
	cases := []struct {
		code byte
		in   goja.Value
		want string
	}{
		{'b', vm.ToValue(127), "127"}, {'b', vm.ToValue(128), "-128"}, {'b', vm.ToValue(-129), "127"},
		{'B', vm.ToValue(-1), "255"}, {'h', vm.ToValue(40000), "-25536"}, {'H', vm.ToValue(70000), "4464"},
		{'i', vm.ToValue(1.9), "1"}, {'i', vm.ToValue(-1.9), "-1"}, {'i', vm.ToValue(math.NaN()), "0"},
		{'i', vm.ToValue(math.Inf(1)), "0"}, {'i', vm.ToValue(4294967296 + 5), "5"}, {'I', vm.ToValue(-1), "4294967295"},
		{'q', vm.ToValue(9007199254740991), "9007199254740991"}, {'q', big2("9223372036854775808"), "-9223372036854775808"},
		{'q', vm.ToValue(1e19), "-8446744073709551616"}, {'Q', big2("-1"), "18446744073709551615"},
		{'Q', big2("36893488147419103237"), "5"}, {'L', vm.ToValue(9007199254740992), "9007199254740992"},
		{'f', vm.ToValue(0.1), "0.10000000149011612"}, {'d', big2("3"), "3"}, {'c', vm.ToValue("A"), "A"},
		{'c', vm.ToValue(256 + 66), "B"},
	}
	for _, c := range cases {
		ty := ctypes[c.code]
		bits, ok := ty.toBits(c.in)
		if !ok {
			t.Errorf("'%c' %v: refused", c.code, c.in)
			continue
		}
		if got := ty.fromBits(vm, ty.truncBits(bits)).String(); got != c.want {
			t.Errorf("'%c' %v: got %s, want %s", c.code, c.in, got, c.want)
		}
	}
	for _, bad := range []goja.Value{vm.ToValue("1"), goja.Undefined(), goja.Null(), vm.ToValue(true), vm.NewObject()} {
		if _, ok := ctypes['i'].toBits(bad); ok {
			t.Errorf("'i' accepted %v", bad)
		}
	}
	if _, ok := ctypes['c'].toBits(vm.ToValue("ab")); ok {
		t.Error("'c' accepted a two-character string")
	}
}
