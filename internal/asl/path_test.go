package asl

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", s, err)
	}
	return v
}

func TestPathEval(t *testing.T) {
	input := `{"a": {"b": [10, 20, {"c": "x"}]}, "items": [{"id": 1, "ok": true}, {"id": 2, "ok": false}, {"id": 3, "ok": true}],
		"my-key": 5, "sp ace": 6, "arr": [1, 2, 3, 4], "it's": [7]}`
	tests := []struct {
		path     string
		want     string // JSON; "" means not found
		definite bool
	}{
		{"$", "", true}, // checked separately below
		{"$.a.b[1]", "20", true},
		{"$.a.b[-1].c", `"x"`, true},
		{"$['a']['b'][0]", "10", true},
		{`$["a"].b[2]["c"]`, `"x"`, true},
		{"$.my-key", "5", true},
		{"$['sp ace']", "6", true},
		{"$.['sp ace']", "6", true},
		{"$.a.['b'].[2].c", `"x"`, true},
		{"$.items.[*].id", "[1,2,3]", false},
		{"$.a.missing", "", true},
		{"$.a.b[9]", "", true},
		{"$.items[*].id", "[1,2,3]", false},
		{"$.items[?(@.ok == true)].id", "[1,3]", false},
		{"$..id", "[1,2,3]", false},
		{"$.arr[1:3]", "[2,3]", false},
		{"$.arr.length()", "4", true},
		{"$.nothing[*]", "[]", false},
		{"$.arr[4]", "", true},         // one past the last item
		{"$.a.length()", "1", true},    // an object's members
		{`$["it's"][*]`, "[7]", false}, // a quote in a name of an indefinite path
	}
	sc := &Scope{Input: mustJSON(t, input)}
	for _, tt := range tests[1:] {
		t.Run(tt.path, func(t *testing.T) {
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatalf("CompilePath: %v", err)
			}
			if p.Definite() != tt.definite {
				t.Errorf("Definite() = %v, want %v", p.Definite(), tt.definite)
			}
			v, ok := p.Eval(sc)
			if tt.want == "" {
				if ok {
					t.Errorf("Eval = %s, want not found", Text(v))
				}
				return
			}
			if !ok || Text(v) != tt.want {
				t.Errorf("Eval = %s (found %v), want %s", Text(v), ok, tt.want)
			}
		})
	}
}

