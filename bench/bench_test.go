package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedWorkloads(t *testing.T) {
	ws, err := loadWorkloads()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Workload{}
	for _, w := range ws {
		byName[w.Name] = w
	}
	for _, name := range []string{"process_start", "idle_rss"} {
		w, ok := byName[name]
		if !ok {
			t.Fatalf("workload %s missing (have %s)", name, names(ws))
		}
		if w.PY == "" || len(w.Variants) == 0 || len(w.Targets) == 0 {
			t.Errorf("%s: want a .py, variants and targets, got %+v", name, w)
		}
	}
	if got := byName["process_start"].Variants; strings.Join(got, " ") != "fork spawn" {
		t.Errorf("process_start variants = %v", got)
	}
}

func TestParseHeader(t *testing.T) {
	src := `// demo: something
//
// variants: fork spawn
// target: a <= 1.0 * py:a@fork
// target: b>=0.5*py:c@spawn
const x = 1;
// target: ignored <= 1 * py:ignored@fork
`
	w, err := parseHeader("demo", src)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(w.Variants, ",") != "fork,spawn" {
		t.Errorf("variants = %v", w.Variants)
	}
	want := []Target{{"a", "<=", 1, "a@fork"}, {"b", ">=", 0.5, "c@spawn"}}
	if len(w.Targets) != len(want) {
		t.Fatalf("targets = %+v", w.Targets)
	}
	for i := range want {
		if w.Targets[i] != want[i] {
			t.Errorf("target %d = %+v, want %+v", i, w.Targets[i], want[i])
		}
	}

	bad := map[string]string{
		"no variant named": "// variants: fork\n// target: a <= 1 * py:a\n",
		"unknown variant":  "// variants: fork\n// target: a <= 1 * py:a@spawn\n",
		"variant, none":    "// target: a <= 1 * py:a@spawn\n",
		"syntax":           "// target: a < 1 * py:a\n",
		"zero factor":      "// target: a <= 0 * py:a\n",
		"repeated variant": "// variants: fork fork\n",
	}
	for name, src := range bad {
		if _, err := parseHeader("x", src); err == nil {
			t.Errorf("%s: no error for %q", name, src)
		}
	}
}

func TestParseMetricLine(t *testing.T) {
	s, err := parseMetricLine("METRIC start_join_seq 12.5 ms")
	if err != nil || s != (Sample{"start_join_seq", 12.5, "ms"}) {
		t.Errorf("got %+v, %v", s, err)
	}
	for _, l := range []string{"METRIC a 1", "METRIC a x ms", "METRIC a 1 sec", "METRIC a NaN ms", "METRIC a 1 ms extra"} {
		if _, err := parseMetricLine(l); err == nil {
			t.Errorf("no error for %q", l)
		}
	}
}

func TestMedianAndFormat(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing should be NaN")
	}
	for v, want := range map[float64]string{1234.5: "1234", 204.04: "204.0", 41.52: "41.52", 1.9544: "1.954", 0.01234: "0.0123", 0: "0"} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func shRun(t *testing.T, script, variant string, timeout time.Duration) (*RunResult, time.Duration) {
	t.Helper()
	res := &RunResult{Workload: "t", Impl: "python", Variant: variant}
	start := time.Now()
	runScript(context.Background(), t.TempDir(), []string{"/bin/sh", "-c", script}, timeout, res)
	return res, time.Since(start)
}

func TestRunScriptMetricsAndVariant(t *testing.T) {
	res, _ := shRun(t, `echo hello; echo "METRIC a 1.5 ms"; echo "METRIC b@x 2 MB"`, "fork", 10*time.Second)
	if !res.OK() {
		t.Fatalf("run failed: %s", res.Err)
	}
	if len(res.Metrics) != 2 || res.Metrics[0].Name != "a@fork" || res.Metrics[1].Name != "b@x" {
		t.Errorf("metrics = %+v", res.Metrics)
	}
}

func TestRunScriptFailures(t *testing.T) {
	cases := map[string]struct{ script, want string }{
		"exit":      {`echo "METRIC a 1 ms"; echo oops >&2; exit 3`, "exit status 3"},
		"malformed": {`echo "METRIC a one ms"`, "malformed value"},
		"nothing":   {`echo hi`, "no METRIC"},
		"twice":     {`echo "METRIC a 1 ms"; echo "METRIC a 2 ms"`, "twice"},
		"stranger":  {`echo "RSSPID 1 m"; echo "METRIC a 1 ms"`, "not a live descendant"},
	}
	for name, c := range cases {
		res, _ := shRun(t, c.script, "", 10*time.Second)
		if res.OK() || !strings.Contains(res.Err, c.want) {
			t.Errorf("%s: err = %q, want it to contain %q", name, res.Err, c.want)
		}
	}
	res, _ := shRun(t, `echo oops >&2; exit 3`, "", 10*time.Second)
	if res.StderrTail != "oops" {
		t.Errorf("stderr tail = %q", res.StderrTail)
	}
}

