package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Executions woken by their timers run at most MaxRunning at a time; an
// execution blocked in a task gives its slot back after runSlotHold.
// Executions started through the API do not wait for a slot.
func TestMaxRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		b := newBlocking(t, 2)
		eng, sm, inTask, release := b.eng, b.sm, &b.inTask, b.release
		var arns []string
		for i := range 5 {
			x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("e%d", i), `{}`)
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, x.Arn)
		}
		synctest.Wait() // all five wait a second
		if n := inTask.Load(); n != 0 {
			t.Fatalf("%d executions in the task before their wait ended", n)
		}

		time.Sleep(time.Second) // all five are due
		synctest.Wait()
		if n := inTask.Load(); n != 2 {
			t.Fatalf("%d executions in the task, want MaxRunning = 2", n)
		}

		// A started execution does not wait for a slot.
		direct, err := eng.CreateStateMachine(ctx, "direct", `{"StartAt": "T", "States": {
			"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		x, err := eng.StartExecution(ctx, direct.Arn, "direct", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.Arn)
		synctest.Wait()
		if n := inTask.Load(); n != 3 {
			t.Fatalf("%d executions in the task, want the two woken ones and the started one", n)
		}

		// The two blocked ones give their slots back after runSlotHold.
		time.Sleep(runSlotHold)
		synctest.Wait()
		if n := inTask.Load(); n != 5 {
			t.Fatalf("%d executions in the task after runSlotHold, want 5", n)
		}

		close(release)
		for _, arn := range arns {
			x, err := eng.Wait(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if x.Status != StatusSucceeded {
				t.Errorf("%s: %s", arn, x.Status)
			}
		}
	})
}

// blocking is an engine with MaxRunning slots and a state machine m that
// waits a second, then blocks in a task until release is closed; inTask
// counts the executions that entered the task. For synctest bubbles.
type blocking struct {
	eng     *Engine
	sm      StateMachine
	inTask  atomic.Int32
	release chan struct{}
}

func newBlocking(t *testing.T, maxRunning int) *blocking {
	t.Helper()
	b := &blocking{release: make(chan struct{})}
	d := NewDispatcher()
	d.Handle("arn:aws:states:::block", Route{Handler: func(ctx context.Context, _ TaskRequest) (any, error) {
		b.inTask.Add(1)
		select {
		case <-b.release:
			return map[string]any{}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}})
	b.eng = New(Options{Dispatcher: d, MaxRunning: maxRunning})
	t.Cleanup(func() { b.eng.Close() })
	sm, err := b.eng.CreateStateMachine(context.Background(), "m", `{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Seconds": 1, "Next": "T"},
		"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	b.sm = sm
	return b
}
