// Package profile stands in for github.com/google/pprof/profile, which goja
// imports only for its optional JavaScript profiler (goja.StartProfile). mpjs
// never starts that profiler, yet the real package's initialisation — dozens
// of regular expressions compiled at init — ran in every process mpjs
// started, about a tenth of a child's start-up CPU. go.mod replaces the
// module with this one: the few types goja's profiler fills in, and a Write
// that says profiling is not built in.
package profile

import (
	"errors"
	"io"
)

// Profile is the profile goja's profiler builds.
type Profile struct {
	SampleType []*ValueType
	PeriodType *ValueType
	Period     int64
	Sample     []*Sample
	Mapping    []*Mapping
	Location   []*Location
	Function   []*Function
}

// ValueType names what a sample value measures.
type ValueType struct{ Type, Unit string }

// Sample is one stack with its values.
type Sample struct {
	Location []*Location
	Value    []int64
}

// Mapping is the code a location belongs to.
type Mapping struct {
	ID   uint64
	File string
}

// Location is one frame.
type Location struct {
	ID      uint64
	Mapping *Mapping
	Line    []Line
}

// Line is a source line of a location.
type Line struct {
	Function *Function
	Line     int64
}

// Function is a profiled function.
type Function struct {
	ID       uint64
	Name     string
	Filename string
}

// ErrNotBuiltIn is what Write returns.
var ErrNotBuiltIn = errors.New("the JavaScript profiler is not built into mpjs")

// Write reports that profiles cannot be written.
func (p *Profile) Write(io.Writer) error { return ErrNotBuiltIn }
