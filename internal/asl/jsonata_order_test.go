package asl

import (
	"testing"
)

// An expression that walks an object's members gets them in the order of
// their names at every evaluation, from the input and from variables:
// the JSONata library took them in Go's map order, a different one from
// run to run ($states.input.o.*.v gave [2,1,3], [3,2,1] and [1,3,2]).
func TestJSONataObjectMemberOrder(t *testing.T) {
	if !orderedObjects {
		t.Fatal("the JSONata library's ordered objects are not usable: gnata.DecodeJSON(\"{}\") has no Set, Get and Keys")
	}
	input := mustJSON(t, `{"o": {"k3": {"v": 3}, "k1": {"v": 1}, "k2": {"v": 2}, "k10": {"v": 10}},
		"arr": [{"b": 1, "a": 2}, {"d": 3, "c": 4}]}`)
	vars := NewVars(map[string]any{"o": mustJSON(t, `{"z": 1, "y": 2, "x": 3}`)})
	tests := []struct{ expr, want string }{
		{`$states.input.o.*.v`, `[1,10,2,3]`},
		{`$.o.*.v`, `[1,10,2,3]`},
		{`$states.input.**.v`, `[1,10,2,3]`},
		{`$string($states.input.o)`, `"{\"k1\":{\"v\":1},\"k10\":{\"v\":10},\"k2\":{\"v\":2},\"k3\":{\"v\":3}}"`},
		{`"o: " & $states.input.arr[0]`, `"o: {\"a\":2,\"b\":1}"`},
		{`$each($states.input.o, function($v, $k) {$k})`, `["k1","k10","k2","k3"]`},
		{`$keys($states.input.arr)`, `["a","b","c","d"]`},
		{`$sift($states.input.o, function($v) {$v.v > 1}) ~> $string`, `"{\"k10\":{\"v\":10},\"k2\":{\"v\":2},\"k3\":{\"v\":3}}"`},
		{`$spread($states.input.arr[0]) ~> $string`, `"[{\"a\":2},{\"b\":1}]"`},
		{`$merge($states.input.arr) ~> $string`, `"{\"a\":2,\"b\":1,\"c\":4,\"d\":3}"`},
		{`$o.*`, `[3,2,1]`},
		{`$string($o)`, `"{\"x\":3,\"y\":2,\"z\":1}"`},
		{`$string($states)`, ``}, // checked for sameness only: it holds the context object
		{`$parse('{"b": 1, "a": 2, "c": {"z": 0, "y": 9}}').*`, `[2,1,{"y":9,"z":0}]`},
		{`$string($parse('{"b": 1, "a": 2}'))`, `"{\"a\":2,\"b\":1}"`},
		{`$type($now()) & $string($states.input.arr[1])`, `"string{\"c\":4,\"d\":3}"`},
	}
	for _, tt := range tests {
		jx, err := CompileJSONata(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if !jx.walksObjects {
			t.Errorf("%s: not taken for an expression that walks objects", tt.expr)
		}
		first := ""
		for i := range 30 {
			v, _, err := jx.Eval(&Scope{Input: input, Vars: vars})
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			got := Text(v)
			if i == 0 {
				first = got
			}
			if (tt.want != "" && got != tt.want) || got != first {
				t.Fatalf("%s = %s (evaluation %d; the first gave %s), want %s", tt.expr, got, i+1, first, tt.want)
			}
		}
	}
}

// A result that holds parts of the input holds the input's own maps and
// arrays, not copies: $states.input.**.a on an input nested N levels
// deep holds N objects, each holding the rest, which copies would make
// O(N²) values. The input is left as it was.
func TestJSONataOrderedResultHoldsInput(t *testing.T) {
	input := mustJSON(t, `{"a": {"a": {"a": {"x": [1, {"y": 2}]}}}, "b": [{"q": 1}]}`)
	before := Text(input)
	jx, err := CompileJSONata(`[$states.input.**.a, $states.input.b, {"new": $states.input.b[0]}]`)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := jx.Eval(&Scope{Input: input})
	if err != nil {
		t.Fatal(err)
	}
	in := input.(map[string]any)
	a1 := in["a"].(map[string]any)
	a2 := a1["a"].(map[string]any)
	a3 := a2["a"].(map[string]any)
	b := in["b"].([]any)
	got := v.([]any)
	want := []any{a1, a2, a3, b[0]} // a path's array is a sequence of its items
	if len(got) != 5 {
		t.Fatalf("result %s, want 5 items", Text(v))
	}
	for i, w := range want {
		gi, _ := IdentityOf(got[i])
		wi, _ := IdentityOf(w)
		if gi != wi {
			t.Errorf("item %d of the result is a copy of the input's value, not the value itself: %s", i, Text(got[i]))
		}
	}
	nested := got[4].(map[string]any)["new"]
	if gi, _ := IdentityOf(nested); gi != func() Identity { id, _ := IdentityOf(b[0]); return id }() {
		t.Errorf("a new object's member is a copy of the input's value: %s", Text(nested))
	}
	jx, err = CompileJSONata(`{"b": $states.input.b, "all": $states.input.*}`)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err = jx.Eval(&Scope{Input: input})
	if err != nil {
		t.Fatal(err)
	}
	if gi, _ := IdentityOf(v.(map[string]any)["b"]); gi != func() Identity { id, _ := IdentityOf(b); return id }() {
		t.Errorf("an array of the input in a new object is a copy: %s", Text(v))
	}
	if after := Text(input); after != before {
		t.Errorf("the input changed: %s, was %s", after, before)
	}
}

// Expressions that walk no object get the input as it is, with no
// conversion: walksObjects is false for them.
func TestJSONataWalksObjects(t *testing.T) {
	for src, want := range map[string]bool{
		`$states.input.a.b`: false, `$sum($states.input.a) + $x`: false, `$count($states.input.items)`: false,
		`$states.input.*`: true, `$states.input.**.a`: true, `$a * 2`: true, `"a" & "b"`: true,
		`$string($x)`: true, `$x ~> $each(function($v){$v})`: true, `$states.input ~> |$|{"a":1}|`: true,
	} {
		if got := walksObjects(src); got != want {
			t.Errorf("walksObjects(%q) = %v, want %v", src, got, want)
		}
	}
}

// BenchmarkJSONataOrdered measures an evaluation that walks objects, with
// the conversion of its input (a monitor-sized document, 13 objects and
// arrays) to ordered objects and back, beside one that walks none, with a
// large variable in scope that none of them names.
func BenchmarkJSONataOrdered(b *testing.B) {
	input, err := ParseJSON([]byte(`{"instanceId":"m1","spec":{"target":{"type":"http","url":"http://127.0.0.1:8080/job",
		"headers":{"a":"b","c":"d"}},"pollingIntervalSeconds":5,"timeoutSeconds":3600,"alert":{"webhook":"http://x/y"}},
		"state":{"checks":12,"status":"Running","last":{"at":"2026-12-07T13:00:00Z","detail":"ok"}},"list":[1,2,3,4,5,{"a":1,"b":2}]}`))
	if err != nil {
		b.Fatal(err)
	}
	// A variable of 3,000 small objects (about 150 KB) that the
	// expressions do not name: it is not converted.
	big := make([]any, 3000)
	for i := range big {
		big[i] = map[string]any{"i": float64(i), "s": "abcdefghijklmnopqrstuvwxyz"}
	}
	vars := NewVars(map[string]any{"big": big})
	for _, src := range []string{`$states.input.spec.target.url`, `$states.input.spec.*`, `$string($states.input)`, `$states.input.instanceId & "!"`} {
		b.Run(src, func(b *testing.B) {
			jx, err := CompileJSONata(src)
			if err != nil {
				b.Fatal(err)
			}
			sc := &Scope{Input: input, Vars: vars}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := jx.Eval(sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// refersTo tells the variables and $states members an expression may
// read, so that only those are converted: a large variable the expression
// never names cost every evaluation its conversion (15 ms for 154 KB).
func TestJSONataRefersTo(t *testing.T) {
	tests := []struct {
		src, name, member string
		want              bool
	}{
		{`$x & "!"`, "$x", "", true},
		{`$xy & "!"`, "$x", "", false},
		{`$x.a * 2`, "$x", "", true},
		{`$states.input.x & "!"`, "$big", "", false},
		{`$states.input.x & "!"`, "$states", "input", true},
		{`$states.input.x & "!"`, "$states", "context", false},
		{`$states.context.Execution.Id & "!"`, "$states", "context", true},
		{`$string($states)`, "$states", "context", true},
		{`$states . result.*`, "$states", "context", false},
		{`$states.*`, "$states", "errorOutput", true},
		{`$.a & "!"`, "$states", "input", false},
	}
	for _, tt := range tests {
		if got := refersTo(tt.src, tt.name, tt.member); got != tt.want {
			t.Errorf("refersTo(%q, %q, %q) = %v, want %v", tt.src, tt.name, tt.member, got, tt.want)
		}
	}
}