func TestRunScriptTimeoutKillsGroup(t *testing.T) {
	// A grandchild holds stdout open and the script never ends: the harness
	// must still return soon after the timeout.
	res, took := shRun(t, `sleep 30 & sleep 30`, "", 300*time.Millisecond)
	if res.OK() || !strings.Contains(res.Err, "timed out") {
		t.Errorf("err = %q", res.Err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v after a 300ms timeout", took)
	}
}

func TestRunScriptRSSPID(t *testing.T) {
	// The child would sleep 30 s; the harness measures it, then SIGTERMs it,
	// which ends the script's wait.
	res, took := shRun(t, `sleep 30 & echo "RSSPID $! idle_rss"; wait; echo "METRIC done 1 count"`, "spawn", 20*time.Second)
	if !res.OK() {
		t.Fatalf("run failed: %s (stderr %q)", res.Err, res.StderrTail)
	}
	if took > 10*time.Second {
		t.Errorf("took %v: the measured process was not released", took)
	}
	got := map[string]Sample{}
	for _, m := range res.Metrics {
		got[m.Name] = m
	}
	rss, ok := got["idle_rss@spawn"]
	if !ok || rss.Unit != "MB" || rss.Value <= 0 || rss.Value > 100 {
		t.Errorf("metrics = %+v", res.Metrics)
	}
	if _, ok := got["done@spawn"]; !ok {
		t.Errorf("metrics = %+v", res.Metrics)
	}
}

func TestBuildRows(t *testing.T) {
	w := Workload{Name: "w", PY: "w.py", Variants: []string{"fork", "spawn"}, Targets: []Target{
		{"t", "<=", 1, "t@fork"},
		{"t", "<=", 0.2, "t@spawn"},
		{"ops", ">=", 2, "ops@fork"},
	}}
	runs := []*RunResult{
		{Workload: "w", Impl: "mpjs", Metrics: []Sample{{"t", 10, "ms"}, {"ops", 300, "ops/s"}}},
		{Workload: "w", Impl: "mpjs", Metrics: []Sample{{"t", 12, "ms"}, {"ops", 100, "ops/s"}}},
		{Workload: "w", Impl: "python", Variant: "fork", Metrics: []Sample{{"t@fork", 20, "ms"}, {"ops@fork", 100, "ops/s"}}},
		{Workload: "w", Impl: "python", Variant: "spawn", Err: "boom"},
	}
	rows := buildRows([]Workload{w}, runs, nil)
	got := map[string]*Row{}
	for _, r := range rows {
		got[r.Metric+"|"+r.PyMetric] = r
	}
	check := func(key, result string, ratio float64) {
		t.Helper()
		r := got[key]
		if r == nil {
			t.Fatalf("no row %s in %d rows", key, len(rows))
		}
		if r.Result != result {
			t.Errorf("%s: result %s, want %s", key, r.Result, result)
		}
		if ratio > 0 && (r.Ratio == nil || math.Abs(*r.Ratio-ratio) > 1e-9) {
			t.Errorf("%s: ratio %v, want %v", key, r.Ratio, ratio)
		}
	}
	check("t|t@fork", "PASS", 11.0/20)
	check("t|t@spawn", "ERR", 0)
	check("ops|ops@fork", "PASS", 2)
	if got["t|t@spawn"].pyCell != "ERR" {
		t.Errorf("python cell = %q", got["t|t@spawn"].pyCell)
	}

	// The same data with the targets made stricter: MISS.
	w.Targets[0].Factor = 0.5
	w.Targets[2].Factor = 3
	got = map[string]*Row{}
	for _, r := range buildRows([]Workload{w}, runs, nil) {
		got[r.Metric+"|"+r.PyMetric] = r
	}
	check("t|t@fork", "MISS", 0)
	check("ops|ops@fork", "MISS", 0)

	// mpjs skipped: targets are not evaluated.
	rows = buildRows([]Workload{w}, runs[2:], map[string]bool{"mpjs": true})
	for _, r := range rows {
		if r.Result != "-" && r.Result != "ERR" {
			t.Errorf("%s|%s: result %s with mpjs skipped", r.Metric, r.PyMetric, r.Result)
		}
		if r.mpjsCell != "skip" {
			t.Errorf("mpjs cell = %q", r.mpjsCell)
		}
	}
}
