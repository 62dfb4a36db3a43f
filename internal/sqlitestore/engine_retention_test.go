package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// PurgeClosedExecutions deletes the executions closed before the time of
// the machines it is given, oldest first and batch at a time, with their
// history; running and recent executions, and other machines', keep
// everything.
func TestPurgeClosedExecutions(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	const otherSM = "arn:aws:states:us-east-1:123456789012:stateMachine:other"
	const otherExec = "arn:aws:states:us-east-1:123456789012:execution:other:"
	for _, sm := range []string{testSM, otherSM} {
		if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: sm, Name: sm[strings.LastIndex(sm, ":")+1:], Definition: "{}", CreatedAt: testT0}); err != nil {
			t.Fatal(err)
		}
	}
	// arn -> when it ended (zero: still running)
	execs := []struct {
		sm, arn string
		stopped time.Duration
		status  engine.ExecutionStatus
	}{
		{testSM, testExec + "running", 0, engine.StatusRunning},
		{testSM, testExec + "old-2", 2 * time.Hour, engine.StatusFailed},
		{testSM, testExec + "old-1", 1 * time.Hour, engine.StatusSucceeded},
		{testSM, testExec + "recent", 10 * time.Hour, engine.StatusSucceeded},
		{otherSM, otherExec + "old", 30 * time.Minute, engine.StatusSucceeded},
	}
	for _, x := range execs {
		started := engine.Event{ID: 1, Type: "ExecutionStarted", Timestamp: testT0, Details: engine.EventDetails{Input: map[string]any{}, RoleArn: "r"}}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: x.arn, Events: []engine.Event{started},
			Create:   &engine.Execution{Name: x.arn[strings.LastIndex(x.arn, ":")+1:], StateMachineArn: x.sm, Input: `{}`, StartDate: testT0},
			RunState: []byte(`{}`), WakeAt: testT0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if x.status == engine.StatusRunning {
			continue
		}
		end := engine.Event{ID: 2, PreviousEventID: 1, Type: "Execution" + map[engine.ExecutionStatus]string{
			engine.StatusSucceeded: "Succeeded", engine.StatusFailed: "Failed"}[x.status], Timestamp: testT0.Add(x.stopped)}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: x.arn, ExpectRunning: true, Events: []engine.Event{end},
			Update: &engine.ExecutionUpdate{Status: x.status, StopDate: testT0.Add(x.stopped)}}); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := testT0.Add(5 * time.Hour)
	purges := []struct {
		sm   string
		want int
	}{ // batches of one
		{testSM, 1}, // old-1 (the oldest of sm; other's is older)
		{testSM, 1}, // old-2
		{testSM, 0},
		{otherSM, 1},
		{otherSM, 0},
	}
	for i, p := range purges {
		n, err := s.PurgeClosedExecutions(ctx, p.sm, cutoff, 1)
		if err != nil || n != p.want {
			t.Fatalf("purge %d (%s): %d, %v; want %d", i+1, p.sm, n, err, p.want)
		}
		if i == 0 {
			if _, err := s.GetExecution(ctx, testExec+"old-1"); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
				t.Errorf("after the first purge, old-1: %v; want deleted (the oldest goes first)", err)
			}
			for _, kept := range []string{testExec + "old-2", otherExec + "old"} {
				if _, err := s.GetExecution(ctx, kept); err != nil {
					t.Errorf("after the first purge, %s: %v; want kept", kept, err)
				}
			}
		}
	}
	for _, x := range execs {
		_, err := s.GetExecution(ctx, x.arn)
		hist, _, herr := s.GetHistory(ctx, x.arn, engine.HistoryInput{})
		gone := x.status != engine.StatusRunning && testT0.Add(x.stopped).Before(cutoff)
		if gone {
			if !errors.Is(err, engine.ErrExecutionDoesNotExist) || !errors.Is(herr, engine.ErrExecutionDoesNotExist) {
				t.Errorf("%s: GetExecution %v, GetHistory %v; want ErrExecutionDoesNotExist", x.arn, err, herr)
			}
			continue
		}
		want := 2
		if x.status == engine.StatusRunning {
			want = 1
		}
		if err != nil || herr != nil || len(hist) != want {
			t.Errorf("%s: GetExecution %v; history %d events, %v; want kept with %d events", x.arn, err, len(hist), herr, want)
		}
	}
	// No orphan history rows are left behind.
	var orphans int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM engine_history_batches
		WHERE execution_seq NOT IN (SELECT seq FROM engine_executions)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d orphan history rows, %v", orphans, err)
	}
	var pending []string
	if err := s.ListPending(ctx, func(p engine.Pending) error { pending = append(pending, p.ExecutionArn); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0] != testExec+"running" {
		t.Errorf("pending after the purges: %v; want the running execution", pending)
	}
}

