package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"

	sqlite3 "modernc.org/sqlite/lib"
)

// A write that fails because the database is full is KindUnavailable, so
// the check task reports a TransientError, which the state machine
// retries, instead of a PermanentError that fails the monitor. Once there
// is room again the same write succeeds.
func TestDiskFullIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "status.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.Monitors()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spec := monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 4, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: 5, TimeoutSeconds: 30}
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: t0, LastUpdatedTime: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// A full disk, as SQLite reports it: no page beyond those in use.
	var pages int
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	u := monitor.CheckUpdate{At: t0.Add(time.Second), CustomStatus: monitor.CustomStatus{JobID: "job-1", Status: "Running", CheckCount: 1,
		LastCheckTime: t0.Add(time.Second), Detail: strings.Repeat("x", 64<<10)}}
	_, err = s.RecordCheck(ctx, "m1", u)
	if !monitor.IsKind(err, monitor.KindUnavailable) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("RecordCheck on a full database: got %v (kind %q), want KindUnavailable saying the disk is full", err, monitor.KindOf(err))
	}
	var te *monitor.TransientError
	if !errors.As(monitor.TaskError(err), &te) {
		t.Errorf("TaskError(%v) = %T, want *TransientError", err, monitor.TaskError(err))
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if applied, err := s.RecordCheck(ctx, "m1", u); err != nil || !applied {
		t.Fatalf("RecordCheck with room again: applied %v, %v", applied, err)
	}
	rec, err := s.Get(ctx, "m1")
	if err != nil || rec.CustomStatus == nil || rec.CustomStatus.CheckCount != 1 {
		t.Fatalf("record after the retry: %+v, %v", rec.CustomStatus, err)
	}
}

// unavailable tells SQLite's reports of the machine's condition, whose
// extended codes included, from those of the request.
func TestUnavailableReasons(t *testing.T) {
	tests := []struct {
		code int
		want string // "" for not unavailable
	}{
		{sqlite3.SQLITE_BUSY, "the database is busy"},
		{sqlite3.SQLITE_BUSY_SNAPSHOT, "the database is busy"},
		{sqlite3.SQLITE_LOCKED, "the database is busy"},
		{sqlite3.SQLITE_FULL, "the database or the disk is full"},
		{sqlite3.SQLITE_IOERR_SHMSIZE, "the database file cannot be read or written"},
		{sqlite3.SQLITE_CANTOPEN, "the database file cannot be opened"},
		{sqlite3.SQLITE_READONLY, "the database file is read-only"},
		{sqlite3.SQLITE_NOMEM, "out of memory"},
		{sqlite3.SQLITE_CONSTRAINT_UNIQUE, ""},
		{sqlite3.SQLITE_ERROR, ""},
	}
	for _, tt := range tests {
		err := fmt.Errorf("write: %w", &codedError{"sqlite error", tt.code})
		reason, ok := unavailable(err)
		if reason != tt.want || ok != (tt.want != "") {
			t.Errorf("unavailable(code %d) = %q, %v; want %q, %v", tt.code, reason, ok, tt.want, tt.want != "")
		}
	}
	if reason, ok := unavailable(errors.New("no code")); ok || reason != "" {
		t.Errorf("unavailable(an error without a code) = %q, %v; want not unavailable", reason, ok)
	}
}
