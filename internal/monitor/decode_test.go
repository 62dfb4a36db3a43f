package monitor

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestDecodeProblemsDescribeTheValue pins how a start request's field
// problems describe what was sent: a value of the wrong type is named by
// its JSON type (an object as an object), a string it quotes is cut to 40
// bytes and an unknown key to 64, so that a long value does not come back
// whole in the answer; and a negative number is a number, too large or
// out of range, never "not a number".
func TestDecodeProblemsDescribeTheValue(t *testing.T) {
	longKey := strings.Repeat("k", 100)
	longValue := strings.Repeat("x", 50)
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"object for a string", `{"job_id":{"a":1}}`, []FieldError{
			{"job_id", "must be a string, not an object"},
		}},
		{"long string for a number", `{"job_id":"j","timeout_seconds":"` + longValue + `"}`, []FieldError{
			{"timeout_seconds", `must be a whole number, not the string "` + strings.Repeat("x", 37) + `…"`},
		}},
		{"long unknown key", `{"job_id":"j","` + longKey + `":1}`, []FieldError{
			{strings.Repeat("k", 61) + "…", "is not a known field"},
		}},
		{"negative, too many digits", `{"job_id":"j","timeout_seconds":-99999999999999999999}`, []FieldError{
			{"timeout_seconds", "is a number far too negative"},
		}},
		{"negative fraction", `{"target":{"type":"simulated"},"backoff":{"multiplier":-1.5,"maxIntervalSeconds":60}}`, []FieldError{
			{"backoff.multiplier", "must be between 1 and 10"},
		}},
		{"fraction beyond float64", `{"target":{"type":"simulated"},"backoff":{"multiplier":1e400,"maxIntervalSeconds":60}}`, []FieldError{
			{"backoff.multiplier", "is a number far too large"},
		}},
		{"negative fraction beyond float64", `{"target":{"type":"simulated"},"backoff":{"multiplier":-1e400,"maxIntervalSeconds":60}}`, []FieldError{
			{"backoff.multiplier", "is a number far too negative"},
		}},
		// null leaves a field out, but an element or a header's value
		// cannot be left out: it is not read as "".
		{"null among the done values", `{"target":{"type":"http","url":"https://example.com/j","doneValues":["a",null]}}`, []FieldError{
			{"target.doneValues[1]", "must be a string, not null"},
		}},
		{"null for a header's value", `{"target":{"type":"http","url":"https://example.com/j","headers":{"X-A":null}}}`, []FieldError{
			{"target.headers.X-A", "must be a string, not null"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErrors(t, tt.body, tt.want)
		})
	}
}

// A whole number written with a fraction or an exponent (Python's
// json.dumps(30.0) writes "30.0") is that number; a fraction is not.
func TestWholeNumberSpellings(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"30", 30, true},
		{"30.0", 30, true},
		{"3e1", 30, true},
		{"3.0E+1", 30, true},
		{"300e-1", 30, true},
		{"-0.0", 0, true},
		{"0e99999999999999999999", 0, true},
		{"-3.0e1", -30, true},
		{"9007199254740993.0", 9007199254740993, true},
		{"9.223372036854775807e18", 9223372036854775807, true},
		{"30.5", 0, false},
		{"3e-1", 0, false},
		{"1e-400", 0, false},
		{"30.000000000000001", 0, false},
		{"29.9999999999999999", 0, false},
		{"9007199254740992.5", 0, false},
		{"1e-99999999999999999999", 0, false},
	} {
		var v struct {
			N int64 `json:"n"`
		}
		d := decodeStrict([]byte(`{"n":`+tt.text+`}`), &v)
		if ok := len(d.problems) == 0; ok != tt.ok || ok && v.N != tt.want {
			t.Errorf("%s: %d, problems %v; want %d, accepted %v", tt.text, v.N, d.problems, tt.want, tt.ok)
		}
		if !tt.ok && (len(d.problems) != 1 || d.problems[0].Problem != "must be a whole number, not "+tt.text) {
			t.Errorf("%s: problems %v, want one: must be a whole number", tt.text, d.problems)
		}
	}
}

// TestAnyJSONProblems: in a value taken as any JSON (an event's data), a
// number beyond float64's range is named where it is, as too large, and
// once, not again as its container's vague problem.
func TestAnyJSONProblems(t *testing.T) {
	tests := []struct {
		name, data string
		want       []FieldError // nil: accepted
	}{
		{"number", `1e400`, []FieldError{{"body", "is a number far too large"}}},
		{"negative number", `-1e400`, []FieldError{{"body", "is a number far too negative"}}},
		{"in an object", `{"a":1,"x":1e400}`, []FieldError{{"x", "is a number far too large"}}},
		{"deeper", `[1,{"y":[2,-1e400]}]`, []FieldError{{"[1].y[1]", "is a number far too negative"}}},
		{"with a repeated key", `{"a":1,"a":2,"b":1e400}`, []FieldError{{"a", "is given more than once"}, {"b", "is a number far too large"}}},
		{"within range", `{"x":1e308,"y":-9223372036854775809,"z":1e-400}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := repeatedKeys("test", []byte(tt.data))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid {
				t.Fatalf("error %v, want a KindInvalid *Error", err)
			}
			if !slices.Equal(e.Fields, tt.want) {
				t.Errorf("fields = %q, want %q", e.Fields, tt.want)
			}
		})
	}
}

// TestMergeKeepsOtherErrors pins what merge does with a validation result
// it cannot add decoding's problems to: an error of another kind, or an
// invalid one that names no field, is returned as it is, not dropped;
// and merged problems are one KindInvalid "invalid request" error of op.
func TestMergeKeepsOtherErrors(t *testing.T) {
	var r seedJobRequest
	clean := decodeStrict([]byte(`{"job_id":"j"}`), &r)
	for _, err := range []error{
		&Error{Kind: KindConflict, Message: "busy", Fields: []FieldError{{Field: "job_id", Problem: "is taken"}}},
		&Error{Kind: KindInvalid, Message: "request body is empty"},
		errors.New("store down"),
	} {
		if got := clean.merge("start", err); got != err {
			t.Errorf("merge(%v) = %v, want it returned as it is", err, got)
		}
	}
	if err := clean.merge("start", nil); err != nil {
		t.Errorf("merge(nil) with no problems = %v, want nil", err)
	}

	bad := decodeStrict([]byte(`{"job_id":5}`), &r)
	err := bad.merge("start", &Error{Kind: KindInvalid, Fields: []FieldError{{Field: "timeout_seconds", Problem: "is too long"}}})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindInvalid || e.Op != "start" || e.Message != "invalid request" || len(e.Fields) != 2 {
		t.Errorf("merge = %#v, want a KindInvalid start error, invalid request, with 2 fields", err)
	}
}
