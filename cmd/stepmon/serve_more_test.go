package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
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
