package bindings

import (
	"errors"
	"fmt"
	"math"
	"syscall"
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
)

// process is the Go half of a Process object.
type process struct {
	obj     *goja.Object
	target  goja.Value
	args    goja.Value
	name    string
	daemon  bool
	started bool
	closed  bool
	self    bool // the object a subclass's run() is called on, in its own child
	info    host.ProcInfo
	status  host.Status
}

func (m *Module) defineProcess() {
	vm := m.vm
	var ctor, proto *goja.Object
	ctor, proto = m.class("Process", func(this *goja.Object, args []goja.Value) any {
		v := m.bind("Process", args, 0,
			Param{"target", goja.Undefined()}, Param{"args", goja.Undefined()},
			Param{"name", goja.Undefined()}, Param{"daemon", goja.Undefined()},
			Param{"group", goja.Undefined()}, Param{"kwargs", goja.Undefined()})
		if !isNullish(v[4]) {
			panic(vm.NewTypeError("Process: group must be null or undefined (it is reserved, as in Python)"))
		}
		if !isNullish(v[5]) {
			panic(vm.NewTypeError("Process: kwargs does not exist in JavaScript: pass an options object inside args instead"))
		}
		p := &process{obj: this, target: v[0], args: v[1]}
		if !isNullish(p.target) {
			if _, ok := goja.AssertFunction(p.target); !ok {
				panic(vm.NewTypeError("Process: target must be a function, got %s", describe(p.target)))
			}
		}
		if isNullish(p.args) {
			p.args = vm.NewArray()
		} else if o, ok := p.args.(*goja.Object); !ok || o.ClassName() != "Array" {
			panic(vm.NewTypeError("Process: args must be an array, got %s", describe(p.args)))
		}
		m.mu.Lock()
		m.counter++
		n := m.counter
		m.mu.Unlock()
		if isNullish(v[2]) {
			p.name = fmt.Sprintf("Process-%d", n)
			if self := m.node.Self(); self.ID != host.MainID {
				p.name = fmt.Sprintf("%s:%d", self.Name, n)
			}
		} else {
			p.name = v[2].String()
		}
		if isNullish(v[3]) {
			p.daemon = m.node.Self().Daemon
		} else {
			p.daemon = v[3].ToBoolean()
		}
		return p
	})
	get := func(call goja.FunctionCall, what string) *process { return this[*process](m, call, "Process."+what) }

	m.method(proto, "start", func(call goja.FunctionCall) goja.Value {
		p := get(call, "start")
		m.start(p, ctor)
		return goja.Undefined()
	})
	m.method(proto, "run", func(call goja.FunctionCall) goja.Value {
		p := get(call, "run")
		if isNullish(p.target) {
			return goja.Undefined()
		}
		f, _ := goja.AssertFunction(p.target)
		var args []goja.Value
		vm.ForOf(p.args, func(v goja.Value) bool { args = append(args, v); return true })
		res, err := f(goja.Undefined(), args...)
		if err != nil {
			panic(err)
		}
		return res
	})
	m.method(proto, "join", func(call goja.FunctionCall) goja.Value {
		p := get(call, "join")
		timeout := m.timeout("Process.join", m.bind("Process.join", call.Arguments, 0, Param{"timeout", goja.Null()})[0])
		m.checkOpen(p, "join")
		if p.self {
			panic(m.newError("ProcessError", "a process cannot join itself"))
		}
		if !p.started {
			panic(m.newError("ProcessError", "can only join a started process"))
		}
		m.poll(p, timeout)
		return goja.Undefined()
	})
	m.method(proto, "isAlive", func(call goja.FunctionCall) goja.Value {
		p := get(call, "isAlive")
		m.checkOpen(p, "isAlive")
		if p.self {
			return vm.ToValue(true)
		}
		if !p.started {
			return vm.ToValue(false)
		}
		m.poll(p, 0)
		return vm.ToValue(!p.status.Done)
	})
	signal := func(name string, sig syscall.Signal) {
		m.method(proto, name, func(call goja.FunctionCall) goja.Value {
			p := get(call, name)
			m.checkOpen(p, name)
			if !p.started {
				panic(m.newError("ProcessError", fmt.Sprintf("cannot %s a process that was not started", name)))
			}
			if p.self {
				panic(m.newError("ProcessError", fmt.Sprintf("a process cannot %s itself; use process.exit()", name)))
			}
			if !p.status.Done {
				if err := m.node.Signal(p.info.ID, sig); err != nil {
					m.throw(err)
				}
			}
			return goja.Undefined()
		})
	}
	signal("terminate", syscall.SIGTERM)
	signal("kill", syscall.SIGKILL)
	m.method(proto, "close", func(call goja.FunctionCall) goja.Value {
		p := get(call, "close")
		if p.closed {
			return goja.Undefined()
		}
		if p.started && !p.self {
			m.poll(p, 0)
			if !p.status.Done {
				panic(m.newError("ProcessError", fmt.Sprintf("cannot close process %s: it is still running; join() or terminate() it first", p.name)))
			}
		}
		p.closed = true
		return goja.Undefined()
	})
	m.accessor(proto, "pid", func(call goja.FunctionCall) goja.Value {
		p := get(call, "pid")
		if !p.started && !p.self {
			return goja.Null()
		}
		return vm.ToValue(p.info.Pid)
	}, nil)
	m.accessor(proto, "ident", func(call goja.FunctionCall) goja.Value {
		p := get(call, "ident")
		if !p.started && !p.self {
			return goja.Null()
		}
		return vm.ToValue(p.info.Pid)
	}, nil)
	m.accessor(proto, "exitcode", func(call goja.FunctionCall) goja.Value {
		p := get(call, "exitcode")
		m.checkOpen(p, "exitcode")
		if !p.started || p.self {
			return goja.Null()
		}
		m.poll(p, 0)
		if !p.status.Done {
			return goja.Null()
		}
		return vm.ToValue(p.status.ExitCode)
	}, nil)
	m.accessor(proto, "name", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(get(call, "name").name)
	}, func(call goja.FunctionCall) goja.Value {
		p := get(call, "name")
		v := call.Argument(0)
		if _, ok := v.(goja.String); !ok {
			panic(vm.NewTypeError("Process.name must be a string, got %s", describe(v)))
		}
		p.name = v.String()
		return goja.Undefined()
	})
	m.accessor(proto, "daemon", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(get(call, "daemon").daemon)
	}, func(call goja.FunctionCall) goja.Value {
		p := get(call, "daemon")
		if p.started || p.self {
			panic(m.newError("ProcessError", "process has already started: daemon can only be set before start()"))
		}
		p.daemon = call.Argument(0).ToBoolean()
		return goja.Undefined()
	})
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		p := get(call, "toString")
		state := "initial"
		switch {
		case p.self:
			state = "started"
		case p.started:
			m.poll(p, 0)
			state = "started"
			if p.status.Done {
				state = fmt.Sprintf("stopped exitcode=%d", p.status.ExitCode)
			}
		}
		d := ""
		if p.daemon {
			d = " daemon"
		}
		return vm.ToValue(fmt.Sprintf("<Process name='%s' %s%s>", p.name, state, d))
	})
}

