package bindings

// Pool (SPEC §10): the JavaScript face of host.Pool. The owner's VM
// captures the function of each call as of that call (SPEC §3; see define
// for the cache that spares most captures), encodes it, and the host pool
// gives it an id by content, so a worker compiles a function once and keeps
// it. Items are cut into chunks here (see pool_items.go); workers answer
// each chunk with its results, encoded the same way, or with what it threw.
//
// Results arrive on the host pool's reader goroutines, which only append
// them to this VM's event list and wake it. Everything that touches the VM
// runs on its goroutine: absorbing an event (decoding, filling its job) and
// settling a finished job (callback, errorCallback, promise) happen in pump,
// which the blocking calls (get, wait, ready, next, join) run before they
// look at a job, and which an event-loop job runs otherwise. Jobs settle in
// the order they finished, one at a time, so callbacks run in arrival order
// and a job's callback has run by the time its get() returns.

import (
	"errors"
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/eventloop"

	"mpjs/host"
	"mpjs/runtime"
	"mpjs/runtime/capture"
)

// Modes tell a worker how to apply the function to a chunk's items.
const (
	modeMap   byte = 0 // fn(item) for each item
	modeStar  byte = 1 // fn(...item) for each item
	modeApply byte = 2 // fn(...items), once
)

// poolJS is the pool's JavaScript, compiled once per VM that uses a pool.
const poolJS = `({
	toArray(it) { return Array.isArray(it) ? it : Array.from(it); },
	isIterable(it) { return it != null && typeof it[Symbol.iterator] === 'function'; },
	iter(it) { return it[Symbol.iterator](); },
	take(it, n) {
		const out = [];
		while (out.length < n) {
			const r = it.next();
			if (r.done) { out.done = true; break; }
			out.push(r.value);
		}
		return out;
	},
	// runChunk applies fn to the items in order, for starmap and for a
	// function goja cannot call directly (map's usual way is
	// poolWorker.mapChunk). The arrow keeps fn's arguments to the item
	// alone, as Python's map. An async fn's promises are awaited together
	// afterwards: see poolWorker.ok.
	runChunk(fn, items, star) {
		return star ? items.map(a => fn(...a)) : items.map(x => fn(x));
	},
	all(results) { return Promise.all(results); },
	isPromise(v) { return v instanceof Promise; },
	settle(p, ok, fail) { p.then(ok, fail); },
	then(p, f, r) { return p.then(f, r); },
	makeClass(name) {
		const C = {[name]: class {
			constructor() { throw new TypeError(name + ' objects are made by Pool methods'); }
		}}[name];
		return C;
	},
	iteratorProto: Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
	reflectApply: Reflect.apply,
	arrayOf: Array.of,
})`

// poolModule is the pool state of one VM (one per Module).
type poolModule struct {
	m       *Module
	js      *goja.Object
	fns     map[string]goja.Callable
	resProt *goja.Object // AsyncResult.prototype
	itProt  *goja.Object // IMapIterator.prototype

	// values and array move items between Go and the VM in one go.
	reflectApply goja.Callable // Reflect.apply
	arrayOf      goja.Callable // Array.of
	sink         goja.Value    // a native function that keeps its arguments in sunk
	sunk         []goja.Value
	undef        []goja.Value // undefined values, to make result arrays from (see prepareResult)
	boxes        *numberBoxes // nil until numberBoxes has run, or if unusable
	boxesChecked bool

	mu      sync.Mutex
	events  []host.PoolResult
	queued  bool          // a pump is scheduled on the loop
	wake    chan struct{} // an event arrived
	workers int           // for the names PoolWorker-N

	// loop goroutine only
	settleQ   []*poolJob
	settling  bool
	listeners int // unsettled jobs with a callback or a promise
	keep      *eventloop.Timer
}

// poolState is the Pool half of the module (made by definePool).
func (m *Module) poolState() *poolModule { return m.pools }

// pool is the Go half of a Pool object.
type pool struct {
	h        *host.Pool
	procs    int
	initargs goja.Value // kept reachable: its shared objects travel to each new worker
	closed   bool
	lazy     []*poolIter // imap iterators still pulling from their iterable
	fns      map[*goja.Object]*fnEntry
}

