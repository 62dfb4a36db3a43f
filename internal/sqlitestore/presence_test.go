package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// TestPresence: the start-up reads of whether a machine has executions
// and a status store has records, live ones with an execution.
func TestPresence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	es := openEngineStore(t, filepath.Join(dir, "engine.db"))
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, "status.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.Monitors()

	has := func(status engine.ExecutionStatus, want bool, wantN int) {
		t.Helper()
		if ok, err := es.HasExecutions(ctx, testSM, status); err != nil || ok != want {
			t.Errorf("HasExecutions(%q) = %v, %v; want %v", status, ok, err, want)
		}
		if n, err := es.CountExecutions(ctx, testSM, status); err != nil || n != wantN {
			t.Errorf("CountExecutions(%q) = %d, %v; want %d", status, n, err, wantN)
		}
	}
	live := func(records, want bool, wantN int) {
		t.Helper()
		if ok, err := st.HasRecords(ctx); err != nil || ok != records {
			t.Errorf("HasRecords = %v, %v; want %v", ok, err, records)
		}
		if ok, err := st.HasLiveExecutions(ctx); err != nil || ok != want {
			t.Errorf("HasLiveExecutions = %v, %v; want %v", ok, err, want)
		}
		if n, err := st.CountLiveExecutions(ctx); err != nil || n != wantN {
			t.Errorf("CountLiveExecutions = %d, %v; want %d", n, err, wantN)
		}
	}
	has("", false, 0)
	live(false, false, 0)

	createBenchExecutions(t, es, 2)
	has("", true, 2)
	has(engine.StatusRunning, true, 2)
	has(engine.StatusSucceeded, false, 0)
	if ok, err := es.HasExecutions(ctx, testSM+"-other", ""); err != nil || ok {
		t.Errorf("HasExecutions of another machine = %v, %v; want false", ok, err)
	}

	now := time.Now().UTC().Truncate(time.Second)
	rec := func(id string, s monitor.RuntimeStatus, arn string) {
		r := monitor.Record{InstanceID: id, Name: id, RuntimeStatus: s, CreatedTime: now, ExpiresAt: now.Add(time.Hour), ExecutionArn: arn}
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rec("claim", monitor.RuntimePending, "") // a claim: no execution yet
	rec("done", monitor.RuntimeCompleted, testExec+"done")
	live(true, false, 0)
	rec("run", monitor.RuntimeRunning, testExec+"run")
	rec("starting", monitor.RuntimePending, testExec+"starting")
	live(true, true, 2)
}

// BenchmarkPresence measures the start-up cross-check's reads at 100,000
// running monitors: an execution and a live record each, in two files
// (the local runtime's layout). Their counts, read only for the error of
// a refused start, are measured apart.
func BenchmarkPresence(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	dir := b.TempDir()
	edb, err := sqlitestore.Open(ctx, filepath.Join(dir, "engine.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer edb.Close()
	if _, err := edb.SQL().ExecContext(ctx, `WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < ?)
		INSERT INTO engine_executions (arn, name, state_machine_arn, status, input, start_date)
		SELECT ? || x, 'm-' || x, ?, 'RUNNING', '{}', x FROM i`, n, testExec, testSM); err != nil {
		b.Fatal(err)
	}
	es, err := sqlitestore.NewEngineStore(ctx, edb.SQL())
	if err != nil {
		b.Fatal(err)
	}
	defer es.Close()
	sdb, err := sqlitestore.Open(ctx, filepath.Join(dir, "status.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sdb.Close()
	if _, err := sdb.SQL().ExecContext(ctx, `WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < ?)
		INSERT INTO monitors (instance_id, name, runtime_status, input, created_time, execution_arn)
		SELECT 'm-' || x, 'm', 'Running', '{}', x, ? || x FROM i`, n, testExec); err != nil {
		b.Fatal(err)
	}
	st := sdb.Monitors()

	b.Run("checks", func(b *testing.B) {
		for b.Loop() {
			running, err1 := es.HasExecutions(ctx, testSM, engine.StatusRunning)
			records, err2 := st.HasRecords(ctx)
			any, err3 := es.HasExecutions(ctx, testSM, "")
			live, err4 := st.HasLiveExecutions(ctx)
			if !running || !records || !any || !live || err1 != nil || err2 != nil || err3 != nil || err4 != nil {
				b.Fatal("the checks did not see the rows")
			}
		}
	})
	b.Run("counts", func(b *testing.B) {
		for b.Loop() {
			x, err1 := es.CountExecutions(ctx, testSM, engine.StatusRunning)
			l, err2 := st.CountLiveExecutions(ctx)
			if x != n || l != n || err1 != nil || err2 != nil {
				b.Fatalf("counts %d, %d (%v, %v); want %d", x, l, err1, err2, n)
			}
		}
	})
}
