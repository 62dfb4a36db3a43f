package engine

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"monitor-1_a", true},
		{"a.b-é", true},
		{"日本語", true},
		{strings.Repeat("é", 80), true},
		{strings.Repeat("é", 81), false},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a\u0085b", false},
		{"a\x7fb", false},
		{"a:b", false},
		{"a/b", false},
		{"a*b", false},
		{"a{b}", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		if got := ValidName(tt.name); got != tt.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
