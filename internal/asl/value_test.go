package asl

import (
	"bytes"
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"testing"
)

// TestTextStrings checks that strings are written as encoding/json
// writes them without HTML escaping, on the fast path and off it.
func TestTextStrings(t *testing.T) {
	for _, s := range []string{
		"", "plain", "<a href='x'>&</a>", "quote \" and backslash \\", "tab\tnewline\n\x00\x1f", "del \x7f",
		"é ü 日本 🚀", "invalid \xff\xfe utf-8", "truncated \xe2\x80", "line sep \u2028 para sep \u2029",
		"line sep \u2028 alone", "para sep \u2029 alone",
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{s: []any{s}}); err != nil {
			t.Fatal(err)
		}
		want := string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if got := Text(map[string]any{s: []any{s}}); got != want {
			t.Errorf("Text(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestTextValues(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{true, "true"},
		{float64(3), "3"},
		{1.5, "1.5"},
		{1e21, "1e+21"},
		{-0.000001, "-0.000001"},
		{int64(-7), "-7"},
		{json.Number("12.50"), "12.50"},
		{[]any{}, "[]"},
		{map[string]any{}, "{}"},
		{map[string]any{"b": 1.0, "a": []any{"x", nil, false}}, `{"a":["x",null,false],"b":1}`},
	} {
		if got := Text(tc.v); got != tc.want {
			t.Errorf("Text(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	// Objects with more members than the sort's stack array.
	m := map[string]any{}
	for _, k := range []string{"q", "p", "o", "n", "m", "l", "k", "j", "i", "h", "g", "f", "e", "d", "c", "b", "a"} {
		m[k] = k
	}
	want, _ := json.Marshal(m)
	if got := Text(m); got != string(want) {
		t.Errorf("Text(17 members) = %s, want %s", got, want)
	}
}

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // Text of the value; "" for an error
	}{
		{`{"b":[1,2.5,"x"],"a":null}`, `{"a":null,"b":[1,2.5,"x"]}`},
		{" \n\t{} \n", `{}`},
		{`"s"`, `"s"`},
		{`{} {}`, ""},
		{`1 2`, ""},
		{`{"a":1} x`, ""},
		{``, ""},
		{`   `, ""},
		{`{"a":`, ""},
	} {
		v, err := ParseJSON([]byte(tc.in))
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseJSON(%q) = %v, want an error", tc.in, v)
			}
			continue
		}
		if err != nil || Text(v) != tc.want {
			t.Errorf("ParseJSON(%q) = %s, %v; want %s", tc.in, Text(v), err, tc.want)
		}
	}
}

// sizeExceeds is the measure SizeMemo.Exceeds takes, without the memory.
func sizeExceeds(v any, limit int) bool {
	n := 0
	return sizeWalk(v, &n, limit, nil, 0)
}

// Measured without the memory, Exceeds never answers false for a value whose Text is longer than
// the limit, also for strings that escaping makes longer, negative numbers
// and Go values other than the value model's.
func TestSizeExceeds(t *testing.T) {
	type item struct{ Name string }
	const limit = 1000
	for _, v := range []any{
		strings.Repeat("x", limit-2), strings.Repeat("x", limit-1),
		strings.Repeat("\n", limit/2-1), strings.Repeat("\n", limit/2),
		strings.Repeat("\x01", limit/6), strings.Repeat(`"`, limit/2),
		map[string]any{strings.Repeat("\t", limit/2): 1.0},
		[]any{strings.Repeat("é", limit/2)},
		[]item{{strings.Repeat("y", limit)}},
		func() []any { // 1 + 333×3 = 1000 bytes with the brackets and commas
			xs := make([]any, 333)
			for i := range xs {
				xs[i] = -1.0
			}
			return xs
		}(),
		func() []any { // 1 + 334×3 = 1003 bytes
			xs := make([]any, 334)
			for i := range xs {
				xs[i] = -1.0
			}
			return xs
		}(),
		[]any{-1.2345678901234567e-300, 1e300, 1e20},
		[]any{0.0, strings.Repeat("x", limit)},       // a zero has one digit
		[]any{strings.Repeat("x", limit-6), []any{}}, // 1001 bytes: an empty array takes two
	} {
		want := len(Text(v)) > limit
		if got := sizeExceeds(v, limit); got != want && !got {
			t.Errorf("sizeExceeds(%.20q... of %d bytes as JSON) = %v, want %v", Text(v), len(Text(v)), got, want)
		}
	}
}