// fnEntry remembers a function's capture: while the top-level declarations
// it was made from are the same, the function needs no new capture.
type fnEntry struct {
	id      uint32
	uses    []capture.Binding // name and Order of each declaration used
	globals []string          // free names that were not top-level bindings
}

type jobKind int

const (
	jobMap jobKind = iota
	jobApply
	jobIMap
	jobIMapUnordered
)

type chunkResult struct {
	set  bool
	vals []goja.Value // the chunk's results
	err  goja.Value   // what it threw
}

// poolJob is the Go half of an AsyncResult, and the state of any call.
type poolJob struct {
	pl     *pool
	hj     *host.PoolJob
	kind   jobKind
	total  int // chunks, once known (-1 while an imap still feeds)
	chunks []chunkResult
	// A map's results are decoded straight into their place in all: item
	// i of chunk c is all[c*chunkSize+i] (size 0: not a map). all is the
	// storage of arr, the map's value, unless arr is nil (prepareResult).
	size, chunkSize int
	all             []goja.Value
	arr             *goja.Object
	got             int
	arrive          []int // chunk indices in arrival order (imapUnordered)

	done    bool // the value or the error is known
	settled bool // callbacks ran, promise resolved
	value   goja.Value
	err     goja.Value

	callback, errback goja.Value
	promise           *goja.Promise
	resolve, reject   func(any) error
	listened          bool
}

