package codec

import (
	"fmt"

	"github.com/dop251/goja"
)

// Built-ins the codec needs beyond goja's Go API. They are resolved lazily,
// once per Encoder/Decoder, from the VM's global object, so a message that
// holds only primitives and plain objects never touches them.
const (
	inMapForEach = iota
	inSetForEach
	inStringValueOf
	inNumberValueOf
	inBooleanValueOf
	inBigIntValueOf
	inOwnEntries // (o) => [k0, v0, k1, v1, ...] with exact (UTF-16) keys
	inDefine     // (o, k, v) => CreateDataProperty with an exact key
	inViewInfo   // (view, isDataView) => [buffer, byteOffset, length, kind name] read from internal slots
	inDate
	inRegExp
	inMap
	inSet
	inMapSet
	inSetAdd
	inError0                                 // + error type
	inView0     = inError0 + len(errorTypes) // + view kind
	nIntrinsics = inView0 + len(viewKinds)
)

var intrinsicSrc = func() (src [nIntrinsics]string) {
	copy(src[:], []string{
		inMapForEach:     "Map.prototype.forEach",
		inSetForEach:     "Set.prototype.forEach",
		inStringValueOf:  "String.prototype.valueOf",
		inNumberValueOf:  "Number.prototype.valueOf",
		inBooleanValueOf: "Boolean.prototype.valueOf",
		inBigIntValueOf:  "BigInt.prototype.valueOf",
		inOwnEntries:     "(function(o){var k=Object.keys(o),r=[];for(var i=0;i<k.length;i++)r.push(k[i],o[k[i]]);return r})",
		inDefine:         "(function(o,k,v){Object.defineProperty(o,k,{value:v,writable:true,enumerable:true,configurable:true})})",
		inViewInfo: `(function () {
			var TA = Object.getPrototypeOf(Int8Array.prototype), DV = DataView.prototype;
			function g(p, k) { return Object.getOwnPropertyDescriptor(p, k).get; }
			var tb = g(TA, "buffer"), to = g(TA, "byteOffset"), tl = g(TA, "length"), tt = g(TA, Symbol.toStringTag),
				db = g(DV, "buffer"), dof = g(DV, "byteOffset"), dl = g(DV, "byteLength");
			return function (v, isDV) {
				var b = (isDV ? db : tb).call(v);
				try {
					return isDV ? [b, dof.call(v), dl.call(v), "DataView"] : [b, to.call(v), tl.call(v), tt.call(v)];
				} catch (e) {
					return [b]; // the other getters throw only for a detached buffer
				}
			};
		})()`,
		inDate:   "Date",
		inRegExp: "RegExp",
		inMap:    "Map",
		inSet:    "Set",
		inMapSet: "Map.prototype.set",
		inSetAdd: "Set.prototype.add",
	})
	for i, name := range errorTypes {
		src[inError0+i] = name
	}
	for i, k := range viewKinds {
		src[inView0+i] = k.name
	}
	return src
}()

type intrinsics struct {
	vm *goja.Runtime
	v  [nIntrinsics]*goja.Object
	f  [nIntrinsics]goja.Callable
}

// obj returns built-in i as an object.
func (in *intrinsics) obj(i int) (*goja.Object, error) {
	if o := in.v[i]; o != nil {
		return o, nil
	}
	v, err := in.vm.RunString(intrinsicSrc[i])
	if err != nil {
		return nil, fmt.Errorf("codec: cannot resolve built-in %s: %w", intrinsicSrc[i], err)
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("codec: built-in %s is not an object", intrinsicSrc[i])
	}
	in.v[i] = o
	return o, nil
}

// fn returns built-in i as a callable function.
func (in *intrinsics) fn(i int) (goja.Callable, error) {
	if f := in.f[i]; f != nil {
		return f, nil
	}
	o, err := in.obj(i)
	if err != nil {
		return nil, err
	}
	f, ok := goja.AssertFunction(o)
	if !ok {
		return nil, fmt.Errorf("codec: built-in %s is not a function", intrinsicSrc[i])
	}
	in.f[i] = f
	return f, nil
}
