package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed workloads/*.js workloads/*.py
var workloadFS embed.FS

// Workload is one benchmark: a JavaScript script for mpjs, an optional Python
// script, and the comparison declared in the header of the JavaScript file.
type Workload struct {
	Name     string   `json:"name"`
	JS       string   `json:"-"` // file name in the workloads directory
	PY       string   `json:"-"` // "" when there is no Python counterpart
	Variants []string `json:"variants,omitempty"`
	Targets  []Target `json:"targets,omitempty"`
}

// Target is one declared goal: mpjs's Metric compared with Python's PyMetric
// (a full name, with @variant when the Python script has variants).
type Target struct {
	Metric   string  `json:"metric"`
	Op       string  `json:"op"` // "<=" or ">="
	Factor   float64 `json:"factor"`
	PyMetric string  `json:"py_metric"`
}

// String renders the target as it is shown in the table, e.g. "<= 0.20x".
func (t Target) String() string {
	return fmt.Sprintf("%s %.2fx", t.Op, t.Factor)
}

// Met reports whether ratio satisfies the target.
func (t Target) Met(ratio float64) bool {
	if t.Op == ">=" {
		return ratio >= t.Factor
	}
	return ratio <= t.Factor
}

var targetRE = regexp.MustCompile(`^(\S+)\s*(<=|>=)\s*([0-9]*\.?[0-9]+)\s*\*\s*py:(\S+)$`)

// parseHeader reads the declarations in the leading comment block of a
// workload's JavaScript source (blank lines and "//" lines; the block ends
// at the first other line).
func parseHeader(name, src string) (Workload, error) {
	w := Workload{Name: name}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "//") {
			break
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "//"))
		key, val, ok := strings.Cut(body, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "variants":
			if w.Variants != nil {
				return w, fmt.Errorf("%s.js:%d: variants declared twice", name, i+1)
			}
			w.Variants = strings.Fields(val)
			seen := map[string]bool{}
			for _, v := range w.Variants {
				if seen[v] || strings.ContainsAny(v, "@") {
					return w, fmt.Errorf("%s.js:%d: bad or repeated variant %q", name, i+1, v)
				}
				seen[v] = true
			}
		case "target":
			m := targetRE.FindStringSubmatch(val)
			if m == nil {
				return w, fmt.Errorf("%s.js:%d: target %q: want `METRIC <= FACTOR * py:METRIC[@VARIANT]`", name, i+1, val)
			}
			f, err := strconv.ParseFloat(m[3], 64)
			if err != nil || f <= 0 {
				return w, fmt.Errorf("%s.js:%d: target factor %q", name, i+1, m[3])
			}
			w.Targets = append(w.Targets, Target{Metric: m[1], Op: m[2], Factor: f, PyMetric: m[4]})
		}
	}
	for _, t := range w.Targets {
		base, variant, has := strings.Cut(t.PyMetric, "@")
		switch {
		case len(w.Variants) == 0 && has:
			return w, fmt.Errorf("%s.js: target py:%s names a variant but none are declared", name, t.PyMetric)
		case len(w.Variants) > 0 && !has:
			return w, fmt.Errorf("%s.js: target py:%s must name one of the variants (%s) as %s@VARIANT",
				name, t.PyMetric, strings.Join(w.Variants, " "), base)
		case has && !slices.Contains(w.Variants, variant):
			return w, fmt.Errorf("%s.js: target py:%s: variant %q is not declared", name, t.PyMetric, variant)
		}
	}
	return w, nil
}

// loadWorkloads reads the embedded workloads, sorted by name.
func loadWorkloads() ([]Workload, error) {
	entries, err := fs.ReadDir(workloadFS, "workloads")
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	var out []Workload
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".js")
		if !ok {
			continue
		}
		src, err := workloadFS.ReadFile(path.Join("workloads", e.Name()))
		if err != nil {
			return nil, err
		}
		w, err := parseHeader(name, string(src))
		if err != nil {
			return nil, err
		}
		w.JS = e.Name()
		if have[name+".py"] {
			w.PY = name + ".py"
		} else if len(w.Variants) > 0 || len(w.Targets) > 0 {
			return nil, fmt.Errorf("%s.js declares Python variants or targets but %s.py is missing", name, name)
		}
		out = append(out, w)
	}
	for n := range have {
		if base, ok := strings.CutSuffix(n, ".py"); ok && !have[base+".js"] {
			return nil, fmt.Errorf("workloads/%s has no %s.js", n, base)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// selectWorkloads keeps the workloads whose name matches any of the
// patterns (unanchored regular expressions); no pattern keeps them all.
func selectWorkloads(all []Workload, patterns []string) ([]Workload, error) {
	if len(patterns) == 0 {
		return all, nil
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("workload filter %q: %v", p, err)
		}
		res = append(res, re)
	}
	var out []Workload
	for _, w := range all {
		for _, re := range res {
			if re.MatchString(w.Name) {
				out = append(out, w)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workload matches %s (have: %s)", strings.Join(patterns, " "), names(all))
	}
	return out, nil
}

// writeWorkloads copies every embedded workload file into dir.
func writeWorkloads(dir string) error {
	entries, err := fs.ReadDir(workloadFS, "workloads")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := workloadFS.ReadFile(path.Join("workloads", e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func names(ws []Workload) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.Name)
	}
	return strings.Join(s, " ")
}
