package bindings

import (
	"errors"
	"fmt"
	"os"

	"github.com/dop251/goja"

	"mpjs/host"
	"mpjs/runtime"
	"mpjs/runtime/codec"
)

// Kinds of queue, as they travel in a handle.
const (
	queuePlain byte = iota
	queueSimple
	queueJoinable
)

var queueClassNames = [...]string{"Queue", "SimpleQueue", "JoinableQueue"}

// queue is the Go half of a Queue, SimpleQueue or JoinableQueue. The queue
// itself lives in the host (see host/queue.go); this is a reference to it.
type queue struct {
	ref    host.QueueRef
	kind   byte
	closed bool
}

func (q *queue) handleKind() string { return "queue" }

func (q *queue) encodeHandle() ([]byte, []*os.File, error) {
	var e host.Enc
	e.Uint(q.ref.ID).Uint(uint64(q.kind)).Uint(uint64(q.ref.Maxsize))
	return e.B, nil, nil
}

func (m *Module) defineQueues() {
	vm := m.vm
	qc := host.NewQueueClient(m.node)
	protos := make([]*goja.Object, 3)

	create := func(fname string, args []goja.Value, kind byte) *queue {
		maxsize := 0
		if kind != queueSimple {
			v := m.bind(fname, args, 0, Param{"maxsize", vm.ToValue(0)})[0]
			if !isNullish(v) {
				if !goja.IsNumber(v) {
					panic(vm.NewTypeError("%s: maxsize must be a number, got %s", fname, describe(v)))
				}
				f := v.ToFloat()
				if f != f {
					panic(vm.NewTypeError("%s: maxsize must be a number, got NaN", fname))
				}
				if f > 1<<31 {
					panic(m.qpRangeError(fmt.Sprintf("%s: maxsize %v is too large (at most 2147483648)", fname, f)))
				}
				if f > 0 {
					maxsize = int(f)
				}
			}
		} else {
			m.bind(fname, args, 0)
		}
		ref, err := qc.Create(maxsize, kind == queueJoinable)
		if err != nil {
			m.throw(err)
		}
		return &queue{ref: ref, kind: kind}
	}
	_, qp := m.class("Queue", func(_ *goja.Object, args []goja.Value) any { return create("Queue", args, queuePlain) })
	_, sp := m.class("SimpleQueue", func(_ *goja.Object, args []goja.Value) any { return create("SimpleQueue", args, queueSimple) })
	_, jp := m.class("JoinableQueue", func(_ *goja.Object, args []goja.Value) any {
		return create("JoinableQueue", args, queueJoinable)
	})
	jp.SetPrototype(qp) // a JoinableQueue is a Queue, as in Python
	protos[queuePlain], protos[queueSimple], protos[queueJoinable] = qp, sp, jp

	m.decoders["queue"] = func(payload []byte, files []*os.File) (goja.Value, error) {
		for _, f := range files {
			f.Close()
		}
		d := host.Dec{B: payload}
		id, kind, maxsize := d.Uint(), d.Uint(), d.Uint()
		if err := d.Done(); err != nil || kind > uint64(queueJoinable) {
			return nil, fmt.Errorf("queue handle: malformed")
		}
		q := &queue{ref: host.QueueRef{ID: id, Maxsize: int(maxsize), Joinable: kind == uint64(queueJoinable)}, kind: byte(kind)}
		o := vm.CreateObject(protos[kind])
		o.DefineDataPropertySymbol(m.state, vm.ToValue(q), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		return o, nil
	}

	// get fetches the queue a method is called on; name is "Class.method".
	get := func(call goja.FunctionCall, name string, closedOK bool) *queue {
		q := this[*queue](m, call, name)
		if q.closed && !closedOK {
			panic(m.qpError(fmt.Sprintf("%s: the queue is closed", name)))
		}
		return q
	}
	put := func(q *queue, v goja.Value, block bool, timeout goja.Value, fname string) {
		t := m.timeout(fname, timeout)
		b, files, err := m.qpEncode(qc.Buffer(), v, "item")
		if err != nil {
			m.throw(err)
		}
		if err := qc.Put(q.ref, b, files, block, t); err != nil {
			m.queueThrow(err)
		}
	}
	take := func(q *queue, block bool, timeout goja.Value, fname string) goja.Value {
		t := m.timeout(fname, timeout)
		data, files, err := qc.Get(q.ref, block, t, m.rt.Interrupted())
		if errors.Is(err, host.ErrInterrupted) {
			return goja.Undefined() // the VM throws the interruption
		}
		if err != nil {
			m.queueThrow(err)
		}
		v, err := m.decode(data, files)
		qc.Release(data)
		if err != nil {
			m.throw(err)
		}
		return v
	}
	size := func(q *queue) int {
		n, err := qc.Size(q.ref)
		if err != nil {
			m.queueThrow(err)
		}
		return n
	}
	yes, null := vm.ToValue(true), goja.Null()

	for kind, proto := range protos {
		cls := queueClassNames[kind]
		if kind == int(queueJoinable) {
			break // inherits from Queue
		}
		simple := kind == int(queueSimple)
		name := func(method string) string { return cls + "." + method }
		putName, getName := name("put"), name("get")
		m.method(proto, "put", func(call goja.FunctionCall) goja.Value {
			q := get(call, putName, false)
			if len(call.Arguments) == 1 { // the usual case, without options
				put(q, call.Arguments[0], true, null, putName)
				return goja.Undefined()
			}
			if simple {
				v := m.bind(putName, call.Arguments, 1, Param{"obj", goja.Undefined()})
				put(q, v[0], true, null, putName)
				return goja.Undefined()
			}
			v := m.bind(putName, call.Arguments, 1, Param{"obj", goja.Undefined()},
				Param{"block", yes}, Param{"timeout", null})
			put(q, v[0], v[1].ToBoolean(), v[2], putName)
			return goja.Undefined()
		})
		m.method(proto, "get", func(call goja.FunctionCall) goja.Value {
			q := get(call, getName, false)
			if len(call.Arguments) == 0 {
				return take(q, true, null, getName)
			}
			if simple {
				m.bind(getName, call.Arguments, 0)
				return take(q, true, null, getName)
			}
			v := m.bind(getName, call.Arguments, 0, Param{"block", yes}, Param{"timeout", null})
			return take(q, v[0].ToBoolean(), v[1], getName)
		})
		emptyName, closeName := name("empty"), name("close")
		m.method(proto, "empty", func(call goja.FunctionCall) goja.Value {
			m.bind(emptyName, call.Arguments, 0)
			return vm.ToValue(size(get(call, emptyName, false)) == 0)
		})
		m.method(proto, "close", func(call goja.FunctionCall) goja.Value {
			get(call, closeName, true).closed = true
			return goja.Undefined()
		})
		if simple {
			continue
		}
		putNowaitName, getNowaitName := name("putNowait"), name("getNowait")
		m.method(proto, "putNowait", func(call goja.FunctionCall) goja.Value {
			q := get(call, putNowaitName, false)
			v := m.bind(putNowaitName, call.Arguments, 1, Param{"obj", goja.Undefined()})
			put(q, v[0], false, null, putNowaitName)
			return goja.Undefined()
		})
		m.method(proto, "getNowait", func(call goja.FunctionCall) goja.Value {
			q := get(call, getNowaitName, false)
			m.bind(getNowaitName, call.Arguments, 0)
			return take(q, false, null, getNowaitName)
		})
		qsizeName, fullName := name("qsize"), name("full")
		m.method(proto, "qsize", func(call goja.FunctionCall) goja.Value {
			m.bind(qsizeName, call.Arguments, 0)
			return vm.ToValue(size(get(call, qsizeName, false)))
		})
		m.method(proto, "full", func(call goja.FunctionCall) goja.Value {
			m.bind(fullName, call.Arguments, 0)
			q := get(call, fullName, false)
			return vm.ToValue(q.ref.Maxsize > 0 && size(q) >= q.ref.Maxsize)
		})
		// Nothing is ever buffered in a producer (a put is in the host when
		// it returns), so there is no feeder thread to join or cancel; the
		// names exist so that Python code ports as is.
		for _, method := range []string{"joinThread", "cancelJoinThread"} {
			mname := name(method)
			m.method(proto, method, func(call goja.FunctionCall) goja.Value {
				get(call, mname, true)
				return goja.Undefined()
			})
		}
		maxsizeName := name("maxsize")
		m.accessor(proto, "maxsize", func(call goja.FunctionCall) goja.Value {
			return vm.ToValue(this[*queue](m, call, maxsizeName).ref.Maxsize)
		}, nil)
	}
	// JoinableQueue's own methods, which refuse a plain Queue as this.
	for _, jm := range []struct {
		name string
		call func(host.QueueRef) error
	}{{"taskDone", qc.TaskDone}, {"join", qc.Join}} {
		method, call := "JoinableQueue."+jm.name, jm.call
		m.method(jp, jm.name, func(c goja.FunctionCall) goja.Value {
			q := get(c, method, false)
			if q.kind != queueJoinable {
				panic(vm.NewTypeError("%s called on a %s", method, queueClassNames[q.kind]))
			}
			if err := call(q.ref); err != nil {
				m.queueThrow(err)
			}
			return goja.Undefined()
		})
	}
}

// qpEncode is encode appending to dst, so that a caller can reuse a buffer.
func (m *Module) qpEncode(dst []byte, v goja.Value, root string) ([]byte, []*os.File, error) {
	enc, _ := m.rt.Codec()
	m.beginEncode()
	b, err := enc.Encode(dst, v, root)
	files, pins := m.endEncode(err)
	if err != nil {
		var ce *codec.CloneError
		if errors.As(err, &ce) {
			return nil, nil, &runtime.CaptureError{Msg: ce.Error()}
		}
		return nil, nil, err
	}
	if err := pinAll(pins); err != nil {
		return nil, nil, err
	}
	return b, files, nil
}

// qpError makes a JavaScript Error (Python raises ValueError where mpjs
// throws these: a closed queue, taskDone() once too often).
func (m *Module) qpError(msg string) *goja.Object {
	o, err := m.vm.New(m.vm.Get("Error"), m.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return o
}

// qpRangeError makes a JavaScript RangeError.
func (m *Module) qpRangeError(msg string) *goja.Object {
	o, err := m.vm.New(m.vm.Get("RangeError"), m.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return o
}

// queueThrow is throw, with Python's ValueError as a plain Error.
func (m *Module) queueThrow(err error) {
	var se *host.ServiceError
	if errors.As(err, &se) && se.Class == "ValueError" {
		panic(m.qpError(se.Msg))
	}
	m.throw(err)
}
