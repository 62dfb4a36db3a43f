package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// endsStore records the terminal commits of executions: a deleted state
// machine's executions are deleted with it, so their ends are seen here.
type endsStore struct {
	engine.Store
	mu   sync.Mutex
	ends map[string]engine.Transition
}

func (s *endsStore) Commit(ctx context.Context, t engine.Transition) error {
	if err := s.Store.Commit(ctx, t); err != nil {
		return err
	}
	if t.Update != nil && t.Update.Status != engine.StatusRunning {
		s.mu.Lock()
		if s.ends == nil {
			s.ends = map[string]engine.Transition{}
		}
		s.ends[t.ExecutionArn] = t
		s.mu.Unlock()
	}
	return nil
}

func (s *endsStore) end(arn string) (engine.Transition, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.ends[arn]
	return t, ok
}

// waitDeleted polls until the state machine no longer exists.
func waitDeleted(t *testing.T, s engine.Store, arn string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, err := s.GetStateMachine(context.Background(), arn)
		if errors.Is(err, engine.ErrStateMachineDoesNotExist) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("state machine %s was never deleted", arn)
}

// checkDeletedFailure checks that an execution ended FAILED with the error
// AWS reports for a deleted state machine, as its last event.
func checkDeletedFailure(t *testing.T, s *endsStore, arn string) {
	t.Helper()
	end, ok := s.end(arn)
	if !ok {
		t.Fatalf("%s never ended", arn)
	}
	const cause = "State machine sm has been deleted."
	if u := end.Update; u.Status != engine.StatusFailed || u.Error != "States.Runtime" || u.Cause != cause {
		t.Errorf("end of %s = %+v, want FAILED States.Runtime %q", arn, u, cause)
	}
	last := end.Events[len(end.Events)-1]
	if last.Type != "ExecutionFailed" || last.Details.Error != "States.Runtime" || last.Details.Cause != cause {
		t.Errorf("last event = %+v, want ExecutionFailed States.Runtime %q", last, cause)
	}
}

// A running execution of a state machine being deleted fails at its next
// state transition with States.Runtime, as on AWS; meanwhile the machine
// is DELETING, takes no new execution and keeps its name; once the
// execution has ended the machine and its executions are gone and the
// name is free, for a new machine that runs its own definition.
func TestDeleteStateMachineFailsRunningExecution(t *testing.T) {
	ctx := context.Background()
	store := &endsStore{Store: engine.NewMemStore()}
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::block", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		started <- struct{}{}
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}})
	eng := newEngine(t, engine.Options{Store: store, Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "C", "States": {
		"C": {"Type": "Choice", "Choices": [{"Variable": "$.block", "IsPresent": true, "Next": "T"}], "Default": "P"},
		"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "Next": "P"},
		"P": {"Type": "Pass", "End": true}}}`)
	if done := run(t, eng, sm.Arn, "finished", `{}`); done.Status != engine.StatusSucceeded {
		t.Fatalf("first execution = %+v, want SUCCEEDED", done)
	}
	x, err := eng.StartExecution(ctx, sm.Arn, "running", `{"block": true}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	<-started

	if err := eng.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	got, err := store.GetStateMachine(ctx, sm.Arn)
	if err != nil || got.Status != engine.StateMachineDeleting {
		t.Fatalf("GetStateMachine while deleting = %+v, %v; want DELETING", got, err)
	}
	if _, err := eng.StartExecution(ctx, sm.Arn, "late", `{}`); !errors.Is(err, engine.ErrStateMachineDeleting) {
		t.Errorf("StartExecution while deleting error = %v, want ErrStateMachineDeleting", err)
	}
	if _, err := eng.CreateStateMachine(ctx, "sm", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, ""); !errors.Is(err, engine.ErrStateMachineDeleting) {
		t.Errorf("CreateStateMachine of the name while deleting error = %v, want ErrStateMachineDeleting", err)
	}
	if err := eng.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Errorf("DeleteStateMachine again: %v", err)
	}
	if rec, err := eng.DescribeExecution(ctx, x.Arn); err != nil || rec.Status != engine.StatusRunning {
		t.Errorf("execution while deleting = %+v, %v; want RUNNING until its next transition", rec, err)
	}

	close(release) // the task ends; the next transition fails
	waitDeleted(t, store, sm.Arn)
	checkDeletedFailure(t, store, x.Arn)
	if end, _ := store.end(x.Arn); len(end.Events) < 2 || end.Events[len(end.Events)-2].Type != "TaskStateExited" {
		t.Errorf("events of the last commit = %+v, want the task state exited, then ExecutionFailed", end.Events)
	}
	for _, arn := range []string{x.Arn, execArnOf(sm, "finished")} {
		if _, err := eng.DescribeExecution(ctx, arn); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
			t.Errorf("DescribeExecution(%s) after the deletion error = %v, want ErrExecutionDoesNotExist", arn, err)
		}
	}
	if sms, _, err := store.ListStateMachines(ctx, 10, ""); err != nil || len(sms) != 0 {
		t.Errorf("ListStateMachines after the deletion = %+v, %v; want none", sms, err)
	}
	if err := eng.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Errorf("DeleteStateMachine of a deleted machine: %v", err)
	}

	// The name is free, and the new machine runs its own definition, not
	// the parse of the old one's revision 1.
	sm2, err := eng.CreateStateMachine(ctx, "sm", `{"StartAt":"New","States":{"New":{"Type":"Pass","Result":"new","End":true}}}`, "")
	if err != nil {
		t.Fatalf("CreateStateMachine again: %v", err)
	}
	if sm2.Status != engine.StateMachineActive || sm2.Revision != 1 {
		t.Errorf("machine created again = %+v, want ACTIVE revision 1", sm2)
	}
	if again := run(t, eng, sm2.Arn, "running", `{"block": true}`); again.Status != engine.StatusSucceeded || again.Output != `"new"` {
		t.Errorf("execution of the machine created again = %+v, want SUCCEEDED with \"new\"", again)
	}
}