func (m *Module) checkOpen(p *process, what string) {
	if p.closed {
		panic(m.newError("ProcessError", fmt.Sprintf("cannot use %s on process %s: the process object is closed", what, p.name)))
	}
}

// poll asks for the process's status, waiting up to timeout (forever if negative).
func (m *Module) poll(p *process, timeout time.Duration) {
	if p.status.Done || !p.started {
		return
	}
	st, err := m.join(p.info.ID, timeout)
	if err != nil {
		m.throw(err)
	}
	if st.Done {
		p.status = st
		m.mu.Lock()
		delete(m.children, p.info.ID)
		m.mu.Unlock()
	}
}

// join waits for a child; a wait that may block gives way to an interrupt
// (Ctrl-C in the REPL), after which the VM throws it.
func (m *Module) join(id int64, timeout time.Duration) (host.Status, error) {
	if timeout == 0 {
		return m.node.Join(id, 0)
	}
	type result struct {
		st  host.Status
		err error
	}
	ch := make(chan result, 1)
	go func() {
		st, err := m.node.Join(id, timeout)
		ch <- result{st, err}
	}()
	select {
	case r := <-ch:
		return r.st, r.err
	case <-m.rt.Interrupted():
		return host.Status{}, nil
	}
}

// timeout converts a Python timeout in seconds (null for none) to a duration,
// negative meaning forever.
func (m *Module) timeout(fname string, v goja.Value) time.Duration {
	if isNullish(v) {
		return -1
	}
	if !goja.IsNumber(v) {
		panic(m.vm.NewTypeError("%s: timeout must be a number of seconds or null, got %s", fname, describe(v)))
	}
	f := v.ToFloat()
	if math.IsNaN(f) {
		panic(m.vm.NewTypeError("%s: timeout must be a number of seconds, got NaN", fname))
	}
	if f <= 0 {
		return 0
	}
	if f > 1e9 {
		return -1
	}
	return time.Duration(f * float64(time.Second))
}

