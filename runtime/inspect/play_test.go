package inspect

import (
	"fmt"
	"testing"

	"github.com/dop251/goja"
)

type gs struct {
	Name  string
	Age   int
	Tags  []string
	Inner *gs
	M     map[string]int
}

func (gs) Hello() string { return "hi" }

type dyn struct{ panicky bool }

func (d dyn) Get(k string) goja.Value {
	if d.panicky {
		panic("boom")
	}
	return goja.Undefined()
}
func (d dyn) Set(k string, v goja.Value) bool { return false }
func (d dyn) Has(k string) bool               { return k == "a" }
func (d dyn) Delete(k string) bool            { return false }
func (d dyn) Keys() []string                  { return []string{"a", "b"} }

func TestPlay(t *testing.T) {
	vm := goja.New()
	vm.Set("s", gs{Name: "x", Age: 3, Tags: []string{"a"}, Inner: &gs{Name: "in"}, M: map[string]int{"k": 1}})
	vm.Set("m", map[string]any{"k": 1, "z": []int{1, 2}})
	vm.Set("sl", []any{1, "a", nil})
	vm.Set("d", vm.NewDynamicObject(dyn{}))
	vm.Set("dp", vm.NewDynamicObject(dyn{panicky: true}))
	vm.Set("gerr", vm.NewGoError(fmt.Errorf("go failure")))
	vm.Set("gf", func(a int) int { return a })
	for _, src := range []string{"s", "m", "sl", "d", "dp", "[dp, 1]", "gerr", "gf", "(() => { try { null.x } catch (e) { return e } })()", "new Error('boom')", "(() => { try { undefinedVar } catch (e) { return { e } } })()"} {
		v, err := vm.RunString(src)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s => %s\n", src, Inspect(vm, v, DefaultOptions()))
	}
}