// BenchmarkPurgeClosedExecutions measures one purge transaction of 100
// closed executions of ten history batches each: how long the retention
// sweep holds the write lock that the engine's group commit waits for.
func BenchmarkPurgeClosedExecutions(b *testing.B) {
	ctx := context.Background()
	s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
	const perPurge, batches = 100, 10
	n := b.N * perPurge
	arns := createBenchExecutions(b, s, n)
	for i, arn := range arns {
		for j := range batches {
			id := int64(2 + j)
			ev := engine.Event{ID: id, PreviousEventID: id - 1, Type: "WaitStateEntered", Timestamp: testT0,
				Details: engine.EventDetails{Name: "Wait", Input: map[string]any{"check_count": float64(j)}}}
			tr := engine.Transition{ExecutionArn: arn, ExpectRunning: true, Events: []engine.Event{ev}, RunState: benchRunState, WakeAt: testT0}
			if j == batches-1 {
				ev.Type = "ExecutionSucceeded"
				tr = engine.Transition{ExecutionArn: arn, ExpectRunning: true, Events: []engine.Event{ev},
					Update: &engine.ExecutionUpdate{Status: engine.StatusSucceeded, StopDate: testT0.Add(time.Duration(i) * time.Millisecond)}}
			}
			if err := s.Commit(ctx, tr); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		if got, err := s.PurgeClosedExecutions(ctx, testSM, testT0.Add(time.Hour), perPurge); err != nil || got != perPurge {
			b.Fatalf("purge: %d, %v; want %d", got, err, perPurge)
		}
	}
}

// BenchmarkPurgeAmongOtherMachines measures one purge transaction of 100
// closed executions of a machine while the database holds 200,000 closed
// executions of another machine that are not due yet (kept longer, as
// the executions of state machines created through the API are): the
// purge reads only its own machine's.
func BenchmarkPurgeAmongOtherMachines(b *testing.B) {
	ctx := context.Background()
	s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
	const perPurge, others = 100, 200_000
	insert := func(sm string, n int, stopped time.Time) {
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO engine_executions (arn, name, state_machine_arn, status, input, start_date, stop_date)
			VALUES (?, ?, ?, 'SUCCEEDED', '{}', ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			name := fmt.Sprintf("x%d", i)
			if _, err := stmt.ExecContext(ctx, sm+":"+name, name, sm, testT0.UnixNano(), stopped.Add(time.Duration(i)).UnixNano()); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	const otherSM = "arn:aws:states:us-east-1:123456789012:stateMachine:other"
	insert(otherSM, others, testT0)                       // older than the cutoff, of another machine
	insert(testSM, b.N*perPurge, testT0.Add(time.Minute)) // due
	b.ResetTimer()
	for range b.N {
		if got, err := s.PurgeClosedExecutions(ctx, testSM, testT0.Add(time.Hour), perPurge); err != nil || got != perPurge {
			b.Fatalf("purge: %d, %v; want %d", got, err, perPurge)
		}
	}
}

// A purge with nothing due does not take the write lock: it answers while
// another connection holds it, where it used to wait for it.
func TestPurgeNothingDueTakesNoLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	s := openEngineStore(t, path)
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	holder, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, `ROLLBACK`)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if n, err := s.PurgeClosedExecutions(pctx, testSM, testT0.Add(time.Hour), 100); err != nil || n != 0 {
		t.Errorf("purge with nothing due while the write lock is held: %d, %v; want 0 at once", n, err)
	}
}

// PurgeClosedExecutions deletes the executions stopped at the time it is
// given, not only before, and without a batch size purges 100 a call.
func TestPurgeClosedExecutionsBounds(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	cutoff := testT0.Add(time.Hour)
	// 101 executions stopped at the cutoff, one a nanosecond after it.
	if _, err := s.DB().ExecContext(ctx, `WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < 102)
		INSERT INTO engine_executions (arn, name, state_machine_arn, status, input, start_date, stop_date)
		SELECT ? || x, 'x' || x, ?, 'SUCCEEDED', '{}', ?, CASE WHEN x = 101 THEN ? + 1 ELSE ? END FROM i`,
		testExec+"x", testSM, testT0.UnixNano(), cutoff.UnixNano(), cutoff.UnixNano()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{100, 1, 0} {
		if n, err := s.PurgeClosedExecutions(ctx, testSM, cutoff, 0); err != nil || n != want {
			t.Fatalf("purge %d: %d, %v; want %d", i+1, n, err, want)
		}
	}
	if _, err := s.GetExecution(ctx, testExec+"x101"); err != nil {
		t.Errorf("the execution stopped after the cutoff: %v; want it kept", err)
	}
}
