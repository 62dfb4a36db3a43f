package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// uniquePairwise is States.ArrayUnique as it was first written: every
// item compared with every item kept, by reflect.DeepEqual. It is the
// reference fnArrayUnique must agree with.
func uniquePairwise(arr []any) []any {
	out := []any{}
next:
	for _, e := range arr {
		for _, o := range out {
			if reflect.DeepEqual(e, o) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// largeArray returns the text of an array of n items, item(i) for each
// i but for every tenth, which repeats the item written at i-5, and the
// array of its distinct items in order.
func largeArray(t testing.TB, n int, item func(i int) any) (string, []any) {
	t.Helper()
	arr := make([]any, n)
	var want []any
	for i := range n {
		if i%10 == 9 {
			arr[i] = arr[i-5]
			continue
		}
		arr[i] = item(i)
		want = append(want, arr[i])
	}
	text, err := json.Marshal(arr)
	if err != nil {
		t.Fatal(err)
	}
	return string(text), want
}

// States.ArrayUnique on an array as large as a state's input (256 KiB)
// returns in a moment: comparing every pair of its 37,000 items (23,000
// objects) would take minutes. Numbers, strings and objects each hash
// apart, and an object by its values too.
func TestArrayUniqueLarge(t *testing.T) {
	tests := []struct {
		name string
		n    int
		item func(i int) any
	}{
		{"numbers", 37000, func(i int) any { return float64(i) }},
		{"strings", 37000, func(i int) any { return strconv.FormatInt(int64(i), 36) }},
		{"objects", 23000, func(i int) any { return map[string]any{"": strconv.FormatInt(int64(i), 36)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, want := largeArray(t, tt.n, tt.item)
			if len(text) > 256*1024 {
				t.Fatalf("the array is %d bytes, more than a state's input holds", len(text))
			}
			c, err := CompileIntrinsic(`States.ArrayUnique($.arr)`)
			if err != nil {
				t.Fatal(err)
			}
			sc := &Scope{Input: map[string]any{"arr": mustJSON(t, text)}}
			type result struct {
				v   any
				err error
			}
			done := make(chan result, 1)
			go func() {
				v, err := c.Eval(sc)
				done <- result{v, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("States.ArrayUnique on %d %s still runs after 10s", tt.n, tt.name)
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !reflect.DeepEqual(r.v, want) {
				got, _ := r.v.([]any)
				t.Errorf("got %d items, want the %d distinct ones in order", len(got), len(want))
			}
		})
	}
}

// fnArrayUnique keeps the first of the items reflect.DeepEqual holds
// equal, in order, as comparing every pair did: 1 and 1.0 are one number
// (and 0 and -0), objects are equal whatever the order of their keys,
// arrays are compared item by item, and a nil array or object differs
// from an empty one.
func TestArrayUniqueSameAsPairwise(t *testing.T) {
	tests := []struct {
		name string
		in   []any
	}{
		{"numbers", mustJSON(t, `[1, 1.0, 1e0, 2, 0, -0, 0.0, 10, 1]`).([]any)},
		{"key order", mustJSON(t, `[{"a": 1, "b": [2]}, {"b": [2], "a": 1}, {"a": 1}, {"a": 1, "b": [2.0]}]`).([]any)},
		{"nested arrays", mustJSON(t, `[[1, [2]], [1, [2]], [[2], 1], [1, 2], [], [[]], []]`).([]any)},
		{"kinds", mustJSON(t, `[null, "1", 1, true, "true", null, [null], {}, [], "", false, 0]`).([]any)},
		{"nil and empty", []any{[]any(nil), []any{}, map[string]any(nil), map[string]any{}, []any(nil), nil}},
		{"not a number", []any{math.NaN(), math.NaN(), 1.0, math.Inf(1), math.Inf(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fnArrayUnique([]any{tt.in})
			if err != nil {
				t.Fatal(err)
			}
			if want := uniquePairwise(tt.in); !sameItems(got.([]any), want) {
				t.Errorf("fnArrayUnique(%v) = %v, want %v", tt.in, got, want)
			}
		})
	}
	// Random arrays drawn from few values, so that most items repeat
	// an earlier one, some in another key order or another number
	// spelling.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		in := make([]any, rng.IntN(12))
		for j := range in {
			in[j] = randomValue(rng, 2)
		}
		got, err := fnArrayUnique([]any{in})
		if err != nil {
			t.Fatal(err)
		}
		if want := uniquePairwise(in); !sameItems(got.([]any), want) {
			t.Fatalf("case %d: fnArrayUnique(%#v) = %#v, want %#v", i, in, got, want)
		}
	}
}

// sameItems reports whether got holds want's very items: DeepEqual,
// and NaN where want has NaN (which DeepEqual never holds equal).
func sameItems(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, gok := got[i].(float64)
		w, wok := want[i].(float64)
		if gok && wok && math.IsNaN(g) && math.IsNaN(w) {
			continue
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			return false
		}
	}
	return true
}

// randomValue returns a value of the engine's value model, nested at
// most depth levels, drawn from a few of each kind.
func randomValue(rng *rand.Rand, depth int) any {
	kinds := 5
	if depth > 0 {
		kinds = 9
	}
	switch rng.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return []float64{0, math.Copysign(0, -1), 1, 2.5}[rng.IntN(4)]
	case 3:
		return []string{"", "a", "1"}[rng.IntN(3)]
	case 4:
		return []any{nil, []any(nil), map[string]any(nil)}[rng.IntN(3)]
	case 5, 6:
		a := make([]any, rng.IntN(3))
		for i := range a {
			a[i] = randomValue(rng, depth-1)
		}
		return a
	}
	m := make(map[string]any)
	for range rng.IntN(3) {
		m[[]string{"a", "b", "c"}[rng.IntN(3)]] = randomValue(rng, depth-1)
	}
	return m
}

// BenchmarkArrayUnique runs States.ArrayUnique on arrays of distinct
// numbers but for every tenth item; the largest is as large as a state's
// input (256 KiB).
func BenchmarkArrayUnique(b *testing.B) {
	for _, n := range []int{1000, 10000, 37000} {
		text, _ := largeArray(b, n, func(i int) any { return float64(i) })
		arr := mustJSON(b, text)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fnArrayUnique([]any{arr}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
