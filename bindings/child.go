package bindings

import (
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
)

// RunTarget runs what the host handed this child: it re-creates the target
// (or the Process subclass instance), calls it with its arguments, and
// leaves any promise it returns to the event loop. Loop goroutine only.
func (m *Module) RunTarget(spec host.RunSpec) error {
	vm := m.vm
	v, err := m.decode(spec.Payload, spec.Files)
	if err != nil {
		return fmt.Errorf("decode the target: %w", err)
	}
	bundle, ok := v.(*goja.Object)
	if !ok {
		return fmt.Errorf("decode the target: got %s", describe(v))
	}
	if argv, ok := bundle.Get("argv").(*goja.Object); ok {
		vm.Get("process").ToObject(vm).Set("argv", argv)
	}
	var args []goja.Value
	if a, ok := bundle.Get("args").(*goja.Object); ok {
		vm.ForOf(a, func(x goja.Value) bool { args = append(args, x); return true })
	}
	var result goja.Value
	switch {
	case isObject(bundle.Get("poolWorker")):
		m.build()
		return m.runPoolWorker(bundle, spec.Self)
	case isObject(bundle.Get("cls")):
		cls, err := m.rt.Instantiate(bundle.Get("cls").(*goja.Object))
		if err != nil {
			return err
		}
		proto := cls.ToObject(vm).Get("prototype").ToObject(vm)
		inst := vm.CreateObject(proto)
		p := &process{obj: inst, name: spec.Self.Name, daemon: spec.Self.Daemon, self: true, info: spec.Self, args: vm.NewArray()}
		inst.DefineDataPropertySymbol(m.state, vm.ToValue(p), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		if fields, ok := bundle.Get("fields").(*goja.Object); ok {
			for _, k := range fields.Keys() {
				inst.Set(k, fields.Get(k))
			}
		}
		run, ok := goja.AssertFunction(inst.Get("run"))
		if !ok {
			return fmt.Errorf("the Process subclass has no run() method")
		}
		if result, err = run(inst); err != nil {
			return err
		}
	case isObject(bundle.Get("fn")):
		fn, err := m.rt.Instantiate(bundle.Get("fn").(*goja.Object))
		if err != nil {
			return err
		}
		call, ok := goja.AssertFunction(fn)
		if !ok {
			return fmt.Errorf("the target is not a function in the child")
		}
		if result, err = call(goja.Undefined(), args...); err != nil {
			return err
		}
	}
	// An async target: its rejection is this process's uncaught error, which
	// the runtime reports as an unhandled rejection when the loop drains.
	_ = result
	return nil
}

func isObject(v goja.Value) bool { _, ok := v.(*goja.Object); return ok }

// FailureReport is what a child prints on stderr when its target fails.
func FailureReport(rt *runtime.Runtime, self host.ProcInfo, err error) string {
	desc := rt.Describe(err)
	desc = strings.TrimPrefix(desc, "Uncaught (in promise) ")
	return fmt.Sprintf("Process %s (pid %d) failed:\n%s", self.Name, self.Pid, desc)
}
