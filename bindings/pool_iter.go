package bindings

import (
	"time"

	"github.com/dop251/goja"

	"mpjs/host"
)

// poolIter is the Go half of the iterator imap and imapUnordered return.
// An array is cut into chunks at once; any other iterable is pulled lazily,
// a bounded number of chunks ahead of the consumer, so an endless generator
// works as it does in a for...of.
type poolIter struct {
	pl    *pool
	j     *poolJob
	fname string
	fn    uint32
	mode  byte
	cs    int

	src       goja.Value // the iterable's iterator, while it is being pulled
	exhausted bool
	fed       int // chunks submitted

	next     int // ordered: the next chunk; unordered: the next arrival
	cur      []goja.Value
	curPos   int
	finished bool
}

// ahead bounds the chunks an imap keeps submitted beyond what was consumed.
func ahead(procs int) int { return max(64, 8*procs) }

func (pm *poolModule) imap(pl *pool, fname string, fn, iterable, chunksize goja.Value, kind jobKind) goja.Value {
	m := pm.m
	pm.checkOpen(pl, fname)
	if !pm.call("isIterable", iterable).ToBoolean() {
		panic(m.vm.NewTypeError("%s: iterable must be iterable (an array, a Set, a generator...), got %s", fname, describe(iterable)))
	}
	cs := m.poolCount(fname, "chunksize", chunksize)
	id := pm.define(pl, fname, fn)
	mode := modeMap
	j := pm.newJob(pl, kind, -1)
	it := &poolIter{pl: pl, j: j, fname: fname, fn: id, mode: mode, cs: cs}
	if o, ok := iterable.(*goja.Object); ok && o.ClassName() == "Array" {
		items := pm.values(o)
		for start := 0; start < len(items); start += cs {
			pm.submitChunk(it, items[start:min(start+cs, len(items))], start)
		}
		it.exhausted = true
		j.total = it.fed
	} else {
		it.src = pm.call("iter", iterable)
		pl.lazy = append(pl.lazy, it)
		pm.feed(it, ahead(pl.procs))
	}
	pm.helpers()
	o := m.vm.CreateObject(pm.itProt)
	o.DefineDataPropertySymbol(m.state, m.vm.ToValue(it), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return o
}

func (pm *poolModule) submitChunk(it *poolIter, items []goja.Value, first int) {
	b, files := pm.encodeChunkSafe(it.pl, it.j, it.fname, items, first)
	if err := it.pl.h.Submit(&host.PoolTask{Job: it.j.hj, Chunk: it.fed, First: first, Fn: it.fn, Mode: it.mode, Args: b, Files: files}); err != nil {
		it.j.hj.Cancel()
		pm.m.throw(err)
	}
	it.fed++
}

// feed pulls chunks from a lazy iterable until limit chunks are submitted
// and not yet consumed, or the iterable ends.
func (pm *poolModule) feed(it *poolIter, limit int) {
	for !it.exhausted && it.fed-it.next < limit {
		got := pm.call("take", it.src, pm.m.vm.ToValue(it.cs)).(*goja.Object)
		items := pm.values(got)
		n := len(items)
		if n > 0 {
			pm.submitChunk(it, items, it.fed*it.cs)
		}
		if n < it.cs || got.Get("done") != nil && got.Get("done").ToBoolean() {
			pm.endFeed(it)
		}
	}
}

func (pm *poolModule) endFeed(it *poolIter) {
	it.exhausted = true
	it.src = nil
	it.j.total = it.fed
	for i, x := range it.pl.lazy {
		if x == it {
			it.pl.lazy = append(it.pl.lazy[:i], it.pl.lazy[i+1:]...)
			break
		}
	}
}

func (pm *poolModule) defineIterator() {
	m, vm := pm.m, pm.m.vm
	ctor := pm.call("makeClass", vm.ToValue("IMapIterator")).(*goja.Object)
	pm.itProt = ctor.Get("prototype").(*goja.Object)
	pm.itProt.SetPrototype(pm.js.Get("iteratorProto").(*goja.Object))
	get := func(call goja.FunctionCall, what string) *poolIter {
		return this[*poolIter](m, call, "IMapIterator."+what)
	}
	step := func(v goja.Value, done bool) goja.Value {
		o := vm.NewObject()
		o.Set("value", v)
		o.Set("done", done)
		return o
	}
	m.method(pm.itProt, "next", func(call goja.FunctionCall) goja.Value {
		it := get(call, "next")
		t := m.timeout("IMapIterator.next", m.bind("IMapIterator.next", call.Arguments, 0, Param{"timeout", goja.Null()})[0])
		v, done := pm.iterNext(it, t)
		if done {
			return step(goja.Undefined(), true)
		}
		return step(v, false)
	})
	m.method(pm.itProt, "return", func(call goja.FunctionCall) goja.Value {
		it := get(call, "return")
		if !it.finished {
			it.finished = true
			it.j.hj.Cancel()
			if !it.exhausted {
				pm.endFeed(it)
			}
		}
		return step(call.Argument(0), true)
	})
}

// iterNext returns the next result, blocking up to timeout (negative:
// forever); done when every result was returned.
func (pm *poolModule) iterNext(it *poolIter, timeout time.Duration) (goja.Value, bool) {
	w := poolWaiter{timeout: timeout}
	defer w.stop()
	j := it.j
	for {
		if it.curPos < len(it.cur) {
			v := it.cur[it.curPos]
			it.cur[it.curPos] = nil
			it.curPos++
			return v, false
		}
		it.cur = nil
		if it.finished {
			return nil, true
		}
		pm.pump()
		if !it.exhausted && it.pl.h.Running() {
			pm.feed(it, ahead(it.pl.procs))
		}
		idx := -1
		if j.kind == jobIMap {
			if it.next < len(j.chunks) && j.chunks[it.next].set {
				idx = it.next
			}
		} else if it.next < len(j.arrive) {
			idx = j.arrive[it.next]
		}
		if idx >= 0 {
			it.next++
			res := j.chunks[idx]
			j.chunks[idx] = chunkResult{set: true}
			if res.err != nil {
				panic(pm.m.vm.ToValue(res.err))
			}
			it.cur, it.curPos = res.vals, 0
			continue
		}
		if it.exhausted && it.next >= it.fed {
			it.finished = true
			return nil, true
		}
		if !it.exhausted && !it.pl.h.Running() {
			// Closed or terminated while the iterable was still being pulled.
			pm.endFeed(it)
			continue
		}
		if w.timeout == 0 {
			panic(pm.m.newError("TimeoutError", "IMapIterator.next: no result in time"))
		}
		switch pm.wait(&w) {
		case waitExpired:
			w.timeout = 0 // one more look, then TimeoutError
		case waitInterrupted:
			return goja.Undefined(), false
		}
	}
}
