package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/engine/enginetest"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

func openEngineStore(tb testing.TB, path string) *sqlitestore.EngineStore {
	tb.Helper()
	s, err := sqlitestore.OpenEngineStore(context.Background(), path, sqlitestore.EngineOptions{})
	if err != nil {
		tb.Fatalf("OpenEngineStore(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestEngineStore(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) engine.Store {
		return openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	})
}

const (
	testSM   = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
	testExec = "arn:aws:states:us-east-1:123456789012:execution:sm:"
)

var testT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// TestEngineStoreReopen checks that everything committed is there after
// the store is closed and opened again: the restart path of the engine.
func TestEngineStoreReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	s, err := sqlitestore.OpenEngineStore(ctx, path, sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore: %v", err)
	}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", Type: "STANDARD", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	wake := testT0.Add(90 * time.Second)
	err = s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a",
		Create:   &engine.Execution{Name: "a", StateMachineArn: testSM, Input: `{"x":1}`, StartDate: testT0, ParentArn: "p", Revision: 1},
		Events:   []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: testT0, Details: engine.EventDetails{Input: map[string]any{"x": 1.0}}}},
		RunState: []byte("snapshot"), WakeAt: wake})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a"}); !errors.Is(err, sqlitestore.ErrEngineStoreClosed) {
		t.Errorf("Commit after Close error = %v, want ErrEngineStoreClosed", err)
	}

	s = openEngineStore(t, path)
	got, err := s.GetExecution(ctx, testExec+"a")
	if err != nil {
		t.Fatalf("GetExecution after reopen: %v", err)
	}
	want := engine.Execution{Arn: testExec + "a", Name: "a", StateMachineArn: testSM, Status: engine.StatusRunning,
		Input: `{"x":1}`, StartDate: testT0, ParentArn: "p", Revision: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GetExecution after reopen = %+v, want %+v", got, want)
	}
	rs, at, err := s.GetRunState(ctx, testExec+"a")
	if err != nil || string(rs) != "snapshot" || !at.Equal(wake) {
		t.Errorf("GetRunState after reopen = %q, %v, %v; want snapshot at %v", rs, at, err, wake)
	}
	if _, _, err := s.GetRunState(ctx, testExec+"missing"); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("GetRunState(missing) error = %v, want ErrExecutionDoesNotExist", err)
	}
}

func TestEngineStoreTokens(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a",
		Create: &engine.Execution{Name: "a", StateMachineArn: testSM, Input: `{}`, StartDate: testT0}}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	tests := []struct {
		name string
		call func(tok string) error
	}{
		{"ListStateMachines", func(tok string) error { _, _, err := s.ListStateMachines(ctx, 1, tok); return err }},
		{"ListExecutions", func(tok string) error {
			_, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: testSM, NextToken: tok})
			return err
		}},
		{"GetHistory", func(tok string) error {
			_, _, err := s.GetHistory(ctx, testExec+"a", engine.HistoryInput{NextToken: tok})
			return err
		}},
	}
	for _, tt := range tests {
		for _, tok := range []string{"garbage!", "h.zz.zz", "m", "x.1", "r.1.2.3"} {
			t.Run(tt.name+"/"+tok, func(t *testing.T) {
				if err := tt.call(tok); !errors.Is(err, engine.ErrInvalidToken) {
					t.Errorf("%s(token %q) error = %v, want ErrInvalidToken", tt.name, tok, err)
				}
			})
		}
	}
}

func TestEngineStoreDeleteStateMachine(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a",
		Create: &engine.Execution{Name: "a", StateMachineArn: testSM, Input: `{}`, StartDate: testT0}, RunState: []byte("x")}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.DeleteStateMachine(ctx, testSM); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	if _, err := s.GetExecution(ctx, testExec+"a"); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("GetExecution after delete error = %v, want ErrExecutionDoesNotExist", err)
	}
	n := 0
	_ = s.ListPending(ctx, func(engine.Pending) error { n++; return nil })
	if n != 0 {
		t.Errorf("ListPending after delete found %d, want 0", n)
	}
	if err := s.DeleteStateMachine(ctx, testSM); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("second DeleteStateMachine error = %v, want ErrStateMachineDoesNotExist", err)
	}
}

// TestEngineStoreSharesDB runs the engine store on the pool of a DB the
// status store also uses.
func TestEngineStoreSharesDB(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	s, err := sqlitestore.NewEngineStore(ctx, db.SQL())
	if err != nil {
		t.Fatalf("NewEngineStore: %v", err)
	}
	defer s.Close()
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a",
		Create: &engine.Execution{Name: "a", StateMachineArn: testSM, Input: `{}`, StartDate: testT0}, RunState: []byte("x")}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := db.Monitors().Get(ctx, "nope"); err == nil {
		t.Errorf("status store Get(nope) succeeded on the shared file, want not found")
	}
}

