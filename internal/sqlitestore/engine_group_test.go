package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// groupExec is the prefix of the ARNs of histSM's executions.
const groupExec = "arn:aws:states:us-east-1:123456789012:execution:sm:"

// openMachineStore opens an engine store on a new file with the state
// machine histSM; the store is closed with the test.
func openMachineStore(t *testing.T) *EngineStore {
	t.Helper()
	ctx := context.Background()
	s, err := OpenEngineStore(ctx, filepath.Join(t.TempDir(), "stepmon.db"), EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: histSM, Name: "sm", Definition: "{}", CreatedAt: histT0}); err != nil {
		t.Fatal(err)
	}
	return s
}

// commitTogether applies trs in one group commit, as the writer applies
// the Transitions waiting at the time, and returns the result of each.
// No Commit may run meanwhile: the writer's connection is used from the
// test's goroutine.
func commitTogether(t *testing.T, s *EngineStore, trs ...engine.Transition) []error {
	t.Helper()
	reqs := make([]*engineReq, len(trs))
	for i := range trs {
		reqs[i] = &engineReq{t: &trs[i], done: make(chan error, 1)}
		if len(trs[i].Events) > 0 {
			reqs[i].batch = engine.AppendEventBatch(nil, trs[i].Events)
		}
	}
	s.commitBatch(reqs)
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = <-r.done
	}
	return errs
}

// groupEvents returns the events from to to (ids) of an execution.
func groupEvents(from, to int64) []engine.Event {
	var evs []engine.Event
	for id := from; id <= to; id++ {
		evs = append(evs, engine.Event{ID: id, PreviousEventID: id - 1, Type: "PassStateEntered", Timestamp: histT0,
			Details: engine.EventDetails{Name: fmt.Sprintf("S%d", id)}})
	}
	return evs
}

// groupCreate is the Transition that creates the execution name with the
// events 1 to last.
func groupCreate(name string, last int64) engine.Transition {
	return engine.Transition{ExecutionArn: groupExec + name, Events: groupEvents(1, last),
		Create: &engine.Execution{Name: name, StateMachineArn: histSM, Input: `{}`, StartDate: histT0}}
}

// execState is what a test reads back of an execution: its status, the
// ids of its history, its last event id and its run state with its
// wake-up time ("-" for none; "missing" for no execution).
func execState(t *testing.T, s *EngineStore, name string) string {
	t.Helper()
	ctx := context.Background()
	arn := groupExec + name
	x, err := s.GetExecution(ctx, arn)
	if errors.Is(err, engine.ErrExecutionDoesNotExist) {
		return "missing"
	}
	if err != nil {
		t.Fatalf("GetExecution(%s): %v", name, err)
	}
	evs, _, err := s.GetHistory(ctx, arn, engine.HistoryInput{})
	if err != nil {
		t.Fatalf("GetHistory(%s): %v", name, err)
	}
	var ids []int64
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	last, err := s.LastEventID(ctx, arn)
	if err != nil {
		t.Fatalf("LastEventID(%s): %v", name, err)
	}
	run := "-"
	rs, wake, err := s.GetRunState(ctx, arn)
	switch {
	case err == nil:
		run = fmt.Sprintf("%s@%s", rs, wake.Sub(histT0))
	case !errors.Is(err, engine.ErrExecutionNotRunning):
		t.Fatalf("GetRunState(%s): %v", name, err)
	}
	return fmt.Sprintf("%s %v last %d %s", x.Status, ids, last, run)
}

