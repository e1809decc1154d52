// Package scripts holds the sample scripts of the tour, embedded in the
// binary so that `mpjs demo` works from any folder. Each sample's first
// comment line is its one-line description.
package scripts

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.js
var files embed.FS

// Sample is one embedded script.
type Sample struct {
	Name        string // file name without .js, e.g. "01_lifecycle"
	Description string
	Source      string
}

// All returns the samples in tour order (their names start with a number).
func All() []Sample {
	entries, _ := fs.Glob(files, "*.js")
	sort.Strings(entries)
	out := make([]Sample, 0, len(entries))
	for _, e := range entries {
		b, _ := files.ReadFile(e)
		src := string(b)
		desc, _, _ := strings.Cut(strings.TrimPrefix(src, "// "), "\n")
		out = append(out, Sample{Name: strings.TrimSuffix(e, ".js"), Description: desc, Source: src})
	}
	return out
}

// Find looks a sample up by its number ("1", "01"), full name, or the name
// without its number ("lifecycle").
func Find(key string) (Sample, error) {
	all := All()
	for _, s := range all {
		num, rest, _ := strings.Cut(s.Name, "_")
		if key == s.Name || key == rest || strings.TrimLeft(key, "0") == strings.TrimLeft(num, "0") && key != "" {
			return s, nil
		}
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return Sample{}, fmt.Errorf("no sample %q (there are: %s)", key, strings.Join(names, ", "))
}
