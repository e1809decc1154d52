package runtime

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"

	"mpjs/runtime/inspect"
)

// installConsole defines console as Node's: log/info/debug to stdout,
// error/warn/trace to stderr, table, time/timeEnd/timeLog, count, assert,
// group. Each call writes its lines with one write.
func (r *Runtime) installConsole() {
	vm := r.VM
	c := vm.NewObject()
	out := func(call goja.FunctionCall) goja.Value {
		r.Out(inspect.Format(vm, call.Arguments, inspect.Options{Depth: 2}))
		return goja.Undefined()
	}
	errOut := func(call goja.FunctionCall) goja.Value {
		r.writeLine(r.opts.Stderr, inspect.Format(vm, call.Arguments, inspect.Options{Depth: 2}))
		return goja.Undefined()
	}
	for _, n := range []string{"log", "info", "debug"} {
		c.Set(n, out)
	}
	for _, n := range []string{"error", "warn"} {
		c.Set(n, errOut)
	}
	c.Set("dir", func(v goja.Value) { r.Out(inspect.Inspect(vm, v, inspect.Options{Depth: 2})) })
	c.Set("trace", func(call goja.FunctionCall) goja.Value {
		msg := inspect.Format(vm, call.Arguments, inspect.Options{Depth: 2})
		stack := vm.CaptureCallStack(0, nil)
		var b strings.Builder
		b.WriteString("Trace")
		if msg != "" {
			b.WriteString(": " + msg)
		}
		for _, f := range stack[1:] {
			b.WriteString("\n    at ")
			pos := f.Position()
			if fn := f.FuncName(); fn != "" {
				fmt.Fprintf(&b, "%s (%s:%d:%d)", fn, pos.Filename, pos.Line, pos.Column)
			} else {
				fmt.Fprintf(&b, "%s:%d:%d", pos.Filename, pos.Line, pos.Column)
			}
		}
		r.writeLine(r.opts.Stderr, b.String())
		return goja.Undefined()
	})
	c.Set("assert", func(call goja.FunctionCall) goja.Value {
		if call.Argument(0).ToBoolean() {
			return goja.Undefined()
		}
		msg := "Assertion failed"
		if len(call.Arguments) > 1 {
			msg += ": " + inspect.Format(vm, call.Arguments[1:], inspect.Options{Depth: 2})
		}
		r.writeLine(r.opts.Stderr, msg)
		return goja.Undefined()
	})
	label := func(v goja.Value) string {
		if goja.IsUndefined(v) {
			return "default"
		}
		return v.String()
	}
	c.Set("time", func(call goja.FunctionCall) goja.Value {
		r.timers[label(call.Argument(0))] = time.Now()
		return goja.Undefined()
	})
	timeLog := func(end bool) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			l := label(call.Argument(0))
			t0, ok := r.timers[l]
			if !ok {
				r.writeLine(r.opts.Stderr, fmt.Sprintf("Warning: No such label '%s' for console.time%s()", l, map[bool]string{true: "End", false: "Log"}[end]))
				return goja.Undefined()
			}
			if end {
				delete(r.timers, l)
			}
			line := fmt.Sprintf("%s: %s", l, formatDuration(time.Since(t0)))
			if len(call.Arguments) > 1 {
				line += " " + inspect.Format(vm, call.Arguments[1:], inspect.Options{Depth: 2})
			}
			r.Out(line)
			return goja.Undefined()
		}
	}
	c.Set("timeEnd", timeLog(true))
	c.Set("timeLog", timeLog(false))
	c.Set("count", func(call goja.FunctionCall) goja.Value {
		l := label(call.Argument(0))
		r.counts[l]++
		r.Out(fmt.Sprintf("%s: %d", l, r.counts[l]))
		return goja.Undefined()
	})
	c.Set("countReset", func(call goja.FunctionCall) goja.Value {
		delete(r.counts, label(call.Argument(0)))
		return goja.Undefined()
	})
	c.Set("group", func(call goja.FunctionCall) goja.Value {
		if len(call.Arguments) > 0 {
			r.Out(inspect.Format(vm, call.Arguments, inspect.Options{Depth: 2}))
		}
		r.indent += "  "
		return goja.Undefined()
	})
	c.Set("groupEnd", func() {
		if len(r.indent) >= 2 {
			r.indent = r.indent[2:]
		}
	})
	c.Set("table", r.consoleTable)
	vm.Set("console", c)
}