func TestPathRoots(t *testing.T) {
	sc := &Scope{
		Input:   mustJSON(t, `{"x": 1}`),
		Context: map[string]any{"Execution": map[string]any{"Name": "e1"}},
		Vars:    NewVars(map[string]any{"v": map[string]any{"deep": []any{"a", "b"}}}),
	}
	tests := []struct{ path, want string }{
		{"$", `{"x":1}`},
		{"$$.Execution.Name", `"e1"`},
		{"$v.deep[1]", `"b"`},
		{"$v", `{"deep":["a","b"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatalf("CompilePath: %v", err)
			}
			v, ok := p.Eval(sc)
			if !ok || Text(v) != tt.want {
				t.Errorf("Eval = %s (found %v), want %s", Text(v), ok, tt.want)
			}
		})
	}
	if p, _ := CompilePath("$undefinedVar"); p != nil {
		if _, ok := p.Eval(sc); ok {
			t.Errorf("an undefined variable must not be found")
		}
	}
}

// A $$ path of member names asks Scope.ContextValue first; any other $$
// path, an answer of false, or a context object already built goes to
// the object.
func TestPathContextValue(t *testing.T) {
	obj := map[string]any{"Execution": map[string]any{"Id": "from object", "Name": "e1"}, "List": []any{"a", "b"}}
	tests := []struct {
		path      string
		built     bool     // the context object exists before the evaluation
		wantAsked []string // the names ContextValue receives; nil: not asked
		want      string
	}{
		{"$$.Execution.Id", false, []string{"Execution", "Id"}, `"fast"`},
		{"$$['Execution']['Id']", false, []string{"Execution", "Id"}, `"fast"`},
		{"$$.Execution.Name", false, []string{"Execution", "Name"}, `"e1"`}, // answered false
		{"$$.Execution.Id", true, nil, `"from object"`},
		{"$$", false, nil, Text(obj)},
		{"$$.List[1]", false, nil, `"b"`},
		{"$$.List.length()", false, nil, "2"},
		{"$$..Name", false, nil, `["e1"]`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatalf("CompilePath: %v", err)
			}
			var asked []string
			sc := &Scope{
				ContextFunc: func() map[string]any { return obj },
				ContextValue: func(names []string) (any, bool) {
					asked = append([]string(nil), names...)
					if len(names) == 2 && names[0] == "Execution" && names[1] == "Id" {
						return "fast", true
					}
					return nil, false
				},
			}
			if tt.built {
				sc.Context = obj
			}
			v, ok := p.Eval(sc)
			if !ok || Text(v) != tt.want {
				t.Errorf("Eval = %s (found %v), want %s", Text(v), ok, tt.want)
			}
			if !slices.Equal(asked, tt.wantAsked) {
				t.Errorf("ContextValue asked for %q, want %q", asked, tt.wantAsked)
			}
		})
	}
}

func TestPathSet(t *testing.T) {
	tests := []struct {
		root, path, value, want string
	}{
		{`{"a": 1}`, "$", `"r"`, `"r"`},
		{`{"a": 1}`, "$.b", `2`, `{"a":1,"b":2}`},
		{`{"a": 1}`, "$.x.y.z", `true`, `{"a":1,"x":{"y":{"z":true}}}`},
		{`{"a": {"keep": 1, "b": 0}}`, "$.a.b", `5`, `{"a":{"b":5,"keep":1}}`},
		{`{"arr": [1, 2]}`, "$.arr[1]", `9`, `{"arr":[1,9]}`},
		{`{"a": 1}`, "$.x.['y z']", `2`, `{"a":1,"x":{"y z":2}}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			root := mustJSON(t, tt.root)
			before := Text(root)
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatalf("CompilePath: %v", err)
			}
			got, err := p.Set(root, mustJSON(t, tt.value))
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if Text(got) != tt.want {
				t.Errorf("Set = %s, want %s", Text(got), tt.want)
			}
			if Text(root) != before {
				t.Errorf("Set modified its input: %s, was %s", Text(root), before)
			}
		})
	}
	if p, _ := CompilePath("$.a[*]"); p != nil {
		if _, err := p.Set(map[string]any{}, 1); err == nil {
			t.Errorf("Set through a wildcard must fail")
		}
	}
	// An index must select an item that exists: Set does not extend arrays.
	for _, src := range []string{"$.arr[2]", "$.arr[5]", "$.arr[-1]", "$.s[0]"} {
		p, err := CompilePath(src)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.Set(mustJSON(t, `{"arr": [1, 2], "s": "x"}`), 9.0); err == nil {
			t.Errorf("%s: Set = %s, want an error", src, Text(got))
		}
	}
}

// A path may do exactly pathBudget units of work: $.a[*] on three items
// takes 6 (a segment applied to one node, the node it selects, then the
// wildcard applied to a, and the three items).
func TestPathBudgetExact(t *testing.T) {
	saved := pathBudget
	t.Cleanup(func() { pathBudget = saved })
	p, err := CompilePath("$.a[*]")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		budget int
		ok     bool
	}{{6, true}, {5, false}} {
		pathBudget = tt.budget
		v, ok := p.Eval(&Scope{Input: mustJSON(t, `{"a": [1, 2, 3]}`)})
		if ok != tt.ok || ok && Text(v) != "[1,2,3]" {
			t.Errorf("budget %d: Eval = %s, %v; want found %v", tt.budget, Text(v), ok, tt.ok)
		}
	}
}

