package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

func openDB(t testing.TB) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) monitor.Store { return openDB(t).Monitors() })
}

func TestPurgeExpired(t *testing.T) {
	s := openDB(t).Monitors()
	ctx := t.Context()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, purge := range []time.Duration{time.Hour, 2 * time.Hour, 0} {
		id := fmt.Sprintf("m%d", i)
		if err := s.Create(ctx, monitor.Record{InstanceID: id, RuntimeStatus: monitor.RuntimePending, CreatedTime: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, id, monitor.Event{Name: "a", RaisedAt: t0}); err != nil {
			t.Fatal(err)
		}
		f := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: t0}
		if purge > 0 {
			f.PurgeAt = t0.Add(purge)
		}
		if err := s.Finish(ctx, id, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, monitor.Record{InstanceID: "live", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		now  time.Time
		want int
		left []string
	}{
		{t0.Add(time.Hour - time.Second), 0, []string{"m0", "m1", "m2", "live"}},
		{t0.Add(time.Hour), 1, []string{"m1", "m2", "live"}},
		{t0.Add(24 * time.Hour), 1, []string{"m2", "live"}},
		{t0.Add(24 * time.Hour), 0, []string{"m2", "live"}},
	}
	for i, tc := range cases {
		n, err := s.PurgeExpired(ctx, tc.now, 0)
		if err != nil || n != tc.want {
			t.Fatalf("step %d: PurgeExpired = %d, %v; want %d", i, n, err, tc.want)
		}
		for _, id := range tc.left {
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("step %d: Get(%s): %v", i, id, err)
			}
		}
	}
	if _, err := s.Get(ctx, "m0"); !monitor.IsKind(err, monitor.KindNotFound) {
		t.Fatalf("Get(m0) after purge: %v, want not found", err)
	}
}

// TestRetimePurge: a changed retention period re-times the purge of the
// records that finished before the change, in both directions, and leaves
// running records alone.
func TestRetimePurge(t *testing.T) {
	s := openDB(t).Monitors()
	ctx := t.Context()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		id := fmt.Sprintf("done%d", i)
		if err := s.Create(ctx, monitor.Record{InstanceID: id, RuntimeStatus: monitor.RuntimePending, CreatedTime: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: at, PurgeAt: at.Add(week)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, monitor.Record{InstanceID: "live", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0, PurgeAt: t0.Add(week)}); err != nil {
		t.Fatal(err)
	}

	// Lowered to a minute: both finished records are due a minute after
	// they finished.
	if n, last, err := s.RetimePurge(ctx, time.Minute, "", 1); err != nil || n != 1 || last != "done0" {
		t.Fatalf("RetimePurge(1 min, batch 1) = %d, %q, %v; want 1, done0", n, last, err)
	}
	if n, last, err := s.RetimePurge(ctx, time.Minute, "done0", 0); err != nil || n != 1 || last != "done1" {
		t.Fatalf("second RetimePurge(1 min) = %d, %q, %v; want the other record", n, last, err)
	}
	if n, _, err := s.RetimePurge(ctx, time.Minute, "", 0); err != nil || n != 0 {
		t.Fatalf("RetimePurge with nothing to change = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeExpired(ctx, t0.Add(time.Minute), 0); err != nil || n != 1 {
		t.Fatalf("PurgeExpired a minute after the first finish = %d, %v; want 1", n, err)
	}

	// Raised to a day: the other record now stays a day after it finished.
	if n, _, err := s.RetimePurge(ctx, 24*time.Hour, "", 0); err != nil || n != 1 {
		t.Fatalf("RetimePurge(1 day) = %d, %v; want 1", n, err)
	}
	if n, err := s.PurgeExpired(ctx, t0.Add(2*time.Hour), 0); err != nil || n != 0 {
		t.Fatalf("PurgeExpired before the day has passed = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeExpired(ctx, t0.Add(time.Hour+24*time.Hour), 0); err != nil || n != 1 {
		t.Fatalf("PurgeExpired a day after the second finish = %d, %v; want 1", n, err)
	}
	rec, err := s.Get(ctx, "live")
	if err != nil {
		t.Fatalf("the running record: %v", err)
	}
	if !rec.PurgeAt.Equal(t0.Add(week)) {
		t.Errorf("the running record's purge time moved to %v", rec.PurgeAt)
	}
}

func TestReopen(t *testing.T) {
	// Migrations run once; a second Open of the file sees the data.
	path := filepath.Join(t.TempDir(), "stepmon.db")
	ctx := t.Context()
	db, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Monitors().Create(ctx, monitor.Record{InstanceID: "m1", RuntimeStatus: monitor.RuntimePending, CreatedTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A second handle on the same file at the same time, as another
	// process would have.
	other, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	if err := other.Monitors().Create(ctx, monitor.Record{InstanceID: "m1", RuntimeStatus: monitor.RuntimePending, CreatedTime: time.Now()}); !monitor.IsKind(err, monitor.KindConflict) {
		t.Fatalf("Create through the second handle: %v, want conflict", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, err := db.Monitors().Get(ctx, "m1"); err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	var n int
	want := sqlitestore.SchemaSteps("monitor")
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE schema = 'monitor'`).Scan(&n); err != nil || want == 0 || n != want {
		t.Fatalf("monitor migrations recorded = %d, %v; want %d, one a step", n, err, want)
	}
}

// A database that a newer stepmon migrated further than this one knows
// is refused, unchanged, with an error that says so.
func TestOpenRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stepmon.db")
	ctx := t.Context()
	db, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (schema, version, applied_at) VALUES ('engine', 99, '2027-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlitestore.Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database at engine version 99 = nil error, want one")
	}
	for _, want := range []string{path, "a newer stepmon wrote it", "engine tables are at schema version 99", "run the stepmon that last used this directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestOpenRejectsURIs(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro", "x.db#f"} {
		if db, err := sqlitestore.Open(t.Context(), p); err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error, want one", p)
		}
	}
}

// TestDatabaseFilesOwnerOnly: the database and its WAL files are readable
// by their owner only (the monitors' specs may hold tokens), also when an
// earlier version created them readable by all.
func TestDatabaseFilesOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits to check")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "stepmon.db")
	if err := os.WriteFile(path+"-old", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-group", nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
	}{{"new", path}, {"earlier, readable by all", path + "-old"}, {"earlier, readable by its group", path + "-group"}} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlitestore.Open(t.Context(), tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Monitors().Create(t.Context(), monitor.Record{InstanceID: "m", RuntimeStatus: monitor.RuntimePending, CreatedTime: time.Now()}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{tc.path, tc.path + "-wal", tc.path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatalf("stat: %v", err)
				}
				if perm := fi.Mode().Perm(); perm&0o077 != 0 {
					t.Errorf("%s has permissions %v, want none for group and others", filepath.Base(p), perm)
				}
			}
		})
	}
}

// TestTaskWritesCompareCreatedToTheMicrosecond: the store keeps created
// times in microseconds, so a task's write names its record to the
// microsecond: a time within the microsecond the record was created in
// names it, one a microsecond off names another monitor.
func TestTaskWritesCompareCreatedToTheMicrosecond(t *testing.T) {
	s := openDB(t).Monitors()
	ctx := t.Context()
	created := time.Date(2025, 1, 1, 0, 0, 0, 123_456_789, time.UTC) // µs 123456, and 789 ns
	for _, tc := range []struct {
		name  string
		named time.Time
		gone  bool
	}{
		{"the time as created", created, false},
		{"the microsecond, truncated", created.Truncate(time.Microsecond), false},
		{"later in the same microsecond", created.Truncate(time.Microsecond).Add(999 * time.Nanosecond), false},
		{"the next microsecond", created.Truncate(time.Microsecond).Add(time.Microsecond), true},
		{"the microsecond before", created.Truncate(time.Microsecond).Add(-time.Nanosecond), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			if err := s.Create(ctx, monitor.Record{InstanceID: id, RuntimeStatus: monitor.RuntimePending, CreatedTime: created}); err != nil {
				t.Fatal(err)
			}
			cs := monitor.CustomStatus{JobID: id, Status: monitor.StatusRunning, CheckCount: 1, LastCheckTime: created}
			applied, err := s.RecordCheck(ctx, id, monitor.CheckUpdate{CustomStatus: cs, At: created, Created: tc.named})
			if tc.gone {
				if !monitor.IsKind(err, monitor.KindGone) {
					t.Fatalf("RecordCheck = %v, %v; want %s", applied, err, monitor.KindGone)
				}
				return
			}
			if err != nil || !applied {
				t.Fatalf("RecordCheck = %v, %v; want applied", applied, err)
			}
		})
	}
}

// A continuation token in the store's own form that names no record id is
// no position in the list: List refuses it (KindInvalid) rather than
// answering a page from it.
func TestListTokenWithoutID(t *testing.T) {
	s := openDB(t).Monitors()
	tok := monitor.EncodeToken(struct {
		Created int64  `json:"c"`
		ID      string `json:"i"`
	}{Created: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC).UnixMicro()})
	_, err := s.List(context.Background(), monitor.ListQuery{ContinuationToken: tok})
	if !monitor.IsKind(err, monitor.KindInvalid) {
		t.Fatalf("List(token without an id) = %v (kind %s), want %s", err, monitor.KindOf(err), monitor.KindInvalid)
	}
}
