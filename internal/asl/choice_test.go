package asl

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func compileRule(t *testing.T, lang QueryLanguage, rule string) *ChoiceRule {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(rule), &m); err != nil {
		t.Fatalf("rule %s: %v", rule, err)
	}
	m["Next"] = "X"
	p := &parser{}
	r := p.rule(m, "/rule", lang, true)
	if len(p.errs) > 0 {
		t.Fatalf("rule %s: %v", rule, p.errs)
	}
	return r
}

func TestChoiceRules(t *testing.T) {
	input := `{"s": "hello", "n": 5, "b": true, "t": "2024-03-01T10:00:00Z", "z": null, "other": 7, "file": "log-2024.txt", "tc": "2024-03-01T10:00:00,5Z", "tl": "2024-03-01t10:00:00z"}`
	sc := &Scope{Input: mustJSON(t, input)}
	tests := []struct {
		rule string
		want bool
	}{
		{`{"Variable": "$.s", "StringEquals": "hello"}`, true},
		{`{"Variable": "$.s", "StringLessThan": "help"}`, true},
		{`{"Variable": "$.s", "StringGreaterThanEquals": "hello"}`, true},
		{`{"Variable": "$.file", "StringMatches": "log-*.txt"}`, true},
		{`{"Variable": "$.file", "StringMatches": "log-\\*.txt"}`, false},
		{`{"Variable": "$.n", "NumericEquals": 5}`, true},
		{`{"Variable": "$.n", "NumericLessThanPath": "$.other"}`, true},
		{`{"Variable": "$.n", "NumericGreaterThan": 5}`, false},
		{`{"Variable": "$.s", "NumericEquals": 5}`, false},
		{`{"Variable": "$.b", "BooleanEquals": true}`, true},
		{`{"Variable": "$.t", "TimestampLessThan": "2024-03-01T11:00:00+00:00"}`, true},
		{`{"Variable": "$.t", "TimestampEquals": "2024-03-01T12:00:00+02:00"}`, true},
		{`{"Variable": "$.z", "IsNull": true}`, true},
		{`{"Variable": "$.s", "IsNull": false}`, true},
		{`{"Variable": "$.s", "IsNumeric": false}`, true},
		{`{"Variable": "$.s", "StringLessThanEquals": "hello"}`, true},
		{`{"Variable": "$.missing", "IsPresent": false}`, true},
		{`{"Variable": "$.n", "IsNumeric": true}`, true},
		{`{"Variable": "$.s", "IsString": true}`, true},
		{`{"Variable": "$.b", "IsBoolean": false}`, false},
		{`{"Variable": "$.t", "IsTimestamp": true}`, true},
		{`{"Variable": "$.tc", "IsTimestamp": true}`, false},
		{`{"Variable": "$.tc", "IsTimestamp": false}`, true},
		{`{"Variable": "$.tl", "IsTimestamp": true}`, true},
		{`{"Variable": "$.tl", "TimestampEquals": "2024-03-01T10:00:00Z"}`, true},
		{`{"Variable": "$.t", "TimestampLessThan": "2024-03-01t11:00:00z"}`, true},
		{`{"Variable": "$.t", "TimestampEqualsPath": "$.tl"}`, true},
		{`{"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.b", "BooleanEquals": true}]}`, true},
		{`{"Or": [{"Variable": "$.n", "NumericEquals": 6}, {"Variable": "$.b", "BooleanEquals": false}]}`, false},
		{`{"Not": {"Variable": "$.s", "StringEquals": "bye"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := compileRule(t, LangJSONPath, tt.rule).Eval(sc)
			if err != nil || got != tt.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	for _, tt := range []struct{ name, rule, missing string }{
		{"missing variable", `{"Variable": "$.nope", "StringEquals": "x"}`, "$.nope"},
		{"missing value path", `{"Variable": "$.n", "NumericEqualsPath": "$.nope"}`, "$.nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileRule(t, LangJSONPath, tt.rule).Eval(sc)
			var ae *Error
			if !errors.As(err, &ae) || ae == nil || ae.Name != ErrRuntime || !strings.Contains(ae.Cause, tt.missing) {
				t.Errorf("error = %v, want States.Runtime naming %s", err, tt.missing)
			}
		})
	}
	t.Run("jsonata condition", func(t *testing.T) {
		r := compileRule(t, LangJSONata, `{"Condition": "{% $states.input.n > 3 %}"}`)
		if got, err := r.Eval(sc); err != nil || !got {
			t.Errorf("Eval = %v, %v; want true", got, err)
		}
		r = compileRule(t, LangJSONata, `{"Condition": "{% $states.input.s %}"}`)
		var ae *Error
		if _, err := r.Eval(sc); !errors.As(err, &ae) || ae.Name != ErrQueryEvaluationError {
			t.Errorf("non-boolean condition error = %v, want States.QueryEvaluationError", err)
		}
	})
}

func TestStringMatches(t *testing.T) {
	tests := []struct {
		s, pattern string
		want       bool
	}{
		{"abc", "abc", true}, {"abc", "a*", true}, {"abc", "*c", true}, {"abc", "*b*", true},
		{"abc", "*d*", false}, {"a*c", `a\*c`, true}, {"abc", `a\*c`, false}, {"", "*", true},
		{"aXbXc", "a*b*c", true}, {"ab", "a*b*c", false},
		{"aaa", "*aa*aa*", false}, {"aaaa", "*aa*aa*", true}, // the pieces between stars do not overlap
		{`a\`, `a\`, true}, // a backslash that ends the pattern is literal
	}
	for _, tt := range tests {
		if got := StringMatches(tt.s, tt.pattern); got != tt.want {
			t.Errorf("StringMatches(%q, %q) = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		s    string
		want string // UTC, RFC 3339; "" means invalid
	}{
		{"2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"},
		{"2024-03-01T10:00:00.5Z", "2024-03-01T10:00:00.5Z"},
		{"2024-03-01T12:00:00.123+02:00", "2024-03-01T10:00:00.123Z"},
		{"2024-03-01T10:00:00.1234567891Z", "2024-03-01T10:00:00.123456789Z"},
		{"2024-03-01T10:00:00,5Z", ""},
		{"2024-03-01T12:00:00,123+02:00", ""},
		{"2024-03-01T10:00:00", ""},
		{"2024-03-01 10:00:00Z", ""},
		{"2024-03-01T10:00Z", ""},
		// RFC 3339 (section 5.6, NOTE) allows a lowercase "t" and "z", as
		// Java's case-insensitive ISO_OFFSET_DATE_TIME does.
		{"2024-03-01t10:00:00z", "2024-03-01T10:00:00Z"},
		{"2024-03-01t12:00:00.25+02:00", "2024-03-01T10:00:00.25Z"},
		{"2024-03-01T10:00:00z", "2024-03-01T10:00:00Z"},
		{"2024-03-01t10:00:00", ""},
		{"2024-03-01x10:00:00z", ""},
		{"2024-03-01t10:00:00zz", ""},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.s)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseTimestamp(%q) = %v, want an error", tt.s, got)
		case tt.want != "" && (err != nil || got.UTC().Format(time.RFC3339Nano) != tt.want):
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %s", tt.s, got, err, tt.want)
		}
	}
	def := `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
		{"Variable": "$.t", "TimestampEquals": "2024-03-01T10:00:00,5Z", "Next": "S"}]}, "S": {"Type": "Succeed"}}}`
	if _, err := Parse([]byte(def)); err == nil || !strings.Contains(err.Error(), "TimestampEquals") {
		t.Errorf("Parse with a comma timestamp literal = %v, want an error at TimestampEquals", err)
	}
	def = `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2024-03-01T10:00:00,5Z", "End": true}}}`
	if _, err := Parse([]byte(def)); err == nil || !strings.Contains(err.Error(), "Timestamp") {
		t.Errorf("Parse with a comma Wait Timestamp = %v, want an error at Timestamp", err)
	}
}

