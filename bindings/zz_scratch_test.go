package bindings

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/dop251/goja"
)

type st struct{ w uint32 }

func TestZZScratch(t *testing.T) {
	vm := goja.New()
	sym := goja.NewSymbol("s")
	proto := vm.NewObject()
	s := &st{}
	m := map[*goja.Object]*st{}
	proto.Set("a", func(call goja.FunctionCall) goja.Value { return goja.Undefined() })
	proto.Set("b", func(call goja.FunctionCall) goja.Value { return goja.Undefined() })
	proto.Set("acq", func(call goja.FunctionCall) goja.Value {
		x := call.This.(*goja.Object).GetSymbol(sym).Export().(*st)
		atomic.CompareAndSwapUint32(&x.w, 0, 1)
		return goja.Undefined()
	})
	proto.Set("rel", func(call goja.FunctionCall) goja.Value {
		x := call.This.(*goja.Object).GetSymbol(sym).Export().(*st)
		atomic.SwapUint32(&x.w, 0)
		return goja.Undefined()
	})
	proto.Set("acqm", func(call goja.FunctionCall) goja.Value {
		x := m[call.This.(*goja.Object)]
		atomic.CompareAndSwapUint32(&x.w, 0, 1)
		return goja.Undefined()
	})
	proto.Set("relm", func(call goja.FunctionCall) goja.Value {
		x := m[call.This.(*goja.Object)]
		atomic.SwapUint32(&x.w, 0)
		return goja.Undefined()
	})
	proto.Set("acqx", func(call goja.FunctionCall) goja.Value {
		x := call.This.(*goja.Object).GetSymbol(sym).(*goja.Object).Export().(dyn).s
		atomic.CompareAndSwapUint32(&x.w, 0, 1)
		return goja.Undefined()
	})
	proto.Set("relx", func(call goja.FunctionCall) goja.Value {
		x := call.This.(*goja.Object).GetSymbol(sym).(*goja.Object).Export().(dyn).s
		atomic.SwapUint32(&x.w, 0)
		return goja.Undefined()
	})
	o := vm.CreateObject(proto)
	o.DefineDataPropertySymbol(sym, vm.ToValue(s), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	m[o] = s
	o3 := vm.CreateObject(proto)
	o3.DefineDataPropertySymbol(sym, vm.NewDynamicObject(dyn{s}), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	o4 := vm.CreateObject(proto)
	o4.Set("acqc", func(call goja.FunctionCall) goja.Value {
		atomic.CompareAndSwapUint32(&s.w, 0, 1)
		return goja.Undefined()
	})
	o4.Set("relc", func(call goja.FunctionCall) goja.Value {
		atomic.SwapUint32(&s.w, 0)
		return goja.Undefined()
	})
	vm.Set("o", o)
	vm.Set("o3", o3)
	vm.Set("o4", o4)
	vm.Set("now", func() float64 { return float64(time.Now().UnixNano()) / 1e6 })
	r, err := vm.RunString(`
	const N = 1000000; const out = [];
	function bench(name, f) { f(); const t0 = now(); f(); out.push(name + ' ' + ((now()-t0)*1e6/N).toFixed(1) + 'ns'); }
	const F = Function.prototype;
	const fo = Object.create({a: F, b: F});
	for (let k = 0; k < 5; k++) {
	bench('noop2 go', () => { for (let i = 0; i < N; i++) { o.a(); o.b(); } });
	bench('noop2 Fproto', () => { for (let i = 0; i < N; i++) { fo.a(); fo.b(); } });
	bench('sym', () => { for (let i = 0; i < N; i++) { o.acq(); o.rel(); } });
	bench('symdyn', () => { for (let i = 0; i < N; i++) { o3.acqx(); o3.relx(); } });
	bench('map', () => { for (let i = 0; i < N; i++) { o.acqm(); o.relm(); } });
	bench('closure', () => { for (let i = 0; i < N; i++) { o4.acqc(); o4.relc(); } });
	}
	out.join('\n')`)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.String())
}

type dyn struct{ s *st }

func (d dyn) Get(key string) goja.Value           { return nil }
func (d dyn) Set(key string, val goja.Value) bool { return false }
func (d dyn) Has(key string) bool                 { return false }
func (d dyn) Delete(key string) bool              { return false }
func (d dyn) Keys() []string                      { return nil }
