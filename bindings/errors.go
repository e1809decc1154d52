package bindings

import (
	"errors"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

// errorClasses are mp's exported error classes with their parents, in an
// order where a parent comes before its children.
var errorClasses = [][2]string{
	{"ProcessError", "Error"},
	{"BufferTooShort", "ProcessError"},
	{"AuthenticationError", "ProcessError"},
	{"TimeoutError", "ProcessError"},
	{"EOFError", "Error"},
	{"Empty", "Error"},
	{"Full", "Error"},
	{"BrokenProcessPool", "ProcessError"},
	{"BrokenBarrierError", "Error"},
}

func (m *Module) installErrors() {
	m.errors = map[string]*goja.Object{}
	mk := m.prelude.Get("makeError")
	f, _ := goja.AssertFunction(mk)
	for _, c := range errorClasses {
		parent := m.errors[c[1]]
		if parent == nil {
			parent = m.vm.Get(c[1]).(*goja.Object)
		}
		v, err := f(goja.Undefined(), m.vm.ToValue(c[0]), parent)
		if err != nil {
			panic(err)
		}
		m.errors[c[0]] = v.(*goja.Object)
		m.obj.Set(c[0], v)
	}
}

// newError makes an instance of one of mp's error classes.
func (m *Module) newError(class, msg string) *goja.Object {
	o, err := m.vm.New(m.errors[class], m.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return o
}

// throw raises err in JavaScript as the error class that fits it.
func (m *Module) throw(err error) {
	var pe *host.ProcessError
	var ce *runtime.CaptureError
	var se *host.ServiceError
	switch {
	case errors.As(err, &pe):
		panic(m.newError("ProcessError", pe.Msg))
	case errors.As(err, &se):
		if m.errors[se.Class] != nil {
			panic(m.newError(se.Class, se.Msg))
		}
		if ctor, ok := m.vm.Get(se.Class).(*goja.Object); ok && (se.Class == "TypeError" || se.Class == "RangeError") {
			o, _ := m.vm.New(ctor, m.vm.ToValue(se.Msg))
			panic(o)
		}
		panic(m.vm.NewGoError(err))
	case errors.As(err, &ce):
		panic(m.vm.NewTypeError(ce.Msg))
	case errors.Is(err, host.ErrHostGone):
		panic(m.newError("ProcessError", err.Error()))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		panic(ex)
	}
	panic(m.vm.NewGoError(err))
}
