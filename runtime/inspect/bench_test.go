package inspect

import (
	"testing"

	"github.com/dop251/goja"
)

func BenchmarkFormatPrimitives(b *testing.B) {
	vm := goja.New()
	args := []goja.Value{vm.ToValue("text"), vm.ToValue(1)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Format(vm, args, DefaultOptions())
	}
}

func BenchmarkFormatObject(b *testing.B) {
	vm := goja.New()
	v, _ := vm.RunString(`({ a: 1, b: 'two', c: [1, 2, 3], d: { e: null } })`)
	args := []goja.Value{v}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Format(vm, args, DefaultOptions())
	}
}

func BenchmarkInspectArray1000(b *testing.B) {
	vm := goja.New()
	v, _ := vm.RunString(`Array.from({ length: 1000 }, (_, i) => i)`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Inspect(vm, v, DefaultOptions())
	}
}