// IsRoot, IsReference and NormalizedString, for ResultPath and messages.
func TestPathKinds(t *testing.T) {
	for _, tt := range []struct {
		src             string
		root, reference bool
		normalized      string
	}{
		{"$", true, true, "$"},
		{"$.length()", false, false, "$"},
		{"$.a.b[0]", false, true, "$['a']['b'][0]"},
		{"$.a.length()", false, false, "$['a']"},
		{"$.a[*]", false, false, "$"},
		{"$$.Execution", false, false, "$['Execution']"},
	} {
		p, err := CompilePath(tt.src)
		if err != nil {
			t.Fatalf("CompilePath(%q): %v", tt.src, err)
		}
		if p.IsRoot() != tt.root || p.IsReference() != tt.reference || p.NormalizedString() != tt.normalized {
			t.Errorf("%s: IsRoot %v, IsReference %v, NormalizedString %q; want %v, %v, %q",
				tt.src, p.IsRoot(), p.IsReference(), p.NormalizedString(), tt.root, tt.reference, tt.normalized)
		}
	}
}

func TestCompilePathErrors(t *testing.T) {
	for _, src := range []string{`$['a"]`, "", "a.b", "$.", "$[", "$.a[?(@.x ==]", "$..[", "$.a..", "$..", "$.[", "$.a.[", "$.a.['b'", "$.a.[]", "$.a.[?(@.x ==]", "$.a.['b'].", "$.a.['b']x"} {
		t.Run(src, func(t *testing.T) {
			if _, err := CompilePath(src); err == nil {
				t.Errorf("CompilePath(%q) succeeded, want an error", src)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1.0, "a": "<&>"}, `{"a":"<&>","b":1}`},
		{[]any{1.5, nil, true, 1e21, 123456789012.0}, `[1.5,null,true,1e+21,123456789012]`},
		{"é\n", `"é\n"`},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%#v) = %s, want %s", tt.in, got, tt.want)
		}
		var back any
		if err := json.Unmarshal([]byte(Text(tt.in)), &back); err != nil {
			t.Errorf("Text(%#v) is not JSON: %v", tt.in, err)
		}
	}
}

// BenchmarkPathEval selects a definite path, a wildcard and a descendant
// path from a small document, as a state's InputPath or a Parameters
// field does.
func BenchmarkPathEval(b *testing.B) {
	doc := map[string]any{"order": map[string]any{
		"id": "o-1", "items": []any{
			map[string]any{"sku": "a", "qty": 1.0},
			map[string]any{"sku": "b", "qty": 2.0},
			map[string]any{"sku": "c", "qty": 3.0},
		}}}
	sc := &Scope{Input: doc}
	for _, src := range []string{"$.order.id", "$.order.items[*].sku", "$..sku"} {
		p, err := CompilePath(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(src, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := p.Eval(sc); !ok {
					b.Fatal("no value")
				}
			}
		})
	}
}

