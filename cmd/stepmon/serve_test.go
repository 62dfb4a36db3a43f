package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
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

// The JSON log writes durations as text, as the text log does.
func TestJSONLogDurations(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&cli{stderr: &buf}, "info", true)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("listening", "startup", 268*time.Millisecond, "group", slog.GroupValue(slog.Duration("p99", 1500*time.Millisecond)))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if got["startup"] != "268ms" || got["group"].(map[string]any)["p99"] != "1.5s" {
		t.Errorf("log line %s: want startup 268ms and group.p99 1.5s", buf.String())
	}
}
