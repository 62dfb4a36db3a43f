package asl

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// sameAsEncodingJSON fails t unless ParseJSON and json.Unmarshal into an
// any agree on b: the same value, or both an error.
func sameAsEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(b, &want)
	got, err := ParseJSON(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: ParseJSON error %v, encoding/json error %v", b, err, wantErr)
	}
	if err == nil && !sameValue(got, want) {
		t.Fatalf("%q: ParseJSON = %#v, encoding/json = %#v", b, got, want)
	}
	if _, ok := parseValue(b); !ok && wantErr == nil {
		t.Errorf("%q: the single-pass parser refused a text encoding/json reads", b)
	}
}

// sameValue is reflect.DeepEqual that also tells -0 from 0 and takes NaN
// as equal to itself (neither occurs in JSON, but be exact).
func sameValue(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12.25E-2`, `1e400`, `-1e400`, `1e-400`,
		`01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `0x10`, `NaN`, `Infinity`,
		` {"a" : [1, 2, {"b": null}], "c": "d"} `, "\t\n\r[1]\n", `{"a":1,"a":2}`, `{"a":1,}`, `[1,]`, `[,1]`,
		`{"a" 1}`, `{a:1}`, `{"a":1}x`, `[1] [2]`, ``, ` `, `"`, `"abc`, `tru`, `nul`, `falsey`,
		`"\"\\\/\b\f\n\r\t"`, `"\u00e9\u20AC\uD83D\uDE00"`, `"\uD83D"`, `"\uDE00"`, `"\uD83Dx"`, `"\uD83D\u0041"`,
		`"\uD83D\uZZZZ"`, `"\u12"`, `"\x"`, "\"a\x01b\"", "\"\xff\xfe\"", "\"ok \xe2\x82\"", "\"\xed\xa0\x80\"",
		`"` + strings.Repeat("é", 100) + `"`, `{"` + "\u2028" + `":"` + "\u2029" + `"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	} {
		sameAsEncodingJSON(t, []byte(s))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",true,null,{"b":-2.5e-3}]}`, `"\uD83D\uDE00\n"`, "\"\xff\"", `[1e400]`, `{"a":1,"a":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsEncodingJSON(t, b)
	})
}
