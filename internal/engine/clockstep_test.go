package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// When the wall clock goes back past the time a wait of a duration began
// (a Wait of Seconds, a retry interval), the wait lasts its duration
// again from the clock's new reading, not its duration plus the size of
// the step. A Wait until a Timestamp waits for the clock to reach it.
func TestClockStepBackRebasesWaits(t *testing.T) {
	const step = time.Hour
	tests := []struct {
		name     string
		def      string
		failures int32 // of the task, before it succeeds
		// The execution is still running 15 s after the step, and has
		// ended 2 minutes after it, unless absolute: then it waits for
		// the clock to reach its time again.
		absolute bool
	}{
		{"wait of seconds, read from the store", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`, 0, false},
		{"wait of seconds, resident", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"W2"},"W2":{"Type":"Wait","Seconds":28,"End":true}}}`, 0, false},
		{"retry interval", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::flaky","End":true,
			"Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":60}]}}}`, 1, false},
		{"wait until a timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2000-01-01T00:01:00Z","End":true}}}`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				x := startStepped(t, "STANDARD", tt.def, tt.failures)
				defer x.eng.Close()
				time.Sleep(25 * time.Second) // into the wait (the second one where there are two)
				synctest.Wait()
				x.clock.Step(-step)
				status := x.status
				time.Sleep(15 * time.Second)
				synctest.Wait()
				if got := status(); got != engine.StatusRunning {
					t.Fatalf("15 s after the step: %s, want RUNNING (a wait does not end early)", got)
				}
				time.Sleep(105 * time.Second)
				synctest.Wait()
				want := engine.StatusSucceeded
				if tt.absolute {
					want = engine.StatusRunning
				}
				if got := status(); got != want {
					t.Errorf("2 minutes after the clock went back %v: %s, want %s", step, got, want)
				}
				if tt.absolute {
					time.Sleep(step)
					synctest.Wait()
					if got := status(); got != engine.StatusSucceeded {
						t.Errorf("once the clock reached the timestamp: %s, want SUCCEEDED", got)
					}
				}
			})
		})
	}
}

// A wait or retry interval cut short by the execution's deadline ends at
// the deadline, a wall-clock time: after the clock goes back, it is not
// rebased like a wait of its whole duration, so the execution neither
// goes on early nor ends before the clock reaches its deadline again.
func TestClockStepBackKeepsDeadlineCappedWaits(t *testing.T) {
	const step = time.Hour
	tests := []struct {
		name, typ, def string
	}{
		{"wait of seconds past TimeoutSeconds", "STANDARD",
			`{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"D"},"D":{"Type":"Succeed"}}}`},
		{"retry interval past TimeoutSeconds", "STANDARD",
			`{"TimeoutSeconds":60,"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::flaky","End":true,
				"Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":3600}]}}}`},
		{"wait of seconds past the EXPRESS limit", "EXPRESS",
			`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"D"},"D":{"Type":"Succeed"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				x := startStepped(t, tt.typ, tt.def, 1)
				defer x.eng.Close()
				calls := x.calls
				time.Sleep(5 * time.Second) // into the wait
				synctest.Wait()
				x.clock.Step(-step)
				status := x.status
				time.Sleep(10 * time.Minute) // past where a rebased deadline would be
				synctest.Wait()
				if got := status(); got != engine.StatusRunning {
					t.Fatalf("10 minutes after the clock went back %v: %s, want RUNNING (the deadline is not reached yet)", step, got)
				}
				time.Sleep(step)
				synctest.Wait()
				if got := status(); got != engine.StatusTimedOut {
					t.Errorf("once the clock reached the deadline: %s, want TIMED_OUT", got)
				}
				if n := calls.Load(); n > 1 {
					t.Errorf("the task ran %d times, want at most 1 (its retry interval outlasts the deadline)", n)
				}
			})
		})
	}
}

// steppedRun is an execution on an engine whose clock a test steps.
type steppedRun struct {
	t     *testing.T
	eng   *engine.Engine
	clock *engine.OffsetClock
	calls *atomic.Int32 // of the task arn:aws:states:::flaky
	arn   string
}

// startStepped starts execution x of a state machine of typ and def, on
// an engine with an OffsetClock, whose task arn:aws:states:::flaky fails
// its first failures calls with the error Flaky. The caller closes eng.
func startStepped(t *testing.T, typ, def string, failures int32) steppedRun {
	t.Helper()
	r := steppedRun{t: t, clock: &engine.OffsetClock{}, calls: new(atomic.Int32)}
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		if r.calls.Add(1) <= failures {
			return nil, &engine.TaskError{Name: "Flaky", Cause: "try again"}
		}
		return "ok", nil
	}})
	r.eng = engine.New(engine.Options{Clock: r.clock, Dispatcher: d})
	ctx := context.Background()
	sm, err := r.eng.CreateStateMachineOfType(ctx, "m", typ, def, "")
	if err != nil {
		r.eng.Close()
		t.Fatal(err)
	}
	x, err := r.eng.StartExecution(ctx, sm.Arn, "x", `{}`)
	if err != nil {
		r.eng.Close()
		t.Fatal(err)
	}
	r.arn = x.Arn
	return r
}

// status returns the execution's status.
func (r steppedRun) status() engine.ExecutionStatus {
	r.t.Helper()
	got, err := r.eng.DescribeExecution(context.Background(), r.arn)
	if err != nil {
		r.t.Fatal(err)
	}
	return got.Status
}
