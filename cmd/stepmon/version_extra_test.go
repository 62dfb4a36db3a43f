package main

import (
	"runtime"
	"testing"
)

// TestVersionLine pins what "stepmon version" prints: the version set at
// build time, or "(devel)" without one, then the Go version, on one line
// with single spaces.
func TestVersionLine(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	tests := []struct{ set, want string }{
		{"v1.2.3", "stepmon v1.2.3 " + runtime.Version() + "\n"},
		{"", "stepmon (devel) " + runtime.Version() + "\n"},
	}
	for _, tt := range tests {
		version = tt.set
		res := runCLI(t.Context(), "http://127.0.0.1:1", "version")
		if res.code != 0 || res.stdout != tt.want {
			t.Errorf("version %q: exit %d, stdout %q; want 0 and %q", tt.set, res.code, res.stdout, tt.want)
		}
	}
}

// TestVersionRefusesArguments: version takes no arguments, as list, serve
// and demo take none: an argument is a mistake to report, not to ignore.
func TestVersionRefusesArguments(t *testing.T) {
	res := runCLI(t.Context(), "http://127.0.0.1:1", "version", "extra")
	if want := "stepmon: version takes no arguments; got [\"extra\"]\n"; res.code != 2 || res.stdout != "" || res.stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, nothing, %q", res.code, res.stdout, res.stderr, want)
	}
}