func (m *Module) definePool() {
	vm := m.vm
	pm := &poolModule{m: m, wake: make(chan struct{}, 1), fns: map[string]goja.Callable{}}
	m.pools = pm
	m.decoders["poolchan"] = func(_ []byte, files []*os.File) (goja.Value, error) {
		if len(files) != 1 {
			closePoolFiles(files)
			return nil, fmt.Errorf("pool channel: %d descriptors", len(files))
		}
		return m.poolHandleObject(&poolChannel{file: files[0]}), nil
	}

	_, proto := m.class("Pool", func(this *goja.Object, args []goja.Value) any {
		return m.newPool(pm, args)
	})
	get := func(call goja.FunctionCall, what string) *pool { return this[*pool](m, call, "Pool."+what) }

	m.method(proto, "map", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "map")
		v := m.bind("Pool.map", call.Arguments, 2, Param{"func", goja.Undefined()}, Param{"iterable", goja.Undefined()}, Param{"chunksize", goja.Undefined()})
		j := pm.submitMap(pl, "Pool.map", v[0], v[1], v[2], modeMap, jobMap)
		return pm.result(j, -1)
	})
	m.method(proto, "starmap", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "starmap")
		v := m.bind("Pool.starmap", call.Arguments, 2, Param{"func", goja.Undefined()}, Param{"iterable", goja.Undefined()}, Param{"chunksize", goja.Undefined()})
		j := pm.submitMap(pl, "Pool.starmap", v[0], v[1], v[2], modeStar, jobMap)
		return pm.result(j, -1)
	})
	m.method(proto, "apply", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "apply")
		v := m.bind("Pool.apply", call.Arguments, 1, Param{"func", goja.Undefined()}, Param{"args", goja.Undefined()})
		j := pm.submitApply(pl, "Pool.apply", v[0], v[1])
		return pm.result(j, -1)
	})
	asyncOf := func(name string, mode byte) {
		m.method(proto, name, func(call goja.FunctionCall) goja.Value {
			pl := get(call, name)
			fname := "Pool." + name
			v := m.bind(fname, call.Arguments, 2, Param{"func", goja.Undefined()}, Param{"iterable", goja.Undefined()}, Param{"chunksize", goja.Undefined()},
				Param{"callback", goja.Undefined()}, Param{"errorCallback", goja.Undefined()})
			cb, eb := pm.callbacks(fname, v[3], v[4])
			j := pm.submitMap(pl, fname, v[0], v[1], v[2], mode, jobMap)
			return pm.asyncResult(j, cb, eb)
		})
	}
	asyncOf("mapAsync", modeMap)
	asyncOf("starmapAsync", modeStar)
	m.method(proto, "applyAsync", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "applyAsync")
		v := m.bind("Pool.applyAsync", call.Arguments, 1, Param{"func", goja.Undefined()}, Param{"args", goja.Undefined()},
			Param{"callback", goja.Undefined()}, Param{"errorCallback", goja.Undefined()})
		cb, eb := pm.callbacks("Pool.applyAsync", v[2], v[3])
		j := pm.submitApply(pl, "Pool.applyAsync", v[0], v[1])
		return pm.asyncResult(j, cb, eb)
	})
	imapOf := func(name string, kind jobKind) {
		m.method(proto, name, func(call goja.FunctionCall) goja.Value {
			pl := get(call, name)
			fname := "Pool." + name
			v := m.bind(fname, call.Arguments, 2, Param{"func", goja.Undefined()}, Param{"iterable", goja.Undefined()}, Param{"chunksize", vm.ToValue(1)})
			return pm.imap(pl, fname, v[0], v[1], v[2], kind)
		})
	}
	imapOf("imap", jobIMap)
	imapOf("imapUnordered", jobIMapUnordered)
	m.method(proto, "close", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "close")
		if pl.closed {
			return goja.Undefined()
		}
		// Python's task handler would still feed a pending imap: do it now.
		for len(pl.lazy) > 0 {
			pm.feed(pl.lazy[0], math.MaxInt)
		}
		pl.closed = true
		pl.h.Close()
		return goja.Undefined()
	})
	m.method(proto, "terminate", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "terminate")
		pm.terminate(pl)
		return goja.Undefined()
	})
	m.method(proto, "join", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "join")
		joined := make(chan error, 1)
		go func() { joined <- pl.h.Join() }()
		select {
		case err := <-joined:
			if err != nil {
				m.throw(err)
			}
		case <-m.rt.Interrupted(): // the VM throws it
			return goja.Undefined()
		}
		pm.pump()
		return goja.Undefined()
	})
	m.method(proto, "with", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "with")
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(vm.NewTypeError("Pool.with: expects a function that receives the pool, got %s", describe(call.Argument(0))))
		}
		res, err := fn(goja.Undefined(), call.This)
		if err != nil {
			pm.terminate(pl)
			panic(err)
		}
		if !pm.call("isPromise", res).ToBoolean() {
			pm.terminate(pl)
			return res
		}
		// An async body: terminate when its promise settles.
		return pm.call("then", res, vm.ToValue(func(c goja.FunctionCall) goja.Value {
			pm.terminate(pl)
			return c.Argument(0)
		}), vm.ToValue(func(c goja.FunctionCall) goja.Value {
			pm.terminate(pl)
			panic(c.Argument(0))
		}))
	})
	m.accessor(proto, "pids", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "pids")
		pids := pl.h.Pids()
		out := make([]any, len(pids))
		for i, p := range pids {
			out[i] = p
		}
		return vm.NewArray(out...)
	}, nil)
	m.accessor(proto, "processes", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(get(call, "processes").procs)
	}, nil)
	m.method(proto, "toString", func(call goja.FunctionCall) goja.Value {
		pl := get(call, "toString")
		state := "RUN"
		if pl.closed {
			state = "CLOSE"
		}
		if !pl.closed && !pl.h.Running() {
			state = "TERMINATE"
		}
		return vm.ToValue(fmt.Sprintf("<Pool state=%s pool_size=%d>", state, pl.procs))
	})
}