// A group commit gives each Transition the outcome it would have alone:
// preconditions refuse some and write nothing of them, while the others
// are applied, a later Transition of an execution seeing an earlier one
// of the same batch. The same holds when the batch's transaction fails
// as a whole (a commit repeating an event id) and each Transition is
// applied again in a transaction of its own: only the faulty one fails.
func TestEngineGroupCommitOutcomes(t *testing.T) {
	for _, faulty := range []bool{false, true} {
		t.Run(map[bool]string{false: "one transaction", true: "one by one after a failed batch"}[faulty], func(t *testing.T) {
			ctx := context.Background()
			s := openMachineStore(t)
			setup := []engine.Transition{
				groupCreate("exists", 1),
				groupCreate("aborted", 1),
				{ExecutionArn: groupExec + "aborted", Events: groupEvents(2, 2),
					Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: histT0}},
				groupCreate("waits", 1),
				{ExecutionArn: groupExec + "waits", RunState: []byte("w0"), WakeAt: histT0.Add(time.Hour)},
				groupCreate("ends", 1),
				{ExecutionArn: groupExec + "ends", RunState: []byte("e0"), WakeAt: histT0.Add(time.Hour)},
				groupCreate("keeps", 1),
				{ExecutionArn: groupExec + "keeps", RunState: []byte("k0"), WakeAt: histT0.Add(2 * time.Hour)},
				groupCreate("late", 1),
				{ExecutionArn: groupExec + "late", Events: groupEvents(2, 2),
					Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: histT0}},
				groupCreate("stopped", 1),
				{ExecutionArn: groupExec + "stopped", RunState: []byte("s0"), WakeAt: histT0.Add(time.Hour)},
				groupCreate("dup", 1),
			}
			for i, tr := range setup {
				if err := s.Commit(ctx, tr); err != nil {
					t.Fatalf("setup commit %d (%s): %v", i, tr.ExecutionArn, err)
				}
			}
			newExec := groupCreate("new", 3)
			newExec.RunState, newExec.WakeAt = []byte("n"), histT0.Add(3*time.Hour)
			bornStep := engine.Transition{ExecutionArn: groupExec + "born", ExpectRunning: true, Events: groupEvents(2, 3),
				RunState: []byte("b"), WakeAt: histT0.Add(5 * time.Hour)}
			batch := []struct {
				tr      engine.Transition
				wantErr error
			}{
				{newExec, nil},
				{groupCreate("exists", 1), engine.ErrExecutionAlreadyExists},
				{engine.Transition{ExecutionArn: groupExec + "missing", Events: groupEvents(2, 2), RunState: []byte("m")}, engine.ErrExecutionDoesNotExist},
				{engine.Transition{ExecutionArn: groupExec + "aborted", ExpectRunning: true, Events: groupEvents(3, 3), RunState: []byte("a")}, engine.ErrExecutionNotRunning},
				// Without ExpectRunning, events of a finished execution are kept.
				{engine.Transition{ExecutionArn: groupExec + "late", Events: groupEvents(3, 3)}, nil},
				{engine.Transition{ExecutionArn: groupExec + "waits", ExpectRunning: true, Events: groupEvents(2, 4),
					RunState: []byte("w1"), WakeAt: histT0.Add(4 * time.Hour)}, nil},
				{engine.Transition{ExecutionArn: groupExec + "ends", ExpectRunning: true, Events: groupEvents(2, 2), RunState: []byte("e1"),
					Update: &engine.ExecutionUpdate{Status: engine.StatusSucceeded, Output: `"x"`, HasOutput: true, StopDate: histT0}}, nil},
				{engine.Transition{ExecutionArn: groupExec + "keeps", ExpectRunning: true, Events: groupEvents(2, 2),
					Update: &engine.ExecutionUpdate{Status: engine.StatusRunning}}, nil},
				// StopExecution and the execution's own next step, in one batch.
				{engine.Transition{ExecutionArn: groupExec + "stopped", ExpectRunning: true, Events: groupEvents(2, 2),
					Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: histT0}}, nil},
				{engine.Transition{ExecutionArn: groupExec + "stopped", ExpectRunning: true, Events: groupEvents(3, 3),
					RunState: []byte("s1"), WakeAt: histT0}, engine.ErrExecutionNotRunning},
				// An execution started and continued in one batch.
				{groupCreate("born", 1), nil},
				{bornStep, nil},
			}
			if faulty {
				// Event 1 of dup is stored already.
				batch = append(batch, struct {
					tr      engine.Transition
					wantErr error
				}{engine.Transition{ExecutionArn: groupExec + "dup", Events: groupEvents(1, 1), RunState: []byte("d")}, nil})
			}
			var trs []engine.Transition
			for _, b := range batch {
				trs = append(trs, b.tr)
			}
			errs := commitTogether(t, s, trs...)
			for i, b := range batch {
				err := errs[i]
				switch {
				case faulty && i == len(batch)-1:
					if err == nil {
						t.Errorf("commit %d (%s) repeating event 1 succeeded, want it to fail", i, b.tr.ExecutionArn)
					}
				case b.wantErr == nil && err != nil, b.wantErr != nil && !errors.Is(err, b.wantErr):
					t.Errorf("commit %d (%s) error = %v, want %v", i, b.tr.ExecutionArn, err, b.wantErr)
				}
			}
			want := map[string]string{
				"new":     "RUNNING [1 2 3] last 3 n@3h0m0s",
				"exists":  "RUNNING [1] last 1 -",
				"missing": "missing",
				"aborted": "ABORTED [1 2] last 2 -",
				"late":    "ABORTED [1 2 3] last 3 -",
				"waits":   "RUNNING [1 2 3 4] last 4 w1@4h0m0s",
				"ends":    "SUCCEEDED [1 2] last 2 -",
				"keeps":   "RUNNING [1 2] last 2 k0@2h0m0s",
				"stopped": "ABORTED [1 2] last 2 -",
				"born":    "RUNNING [1 2 3] last 3 b@5h0m0s",
				"dup":     "RUNNING [1] last 1 -",
			}
			for name, w := range want {
				if got := execState(t, s, name); got != w {
					t.Errorf("%s after the group commit = %q, want %q", name, got, w)
				}
			}
			if x, err := s.GetExecution(ctx, groupExec+"ends"); err != nil || x.Output != `"x"` || !x.HasOutput || !x.StopDate.Equal(histT0) {
				t.Errorf("ends = %+v, %v; want its output and stop date", x, err)
			}
		})
	}
}

