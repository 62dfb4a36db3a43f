package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeConfigWithoutFlags: serve without flags keeps its data in
// .stepmon under the working directory and logs text at level info to
// standard error; the other tests all give --data.
func TestServeConfigWithoutFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	opts, err := serveConfig(&cli{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &stderr}, nil)
	if err != nil {
		t.Fatalf("serveConfig: %v", err)
	}
	if opts.cfg.DataDir != ".stepmon" {
		t.Errorf("DataDir %q, want .stepmon", opts.cfg.DataDir)
	}
	if opts.logJSON || opts.def != "" {
		t.Errorf("logJSON %v, def %q; want false and no definition file", opts.logJSON, opts.def)
	}
	logger := opts.cfg.Logger
	if ctx := context.Background(); !logger.Enabled(ctx, slog.LevelInfo) || logger.Enabled(ctx, slog.LevelDebug) {
		t.Errorf("the log takes info %v and debug %v; want info and not debug",
			logger.Enabled(ctx, slog.LevelInfo), logger.Enabled(ctx, slog.LevelDebug))
	}
	logger.Info("hello")
	if got := stderr.String(); !strings.Contains(got, "level=INFO msg=hello") {
		t.Errorf("log line %q, want a text line on standard error", got)
	}
}

// TestServeRefusesArguments: serve takes flags only; an argument (a
// mistyped flag's value, say) is a usage error before anything is
// created.
func TestServeRefusesArguments(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// Bounded, so that a serve that takes the argument stops and the
	// test fails instead of serving on.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", data, "extra")
	if want := "stepmon: serve takes no arguments; got [\"extra\"]\n"; r.code != 2 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory %s: %v; want it not created", data, err)
	}
}