// A path whose descendant segments would visit more nodes than the work
// budget fails with States.Runtime; so do the fields that use it.
func TestPathBudget(t *testing.T) {
	saved := pathBudget
	pathBudget = 10000
	t.Cleanup(func() { pathBudget = saved })
	var deep any = 0.0
	for range 300 {
		deep = []any{deep}
	}
	sc := &Scope{Input: map[string]any{"a": deep, "b": map[string]any{"x": 1.0, "y": []any{map[string]any{"x": 2.0}}}}}
	p, err := CompilePath("$.a..*..*")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Eval(sc); ok {
		t.Fatalf("Eval = %d values, want a failure", len(v.([]any)))
	}
	if e := sc.Err(); e == nil || e.Name != ErrRuntime || !strings.Contains(e.Cause, "10000") {
		t.Errorf("Err() = %v, want States.Runtime naming the budget", e)
	}
	// A union repeated needs no descendant segment to multiply the
	// nodes: 10^5 from five nested one-element arrays.
	var nested any = 1.0
	for range 5 {
		nested = []any{nested}
	}
	sc = &Scope{Input: nested}
	u, err := CompilePath("$" + strings.Repeat("[0,0,0,0,0,0,0,0,0,0]", 5))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := u.Eval(sc); ok {
		t.Errorf("a repeated union: Eval = %d values, want a failure", len(v.([]any)))
	}
	if e := sc.Err(); e == nil || e.Name != ErrRuntime {
		t.Errorf("a repeated union: Err() = %v, want States.Runtime", e)
	}
	sc = &Scope{Input: map[string]any{"a": deep, "b": map[string]any{"x": 1.0, "y": []any{map[string]any{"x": 2.0}}}}}
	// Paths within the budget select what they did.
	q, _ := CompilePath("$.b..x")
	if v, ok := q.Eval(&Scope{Input: sc.Input}); !ok || Text(v) != "[1,2]" {
		t.Errorf("$.b..x = %s, %v, want [1,2]", Text(v), ok)
	}
	tmpl, err := CompileTemplate("Parameters", map[string]any{"r.$": "$.a..*..*"}, LangJSONPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Eval(&Scope{Input: sc.Input})
	var ae *Error
	if !errors.As(err, &ae) || ae.Name != ErrRuntime || !strings.Contains(ae.Cause, "$.a..*..*") || strings.Contains(ae.Cause, "could not be found") {
		t.Errorf("template error = %v, want the budget's", err)
	}
}

// A path's wildcards, filters and descendant segments take an object's
// members in the order of their names, the order the object is encoded
// in, at every evaluation: they took Go's map order, which changes from
// run to run ($.o.*.v gave [2,3,1] one time and [1,2,3] the next).
func TestPathObjectMemberOrder(t *testing.T) {
	input := mustJSON(t, `{"o": {"k3": {"v": 3, "w": {"v": 30}}, "k1": {"v": 1}, "k2": {"v": 2}, "k10": {"v": 10}}}`)
	tests := []struct{ path, want string }{
		{"$.o.*.v", "[1,10,2,3]"},
		{"$.o[*].v", "[1,10,2,3]"},
		{"$.o[?(@.v > 1)].v", "[10,2,3]"},
		{"$..v", "[1,10,2,3,30]"},
		{"$.o..v", "[1,10,2,3,30]"},
		{"$.o.k3.*", `[3,{"v":30}]`},
	}
	for _, tt := range tests {
		p, err := CompilePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			v, ok := p.Eval(&Scope{Input: input})
			if !ok || Text(v) != tt.want {
				t.Fatalf("%s = %s (found %v), want %s", tt.path, Text(v), ok, tt.want)
			}
		}
	}
}

// Paths with descendant segments or filters select what jsonpath's
// Select does, in the same order where the input has no object of more
// than one member.
func TestPathDescendantsAsLibrary(t *testing.T) {
	docs := []string{
		`{"a":[{"x":1},[{"x":[2,{"x":3}]}],{"y":{"x":4}},{"b":{"x":5}}]}`,
		`[[1,[2,[3,{"x":[4]}]]],{"x":{"x":{"x":6}}}]`,
	}
	paths := []string{"$..x", "$..*", "$..[0]", "$..*..x", "$.a..x..*", "$..[?(@.x > 1)]", "$..x.length()", "$..[*][0]",
		"$..[?(@..x)]", "$.a[?(@..x)]", "$.a[?(!@..x)]", "$..[?($..y)]", "$..[?(@..x && @.x)]", "$.a[?((@..y || @.x > 1) && !(@..b))]",
		"$..[?(@[?(@..x)])]", "$..[?(@.x)]", "$..[?(@..*)]..x", "$.a[?(!(@.x == 1) || $.none)]", "$..[?(@[0] && length(@) > 0)]"}
	for _, d := range docs {
		for _, src := range paths {
			p, err := CompilePath(src)
			if err != nil {
				t.Fatal(err)
			}
			v := mustJSON(t, d)
			got, ok := p.Eval(&Scope{Input: v})
			want := librarySelect(p, v)
			if !ok || Text(got) != Text(want) {
				t.Errorf("%s on %s = %s, want %s", src, d, Text(got), Text(want))
			}
		}
	}
}

