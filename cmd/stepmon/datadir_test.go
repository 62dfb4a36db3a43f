package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/local"
)

// serve refuses a data directory whose status.db is gone while monitors
// run, with one message naming both files, and exit status 1.
func TestServeRefusesMismatchedDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rt, err := local.New(ctx, local.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	body := `{"instanceId":"x","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":3600,"timeoutSeconds":86400}`
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = http.Post(rt.URL()+"/monitors", "application/json", strings.NewReader(body))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %s", resp.Status)
	}
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, local.StatusDatabaseFile)); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", dir)
	want := "stepmon: serve: local: the engine's database and the status store do not match: " +
		filepath.Join(dir, local.DatabaseFile) + " has 1 running monitor executions but " + filepath.Join(dir, local.StatusDatabaseFile) + " is missing"
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and one line starting:\n%s", r.code, r.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, local.StatusDatabaseFile)); err == nil {
		t.Errorf("the refused serve created %s", local.StatusDatabaseFile)
	}
}
