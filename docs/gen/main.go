// Command gen writes docs/tutorial.md from docs/tutorial.tmpl.md: each
// {{sample "NAME"}} line becomes a section with the sample's title, the
// explanation that follows the line in the template, the sample's source and
// the output it printed when run with bin/mpjs. Run it from the repository root after
// `make build`: go run ./docs/gen
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

var samplePattern = regexp.MustCompile(`(?m)^\{\{sample "([^"]+)"\}\}$`)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "docs/gen:", err)
		os.Exit(1)
	}
}

func run() error {
	tmpl, err := os.ReadFile("docs/tutorial.tmpl.md")
	if err != nil {
		return err
	}
	// The text after a {{sample}} line, up to the next one, explains that
	// sample: it goes between the sample's heading and its source.
	marks := samplePattern.FindAllSubmatchIndex(tmpl, -1)
	var out bytes.Buffer
	if len(marks) == 0 {
		out.Write(tmpl)
	} else {
		out.Write(tmpl[:marks[0][0]])
	}
	for i, m := range marks {
		end := len(tmpl)
		if i+1 < len(marks) {
			end = marks[i+1][0]
		}
		name := string(tmpl[m[2]:m[3]])
		section, err := render(name, strings.TrimSpace(string(tmpl[m[1]:end])))
		if err != nil {
			return err
		}
		out.WriteString(section + "\n")
	}
	return os.WriteFile("docs/tutorial.md", out.Bytes(), 0o644)
}

// render returns a sample's section: a heading, the command, the source and
// what it printed (stdout and stderr, as a terminal shows them).
func render(name, explanation string) (string, error) {
	src, err := os.ReadFile(filepath.Join("scripts", name+".js"))
	if err != nil {
		return "", err
	}
	num, rest, _ := strings.Cut(name, "_")
	title, _, _ := strings.Cut(strings.TrimPrefix(string(src), "// "), "\n")
	cmd := exec.Command("bin/mpjs", "demo", name)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mpjs demo %s: %v\n%s", name, err, buf.String())
	}
	return fmt.Sprintf("## %s. %s\n\n%s\n\n`mpjs demo %s` (`scripts/%s.js`):\n\n```js\n%s```\n\nOutput:\n\n```\n%s```\n",
		strings.TrimLeft(num, "0"), title, explanation, rest, name, src, buf.String()), nil
}