// A SizeMemo answers as sizeExceeds does for values it measured before,
// whole or nested in others, also when a remembered member pushes a new
// value past the limit.
func TestSizeMemo(t *testing.T) {
	const limit = 1000
	big := map[string]any{"text": strings.Repeat("x", 600)}   // 613 bytes
	small := map[string]any{"text": strings.Repeat("y", 200)} // 213 bytes
	list := []any{strings.Repeat("\n", 150), 1.0}             // 308 bytes
	var m SizeMemo
	for i, v := range []any{
		big, small, list, // measured and remembered
		big, small, list, // found
		map[string]any{"a": big, "b": small},                // 846 bytes
		map[string]any{"a": big, "b": small, "c": list},     // 1,159 bytes
		map[string]any{"Payload": big, "StatusCode": 200.0}, // remembers its member
		map[string]any{"state": map[string]any{"p": big}},   // 641 bytes
		[]any{big, big},         // 1,229 bytes
		[]any{list, list, list}, // 928 bytes
		map[string]any{"x": []any{list, list, list}, "y": ""},                      // 944 bytes
		map[string]any{"x": []any{list, list, list}, "y": strings.Repeat("z", 60)}, // 1,004 bytes
	} {
		want := len(Text(v)) > limit
		if got := m.Exceeds(v, limit); got != want && !got {
			t.Errorf("value %d: Exceeds(%d bytes as JSON) = %v, want %v", i, len(Text(v)), got, want)
		}
		if got, plain := m.Exceeds(v, limit), sizeExceeds(v, limit); got != plain {
			t.Errorf("value %d: Exceeds = %v the second time, sizeExceeds = %v", i, got, plain)
		}
	}
}

// TextLonger counts exactly what Text writes.
func TestTextLonger(t *testing.T) {
	m := map[string]any{}
	for _, k := range []string{"q", "p", "o", "n", "m", "l", "k", "j", "i", "h", "g", "f", "e", "d", "c", "b", "a"} {
		m[k] = k
	}
	deep, _ := nested(50)
	for _, v := range []any{
		nil, true, false, "", "x", "é \"q\" \x00 \xff \u2028", 0.0, math.Copysign(0, -1), 3.0, -12.0, 1.5, 1e21, -0.000001, 1e300, 5e-324,
		math.Inf(1), int(-70), int64(123456789), json.Number("12.50"), []any{}, map[string]any{},
		[]any{1.0, nil, "a"}, map[string]any{"b": 1.0, "a": []any{"x", nil, false}}, m, deep,
		struct{ A int }{A: 1},
	} {
		n := len(Text(v))
		if TextLonger(v, n) || !TextLonger(v, n-1) {
			t.Errorf("TextLonger(%s, %d) = %v, TextLonger(.., %d) = %v; want false, true",
				Text(v), n, TextLonger(v, n), n-1, TextLonger(v, n-1))
		}
	}
}

// TextLonger and TextUpTo stop soon after the limit: the 5,000 values
// $..a selects from an input nested 5,000 levels deep take some 75 MB of
// text.
func TestTextLongerStops(t *testing.T) {
	_, list := nested(5000)
	var sel any = list
	if allocs := testing.AllocsPerRun(3, func() {
		if !TextLonger(sel, 256*1024) {
			t.Fatal("TextLonger = false, want true")
		}
	}); allocs != 0 {
		t.Errorf("TextLonger: %v allocations, want 0", allocs)
	}
	var text string
	var whole bool
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	text, whole = TextUpTo(sel, 1000)
	runtime.ReadMemStats(&ms1)
	if whole || len(text) != 1000 || text[:6] != `[1,{"a` {
		t.Errorf("TextUpTo = %.20s... (%d bytes), %v; want its first 1000 bytes, false", text, len(text), whole)
	}
	if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
		t.Errorf("TextUpTo allocated %d bytes, want at most 1 MB", got)
	}
	short := map[string]any{"k": "é"}
	if text, whole := TextUpTo(short, 100); text != `{"k":"é"}` || !whole {
		t.Errorf("TextUpTo(short) = %s, %v; want the whole text", text, whole)
	}
	// {"k":"é日本"}: é takes 2 bytes, 日 and 本 3 each.
	for _, tt := range []struct {
		limit int
		want  string
	}{
		{7, `{"k":"`}, {8, `{"k":"é`}, {9, `{"k":"é`}, {10, `{"k":"é`}, {11, `{"k":"é日`}, {12, `{"k":"é日`},
	} {
		if text, _ := TextUpTo(map[string]any{"k": "é日本"}, tt.limit); text != tt.want {
			t.Errorf("TextUpTo(%d) = %q, want %q", tt.limit, text, tt.want)
		}
	}
}
