package main

import (
	"strings"
	"testing"
)

// JSON typed on the command line on Windows gets, when it is not JSON,
// the advice to give it in a file: cmd keeps '...' quotes and Windows
// PowerShell 5.1 drops the double quotes inside them, so the README's
// examples reach stepmon broken there. Nowhere else, and never for JSON
// read from a file.
func TestInlineJSONHint(t *testing.T) {
	tests := []struct {
		inline bool
		goos   string
		want   string
	}{
		{true, "windows", "give it in a file, --data-file FILE)"},
		{false, "windows", ""},
		{true, "linux", ""},
		{true, "darwin", ""},
	}
	for _, tt := range tests {
		got := inlineJSONHint(tt.inline, tt.goos, "--data-file FILE")
		if tt.want == "" && got != "" || tt.want != "" && !strings.HasSuffix(got, tt.want) {
			t.Errorf("inlineJSONHint(%v, %s) = %q, want %q", tt.inline, tt.goos, got, tt.want)
		}
	}
}
