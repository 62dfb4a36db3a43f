package suggest_test

import (
	"slices"
	"testing"

	"github.com/stepmon/stepmon/internal/suggest"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"status", "status", 0},
		{"stauts", "status", 1}, // a swap of neighbours is one edit
		{"stat", "start", 1}, {"stauts", "start", 2}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := suggest.Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := suggest.Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestLike(t *testing.T) {
	commands := []string{"start", "status", "stop", "serve", "list"}
	fields := []string{"instanceId", "pollingIntervalSeconds", "timeoutSeconds", "target"}
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"stat", commands, []string{"status", "start"}}, // both begin so: the prefix ranks first, in order
		{"stauts", commands, []string{"status", "start"}},
		{"s", commands, nil}, // too many alike
		{"", commands, nil},
		{"lsit", commands, []string{"list"}},
		{"zzz", commands, nil},
		{"pollingInterval", fields, []string{"pollingIntervalSeconds"}},
		{"timeoutseconds", fields, []string{"timeoutSeconds"}}, // case is ignored, the name returned as given
		{"targt", fields, []string{"target"}},
		// Underscores and hyphens are ignored: one shape's spelling in
		// another, a flag written with an underscore.
		{"pollingInterval", []string{"job_id", "polling_interval_seconds"}, []string{"polling_interval_seconds"}},
		{"http_timeout", []string{"http-timeout", "help"}, []string{"http-timeout"}},
		{"__", commands, nil},
	}
	for _, tt := range tests {
		if got := suggest.Like(tt.name, tt.names); !slices.Equal(got, tt.want) {
			t.Errorf("Like(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
