package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// seedRunning runs a runtime on dir, starts n monitors that check every
// 2 s and never complete, waits until each has its execution recorded, and shuts the runtime
// down: the data directory then holds n RUNNING executions and n live
// status records.
func seedRunning(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Shutdown(context.Background()) }) // on a failure; the test shuts it down itself
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	waitHealthy(t, rt.URL())
	for i := range n {
		body := fmt.Sprintf(`{"instanceId":"slow-%d","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":2,"timeoutSeconds":86400}`, i)
		wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
	}
	for i := range n {
		deadline := time.Now().Add(10 * time.Second)
		for {
			rec, err := rt.statusStore.Get(ctx, fmt.Sprintf("slow-%d", i))
			if err == nil && rec.RuntimeStatus == monitor.RuntimeRunning && rec.ExecutionArn != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("slow-%d never ran: %+v, %v", i, rec, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// wantRefused starts a runtime on dir and wants it refused with
// ErrStoresMismatch, in an error that names both files and what to do.
func wantRefused(t *testing.T, cfg Config, wants ...string) {
	t.Helper()
	ctx := context.Background()
	cfg.Addr, cfg.Logger = "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil))
	rt, err := New(ctx, cfg)
	if err == nil {
		// Not refused: New re-arms nothing, so the executions are
		// still as they were for the caller's checks.
		rt.Shutdown(ctx)
		t.Errorf("start on the inconsistent data directory was not refused, want ErrStoresMismatch")
		return
	}
	if !errors.Is(err, ErrStoresMismatch) {
		t.Errorf("start on the inconsistent data directory: %v, want ErrStoresMismatch", err)
		return
	}
	msg := err.Error()
	for _, want := range append([]string{filepath.Join(cfg.DataDir, DatabaseFile), "Restore", "from the same backup", "--data"}, wants...) {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if cfg.DynamoDBEndpoint == "" && !strings.Contains(msg, filepath.Join(cfg.DataDir, StatusDatabaseFile)) {
		t.Errorf("error %q does not name %s", msg, StatusDatabaseFile)
	}
}

// runningExecutions counts the RUNNING executions of the monitor state
// machine in dir's engine database.
func runningExecutions(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	s, err := sqlitestore.OpenEngineStore(ctx, filepath.Join(dir, DatabaseFile), sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	smArn := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", localRegion, localAccount, StateMachineName)
	all, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range all {
		if x.Status == engine.StatusRunning {
			n++
		} else {
			t.Errorf("execution %s is %s (%s: %s), want RUNNING", x.Name, x.Status, x.Error, x.Cause)
		}
	}
	return n
}

// A status.db missing or empty while stepmon.db holds running monitors:
// the start is refused before any execution is re-armed (each would fail
// for good at its next check, its record not found), and no fresh
// status.db is made.
func TestStartRefusedWithoutStatusDatabase(t *testing.T) {
	for _, how := range []string{"removed", "empty"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			seedRunning(t, dir, 3)
			status := filepath.Join(dir, StatusDatabaseFile)
			spoil(t, status, how)
			wantRefused(t, Config{DataDir: dir}, "3 running")
			wantSpoiled(t, status, how)
			if n := runningExecutions(t, dir); n != 3 {
				t.Errorf("%d executions RUNNING after the refused start, want 3", n)
			}
		})
	}
}

// A stepmon.db missing or empty while status.db holds live records: the
// start is refused (the monitors would show Running for ever), and no
// fresh stepmon.db is made.
func TestStartRefusedWithoutEngineDatabase(t *testing.T) {
	for _, how := range []string{"removed", "empty"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			seedRunning(t, dir, 2)
			db := filepath.Join(dir, DatabaseFile)
			spoil(t, db, how)
			wantRefused(t, Config{DataDir: dir}, "2 running or pending")
			wantSpoiled(t, db, how)
			st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, StatusDatabaseFile))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for i := range 2 {
				rec, err := st.Monitors().Get(context.Background(), fmt.Sprintf("slow-%d", i))
				if err != nil || rec.RuntimeStatus != monitor.RuntimeRunning {
					t.Errorf("slow-%d after the refused start: %s, %v; want Running", i, rec.RuntimeStatus, err)
				}
			}
		})
	}
}

// The cross-check lets a normal restart, a fresh directory, and a
// directory whose status records have all finished (their executions
// purged) start.
func TestStartCrossCheckPasses(t *testing.T) {
	t.Run("restart", func(t *testing.T) {
		dir := t.TempDir()
		seedRunning(t, dir, 2)
		rt := newTestRuntimeWith(t, Config{DataDir: dir})
		if n, _ := rt.Recovered(); n != 2 {
			t.Errorf("%d executions re-armed, want 2", n)
		}
		a := call(t, http.MethodGet, rt.URL()+"/monitors/slow-1", "")
		if rec := a.json(t); rec["runtimeStatus"] != "Running" {
			t.Errorf("slow-1 after the restart: %v, want Running", rec["runtimeStatus"])
		}
	})
	t.Run("fresh", func(t *testing.T) {
		newTestRuntimeWith(t, Config{DataDir: filepath.Join(t.TempDir(), "new")})
	})
	t.Run("records in the engine's file", func(t *testing.T) {
		// A data directory of the layout before status.db: the records
		// are in stepmon.db, and New moves them.
		ctx := context.Background()
		dir := t.TempDir()
		seedRunning(t, dir, 2)
		db, err := sqlitestore.Open(ctx, filepath.Join(dir, DatabaseFile))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `ATTACH DATABASE ? AS st; INSERT INTO main.monitors SELECT * FROM st.monitors; DETACH DATABASE st`,
			filepath.Join(dir, StatusDatabaseFile)); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, StatusDatabaseFile)); err != nil {
			t.Fatal(err)
		}
		rt := newTestRuntimeWith(t, Config{DataDir: dir})
		if n, _ := rt.Recovered(); n != 2 {
			t.Errorf("%d executions re-armed, want 2", n)
		}
		if rec, err := rt.statusStore.Get(ctx, "slow-0"); err != nil || rec.RuntimeStatus != monitor.RuntimeRunning {
			t.Errorf("slow-0 after the import: %s, %v; want Running", rec.RuntimeStatus, err)
		}
	})
	t.Run("finished records only", func(t *testing.T) {
		dir := t.TempDir()
		rt := newTestRuntimeWith(t, Config{DataDir: dir})
		body := `{"instanceId":"done","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
		wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
		waitFinal(t, rt.URL()+"/monitors/done", 10*time.Second)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, DatabaseFile)); err != nil {
			t.Fatal(err)
		}
		newTestRuntimeWith(t, Config{DataDir: dir})
	})
}

// spoil removes the database file at path, or empties it, as how says
// ("removed" or "empty").
func spoil(t *testing.T, path, how string) {
	t.Helper()
	var err error
	if how == "removed" {
		err = os.Remove(path)
	} else {
		err = os.Truncate(path, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// wantSpoiled fails the test unless the file spoil left at path is still
// as it left it: a refused start neither creates nor fills it.
func wantSpoiled(t *testing.T, path, how string) {
	t.Helper()
	fi, err := os.Stat(path)
	switch {
	case how == "removed" && !errors.Is(err, os.ErrNotExist):
		t.Errorf("the refused start left %s: %v", path, err)
	case how == "empty" && (err != nil || fi.Size() != 0):
		t.Errorf("the refused start changed the empty %s: %v", path, err)
	}
}