// formatDuration prints like Node's console.timeEnd: "12.345ms", "1.234s".
func formatDuration(d time.Duration) string {
	ms := float64(d.Nanoseconds()) / 1e6
	if ms >= 1000 {
		return fmt.Sprintf("%.3fs", ms/1000)
	}
	return fmt.Sprintf("%.3fms", ms)
}

// consoleTable prints an array or object of rows as Node 20 does.
func (r *Runtime) consoleTable(call goja.FunctionCall) goja.Value {
	vm := r.VM
	data, ok := call.Argument(0).(*goja.Object)
	if !ok {
		r.Out(inspect.Format(vm, call.Arguments, inspect.Options{Depth: 2}))
		return goja.Undefined()
	}
	short := func(v goja.Value) string { return inspect.Inspect(vm, v, inspect.Options{Depth: 0}) }
	header := []string{"(index)"}
	colIdx := map[string]int{}
	hasValues := false
	type row struct {
		index  string
		cells  map[string]string
		value  string
		hasVal bool
	}
	var rows []row
	addRow := func(index string, v goja.Value) {
		rw := row{index: index, cells: map[string]string{}}
		if o, ok := v.(*goja.Object); ok && o.ClassName() != "Function" {
			for _, k := range o.Keys() {
				if _, seen := colIdx[k]; !seen {
					colIdx[k] = len(header)
					header = append(header, k)
				}
				rw.cells[k] = short(o.Get(k))
			}
		} else {
			rw.value, rw.hasVal = short(v), true
			hasValues = true
		}
		rows = append(rows, rw)
	}
	if data.ClassName() == "Map" {
		i := 0
		vm.ForOf(data, func(entry goja.Value) bool {
			addRow(fmt.Sprint(i), entry.ToObject(vm).Get("1"))
			i++
			return true
		})
	} else {
		for _, k := range data.Keys() {
			addRow(k, data.Get(k))
		}
	}
	if hasValues {
		header = append(header, "Values")
	}
	table := make([][]string, len(rows))
	for i, rw := range rows {
		line := make([]string, len(header))
		line[0] = rw.index
		for k, v := range rw.cells {
			line[colIdx[k]] = v
		}
		if rw.hasVal {
			line[len(header)-1] = rw.value
		}
		table[i] = line
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h) + 2
	}
	for _, line := range table {
		for i, c := range line {
			if w := utf8.RuneCountInString(c) + 2; w > widths[i] {
				widths[i] = w
			}
		}
	}
	center := func(s string, w int) string {
		pad := w - utf8.RuneCountInString(s)
		left := pad / 2
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", pad-left)
	}
	border := func(l, m, rr string) string {
		parts := make([]string, len(widths))
		for i, w := range widths {
			parts[i] = strings.Repeat("─", w)
		}
		return l + strings.Join(parts, m) + rr
	}
	lineOf := func(cells []string) string {
		parts := make([]string, len(cells))
		for i, c := range cells {
			parts[i] = center(c, widths[i])
		}
		return "│" + strings.Join(parts, "│") + "│"
	}
	var b strings.Builder
	b.WriteString(border("┌", "┬", "┐") + "\n" + lineOf(header) + "\n" + border("├", "┼", "┤") + "\n")
	for _, line := range table {
		b.WriteString(lineOf(line) + "\n")
	}
	b.WriteString(border("└", "┴", "┘"))
	r.Out(b.String())
	return goja.Undefined()
}