// A filter whose existence tests hold descendant segments counts their
// nodes against the path's budget too: `$.a[?($..z)]` walks the whole
// input once for each item of a, and `$..[?(@..z)]` every node under each
// node of a deep input. Over the budget, the path fails with
// States.Runtime, and soon.
func TestPathFilterBudget(t *testing.T) {
	zeros := make([]any, 100000)
	for i := range zeros {
		zeros[i] = 0.0
	}
	var deep any = 0.0
	for range 10000 {
		deep = []any{deep}
	}
	tests := []struct {
		path  string
		input any
	}{
		{"$.a[?($..z)]", map[string]any{"a": zeros}},
		{"$.a[?(!$..z)]", map[string]any{"a": zeros}},
		{"$.a[?(@.x || ($..z && @.y))]", map[string]any{"a": zeros}},
		{"$..[?(@..z)]", deep},
		{"$.a[?(@[?($..z)])]", map[string]any{"a": []any{zeros}, "b": zeros}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			sc := &Scope{Input: tt.input}
			wantEvalFails(t, p, sc, 10*time.Second)
			if e := sc.Err(); e == nil || e.Name != ErrRuntime || !strings.Contains(e.Cause, "node visits") {
				t.Errorf("Err() = %v, want States.Runtime over the budget", e)
			}
		})
	}
}

// A descendant segment in a filter's function or comparison, whose work
// the path cannot count, is refused when the path is compiled.
func TestPathFilterDescendantInFunction(t *testing.T) {
	for _, src := range []string{"$.a[?(count(@..z) > 0)]", "$.a[?(length(value($..z)) == 1)]", "$.a[?(@.b && !count(@[?(@..z)]))]"} {
		_, err := CompilePath(src)
		if err == nil || !strings.Contains(err.Error(), "descendant") {
			t.Errorf("CompilePath(%s) error = %v, want a refusal of its descendant segment", src, err)
		}
	}
	// In a name or a string, two dots are no descendant segment.
	for _, src := range []string{`$.a[?(@['x..y'] == 'a..b')]`, `$.a[?(match(@.s, 'a..b'))]`} {
		if _, err := CompilePath(src); err != nil {
			t.Errorf("CompilePath(%s): %v", src, err)
		}
	}
}

// A query that may select more than one node (a wildcard, slice, union
// or filter) in a function's argument is refused too: jsonpath evaluates
// it, out of the budget's sight, once for each node the filter tests, so
// `$.a[?(count($.a[*]) > 0)]` walks all of a for each item of a (11.7 s
// on 20,000 items), and a filter inside it one more time over.
func TestPathFilterNonSingularInFunction(t *testing.T) {
	zeros := make([]any, 100000)
	for i := range zeros {
		zeros[i] = 0.0
	}
	input := map[string]any{"a": zeros}
	for _, src := range []string{
		"$.a[?(count($.a[*]) > 0)]",
		"$.a[?(count($.a[?(@ == 0)]) > 0)]",
		"$.a[?(value($.a[?(@ == 1)]) == 0)]",
		"$.a[?(count(@.*) > 1)]",
		"$.a[?(count(@[0,1]) == 2)]",
		"$.a[?(value(@[1:]) == 1)]",
		"$.a[?(length(value(@[-1:])) == 1)]",
		"$.a[?(@.b && !count(@[?(@.z)]))]",
	} {
		t.Run(src, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				p, err := CompilePath(src)
				if err == nil {
					p.Eval(&Scope{Input: input})
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "more than one node") {
					t.Errorf("CompilePath(%s) error = %v, want a refusal of its query", src, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("CompilePath(%s) and Eval still run after 10s", src)
			}
		})
	}
	// Singular queries (names and indexes), and wildcards, colons, commas
	// and question marks in names and strings, are accepted.
	for _, src := range []string{`$.a[?(count(@.x) == 1)]`, `$.a[?(length(value(@['x'][0])) == 1)]`,
		`$.a[?(match(@['*,:?'], '.*x?,[a:b]'))]`, `$.a[?(@.x[-1] == "a*b")]`} {
		if _, err := CompilePath(src); err != nil {
			t.Errorf("CompilePath(%s): %v", src, err)
		}
	}
}

