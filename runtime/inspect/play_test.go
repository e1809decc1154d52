package inspect

import (
	"fmt"
	"testing"

	"github.com/dop251/goja"
)

func TestPlay(t *testing.T) {
	vm := goja.New()
	vm.RunString(`var calls = 0; function hit() { calls++; throw new Error('user code ran') }`)
	for _, expr := range []string{
		`({ get a() { hit() }, toString: hit, valueOf: hit, [Symbol.toPrimitive]: hit })`,
		`new Proxy({}, { get: hit, has: hit, ownKeys: hit, getOwnPropertyDescriptor: hit, getPrototypeOf: hit })`,
		`new Proxy(function () {}, { get: hit, apply: hit, ownKeys: hit })`,
		`Object.create(new Proxy({}, { get: hit, getOwnPropertyDescriptor: hit, getPrototypeOf: hit }))`,
		`Object.defineProperty([1, 2], 0, { get: hit, enumerable: true })`,
		`(() => { class A { static get name() { hit() } }; return [A, new A()] })()`,
		`(() => { const e = new Error('x'); Object.defineProperty(e, 'message', { get: hit }); return e })()`,
		`new Map([[{ get k() { hit() } }, 1]])`,
	} {
		v := eval(t, vm, expr)
		for i, opts := range []Options{def, {Depth: -1, ShowHidden: true}, {ShowProxy: true, Colors: true}} {
			s := Inspect(vm, v, opts)
			fmt.Println(i, vm.Get("calls"), s)
		}
		s := Format(vm, []goja.Value{vm.ToValue("%s %d %i %f %o"), v, v, v, v, v}, def)
		fmt.Println("F", vm.Get("calls"), s)
	}
}
