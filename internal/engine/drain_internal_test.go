package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Drain waits for an execution the timer loop is starting to resume as it
// drains: the loop had taken it off its timers but not yet counted it as
// running, and Drain, reading no execution running, reported the engine
// drained; Close then cancelled the execution's task mid-step.
func TestDrainWaitsForAWakeUpUnderWay(t *testing.T) {
	reached, proceed := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	var calls atomic.Int32
	d := NewDispatcher()
	d.Handle("arn:aws:states:::count", Route{Handler: func(context.Context, TaskRequest) (any, error) {
		calls.Add(1)
		return "counted", nil
	}})
	e := New(Options{Dispatcher: d, waking: func() {
		if held.CompareAndSwap(false, true) {
			close(reached)
			<-proceed
		}
	}})
	defer e.Close()
	var release sync.Once
	free := func() { release.Do(func() { close(proceed) }) }
	defer free() // before Close, which waits for the loop
	ctx := context.Background()
	sm, err := e.CreateStateMachine(ctx, "m", `{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Seconds": 1, "Next": "T"},
		"T": {"Type": "Task", "Resource": "arn:aws:states:::count", "Next": "Again"},
		"Again": {"Type": "Wait", "Seconds": 3600, "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.StartExecution(ctx, sm.Arn, "x", `{}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the Wait never fell due")
	}
	drained := make(chan bool, 1)
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		drained <- e.Drain(dctx)
	}()
	select {
	case ok := <-drained:
		t.Fatalf("Drain returned %v while the loop was starting an execution", ok)
	case <-time.After(100 * time.Millisecond):
	}
	free()
	if ok := <-drained; !ok {
		t.Fatal("Drain = false; want true once the execution suspended in its second Wait")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the task ran %d times by the end of Drain, want 1", n)
	}
}