// A filter's comparisons and function calls count as one unit each,
// whatever the size of the values they read: comparing two large objects
// for each of 20,000 items took 86 s. Together they are bounded in time
// (pathTimeout, shortened here) and end with the scope's context: the
// path then fails with States.Runtime saying why.
func TestPathFilterTimeLimit(t *testing.T) {
	saved := pathTimeout
	pathTimeout = 50 * time.Millisecond
	t.Cleanup(func() { pathTimeout = saved })
	big := map[string]any{}
	for i := range 8000 {
		big[strconv.Itoa(i)] = float64(i)
	}
	items := make([]any, 20000)
	for i := range items {
		items[i] = 0.0
	}
	input := map[string]any{"a": items, "b": big, "c": maps.Clone(big)}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name, path string
		ctx        context.Context
		wantCause  string
	}{
		{"time", "$.a[?($.b == $.c)]", nil, "took longer than 50ms"},
		{"stopped", "$.a[?($.b == $.c)]", cancelled, "was interrupted"},
		{"time, function", "$.a[?(length($.b) > 0 && $.b == $.c)]", nil, "took longer than 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			sc := &Scope{Input: input, Ctx: tt.ctx}
			wantEvalFails(t, p, sc, 20*time.Second)
			if e := sc.Err(); e == nil || e.Name != ErrRuntime || !strings.Contains(e.Cause, tt.wantCause) {
				t.Errorf("Err() = %v, want States.Runtime saying %q", e, tt.wantCause)
			}
		})
	}
	// With every turn of long evaluations taken, the filters wait for
	// one until the limit, and the cause says so.
	t.Run("waiting for a turn", func(t *testing.T) {
		savedTurns, savedLong := longTurns, longEval
		t.Cleanup(func() { longTurns, longEval = savedTurns, savedLong })
		longTurns, longEval = make(chan struct{}, 1), time.Millisecond
		longTurns <- struct{}{} // another long evaluation holds the one turn
		p, err := CompilePath("$.a[?($.b == $.c)]")
		if err != nil {
			t.Fatal(err)
		}
		// Small objects and many items: the filters run past longEval
		// long before they would end.
		small := map[string]any{"x": 1.0, "y": 2.0}
		sc := &Scope{Input: map[string]any{"a": make([]any, 200000), "b": small, "c": maps.Clone(small)}}
		wantEvalFails(t, p, sc, 20*time.Second)
		if e := sc.Err(); e == nil || e.Name != ErrRuntime || !strings.Contains(e.Cause, "took longer than 50ms") || !strings.Contains(e.Cause, "waiting for their turn") {
			t.Errorf("Err() = %v, want States.Runtime saying it took longer than 50ms, waiting for their turn", e)
		}
	})
	// A filter well within the limit is not affected.
	p, err := CompilePath("$.a[?(@ == 0)]")
	if err != nil {
		t.Fatal(err)
	}
	sc := &Scope{Input: map[string]any{"a": []any{0.0, 1.0, 0.0}}}
	if v, ok := p.Eval(sc); !ok || len(v.([]any)) != 2 {
		t.Errorf("Eval = %v, %v (%v), want the two zeros", v, ok, sc.Err())
	}
}

// wantEvalFails evaluates p in sc and fails the test unless the
// evaluation fails within d (sc.Err then says why).
func wantEvalFails(t *testing.T, p *Path, sc *Scope, d time.Duration) {
	t.Helper()
	done := make(chan bool, 1)
	go func() {
		_, ok := p.Eval(sc)
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Eval succeeded, want it to fail")
		}
	case <-time.After(d):
		t.Fatalf("Eval still runs after %v", d)
	}
}

// librarySelect is what the jsonpath library alone selects with the
// indefinite path p from v (a list, or its length for a trailing
// .length()), without the walk that counts the work.
func librarySelect(p *Path, v any) any {
	list := []any(p.lib.Select(v))
	if list == nil {
		list = []any{}
	}
	if p.length {
		return float64(len(list))
	}
	return list
}
