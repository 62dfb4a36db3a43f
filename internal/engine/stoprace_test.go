package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// staleRunStateStore is a Store whose GetRunState reads the run state,
// reports that it did and returns it only once released: what a resume
// read just before a StopExecution committed.
type staleRunStateStore struct {
	Store
	read, release chan struct{}
}

func (s staleRunStateStore) GetRunState(ctx context.Context, arn string) ([]byte, time.Time, error) {
	run, at, err := s.Store.GetRunState(ctx, arn)
	s.read <- struct{}{}
	<-s.release
	return run, at, err
}

// An execution stopped while its resume is loading it does not run: its
// task is not dispatched and nothing follows ExecutionAborted.
func TestStopWhileResuming(t *testing.T) {
	ctx := context.Background()
	mem := NewMemStore()
	now := time.Now()
	sm := StateMachine{Arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m", Name: "m",
		Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::side-effect","End":true}}}`, CreatedAt: now}
	if err := mem.CreateStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:states:us-east-1:123456789012:execution:m:x"
	run, err := (&snapshot{State: "T", Phase: phaseEnter, Input: map[string]any{}, LastID: 1}).encode()
	if err != nil {
		t.Fatal(err)
	}
	err = mem.Commit(ctx, Transition{ExecutionArn: arn,
		Create:   &Execution{Name: "x", StateMachineArn: sm.Arn, Input: "{}", StartDate: now, Revision: 1},
		Events:   []Event{{ID: 1, Type: "ExecutionStarted", Timestamp: now}},
		RunState: run})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	d := NewDispatcher()
	d.Handle("arn:aws:states:::side-effect", Route{Handler: func(context.Context, TaskRequest) (any, error) {
		calls.Add(1)
		return nil, nil
	}})
	store := staleRunStateStore{Store: mem, read: make(chan struct{}, 1), release: make(chan struct{})}
	eng := New(Options{Store: store, Dispatcher: d})
	defer eng.Close()
	if _, err := eng.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	<-store.read
	if _, err := eng.StopExecution(ctx, arn, "Stopped", ""); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	close(store.release)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if quiet, _ := Quiet(eng); quiet {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine never became quiet")
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the stopped execution's task was dispatched %d times", n)
	}
	evs, _, err := mem.GetHistory(ctx, arn, HistoryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Type != "ExecutionAborted" {
		t.Errorf("last event %s, want ExecutionAborted (history %v)", last.Type, evs)
	}
}