// start captures the target (or the subclass and its fields) and starts a child.
func (m *Module) start(p *process, ctor *goja.Object) {
	vm := m.vm
	m.checkOpen(p, "start")
	if p.self {
		panic(m.newError("ProcessError", "cannot start a process from inside itself"))
	}
	if p.started {
		panic(m.newError("ProcessError", fmt.Sprintf("cannot start a process twice (%s)", p.name)))
	}
	bundle := vm.NewObject()
	if cls := p.obj.Get("constructor"); cls != nil && !cls.SameAs(ctor) && overridesRun(p.obj, ctor) {
		captured, err := m.rt.Capture(cls, "the Process subclass "+cls.(*goja.Object).Get("name").String())
		if err != nil {
			m.throw(err)
		}
		fields := vm.NewObject()
		for _, k := range p.obj.Keys() {
			fields.Set(k, p.obj.Get(k))
		}
		bundle.Set("cls", captured)
		bundle.Set("fields", fields)
	} else if !isNullish(p.target) {
		captured, err := m.rt.Capture(p.target, "the target")
		if err != nil {
			m.throw(err)
		}
		bundle.Set("fn", captured)
	}
	bundle.Set("args", p.args)
	bundle.Set("argv", vm.Get("process").ToObject(vm).Get("argv"))
	payload, files, objs, err := m.encodeUnpinned(bundle, "$")
	if err != nil {
		m.throw(rewritePath(err))
	}
	pins := make([]uint64, len(objs))
	for i, o := range objs {
		pins[i] = o.Ref.ID
	}
	info, err := m.node.Start(host.StartSpec{Name: p.name, Daemon: p.daemon, Payload: payload, Files: files, Pins: pins})
	if err != nil {
		m.throw(err)
	}
	p.info, p.started = info, true
	m.mu.Lock()
	m.children[info.ID] = p
	m.mu.Unlock()
}

func overridesRun(obj, ctor *goja.Object) bool {
	run := obj.Get("run")
	base := ctor.Get("prototype").(*goja.Object).Get("run")
	return run != nil && !run.SameAs(base)
}

func (m *Module) activeChildren(goja.FunctionCall) goja.Value {
	m.mu.Lock()
	list := make([]*process, 0, len(m.children))
	for _, p := range m.children {
		list = append(list, p)
	}
	m.mu.Unlock()
	var alive []any
	for _, p := range list {
		m.poll(p, 0)
		if !p.status.Done {
			alive = append(alive, p.obj)
		}
	}
	return m.vm.NewArray(alive...)
}

// Finish is what a process does when its own work is over, as Python's
// multiprocessing does at exit: terminate daemonic children, then wait for
// the others.
func (m *Module) Finish() error {
	m.mu.Lock()
	started := len(m.children)
	m.mu.Unlock()
	if started == 0 {
		return nil // every child this process started was seen to end
	}
	list, err := m.node.Active()
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Daemon {
			if err := m.node.Signal(c.ID, syscall.SIGTERM); err != nil {
				return err
			}
		}
	}
	for _, c := range list {
		if _, err := m.node.Join(c.ID, -1); err != nil && !errors.Is(err, host.ErrHostGone) {
			return err
		}
	}
	return nil
}
