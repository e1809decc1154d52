package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Meta describes the machine and the tools of a benchmark run.
type Meta struct {
	Date          string     `json:"date"`
	Rounds        int        `json:"rounds"`
	Timeout       string     `json:"timeout"`
	CPUs          int        `json:"cpus"`
	CPUModel      string     `json:"cpu_model,omitempty"`
	Kernel        string     `json:"kernel,omitempty"`
	Platform      string     `json:"platform"`
	LoadStart     string     `json:"loadavg_start"`
	LoadEnd       string     `json:"loadavg_end"`
	Mpjs          string     `json:"mpjs,omitempty"`
	MpjsVersion   string     `json:"mpjs_version,omitempty"`
	Python        string     `json:"python,omitempty"`
	PythonVersion string     `json:"python_version,omitempty"`
	Workloads     []Workload `json:"workloads"`
}

// Report is the document written by -json: the setting, every run with its
// raw samples, and the table rows.
type Report struct {
	Meta Meta         `json:"meta"`
	Runs []*RunResult `json:"runs"`
	Rows []*Row       `json:"rows"`
}

type options struct {
	mpjs, python, jsonOut string
	rounds                int
	timeout               time.Duration
	pythonOnly, mpjsOnly  bool
	list                  bool
	filters               []string
}

func main() { os.Exit(run()) }

func parseFlags() (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.mpjs, "mpjs", "./bin/mpjs", "mpjs binary")
	fs.StringVar(&o.python, "python", "", "Python interpreter (default: the real one behind python3, from sys.executable)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every selected workload once per side")
	fs.DurationVar(&o.timeout, "timeout", 120*time.Second, "limit for one script run")
	fs.StringVar(&o.jsonOut, "json", "", "write meta, raw samples and rows as JSON to this file")
	fs.BoolVar(&o.pythonOnly, "python-only", false, "run only the Python scripts")
	fs.BoolVar(&o.mpjsOnly, "mpjs-only", false, "run only the mpjs scripts")
	fs.BoolVar(&o.list, "list", false, "list the workloads and their targets, run nothing")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags] [workload-regexp ...]\n\nflags:\n")
		fs.PrintDefaults()
	}
	// Flags may come before or after the workload filters.
	args := os.Args[1:]
	for {
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		o.filters = append(o.filters, args[0])
		args = args[1:]
	}
	switch {
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1")
	case o.timeout <= 0:
		return o, fmt.Errorf("-timeout must be positive")
	case o.pythonOnly && o.mpjsOnly:
		return o, fmt.Errorf("-python-only and -mpjs-only exclude each other")
	}
	return o, nil
}

