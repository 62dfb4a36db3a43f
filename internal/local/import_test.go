package local

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// TestImportStatusRecords opens a data directory of the earlier layout,
// with the status records in the engine's database file: New moves them
// to the status database.
func TestImportStatusRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := sqlitestore.Open(ctx, filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	rec := monitor.Record{InstanceID: "old-1", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: time.Now().UTC().Truncate(time.Second)}
	if err := old.Monitors().Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	for run := 1; run <= 2; run++ { // the second start finds nothing left to move
		rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatalf("start %d: %v", run, err)
		}
		got, err := rt.statusStore.Get(ctx, "old-1")
		if err != nil || got.RuntimeStatus != monitor.RuntimeCompleted {
			t.Errorf("start %d: Get(old-1) = %v, %v; want the imported record", run, got.RuntimeStatus, err)
		}
		var left int
		if err := rt.engineStore.DB().QueryRowContext(ctx, `SELECT count(*) FROM monitors`).Scan(&left); err != nil || left != 0 {
			t.Errorf("start %d: %d records left in %s (%v), want 0", run, left, DatabaseFile, err)
		}
		if err := rt.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
