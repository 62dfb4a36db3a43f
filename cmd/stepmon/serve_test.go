package main

import (
	"os"
	"path/filepath"
	"testing"
)

// serve refuses a --definition it cannot run with one message that names
// the file and the problem, and exit status 1, before it listens.
func TestServeBadDefinition(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", " is not a valid state machine definition: INVALID_JSON_DESCRIPTION: unexpected EOF\n"},
		{"no start state", `{"StartAt":"X","States":{}}`,
			" is not a valid state machine definition: /StartAt: MISSING_TRANSITION_TARGET: missing 'Next' target: X\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(def, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--definition", def)
			if want := "stepmon: serve: " + def + tt.want; r.code != 1 || r.stderr != want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", r.code, r.stderr, want)
			}
		})
	}
}
