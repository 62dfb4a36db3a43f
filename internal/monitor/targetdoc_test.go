package monitor

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAPIDocNamesEveryTargetType holds docs/api.md to the target types:
// its table of the start body's fields lists each in the target.type row,
// its example body counts them, and its list of monitor names gives each
// type's NameFor. A type added without them fails here, not with a user.
func TestAPIDocNamesEveryTargetType(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	types := TargetTypes()

	row := regexp.MustCompile("(?m)^\\| `target\\.type` \\|(.*)\\|$").FindStringSubmatch(doc)
	if row == nil {
		t.Fatal("docs/api.md has no `target.type` row")
	}
	for _, typ := range types {
		if !strings.Contains(row[1], "`"+typ+"`") {
			t.Errorf("docs/api.md's target.type row %q does not name %q", row[1], typ)
		}
	}
	if got := strings.Count(row[1], "`") / 2; got != len(types) {
		t.Errorf("docs/api.md's target.type row names %d types, want %d (%v)", got, len(types), types)
	}

	words := map[int]string{1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
	if want := "one of the " + words[len(types)] + " target types"; !strings.Contains(doc, want) {
		t.Errorf("docs/api.md does not say %q", want)
	}

	names := regexp.MustCompile("(?m)^`name` is (.*)$").FindStringSubmatch(doc)
	if names == nil {
		t.Fatal("docs/api.md has no line beginning \"`name` is\"")
	}
	for _, typ := range types {
		name := NameFor(Spec{Target: Target{Type: typ}})
		if !strings.Contains(names[1], "`"+name+"`") {
			t.Errorf("docs/api.md's list of names %q does not give %q, the name of a %s monitor", names[1], name, typ)
		}
	}
}
