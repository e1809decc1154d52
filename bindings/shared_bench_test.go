package bindings

import (
	"os"
	"testing"
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

// newTestModule installs the module in a fresh runtime whose node is a
// supervisor's own (no children are started).
func newTestModule(tb testing.TB) (*runtime.Runtime, *Module) {
	tb.Helper()
	sup, err := host.NewSupervisor(host.Config{Exe: os.Args[0], Warn: os.Stderr})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sup.Close(time.Second) })
	rt := runtime.New(runtime.Options{})
	var m *Module
	rt.Loop.Run(func(*goja.Runtime) { m = Install(rt, sup.Local()) })
	return rt, m
}

// benchJS runs src, which defines step(n), b.N times over.
func benchJS(b *testing.B, src string) {
	rt, _ := newTestModule(b)
	var step goja.Callable
	rt.Loop.Run(func(vm *goja.Runtime) {
		if _, err := vm.RunString(src); err != nil {
			b.Fatal(err)
		}
		step, _ = goja.AssertFunction(vm.Get("step"))
	})
	b.ResetTimer()
	rt.Loop.Run(func(vm *goja.Runtime) {
		if _, err := step(goja.Undefined(), vm.ToValue(b.N)); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkFloor(b *testing.B) {
	benchJS(b, `const o = Object.create({a: Function.prototype, b: Function.prototype});
	function step(n) { for (let i = 0; i < n; i++) { o.a(); o.b() } }`)
}

func BenchmarkLockPair(b *testing.B) {
	benchJS(b, `const l = new Lock(); function step(n) { for (let i = 0; i < n; i++) { l.acquire(); l.release() } }`)
}

func BenchmarkValueIncrement(b *testing.B) {
	benchJS(b, `const v = new RawValue('i', 0); function step(n) { for (let i = 0; i < n; i++) v.value += 1 }`)
}

func BenchmarkValueIncrementLocked(b *testing.B) {
	benchJS(b, `const v = new Value('i', 0); const l = v.getLock();
	function step(n) { for (let i = 0; i < n; i++) { l.acquire(); v.value += 1; l.release() } }`)
}

func BenchmarkArrayFill(b *testing.B) {
	benchJS(b, `const a = new SharedArray('d', 1000);
	function step(n) { for (let i = 0; i < n; i++) a[i % 1000] = i }`)
}

func BenchmarkArrayFillRaw(b *testing.B) {
	benchJS(b, `const a = new RawArray('d', 1000);
	function step(n) { for (let i = 0; i < n; i++) a[i % 1000] = i }`)
}

func BenchmarkBufferFill(b *testing.B) {
	benchJS(b, `const a = new SharedArray('d', 1000); const f = new Float64Array(a.buffer);
	function step(n) { for (let i = 0; i < n; i++) f[i % 1000] = i }`)
}

func BenchmarkLockedIncrement(b *testing.B) {
	benchJS(b, `const v = new RawValue('i', 0); const l = new Lock();
	function step(n) { for (let i = 0; i < n; i++) { l.acquire(); v.value += 1; l.release() } }`)
}

func BenchmarkEmptyLoop(b *testing.B) {
	benchJS(b, `function step(n) { for (let i = 0; i < n; i++) {} }`)
}
