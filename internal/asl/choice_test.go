package asl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
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
	t.Run("missing variable", func(t *testing.T) {
		_, err := compileRule(t, LangJSONPath, `{"Variable": "$.nope", "StringEquals": "x"}`).Eval(sc)
		var ae *Error
		if !errors.As(err, &ae) || ae.Name != ErrRuntime {
			t.Errorf("error = %v, want States.Runtime", err)
		}
	})
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
