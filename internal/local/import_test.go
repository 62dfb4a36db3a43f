package local

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// TestImportStatusRecords opens a data directory of the earlier layout,
// with the status records in the engine's database file: New moves them
// to the status database, with their events; a record the status
// database already holds (a start cut short between the copy and the
// delete) is kept as it is there.
func TestImportStatusRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := sqlitestore.Open(ctx, filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Second)
	for _, rec := range []monitor.Record{
		{InstanceID: "old-1", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: created},
		{InstanceID: "old-2", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: created},
		{InstanceID: "both", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: created},
	} {
		if err := old.Monitors().Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Monitors().AddEvent(ctx, "old-2", monitor.Event{Name: "complete", RaisedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	copied, err := sqlitestore.Open(ctx, filepath.Join(dir, StatusDatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := copied.Monitors().Create(ctx, monitor.Record{InstanceID: "both", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: created}); err != nil {
		t.Fatal(err)
	}
	if err := copied.Close(); err != nil {
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
		got, err = rt.statusStore.Get(ctx, "old-2")
		if err != nil || len(got.Events) != 1 || got.Events[0].Name != "complete" {
			t.Errorf("start %d: Get(old-2) events %+v, %v; want the imported event", run, got.Events, err)
		}
		if got, err := rt.statusStore.Get(ctx, "both"); err != nil || got.RuntimeStatus != monitor.RuntimeRunning {
			t.Errorf("start %d: Get(both) = %v, %v; want the status database's record (Running)", run, got.RuntimeStatus, err)
		}
		for _, table := range []string{"monitors", "monitor_events"} {
			var left int
			if err := rt.engineStore.DB().QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&left); err != nil || left != 0 {
				t.Errorf("start %d: %d rows left in %s of %s (%v), want 0", run, left, table, DatabaseFile, err)
			}
		}
		if err := rt.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportStatusRecordsDamagedFile: an engine database file whose
// schema cannot be read stops the start with the import's error (SQLite
// refuses it at ATTACH).
func TestImportStatusRecordsDamagedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	enginePath := filepath.Join(dir, DatabaseFile)
	// A database whose header is sound and whose schema page is not.
	engine, err := sqlitestore.OpenEngineStore(ctx, enginePath, sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(enginePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 1024), 100); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, StatusDatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = importStatusRecords(ctx, db, enginePath)
	if err == nil || !strings.Contains(err.Error(), "import status records") {
		t.Fatalf("importStatusRecords(damaged file) = %v, want an error naming the import", err)
	}
}

// TestImportStatusRecordsQueryFails: a failed look for the status tables
// after ATTACH (a busy database, an I/O error; here a query that cannot
// run) is an error, not a data directory without records to move, which
// would leave the records behind unseen while serve ran without them.
func TestImportStatusRecordsQueryFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	engine, err := sqlitestore.OpenEngineStore(ctx, filepath.Join(dir, DatabaseFile), sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, StatusDatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer func(q string) { statusTablesQuery = q }(statusTablesQuery)
	statusTablesQuery = `SELECT count(*) FROM old.no_such_table`
	err = importStatusRecords(ctx, db, filepath.Join(dir, DatabaseFile))
	if err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("importStatusRecords with the look failing = %v, want its error", err)
	}
}
