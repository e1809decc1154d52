package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// Stat summarises the samples of one metric of one runner.
type Stat struct {
	N       int       `json:"n"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Unit    string    `json:"unit"`
	Samples []float64 `json:"samples"`
}

// Row is one line of the result table: an mpjs metric against one Python
// metric (normally the same name in one variant).
type Row struct {
	Workload string   `json:"workload"`
	Metric   string   `json:"metric"`
	PyMetric string   `json:"py_metric"`
	Variant  string   `json:"variant,omitempty"`
	Unit     string   `json:"unit"`
	Mpjs     *Stat    `json:"mpjs,omitempty"`
	Python   *Stat    `json:"python,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"` // mpjs median / python median
	Target   *Target  `json:"target,omitempty"`
	Result   string   `json:"result"` // PASS, MISS, ERR or "-"
	Notes    []string `json:"notes,omitempty"`

	mpjsCell, pyCell string
}

// lowerIsBetter and higherIsBetter give each unit's direction.
var (
	lowerIsBetter  = map[string]bool{"ms": true, "us": true, "MB": true}
	higherIsBetter = map[string]bool{"ops/s": true, "MB/s": true}
)

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// side gathers, for one workload and one runner, the samples per metric and
// whether any run failed or the runner was skipped.
type side struct {
	skipped bool
	runs    int
	failed  int
	order   []string
	samples map[string][]float64
	units   map[string]string
}

func (s *side) stat(metric string) *Stat {
	xs := s.samples[metric]
	if len(xs) == 0 {
		return nil
	}
	st := &Stat{N: len(xs), Median: median(xs), Min: xs[0], Max: xs[0], Unit: s.units[metric], Samples: xs}
	for _, x := range xs {
		st.Min = math.Min(st.Min, x)
		st.Max = math.Max(st.Max, x)
	}
	return st
}

// cell is the text of a table cell for metric on this side.
func (s *side) cell(metric string, st *Stat) string {
	switch {
	case s == nil:
		return "-"
	case s.skipped:
		return "skip"
	case st != nil:
		return formatValue(st.Median)
	case s.failed > 0:
		return "ERR"
	}
	return "-"
}

func collect(runs []*RunResult) map[string]map[string]*side {
	out := map[string]map[string]*side{} // workload -> runner -> side
	for _, r := range runs {
		if out[r.Workload] == nil {
			out[r.Workload] = map[string]*side{}
		}
		s := out[r.Workload][r.Runner()]
		if s == nil {
			s = &side{samples: map[string][]float64{}, units: map[string]string{}}
			out[r.Workload][r.Runner()] = s
		}
		s.runs++
		if !r.OK() {
			s.failed++
			continue
		}
		for _, m := range r.Metrics {
			if _, ok := s.samples[m.Name]; !ok {
				s.order = append(s.order, m.Name)
			}
			s.samples[m.Name] = append(s.samples[m.Name], m.Value)
			s.units[m.Name] = m.Unit
		}
	}
	return out
}

// buildRows turns the runs into table rows. skipped names the runners
// ("mpjs", "python") that were not run at all.
func buildRows(ws []Workload, runs []*RunResult, skipped map[string]bool) []*Row {
	data := collect(runs)
	var rows []*Row
	for _, w := range ws {
		sides := data[w.Name]
		get := func(runner string) *side {
			if s := sides[runner]; s != nil {
				return s
			}
			impl, _, _ := strings.Cut(runner, "@")
			if skipped[impl] {
				return &side{skipped: true}
			}
			return nil
		}
		mp := get("mpjs")
		variants := w.Variants
		if len(variants) == 0 {
			variants = []string{""}
		}
		if w.PY == "" {
			variants = nil
		}

		type pair struct{ metric, pyMetric string }
		var pairs []pair
		seen := map[pair]bool{}
		addPair := func(p pair) {
			if !seen[p] {
				seen[p] = true
				pairs = append(pairs, p)
			}
		}
		// Metric names in order: targets first, then what the scripts printed.
		var base []string
		addBase := func(n string) {
			n, _, _ = strings.Cut(n, "@")
			if !slices.Contains(base, n) {
				base = append(base, n)
			}
		}
		for _, t := range w.Targets {
			addBase(t.Metric)
		}
		if mp != nil {
			for _, n := range mp.order {
				addBase(n)
			}
		}
		for _, v := range variants {
			if s := get(runnerName("python", v)); s != nil {
				for _, n := range s.order {
					addBase(n)
				}
			}
		}
		for _, n := range base {
			if len(variants) == 0 {
				addPair(pair{n, ""})
			}
			for _, v := range variants {
				pm := n
				if v != "" {
					pm = n + "@" + v
				}
				addPair(pair{n, pm})
			}
		}
		for _, t := range w.Targets {
			addPair(pair{t.Metric, t.PyMetric})
		}

		for _, p := range pairs {
			_, variant, _ := strings.Cut(p.pyMetric, "@")
			var ps *side
			if p.pyMetric != "" {
				ps = get(runnerName("python", variant))
			}
			var tgt *Target
			for i := range w.Targets {
				if w.Targets[i].Metric == p.metric && w.Targets[i].PyMetric == p.pyMetric {
					tgt = &w.Targets[i]
				}
			}
			var ms, pst *Stat
			if mp != nil {
				ms = mp.stat(p.metric)
			}
			if ps != nil {
				pst = ps.stat(p.pyMetric)
			}
			failed := (mp != nil && mp.failed > 0) || (ps != nil && ps.failed > 0)
			if ms == nil && pst == nil && tgt == nil && !failed {
				continue
			}
			row := &Row{Workload: w.Name, Metric: p.metric, PyMetric: p.pyMetric, Variant: variant,
				Mpjs: ms, Python: pst, Target: tgt, Result: "-"}
			row.mpjsCell = mp.cell(p.metric, ms)
			row.pyCell = ps.cell(p.pyMetric, pst)
			if ms != nil {
				row.Unit = ms.Unit
			} else if pst != nil {
				row.Unit = pst.Unit
			}
			if ms != nil && pst != nil {
				if ms.Unit != pst.Unit {
					row.Notes = append(row.Notes, fmt.Sprintf("unit mismatch: mpjs %s, python %s", ms.Unit, pst.Unit))
				} else if pst.Median != 0 {
					r := ms.Median / pst.Median
					row.Ratio = &r
				}
			}
			if tgt != nil && row.Unit != "" {
				if (lowerIsBetter[row.Unit] && tgt.Op == ">=") || (higherIsBetter[row.Unit] && tgt.Op == "<=") {
					row.Notes = append(row.Notes, fmt.Sprintf("target %s runs against the direction of unit %s", tgt, row.Unit))
				}
			}
			switch {
			case failed:
				row.Result = "ERR"
			case tgt == nil:
			case mp != nil && mp.skipped, ps != nil && ps.skipped:
				row.Result = "-"
			case row.Ratio == nil:
				row.Result = "ERR"
				if ms == nil || pst == nil {
					row.Notes = append(row.Notes, "a metric of the target was never printed")
				}
			case tgt.Met(*row.Ratio):
				row.Result = "PASS"
			default:
				row.Result = "MISS"
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// formatValue prints about three significant digits.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	case a >= 1:
		return fmt.Sprintf("%.3f", v)
	case a == 0:
		return "0"
	}
	return fmt.Sprintf("%.3g", v)
}

// writeTable prints the rows as an aligned plain-text table.
func writeTable(w io.Writer, rows []*Row) {
	header := []string{"workload", "metric", "unit", "mpjs", "python", "variant", "ratio", "target", "result"}
	right := []bool{false, false, false, true, true, false, true, false, false}
	table := [][]string{header}
	for _, r := range rows {
		metric := r.Metric
		if base, _, _ := strings.Cut(r.PyMetric, "@"); r.PyMetric != "" && base != r.Metric {
			metric += " vs py:" + base
		}
		ratio, target, variant := "-", "-", r.Variant
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.2fx", *r.Ratio)
		}
		if r.Target != nil {
			target = r.Target.String()
			if r.Python != nil && r.Ratio == nil || r.Python != nil && r.Result == "MISS" {
				// Say what mpjs would need, where it is not there yet.
				target += " (" + formatValue(r.Python.Median*r.Target.Factor) + ")"
			}
		}
		if variant == "" {
			variant = "-"
		}
		unit := r.Unit
		if unit == "" {
			unit = "-"
		}
		table = append(table, []string{r.Workload, metric, unit, r.mpjsCell, r.pyCell, variant, ratio, target, r.Result})
	}
	width := make([]int, len(header))
	for _, row := range table {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	for n, row := range table {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len(c))
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			var u strings.Builder
			for i := range row {
				u.WriteString(strings.Repeat("-", width[i]))
				if i < len(row)-1 {
					u.WriteString("  ")
				}
			}
			fmt.Fprintln(w, u.String())
		}
	}
}