func run() int {
	o, err := parseFlags()
	if err == flag.ErrHelp {
		return 0
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	all, err := loadWorkloads()
	if err == nil {
		all, err = selectWorkloads(all, o.filters)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if o.list {
		for _, w := range all {
			fmt.Printf("%s  variants: %s\n", w.Name, strings.Join(w.Variants, " "))
			for _, t := range w.Targets {
				fmt.Printf("    %s %s %g * py:%s\n", t.Metric, t.Op, t.Factor, t.PyMetric)
			}
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	meta := Meta{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Rounds:    o.rounds,
		Timeout:   o.timeout.String(),
		CPUs:      runtime.NumCPU(),
		CPUModel:  cpuModel(),
		Kernel:    readTrim("/proc/sys/kernel/osrelease"),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		LoadStart: readLoadavg(),
		Workloads: all,
	}
	skipped := map[string]bool{"mpjs": o.pythonOnly, "python": o.mpjsOnly}
	var mpjsAbs string
	if !o.pythonOnly {
		mpjsAbs, err = resolveMpjs(o.mpjs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
		meta.Mpjs = o.mpjs
		meta.MpjsVersion = firstLine(ctx, mpjsAbs, "--version")
	}
	if !o.mpjsOnly {
		py, err := resolvePython(ctx, o.python)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
		o.python = py
		meta.Python = py
		meta.PythonVersion = firstLine(ctx, py, "-c", "import platform; print(platform.python_implementation(), platform.python_version())")
	}

	dir, err := os.MkdirTemp("", "mpjs-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	if err := writeWorkloads(dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}

	writeHeader(os.Stderr, meta, o)
	var runs []*RunResult
	interrupted := false
rounds:
	for r := 0; r < o.rounds; r++ {
		for _, w := range all {
			type job struct{ impl, variant string }
			var jobs []job
			if !o.pythonOnly {
				jobs = append(jobs, job{"mpjs", ""})
			}
			if !o.mpjsOnly && w.PY != "" {
				if len(w.Variants) == 0 {
					jobs = append(jobs, job{"python", ""})
				}
				for _, v := range w.Variants {
					jobs = append(jobs, job{"python", v})
				}
			}
			if r%2 == 1 {
				slices.Reverse(jobs)
			}
			for i, j := range jobs {
				if ctx.Err() != nil {
					interrupted = true
					break rounds
				}
				res := &RunResult{Workload: w.Name, Impl: j.impl, Variant: j.variant, Round: r + 1, Position: i + 1}
				var argv []string
				if j.impl == "mpjs" {
					argv = []string{mpjsAbs, w.JS}
				} else {
					argv = []string{o.python, w.PY}
					if j.variant != "" {
						argv = append(argv, j.variant)
					}
				}
				runScript(ctx, dir, argv, o.timeout, res)
				if ctx.Err() != nil {
					interrupted = true
					break rounds // an interrupted run is not a failure of the script
				}
				runs = append(runs, res)
				progress(os.Stderr, o.rounds, res)
			}
		}
	}
	meta.LoadEnd = readLoadavg()

	rows := buildRows(all, runs, skipped)
	writeHeader(os.Stdout, meta, o)
	fmt.Println()
	writeTable(os.Stdout, rows)
	failed := writeFooter(os.Stdout, meta, runs, rows, interrupted)

	if o.jsonOut != "" {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err := enc.Encode(Report{Meta: meta, Runs: runs, Rows: rows})
		if err == nil {
			err = os.WriteFile(o.jsonOut, []byte(buf.String()), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -json:", err)
			return 2
		}
	}
	switch {
	case interrupted:
		return 130
	case failed:
		return 1
	}
	return 0
}

// resolveMpjs makes the mpjs path absolute (scripts run in a temporary
// directory) and checks that it is an executable file.
func resolveMpjs(p string) (string, error) {
	if !strings.Contains(p, "/") {
		if lp, err := exec.LookPath(p); err == nil {
			p = lp
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("mpjs binary %s is missing or not executable: build it (go build -o bin/mpjs .), pass -mpjs PATH, or use -python-only", p)
	}
	return abs, nil
}

// resolvePython returns the real interpreter: the one given, or the one
// that python3 on PATH (possibly a slow shim) reports as sys.executable.
func resolvePython(ctx context.Context, given string) (string, error) {
	if given != "" {
		p, err := exec.LookPath(given)
		if err != nil {
			return "", fmt.Errorf("-python %s: %v", given, err)
		}
		return filepath.Abs(p)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", "-c", "import sys; print(sys.executable)").Output()
	exe := strings.TrimSpace(string(out))
	if err != nil || exe == "" {
		return "", fmt.Errorf("cannot resolve the Python interpreter via python3 (%v); pass -python PATH or use -mpjs-only", err)
	}
	return exe, nil
}

// firstLine runs a short command and returns the first line of its output,
// or a description of the failure.
func firstLine(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if err != nil {
		if line != "" {
			return fmt.Sprintf("unknown (%v: %s)", err, line)
		}
		return fmt.Sprintf("unknown (%v)", err)
	}
	return line
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writeHeader(w io.Writer, m Meta, o options) {
	fmt.Fprintf(w, "mpjs vs Python multiprocessing  %s  rounds=%d  timeout=%s\n", m.Date, m.Rounds, m.Timeout)
	host := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.CPUModel != "" {
		host += ", " + m.CPUModel
	}
	host += ", " + m.Platform
	if m.Kernel != "" {
		host += " " + m.Kernel
	}
	fmt.Fprintf(w, "host:    %s\n", host)
	load := "loadavg " + m.LoadStart + " at start"
	if m.LoadEnd != "" {
		load += ", " + m.LoadEnd + " at end"
	}
	fmt.Fprintf(w, "load:    %s\n", load)
	if o.pythonOnly {
		fmt.Fprintf(w, "mpjs:    skipped (-python-only)\n")
	} else {
		fmt.Fprintf(w, "mpjs:    %s (%s)\n", m.Mpjs, m.MpjsVersion)
	}
	if o.mpjsOnly {
		fmt.Fprintf(w, "python:  skipped (-mpjs-only)\n")
	} else {
		fmt.Fprintf(w, "python:  %s (%s)\n", m.Python, m.PythonVersion)
	}
}

// writeFooter prints the legend, the tally of targets and the notes (run
// failures with their stderr tails, warnings); it reports whether any run
// failed.
func writeFooter(w io.Writer, m Meta, runs []*RunResult, rows []*Row, interrupted bool) bool {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "ratio = mpjs median / python median over %d rounds; mpjs ran first in odd rounds, last in even ones.\n", m.Rounds)
	fmt.Fprintln(w, "target: the ratio required; in parentheses, the mpjs value it means where mpjs misses or has none.")
	fmt.Fprintln(w, "ms, us, MB: lower is better; ops/s, MB/s: higher is better.")
	tally := map[string]int{}
	for _, r := range rows {
		if r.Target != nil {
			tally[r.Result]++
		}
	}
	fmt.Fprintf(w, "targets: %d PASS, %d MISS, %d ERR", tally["PASS"], tally["MISS"], tally["ERR"])
	if n := tally["-"]; n > 0 {
		fmt.Fprintf(w, ", %d not evaluated", n)
	}
	fmt.Fprintln(w)
	if interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the table holds only the runs that completed.")
	}

	var notes []string
	failed := false
	for _, r := range rows {
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("%s %s: %s", r.Workload, r.Metric, n))
		}
	}
	for _, r := range runs {
		who := fmt.Sprintf("%s %s round %d", r.Workload, r.Runner(), r.Round)
		for _, wn := range r.Warnings {
			notes = append(notes, who+": warning: "+wn)
		}
		if r.OK() {
			continue
		}
		failed = true
		n := fmt.Sprintf("%s: ERR %s", who, r.Err)
		if r.StderrTail != "" {
			n += "\n      stderr: " + strings.ReplaceAll(r.StderrTail, "\n", "\n      stderr: ")
		} else if r.StdoutTail != "" {
			n += "\n      stdout: " + strings.ReplaceAll(r.StdoutTail, "\n", "\n      stdout: ")
		}
		notes = append(notes, n)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  - "+n)
		}
	}
	return failed
}

// progress prints one line per finished run on stderr.
func progress(w io.Writer, rounds int, r *RunResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d/%d  %-16s %-14s %6.1fs  ", r.Round, rounds, r.Workload, r.Runner(), r.WallSecs)
	if !r.OK() {
		b.WriteString("ERR " + r.Err)
	} else {
		for i, m := range r.Metrics {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "%s=%s%s", m.Name, formatValue(m.Value), m.Unit)
		}
	}
	for _, wn := range r.Warnings {
		b.WriteString("  [warning: " + wn + "]")
	}
	fmt.Fprintln(w, b.String())
}
