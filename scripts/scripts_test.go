package scripts

import (
	"os"
	"strings"
	"testing"
)

// Every sample has a description and a findable name, and the tutorial shows
// each sample's current source (regenerate it with `go run ./docs/gen`).
func TestSamples(t *testing.T) {
	tutorial, err := os.ReadFile("../docs/tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	all := All()
	if len(all) < 9 {
		t.Fatalf("%d samples, the tour has at least 9", len(all))
	}
	for _, s := range all {
		if s.Description == "" || strings.HasPrefix(s.Description, "//") {
			t.Errorf("%s: no one-line description", s.Name)
		}
		if got, err := Find(s.Name); err != nil || got.Name != s.Name {
			t.Errorf("Find(%q) = %v, %v", s.Name, got.Name, err)
		}
		if !strings.Contains(string(tutorial), "```js\n"+s.Source+"```") {
			t.Errorf("docs/tutorial.md does not show the current %s.js: run go run ./docs/gen", s.Name)
		}
	}
	if _, err := Find("no-such-sample"); err == nil {
		t.Error("Find of an unknown name did not fail")
	}
}
