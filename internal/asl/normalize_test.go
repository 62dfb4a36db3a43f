package asl

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// nested returns {"a":{"a":...{"a":1}...}}, depth levels deep, and the
// values $..a selects from it: each map but the outermost, and 1.
func nested(depth int) (any, []any) {
	var v any = 1.0
	sel := []any{v}
	for range depth {
		m := map[string]any{"a": v}
		v = m
		sel = append(sel, m)
	}
	sel = sel[:len(sel)-1] // the outermost map is the input, not selected
	return v, sel
}

// normalize keeps the maps and arrays it need not change: the results
// of a descendant query on a deeply nested input, each holding the rest
// of it, are not copied into O(N²) values.
func TestNormalizeKeepsValues(t *testing.T) {
	_, sel := nested(5000)
	allocs := testing.AllocsPerRun(3, func() {
		out, err := normalize(sel)
		if err != nil {
			t.Fatal(err)
		}
		if o := out.([]any); &o[0] != &sel[0] {
			t.Fatal("normalize copied an array that needs no change")
		}
	})
	// A few for the memory of the maps walked; a copy of each result
	// took 12.5 million.
	if allocs > 100 {
		t.Errorf("normalize of 5,000 nested results: %v allocations, want at most 100", allocs)
	}
}

func TestNormalize(t *testing.T) {
	shared := map[string]any{"n": 1}
	tests := []struct {
		in, want any
	}{
		{map[string]any{"a": 1, "b": []any{int64(2), "x", nil}}, map[string]any{"a": 1.0, "b": []any{2.0, "x", nil}}},
		{[]any{1.5, funcValue{}, map[string]any{"f": funcValue{}, "g": true}}, []any{1.5, map[string]any{"g": true}}},
		{[]any{shared, shared, []any{}, map[string]any{}}, []any{map[string]any{"n": 1.0}, map[string]any{"n": 1.0}, []any{}, map[string]any{}}},
		{json.Number("12.5"), 12.5},
	}
	for _, tt := range tests {
		got, err := normalize(tt.in)
		if err != nil {
			t.Fatalf("normalize(%v): %v", tt.in, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalize(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	if _, err := normalize(map[string]any{"a": []any{math.Inf(1)}}); err == nil {
		t.Error("normalize(Inf) succeeded, want D1001")
	}
	// Past normalizeMemoFrom maps, a map met again is normalized once,
	// into the same value.
	many := make([]any, 2*normalizeMemoFrom)
	for i := range many {
		many[i] = map[string]any{"i": i}
	}
	many = append(many, shared, shared)
	out, err := normalize(many)
	if err != nil {
		t.Fatal(err)
	}
	o := out.([]any)
	if a, b := o[len(o)-2].(map[string]any), o[len(o)-1].(map[string]any); a["n"] != 1.0 || reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() {
		t.Errorf("shared map normalized to %v and %v, want one map", a, b)
	}
}