// execArnOf returns the ARN of a state machine's execution.
func execArnOf(sm engine.StateMachine, name string) string {
	return "arn:aws:states:us-east-1:123456789012:execution:" + sm.Name + ":" + name
}

// A state machine deleted while its execution waits stays DELETING across
// a restart; the execution fails when its wait ends, and the machine is
// deleted then.
func TestDeleteStateMachineSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlitestore.OpenEngineStore(ctx, filepath.Join(t.TempDir(), "e.db"), sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	store := &endsStore{Store: sq}
	start := time.Now()
	eng1 := engine.New(engine.Options{Store: store}) // the real clock: the wait does not end
	sm := create(t, eng1, waitHour)
	x, err := eng1.StartExecution(ctx, sm.Arn, "waits", `{}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	waitForTimer(t, store, x.Arn)
	if err := eng1.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	_ = eng1.Close()
	if _, ok := store.end(x.Arn); ok {
		t.Fatal("the execution ended before its wait did")
	}
	if got, err := store.GetStateMachine(ctx, sm.Arn); err != nil || got.Status != engine.StateMachineDeleting {
		t.Fatalf("GetStateMachine after the restart = %+v, %v; want DELETING", got, err)
	}

	// A virtual clock, which jumps to the wake-up.
	eng2 := engine.New(engine.Options{Store: store, Clock: engine.NewVirtualClock(time.Now())})
	defer eng2.Close()
	// Before Recover: once recovered, the virtual clock may reach the
	// wake-up and the deletion complete before a start could be refused.
	if _, err := eng2.StartExecution(ctx, sm.Arn, "late", `{}`); !errors.Is(err, engine.ErrStateMachineDeleting) {
		t.Errorf("StartExecution after the restart error = %v, want ErrStateMachineDeleting", err)
	}
	if n, err := eng2.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	waitDeleted(t, store, sm.Arn)
	checkDeletedFailure(t, store, x.Arn)
	if end, _ := store.end(x.Arn); end.Update.StopDate.Before(start.Add(time.Hour)) {
		t.Errorf("the execution failed at %v, before its wait ended at %v", end.Update.StopDate, start.Add(time.Hour))
	}
	if _, err := eng2.DescribeExecution(ctx, x.Arn); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("DescribeExecution after the deletion error = %v, want ErrExecutionDoesNotExist", err)
	}
}

// A restart that finds a machine DELETING with no execution left (the
// process stopped between the last execution's end and the deletion)
// deletes it.
func TestRecoverFinishesDeletion(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	eng1 := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng1, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if err := store.MarkStateMachineDeleting(ctx, sm.Arn); err != nil {
		t.Fatal(err)
	}
	eng2 := newEngine(t, engine.Options{Store: store})
	if _, err := eng2.Recover(ctx); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if _, err := store.GetStateMachine(ctx, sm.Arn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("GetStateMachine after Recover error = %v, want ErrStateMachineDoesNotExist", err)
	}
}

// CompleteDeletion fails the waiting executions of a machine being
// deleted at once and deletes it, so that its name can be used again.
func TestCompleteDeletion(t *testing.T) {
	ctx := context.Background()
	store := &endsStore{Store: engine.NewMemStore()}
	eng := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng, waitHour)
	x, err := eng.StartExecution(ctx, sm.Arn, "waits", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	waitForTimer(t, store, x.Arn)
	if err := eng.CompleteDeletion(ctx, sm.Arn); err != nil {
		t.Fatalf("CompleteDeletion of an ACTIVE machine: %v", err)
	}
	if _, err := store.GetStateMachine(ctx, sm.Arn); err != nil {
		t.Fatalf("CompleteDeletion deleted an ACTIVE machine: %v", err)
	}
	if rec, err := eng.DescribeExecution(ctx, x.Arn); err != nil || rec.Status != engine.StatusRunning {
		t.Fatalf("execution of an ACTIVE machine after CompleteDeletion = %s, %v; want RUNNING", rec.Status, err)
	}
	if err := eng.DeleteStateMachine(ctx, sm.Arn); err != nil {
		t.Fatal(err)
	}
	if err := eng.CompleteDeletion(ctx, sm.Arn); err != nil {
		t.Fatalf("CompleteDeletion: %v", err)
	}
	if _, err := store.GetStateMachine(ctx, sm.Arn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("GetStateMachine after CompleteDeletion error = %v, want ErrStateMachineDoesNotExist", err)
	}
	checkDeletedFailure(t, store, x.Arn)
	if _, err := eng.CreateStateMachine(ctx, "sm", waitHour, ""); err != nil {
		t.Errorf("CreateStateMachine after CompleteDeletion: %v", err)
	}
}

// deleteAfterAbort deletes a state machine right after an execution of it
// commits ABORTED, as the deletion that the end of its last other
// execution completes at that moment would.
type deleteAfterAbort struct {
	engine.Store
	smArn string
}

func (s *deleteAfterAbort) Commit(ctx context.Context, t engine.Transition) error {
	if err := s.Store.Commit(ctx, t); err != nil {
		return err
	}
	if t.Update != nil && t.Update.Status == engine.StatusAborted {
		return s.Store.DeleteStateMachine(ctx, s.smArn)
	}
	return nil
}

// A StopExecution whose execution is deleted with its state machine
// before the stop reads it back still reports the stop: it succeeded.
func TestStopExecutionDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	store := &deleteAfterAbort{Store: engine.NewMemStore()}
	eng := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng, `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`)
	store.smArn = sm.Arn
	x, err := eng.StartExecution(ctx, sm.Arn, "waits", `{}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	waitForTimer(t, store, x.Arn)
	got, err := eng.StopExecution(ctx, x.Arn, "E", "c")
	if err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	if got.Status != engine.StatusAborted || got.Error != "E" || got.Cause != "c" || got.StopDate.IsZero() || got.Arn != x.Arn {
		t.Errorf("StopExecution = %+v, want the ABORTED execution", got)
	}
}

// An engine that did not see a state machine deleted (another engine on
// the same store deleted it) tells the machine created again under its
// name from the old one by its creation date: executions run the new
// definition, not the old one's parse it holds for revision 1.
func TestMachineCreatedAgainElsewhereRunsItsDefinition(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	eng1 := newEngine(t, engine.Options{Store: store})
	clock := &engine.OffsetClock{}
	clock.Step(time.Minute) // a later creation date
	eng2 := newEngine(t, engine.Options{Store: store, Clock: clock})
	old := create(t, eng1, `{"StartAt": "Old", "States": {"Old": {"Type": "Pass", "Result": "old", "End": true}}}`)
	if x := run(t, eng1, old.Arn, "first", `{}`); x.Output != `"old"` {
		t.Fatalf("execution of the first machine = %+v, want output \"old\"", x)
	}
	if err := eng2.DeleteStateMachine(ctx, old.Arn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	sm := create(t, eng2, `{"StartAt": "New", "States": {"New": {"Type": "Pass", "Result": "new", "End": true}}}`)
	if sm.Arn != old.Arn || sm.Revision != old.Revision {
		t.Fatalf("machine created again = %s revision %d, want %s revision %d", sm.Arn, sm.Revision, old.Arn, old.Revision)
	}
	if x := run(t, eng1, sm.Arn, "second", `{}`); x.Status != engine.StatusSucceeded || x.Output != `"new"` {
		t.Errorf("execution of the machine created again = %s %s, want SUCCEEDED with \"new\"", x.Status, x.Output)
	}
}
