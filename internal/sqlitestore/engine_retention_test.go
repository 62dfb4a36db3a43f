package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// PurgeClosedExecutions deletes the executions closed before the time,
// oldest first and batch at a time, with their history; running and
// recent executions keep everything.
func TestPurgeClosedExecutions(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	// name -> when it ended (zero: still running)
	execs := []struct {
		name    string
		stopped time.Duration
		status  engine.ExecutionStatus
	}{
		{"running", 0, engine.StatusRunning},
		{"old-2", 2 * time.Hour, engine.StatusFailed},
		{"old-1", 1 * time.Hour, engine.StatusSucceeded},
		{"recent", 10 * time.Hour, engine.StatusSucceeded},
	}
	for _, x := range execs {
		arn := testExec + x.name
		started := engine.Event{ID: 1, Type: "ExecutionStarted", Timestamp: testT0, Details: engine.EventDetails{Input: map[string]any{}, RoleArn: "r"}}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, Events: []engine.Event{started},
			Create:   &engine.Execution{Name: x.name, StateMachineArn: testSM, Input: `{}`, StartDate: testT0},
			RunState: []byte(`{}`), WakeAt: testT0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if x.status == engine.StatusRunning {
			continue
		}
		end := engine.Event{ID: 2, PreviousEventID: 1, Type: "Execution" + map[engine.ExecutionStatus]string{
			engine.StatusSucceeded: "Succeeded", engine.StatusFailed: "Failed"}[x.status], Timestamp: testT0.Add(x.stopped)}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true, Events: []engine.Event{end},
			Update: &engine.ExecutionUpdate{Status: x.status, StopDate: testT0.Add(x.stopped)}}); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := testT0.Add(5 * time.Hour)
	for i, want := range []int{1, 1, 0} { // batches of one: old-1, then old-2, then nothing
		n, err := s.PurgeClosedExecutions(ctx, cutoff, 1)
		if err != nil || n != want {
			t.Fatalf("purge %d: %d, %v; want %d", i+1, n, err, want)
		}
		if i == 0 {
			if _, err := s.GetExecution(ctx, testExec+"old-1"); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
				t.Errorf("after the first purge, old-1: %v; want deleted (the oldest goes first)", err)
			}
			if _, err := s.GetExecution(ctx, testExec+"old-2"); err != nil {
				t.Errorf("after the first purge, old-2: %v; want kept", err)
			}
		}
	}
	for _, x := range execs {
		arn := testExec + x.name
		_, err := s.GetExecution(ctx, arn)
		hist, _, herr := s.GetHistory(ctx, arn, engine.HistoryInput{})
		gone := x.status != engine.StatusRunning && testT0.Add(x.stopped).Before(cutoff)
		if gone {
			if !errors.Is(err, engine.ErrExecutionDoesNotExist) || !errors.Is(herr, engine.ErrExecutionDoesNotExist) {
				t.Errorf("%s: GetExecution %v, GetHistory %v; want ErrExecutionDoesNotExist", x.name, err, herr)
			}
			continue
		}
		want := 2
		if x.status == engine.StatusRunning {
			want = 1
		}
		if err != nil || herr != nil || len(hist) != want {
			t.Errorf("%s: GetExecution %v; history %d events, %v; want kept with %d events", x.name, err, len(hist), herr, want)
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
		if got, err := s.PurgeClosedExecutions(ctx, testT0.Add(time.Hour), perPurge); err != nil || got != perPurge {
			b.Fatalf("purge: %d, %v; want %d", got, err, perPurge)
		}
	}
}
