package monitor

import (
	"strings"
	"testing"
)

func TestParseStatusPath(t *testing.T) {
	accepted := []string{
		"$.status", "$.job.state", `$.steps[?@.name=="deploy"].state`, "$..status", "$.a[0]", "$.a[-1]",
		"$.a[*].s", "$.a[1:3]", "$['a,b']", `$["x[?y"]`, `$[?@.n == 'a..b']`, `$[?@.n == 'it\'s [?, ..']`,
		"$[?count(@.*) > 1]", "$[?length(@.name) > 2 && @.ok == true]", "$..[?@.a]", "$.matched", "$[?@.search]",
		`$[?@.price == '$5']`, "$['$'][?@.x]",
		// A query from the root that names one value costs the depth of
		// that value for each node: linear.
		"$.jobs[?@.id==$.current]", "$[?@.a == $['b'][0] && @.c != $.d[-1].e]", `$[?@.a==$["x y"].z]`,
		// Compared with @ or a literal, or tested for existence.
		"$[?$.current == @.id]", `$[?$.mode == 'fast' && @.ok]`, "$[?$.flag]", "$[?$.n >= 3]",
	}
	for _, p := range accepted {
		if _, err := ParseStatusPath(p); err != nil {
			t.Errorf("ParseStatusPath(%q) = %v, want it accepted", p, err)
		}
	}
	refused := map[string]string{
		"$..[?@..[?@..*]]":              "inside a filter",
		"$[?@..a]":                      "inside a filter",
		"$..a..b":                       "at most one descendant",
		"$[?@[?@.a]]":                   "a filter inside a filter",
		"$[?@.a][?@.b]":                 "at most one filter",
		"$[*,*]":                        "one selector per bracket",
		"$[0,1]":                        "one selector per bracket",
		"$[?match(@.a, 'x.*')]":         "match()",
		"$[?search(@.a, 'x')]":          "search()",
		"$[?(@.a && search(@.b, 'x'))]": "search()",
		"$.status[":                     "",
		"$[?$[*]]":                      "from the root",
		"$[?count($[*])>0]":             "from the root",
		"$[?count($.a.*)>0]":            "from the root",
		"$[?count($.a[0:2])>0]":         "from the root",
		// The library reads "!name" and any next token as a call, so the
		// text hides a filter's extent and the function's name.
		"$[?!count)$..*)]":        "",
		"$[?!count]$..*)]":        "",
		"$.a[?(!search#@, $.p))]": "search()",
		"$[?!count)$.*)]":         "",
		// The same two values compared again at every node: with two
		// arrays of 8,000 numbers, minutes for 32 KB.
		"$.a[?$.a==$.b]":           "compared",
		"$..[?$.a == $.b]":         "compared",
		"$[?@.x && $.a != $['b']]": "compared",
		"$[?$.a<$.b]":              "compared",
		"$[?$.a >= $.b[0]]":        "compared",
		// A function reads its argument's whole value at every node.
		"$[?length($.s) > 0]": "argument",
		"$[?value($.a) == 1]": "argument",
		"$[?count($.a) == 1]": "argument",
		// RFC 9535 allows blanks before a segment.
		"$[?$ [*]]":            "from the root",
		"$[?count($ [*]) > 1]": "from the root",
		"$[?$\t.*]":            "from the root",
		"$[?$.a\n[0:2]]":       "from the root",
	}
	for p, want := range refused {
		_, err := ParseStatusPath(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseStatusPath(%q) = %v, want an error saying %q", p, err, want)
		}
	}
}

// A start names a status path that would cost more than linear time (or
// does not parse) in a 400, instead of a monitor failing at its first
// check or holding a CPU for hours.
func TestStartRefusesCostlyStatusPath(t *testing.T) {
	for _, p := range []string{"$..[?@..[?@..*]]", "$.status["} {
		body := `{"target":{"type":"http","url":"https://jobs.example.com/x","statusPath":"` + p + `"}}`
		if _, err := ParseStartRequest([]byte(body)); !fieldRefused(err, "target.statusPath") {
			t.Errorf("start with statusPath %q: %v, want target.statusPath refused", p, err)
		}
	}
}

// FuzzParseStatusPath: whatever the text, ParseStatusPath does not panic,
// and what it accepts passes its restrictions also as the library writes
// the path back (its normal form), so that no spelling (escapes, quotes,
// whitespace) slips a refused construct past the reading of the text. It
// cannot find a costly construct the restrictions do not name.
func FuzzParseStatusPath(f *testing.F) {
	for _, p := range []string{"$.status", `$.steps[?@.name=="deploy"].state`, "$..[?@..[?@..*]]", `$[?@.n == 'a..b']`, "$[0,1]", `$["a\"]"]`} {
		f.Add(p)
	}
	f.Add("$[?!count)$..*)]")
	f.Add("$.a[?(!search#@, $.p))]")
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := ParseStatusPath(expr)
		if err != nil {
			return
		}
		if err := linearPath(p.String()); err != nil {
			t.Errorf("ParseStatusPath(%q) accepted a path whose normal form %q is refused: %v", expr, p.String(), err)
		}
	})
}

func TestStatusNumber(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"2", "2e0", true}, {"2.0", "2e0", true}, {"2e0", "2e0", true}, {"20E-1", "2e0", true},
		{"0.2e+1", "2e0", true}, {"200", "2e2", true}, {"0.010", "1e-2", true},
		{"0", "0", true}, {"-0", "0", true}, {"0.000e5", "0", true}, {"-1.5", "-15e-1", true},
		{"1e000000000000000000001", "1e1", true}, {"1e1000000000000000", "", false},
		{"", "", false}, {"-", "", false}, {"+2", "", false}, {"02", "", false}, {" 2", "", false},
		{"2.", "", false}, {".5", "", false}, {"2e", "", false}, {"2e+", "", false}, {"0x10", "", false},
		{"NaN", "", false}, {"Infinity", "", false}, {"two", "", false},
	} {
		got, ok := StatusNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("StatusNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
