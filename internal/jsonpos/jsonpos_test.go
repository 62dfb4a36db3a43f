package jsonpos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func TestPosition(t *testing.T) {
	text := []byte("ab\ncdé\nf")
	tests := []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1},
		{7, 2, 4},  // after é, two bytes, one character
		{8, 3, 1},  // f
		{9, 3, 2},  // the end
		{99, 3, 2}, // past the end
		{-1, 1, 1},
	}
	for _, tt := range tests {
		if line, col := Position(text, tt.off); line != tt.line || col != tt.col {
			t.Errorf("Position(%d) = line %d, column %d; want %d, %d", tt.off, line, col, tt.line, tt.col)
		}
	}
}

// TestDescribe: a syntax error is placed by line and column, from
// json.Unmarshal and from a json.Decoder alike; JSON cut short is said to
// be, at the end of its text; other errors are not described.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"one line", `{"a":1 x}`, "invalid character 'x' after object key:value pair (line 1, column 8)"},
		{"lines", "{\n  \"a\": 1,\n  \"b\": tru\n}", "invalid character '\\n' in literal true (expecting 'e') (line 3, column 11)"},
		{"column in characters", "{\n\"é\": x}", "invalid character 'x' looking for beginning of value (line 2, column 6)"},
		{"cut short", `{"job_id":`, "the JSON ends before its last value is complete (line 1, column 11, the end)"},
		{"cut short, lines", "{\n  \"job_id\": \"j\",\n", "the JSON ends before its last value is complete (line 2, column 17, the end)"},
		{"cut short, a line break", "{\"job_id\":\n\n", "the JSON ends before its last value is complete (line 1, column 11, the end)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := []byte(tt.text)
			var v any
			if got, ok := Describe(text, 0, json.Unmarshal(text, &v)); !ok || got != tt.want {
				t.Errorf("after Unmarshal: %q, %v\nwant %q", got, ok, tt.want)
			}
			if got, ok := Describe(text, 0, json.NewDecoder(bytes.NewReader(text)).Decode(&v)); !ok || got != tt.want {
				t.Errorf("after Decode: %q, %v\nwant %q", got, ok, tt.want)
			}
		})
	}
	var n int
	if got, ok := Describe([]byte(`"x"`), 0, json.Unmarshal([]byte(`"x"`), &n)); ok {
		t.Errorf("a type error described as %q", got)
	}
}

// TestSkip: an error of decoding a part of the text (a body its leading
// blank lines were cut from) is placed in the whole text.
func TestSkip(t *testing.T) {
	text := []byte("\n\n  {\"a\": x}")
	skip := 4
	var v any
	err := json.Unmarshal(text[skip:], &v)
	if line, col, ok := Locate(text, skip, err); !ok || line != 3 || col != 9 {
		t.Errorf("Locate = line %d, column %d, %v; want line 3, column 9", line, col, ok)
	}
}

func TestNotUTF8(t *testing.T) {
	tests := []struct {
		text, want string
		bad        bool
	}{
		{"{\"a\":\"é\"}", "", false},
		{"{\"a\":\n\"\xff\"}", "byte 0xFF at line 2, column 2", true},
		{"\"d\xc3\"", "byte 0xC3 at line 1, column 3", true}, // a character cut short
		{"", "", false},
	}
	for _, tt := range tests {
		if got, bad := NotUTF8([]byte(tt.text)); got != tt.want || bad != tt.bad {
			t.Errorf("NotUTF8(%q) = %q, %v; want %q, %v", tt.text, got, bad, tt.want, tt.bad)
		}
	}
}

// TestLocateOtherErrors: an error that is no syntax error, or text cut
// short, has no place; a syntax error wrapped in another error has.
func TestLocateOtherErrors(t *testing.T) {
	var n int
	text := []byte(`"x"`)
	if _, _, ok := Locate(text, 0, json.Unmarshal(text, &n)); ok {
		t.Error("a type error located")
	}
	cut := []byte(`{"a":`)
	if _, _, ok := Locate(cut, 0, json.Unmarshal(cut, new(any))); ok {
		t.Error("text cut short located")
	}
	bad := []byte("{\n x}")
	wrapped := fmt.Errorf("parse: %w", json.Unmarshal(bad, new(any)))
	if line, col, ok := Locate(bad, 0, wrapped); !ok || line != 2 || col != 2 {
		t.Errorf("a wrapped syntax error: line %d, column %d, %v; want line 2, column 2", line, col, ok)
	}
	if msg, _ := Describe(bad, 0, wrapped); msg != "invalid character 'x' looking for beginning of object key string (line 2, column 2)" {
		t.Errorf("Describe of a wrapped syntax error = %q, without the wrapper's words", msg)
	}
}

func TestLoneSurrogate(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{`"abc"`, false},
		{`"\ud83d\ude00"`, false},      // a pair
		{`"\uD83D\uDE00x"`, false},     // a pair, upper-case
		{`"\u00e9\u2028"`, false},      // not surrogates
		{`"\\ud800"`, false},           // an escaped backslash, then text
		{`"\\\ud800"`, true},           // an escaped backslash, then a lone high
		{`"\ud800"`, true},             // a lone high at the end
		{`"\ud800x"`, true},            // a high followed by text
		{`"\ud800\n"`, true},           // a high followed by another escape
		{`"\ud800\u0041"`, true},       // a high followed by no low
		{`"\ud800\ud800\udc00"`, true}, // two highs
		{`"\udc00"`, true},             // a lone low
		{`"\ud83d\ude00\ude00"`, true}, // a pair, then a lone low
		{`{"a":"\ud83d\ude00","b":"x"}`, false},
		{`{"a":"x","name":"\udfff"}`, true},
		{`"\u12"`, false}, // not JSON: its decoder's to say
	}
	for _, tt := range tests {
		if got := LoneSurrogate([]byte(tt.text)); got != tt.want {
			t.Errorf("LoneSurrogate(%s) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
