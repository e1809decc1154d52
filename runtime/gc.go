package runtime

import (
	"os"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The garbage collector's pace for mpjs processes. A goja VM allocates a box
// for nearly every value it touches, so a script with a small live heap
// (almost every script) reaches Go's default heap goal, twice the live heap
// and at least 4 MB, very often: passing 100k numbers through a Pool map
// spent about a sixth of its CPU in GC at the default. While the live heap is
// small, the heap may grow to five times it (GOGC=400); once it is large,
// the default pace comes back, so a script with much data does not need
// five times its size in memory. The heap is looked at after every GC.
const (
	smallHeapGOGC = 400
	largeHeap     = 64 << 20 // live bytes from which GOGC is 100 again
)

// TuneGC sets this process's GC pace as described above, unless the user
// chose one with the GOGC environment variable.
func TuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.set(smallHeapGOGC)
	t.arm()
}

type gcTuner struct {
	sample  []metrics.Sample
	percent atomic.Int32
}

// gcSentinel is garbage as soon as it is made; its finalizer runs after the
// GC that found it, once per cycle.
type gcSentinel struct{ _ *int }

func (t *gcTuner) arm() {
	goruntime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		t.adjust()
		t.arm()
	})
}

func (t *gcTuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if t.sample[0].Value.Uint64() >= largeHeap {
		t.set(100)
	} else {
		t.set(smallHeapGOGC)
	}
}

func (t *gcTuner) set(percent int32) {
	if t.percent.Swap(percent) != percent {
		debug.SetGCPercent(int(percent))
	}
}
