package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// Drain waits for a running task to finish and its execution to commit
// the Wait that follows, and wakes no execution afterwards: the store
// keeps the timer for the next start.
func TestDrainLetsRunningTaskFinish(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::block", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		close(started)
		<-release
		return "done", nil
	}})
	const def = `{"StartAt": "T", "States": {
		"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "Next": "W"},
		"W": {"Type": "Wait", "Seconds": 1, "Next": "After"},
		"After": {"Type": "Pass", "End": true}}}`
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Dispatcher: d, Store: store})
	sm := create(t, eng, def)
	ctx := context.Background()
	x, err := eng.StartExecution(ctx, sm.Arn, "drained", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	<-started

	drained := make(chan bool, 1)
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		drained <- eng.Drain(dctx)
	}()
	select {
	case ok := <-drained:
		t.Fatalf("Drain returned %v while the task was still running", ok)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if ok := <-drained; !ok {
		t.Fatal("Drain = false; want true once the execution suspended in its Wait")
	}
	wake := waitForTimer(t, store, x.Arn)
	types := eventTypes(t, eng, x.Arn)
	if count(types, "TaskSucceeded") != 1 || types[len(types)-1] != "WaitStateEntered" {
		t.Fatalf("history after Drain: %v; want the task's success and the Wait entered", types)
	}
	// The Wait falls due; a drained engine does not wake the execution.
	time.Sleep(time.Until(wake) + 500*time.Millisecond)
	if got := eventTypes(t, eng, x.Arn); len(got) != len(types) {
		t.Errorf("history grew after Drain: %v; want it to stay %v", got, types)
	}
}

// Drain gives up when its context ends, reporting that an execution is
// still running.
func TestDrainGivesUpAtItsDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::block", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		close(started)
		<-release
		return "done", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}}`)
	if _, err := eng.StartExecution(context.Background(), sm.Arn, "stuck", `{}`); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if eng.Drain(ctx) {
		t.Error("Drain = true while a task was still running; want false at its deadline")
	}
}