// The String* ordering rules compare UTF-16 code units, as Java's
// String.compareTo does: UTF-8 byte order disagrees with it when one
// string has a character in U+E000..U+FFFF where the other has one
// beyond U+FFFF (a surrogate pair, 0xD800..0xDFFF).
func TestStringOrderUTF16(t *testing.T) {
	tests := []struct {
		a, b string
		want int // the sign of a compared with b
	}{
		{"", "", 0},
		{"a", "b", -1},
		{"help", "hello", 1},
		{"abc", "ab", 1},
		{"é", "e", 1},
		{"😀", "\uFFFD", -1}, // 0xD83D < 0xFFFD; UTF-8 F0 > EF
		{"\uFFFD", "😀", 1},
		{"\uE000", "𐀀", 1}, // U+E000 > 0xD800 (U+10000)
		{"x😀", "x\uFFFF", -1},
		{"😀", "😁", -1},
		{"😀", "😀", 0},
		{"😀a", "😀", 1},
		{"\uD7FF", "😀", -1}, // below the surrogates both orders agree
		{"\uFFFD", "\uFFFE", -1},
		{"ab\uFFFD", "ab", 1},
	}
	for _, tt := range tests {
		if got := compareUTF16(tt.a, tt.b); sign(got) != tt.want {
			t.Errorf("compareUTF16(%+q, %+q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
	// Every pair of strings of up to two characters from around the
	// boundaries, against utf16.Encode.
	chars := []rune{'a', 'é', 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF}
	strs := []string{""}
	for _, r := range chars {
		strs = append(strs, string(r))
		for _, q := range chars {
			strs = append(strs, string([]rune{r, q}))
		}
	}
	for _, a := range strs {
		for _, b := range strs {
			want := slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
			if got := compareUTF16(a, b); sign(got) != want {
				t.Errorf("compareUTF16(%+q, %+q) = %d, want sign %d", a, b, got, want)
			}
		}
	}
	sc := &Scope{Input: map[string]any{"a": "😀", "r": "\uFFFD"}}
	rules := []struct {
		rule string
		want bool
	}{
		{`{"Variable": "$.a", "StringLessThan": "\uFFFD"}`, true},
		{`{"Variable": "$.a", "StringLessThanEquals": "\uFFFD"}`, true},
		{`{"Variable": "$.a", "StringGreaterThan": "\uFFFD"}`, false},
		{`{"Variable": "$.a", "StringGreaterThanEquals": "\uFFFD"}`, false},
		{`{"Variable": "$.a", "StringLessThanPath": "$.r"}`, true},
		{`{"Variable": "$.r", "StringGreaterThanPath": "$.a"}`, true},
		{`{"Variable": "$.a", "StringEquals": "😀"}`, true},
	}
	for _, tt := range rules {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := compileRule(t, LangJSONPath, tt.rule).Eval(sc)
			if err != nil || got != tt.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// BenchmarkChoiceStringLessThan evaluates a StringLessThan rule on ASCII
// strings (the common case) and on strings beyond the BMP.
func BenchmarkChoiceStringLessThan(b *testing.B) {
	for _, bb := range []struct{ name, a, b string }{
		{"ascii", "monitor-2024-03-01-alpha", "monitor-2024-03-01-beta"},
		{"astral", "monitor-😀-alpha", "monitor-\uFFFD-beta"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var m map[string]any
			if err := json.Unmarshal([]byte(`{"Variable": "$.a", "StringLessThanPath": "$.b", "Next": "X"}`), &m); err != nil {
				b.Fatal(err)
			}
			p := &parser{}
			r := p.rule(m, "/rule", LangJSONPath, true)
			sc := &Scope{Input: map[string]any{"a": bb.a, "b": bb.b}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Eval(sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestHasRuneFromE000(t *testing.T) {
	for b := range 256 {
		for pos := range 11 {
			s := []byte("abcdefghijk")
			s[pos] = byte(b)
			if got, want := hasRuneFromE000(string(s)), b >= 0xEE; got != want {
				t.Errorf("hasRuneFromE000 with byte %#x at %d = %v, want %v", b, pos, got, want)
			}
		}
	}
}