// A group commit larger than one multi-row statement holds (rows of
// history and run states, ARNs of the look-up) applies every Transition.
func TestEngineGroupCommitLarge(t *testing.T) {
	ctx := context.Background()
	s := openMachineStore(t)
	const n = 2*engineLookupChunk + engineRowsChunk/2 + 7 // chunks full and partial, of both statements
	var creates, steps []engine.Transition
	for i := range n {
		name := fmt.Sprintf("x%03d", i)
		creates = append(creates, groupCreate(name, 1))
		steps = append(steps, engine.Transition{ExecutionArn: groupExec + name, ExpectRunning: true, Events: groupEvents(2, 3),
			RunState: []byte(name), WakeAt: histT0.Add(time.Duration(i) * time.Second)})
	}
	for round, trs := range [][]engine.Transition{creates, steps} {
		for i, err := range commitTogether(t, s, trs...) {
			if err != nil {
				t.Fatalf("round %d, commit %d: %v", round, i, err)
			}
		}
	}
	pending := map[string]time.Duration{}
	if err := s.ListPending(ctx, func(p engine.Pending) error {
		pending[p.ExecutionArn] = p.WakeAt.Sub(histT0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("x%03d", i)
		if got, want := execState(t, s, name), fmt.Sprintf("RUNNING [1 2 3] last 3 %s@%s", name, time.Duration(i)*time.Second); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
		if got, ok := pending[groupExec+name]; !ok || got != time.Duration(i)*time.Second {
			t.Errorf("ListPending: %s at %v (listed %v), want %v", name, got, ok, time.Duration(i)*time.Second)
		}
	}
	if len(pending) != n {
		t.Errorf("ListPending listed %d executions, want %d", len(pending), n)
	}
}