// poolHandleObject makes an object whose Go half is sh (it crosses processes by
// reference through the codec).
func (m *Module) poolHandleObject(sh shared) *goja.Object {
	o := m.vm.NewObject()
	o.DefineDataPropertySymbol(m.state, m.vm.ToValue(sh), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return o
}

func closePoolFiles(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// poolChannel carries a worker's end of its channel inside its start bundle.
type poolChannel struct{ file *os.File }

func (c *poolChannel) handleKind() string { return "poolchan" }

func (c *poolChannel) encodeHandle() ([]byte, []*os.File, error) {
	return nil, []*os.File{c.file}, nil
}

// call runs one of the pool's JavaScript helpers.
func (pm *poolModule) call(name string, args ...goja.Value) goja.Value {
	pm.helpers()
	v, err := pm.helper(name)(pm.js, args...)
	if err != nil {
		panic(err)
	}
	return v
}

// numberBoxes returns the VM's numberBoxes, or nil if they cannot be used.
func (pm *poolModule) numberBoxes() *numberBoxes {
	if !pm.boxesChecked {
		pm.boxes, pm.boxesChecked = newNumberBoxes(pm.m.vm), true
	}
	return pm.boxes
}

// helper returns one of the pool's JavaScript helpers (helpers has run).
func (pm *poolModule) helper(name string) goja.Callable {
	f := pm.fns[name]
	if f == nil {
		var ok bool
		if f, ok = goja.AssertFunction(pm.js.Get(name)); !ok {
			panic(fmt.Errorf("pool helper %s missing", name))
		}
		pm.fns[name] = f
	}
	return f
}

// helpers compiles the pool's JavaScript and makes its classes on first
// use, so that a process that never uses a pool does not pay for them.
func (pm *poolModule) helpers() {
	if pm.js != nil {
		return
	}
	v, err := pm.m.vm.RunScript("mp:pool", poolJS)
	if err != nil {
		panic(fmt.Errorf("mp pool helpers: %w", err))
	}
	pm.js = v.(*goja.Object)
	vm := pm.m.vm
	pm.reflectApply = pm.helper("reflectApply")
	pm.arrayOf = pm.helper("arrayOf")
	pm.sink = vm.ToValue(func(call goja.FunctionCall) goja.Value {
		pm.sunk = call.Arguments
		return goja.Undefined()
	})
	pm.defineResult()
	pm.defineIterator()
}

// newPool parses Pool's arguments and starts the workers.
func (m *Module) newPool(pm *poolModule, args []goja.Value) *pool {
	vm := m.vm
	v := m.bind("Pool", args, 0, Param{"processes", goja.Undefined()}, Param{"initializer", goja.Undefined()},
		Param{"initargs", goja.Undefined()}, Param{"maxtasksperchild", goja.Undefined()})
	procs := goruntime.NumCPU()
	if !isNullish(v[0]) {
		procs = m.poolCount("Pool", "processes", v[0])
	}
	maxTasks := 0
	if !isNullish(v[3]) {
		maxTasks = m.poolCount("Pool", "maxtasksperchild", v[3])
	}
	bundle := vm.NewObject()
	ch := &poolChannel{file: os.Stdin} // a placeholder: each worker gets its own
	bundle.Set("poolWorker", m.poolHandleObject(ch))
	if !isNullish(v[1]) {
		if _, ok := goja.AssertFunction(v[1]); !ok {
			panic(vm.NewTypeError("Pool: initializer must be a function, got %s", describe(v[1])))
		}
		captured, err := m.rt.Capture(v[1], "the initializer")
		if err != nil {
			m.throw(err)
		}
		bundle.Set("init", captured)
	}
	initargs := v[2]
	if isNullish(initargs) {
		initargs = vm.NewArray()
	} else if o, ok := initargs.(*goja.Object); !ok || o.ClassName() != "Array" {
		panic(vm.NewTypeError("Pool: initargs must be an array, got %s", describe(initargs)))
	}
	bundle.Set("initargs", initargs)
	bundle.Set("argv", vm.Get("process").ToObject(vm).Get("argv"))
	payload, files, err := m.encode(bundle, "$")
	if err != nil {
		var ce *runtime.CaptureError
		if errors.As(err, &ce) {
			msg := strings.Replace(ce.Msg, "$.initargs", "initargs", 1)
			msg = strings.Replace(msg, "$.init.values", "a top-level variable the initializer uses", 1)
			panic(vm.NewTypeError("Pool: %s", msg))
		}
		m.throw(err)
	}
	slot := -1
	for i, f := range files {
		if f == os.Stdin {
			slot = i
		}
	}
	if slot < 0 {
		panic(fmt.Errorf("pool: the worker channel is missing from its bundle"))
	}
	self := m.node.Self()
	h, err := host.NewPool(host.PoolConfig{
		Node:      m.node,
		Processes: procs,
		MaxTasks:  maxTasks,
		Name: func() string {
			pm.mu.Lock()
			pm.workers++
			n := pm.workers
			pm.mu.Unlock()
			if self.ID != host.MainID {
				return fmt.Sprintf("%s:PoolWorker-%d", self.Name, n)
			}
			return fmt.Sprintf("PoolWorker-%d", n)
		},
		Payload: payload,
		Files:   files,
		Slot:    slot,
		Deliver: pm.deliver,
	})
	if err != nil {
		m.throw(err)
	}
	return &pool{h: h, procs: procs, initargs: initargs}
}

// poolCount reads a whole number ≥ 1 (processes, chunksize...).
func (m *Module) poolCount(fname, what string, v goja.Value) int {
	if !goja.IsNumber(v) {
		panic(m.vm.NewTypeError("%s: %s must be a whole number, got %s", fname, what, describe(v)))
	}
	f := v.ToFloat()
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		panic(m.vm.NewTypeError("%s: %s must be a whole number, got %v", fname, what, v))
	}
	if f < 1 {
		o, _ := m.vm.New(m.vm.Get("RangeError"), m.vm.ToValue(fmt.Sprintf("%s: %s must be at least 1, got %v", fname, what, v)))
		panic(o)
	}
	if f > 1<<30 {
		f = 1 << 30
	}
	return int(f)
}

// define captures fn as of now and returns the pool's id for it.
//
// A capture is a snapshot of the function and of the top-level
// declarations and variables it uses (SPEC §3); its encoding is the
// function's identity in the pool, so workers compile each version once.
// Capturing is not cheap next to a small task, so a function that uses no
// top-level variable (whose values would have to be read again) keeps its
// capture for as long as every declaration it was made from is the same
// one (same Order) and no new top-level name shadows a global it uses.
func (pm *poolModule) define(pl *pool, fname string, fn goja.Value) uint32 {
	m := pm.m
	o, ok := fn.(*goja.Object)
	if _, isFn := goja.AssertFunction(fn); !ok || !isFn {
		panic(m.vm.NewTypeError("%s: func must be a function, got %s", fname, describe(fn)))
	}
	if e := pl.fns[o]; e != nil && pm.current(e) && pl.h.Defined(e.id) {
		return e.id
	}
	captured, err := m.rt.Capture(fn, "the pool function")
	if err != nil {
		m.throw(err)
	}
	b, files, err := m.encode(captured, "$")
	if err != nil {
		var ce *runtime.CaptureError
		if errors.As(err, &ce) {
			msg := strings.Replace(ce.Msg, "$.values", "a top-level variable the pool function uses", 1)
			panic(m.vm.NewTypeError("%s: %s", fname, msg))
		}
		m.throw(err)
	}
	id, err := pl.h.Define(b, files)
	if err != nil {
		m.throw(err)
	}
	if e := pm.entry(o, id); e != nil && len(files) == 0 {
		if pl.fns == nil || len(pl.fns) >= 256 {
			pl.fns = map[*goja.Object]*fnEntry{}
		}
		pl.fns[o] = e
	}
	return id
}

// entry makes the cache entry of a captured function, or nil if it cannot
// be cached (it uses top-level variables).
func (pm *poolModule) entry(fn *goja.Object, id uint32) *fnEntry {
	t, err := pm.m.rt.TopLevel.Analyze(fn.String())
	if err != nil || t == nil {
		return nil
	}
	for _, u := range t.Uses {
		if u.Kind == capture.Variable {
			return nil
		}
	}
	return &fnEntry{id: id, uses: t.Uses, globals: t.Globals}
}

// current reports whether a cached capture still holds.
func (pm *poolModule) current(e *fnEntry) bool {
	top := pm.m.rt.TopLevel
	for _, u := range e.uses {
		if b, ok := top.Lookup(u.Name); !ok || b.Order != u.Order {
			return false
		}
	}
	for _, g := range e.globals {
		if _, ok := top.Lookup(g); ok {
			return false
		}
	}
	return true
}

func (pm *poolModule) checkOpen(pl *pool, fname string) {
	if err := pl.h.Err(); err != nil && !pl.closed {
		pm.m.throw(err)
	}
	if pl.closed || !pl.h.Running() {
		panic(pm.m.newError("ProcessError", fmt.Sprintf("%s: Pool not running (it was closed or terminated)", fname)))
	}
}

func (pm *poolModule) newJob(pl *pool, kind jobKind, total int) *poolJob {
	j := &poolJob{pl: pl, kind: kind, total: total}
	j.hj = &host.PoolJob{Tag: j, CancelOnError: kind == jobMap || kind == jobApply}
	return j
}

func (pm *poolModule) chunksize(fname string, v goja.Value, n, procs int) int {
	if isNullish(v) {
		// Python's default: about four chunks per worker.
		cs, extra := n/(procs*4), n%(procs*4)
		if extra > 0 {
			cs++
		}
		return max(cs, 1)
	}
	return pm.m.poolCount(fname, "chunksize", v)
}

// submitMap cuts the iterable into chunks and queues them.
func (pm *poolModule) submitMap(pl *pool, fname string, fn, iterable, chunksize goja.Value, mode byte, kind jobKind) *poolJob {
	m := pm.m
	pm.checkOpen(pl, fname)
	if !pm.call("isIterable", iterable).ToBoolean() {
		panic(m.vm.NewTypeError("%s: iterable must be iterable (an array, a Set, a generator...), got %s", fname, describe(iterable)))
	}
	id := pm.define(pl, fname, fn)
	items := pm.values(pm.call("toArray", iterable))
	n := len(items)
	cs := pm.chunksize(fname, chunksize, n, pl.procs)
	total := (n + cs - 1) / cs
	j := pm.newJob(pl, kind, total)
	if total == 0 {
		j.value, j.done = m.vm.NewArray(), true
		pm.settleQ = append(pm.settleQ, j)
		return j
	}
	j.size, j.chunkSize = n, cs
	for c := 0; c < total; c++ {
		start := c * cs
		b, files := pm.encodeChunkSafe(pl, j, fname, items[start:min(start+cs, n)], start)
		if err := pl.h.Submit(&host.PoolTask{Job: j.hj, Chunk: c, First: start, Fn: id, Mode: mode, Args: b, Files: files}); err != nil {
			j.hj.Cancel()
			m.throw(err)
		}
	}
	if j.all == nil {
		pm.prepareResult(j)
	}
	return j
}

// encodeChunkSafe is encodeChunk that cancels the job's submitted chunks
// when one cannot be sent.
func (pm *poolModule) encodeChunkSafe(pl *pool, j *poolJob, fname string, items []goja.Value, first int) (b []byte, files []*os.File) {
	ok := false
	defer func() {
		if !ok {
			j.hj.Cancel()
		}
	}()
	b, files = pm.encodeChunk(pl, fname, items, first)
	ok = true
	return b, files
}

// submitApply queues one call fn(...args).
func (pm *poolModule) submitApply(pl *pool, fname string, fn, args goja.Value) *poolJob {
	m := pm.m
	pm.checkOpen(pl, fname)
	if isNullish(args) {
		args = m.vm.NewArray()
	} else if o, ok := args.(*goja.Object); !ok || o.ClassName() != "Array" {
		panic(m.vm.NewTypeError("%s: args must be an array, got %s", fname, describe(args)))
	}
	id := pm.define(pl, fname, fn)
	b, files, err := m.encodeItems(nil, pm.values(args), "args", 0)
	if err != nil {
		var ce *runtime.CaptureError
		if errors.As(err, &ce) {
			panic(m.vm.NewTypeError("%s: %s", fname, ce.Msg))
		}
		m.throw(err)
	}
	j := pm.newJob(pl, jobApply, 1)
	if err := pl.h.Submit(&host.PoolTask{Job: j.hj, Chunk: 0, Fn: id, Mode: modeApply, Args: b, Files: files}); err != nil {
		m.throw(err)
	}
	return j
}

func (pm *poolModule) terminate(pl *pool) {
	pl.closed = true
	for _, it := range pl.lazy {
		it.exhausted = true
	}
	pl.lazy = nil
	pl.h.Terminate()
	pm.pump()
}