// TestEngineStoreStopRace commits a StopExecution-like abort and the
// execution's own ExpectRunning commit concurrently for many executions,
// so that both often land in one group commit: the abort always wins
// the run state, and a commit ordered after it is refused.
func TestEngineStoreStopRace(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	const n = 200
	for i := range n {
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: fmt.Sprintf("%sx%d", testExec, i),
			Create: &engine.Execution{Name: fmt.Sprintf("x%d", i), StateMachineArn: testSM, Input: `{}`, StartDate: testT0},
			Events: []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: testT0}}, RunState: []byte("a")}); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	var wg sync.WaitGroup
	stepErrs := make([]error, n)
	for i := range n {
		arn := fmt.Sprintf("%sx%d", testExec, i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true,
				Events: []engine.Event{{ID: 1000, Type: "WaitStateEntered", Timestamp: testT0}}, RunState: []byte("b"), WakeAt: testT0})
			stepErrs[i] = err
		}()
		go func() {
			defer wg.Done()
			err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true,
				Events: []engine.Event{{ID: 2, Type: "ExecutionAborted", Timestamp: testT0}},
				Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: testT0}})
			if err != nil {
				t.Errorf("abort %s: %v", arn, err)
			}
		}()
	}
	wg.Wait()
	refused := 0
	for i, err := range stepErrs {
		arn := fmt.Sprintf("%sx%d", testExec, i)
		last, _ := s.LastEventID(ctx, arn)
		switch {
		case errors.Is(err, engine.ErrExecutionNotRunning):
			refused++
			if last != 2 {
				t.Errorf("%s: refused commit but last event %d, want 2", arn, last)
			}
		case err != nil:
			t.Errorf("%s: step commit: %v", arn, err)
		default:
			if last != 1000 {
				t.Errorf("%s: step committed but last event %d, want 1000", arn, last)
			}
		}
		if _, _, err := s.GetRunState(ctx, arn); !errors.Is(err, engine.ErrExecutionNotRunning) {
			t.Errorf("%s: run state after abort: %v, want ErrExecutionNotRunning", arn, err)
		}
	}
	t.Logf("%d of %d step commits came after the abort and were refused", refused, n)
}

// TestEngineRestart runs the engine on the SQLite store, closes both
// while an execution waits, opens them again and checks that Recover
// finishes the execution from where it was.
func TestEngineRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	const def = `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"W"},
		"W":{"Type":"Wait","Seconds":1,"Next":"B"},
		"B":{"Type":"Pass","Result":2,"ResultPath":"$.b","End":true}}}`
	s, err := sqlitestore.OpenEngineStore(ctx, path, sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore: %v", err)
	}
	e := engine.New(engine.Options{Store: s})
	sm, err := e.CreateStateMachine(ctx, "restart", def, "")
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	x, err := e.StartExecution(ctx, sm.Arn, "r1", `{}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, wake, err := s.GetRunState(ctx, x.Arn); err == nil && !wake.IsZero() {
			break // waiting in W, its timer committed
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution never reached its Wait")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openEngineStore(t, path)
	e = engine.New(engine.Options{Store: s})
	defer e.Close()
	n, err := e.Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1 execution re-armed", n, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := e.Wait(wctx, x.Arn)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got.Status != engine.StatusSucceeded || got.Output != `{"a":1,"b":2}` {
		t.Errorf("after restart = %s %s, want SUCCEEDED {\"a\":1,\"b\":2}", got.Status, got.Output)
	}
	events, err := e.History(ctx, x.Arn)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var types []string
	for i, ev := range events {
		if ev.ID != int64(i+1) {
			t.Errorf("event %d has id %d: ids must continue without gaps across the restart", i, ev.ID)
		}
		types = append(types, ev.Type)
	}
	want := "ExecutionStarted PassStateEntered PassStateExited WaitStateEntered WaitStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
}

// A wake-up time beyond what the INTEGER column holds in nanoseconds
// (after April 2262, as a Wait until "9999-12-31T00:00:00Z" asks) is
// stored as the latest one it holds, never as an earlier time, which
// would end the Wait at once after a restart.
func TestEngineStoreFarWakeUp(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "far",
		Create:   &engine.Execution{Name: "far", StateMachineArn: testSM, Input: `{}`, StartDate: testT0},
		RunState: []byte("snapshot"), WakeAt: far})
	if err != nil {
		t.Fatal(err)
	}
	latest := time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)
	if _, at, err := s.GetRunState(ctx, testExec+"far"); err != nil || at.Before(latest) {
		t.Errorf("GetRunState wake-up = %v, %v; want %v or later", at, err, latest)
	}
	err = s.ListPending(ctx, func(p engine.Pending) error {
		if p.WakeAt.Before(latest) {
			t.Errorf("ListPending wake-up = %v, want %v or later", p.WakeAt, latest)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// DeleteStateMachine leaves nothing of its executions behind: a machine
// created again under the name starts an execution under an old name, in
// the row the old one had, with a history of its own.
func TestDeleteStateMachineLeavesNoHistory(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	start := func(want string) {
		t.Helper()
		err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a",
			Create: &engine.Execution{Name: "a", StateMachineArn: testSM, Input: `{}`, StartDate: testT0},
			Events: []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: testT0}}, RunState: []byte("x")})
		if err != nil {
			t.Fatalf("start a: %v", err)
		}
		evs, _, err := s.GetHistory(ctx, testExec+"a", engine.HistoryInput{})
		var ids []int64
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
		if got := fmt.Sprint(ids); err != nil || got != want {
			t.Errorf("history of a = %s, %v; want %s", got, err, want)
		}
	}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	start("[1]")
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: testExec + "a", ExpectRunning: true,
		Events: []engine.Event{{ID: 2, PreviousEventID: 1, Type: "ExecutionAborted", Timestamp: testT0}},
		Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: testT0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStateMachine(ctx, testSM); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM engine_history_batches`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("history rows after DeleteStateMachine: %d, %v; want none", rows, err)
	}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	start("[1]")
}
