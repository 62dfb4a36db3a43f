package engine_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// okDispatcher returns a dispatcher whose arn:aws:states:::ok task
// returns "ok".
func okDispatcher() *engine.Dispatcher {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::ok", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		return "ok", nil
	}})
	return d
}

// TestTaskTimeoutPaths: TimeoutSecondsPath and HeartbeatSecondsPath take
// the task's limits from the state input, which TaskScheduled records; a
// value that is not a positive integer, or a path that selects nothing,
// fails the execution with States.Runtime before the task is scheduled.
func TestTaskTimeoutPaths(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		wantErr       string
		wantCause     string // a part of the failure's cause
		wantTimeout   int64
		wantHeartbeat int64
	}{
		{"both", `{"t": 60, "h": 10}`, "", "", 60, 10},
		{"timeout of one second", `{"t": 1, "h": 1}`, "", "", 1, 1},
		{"zero timeout", `{"t": 0, "h": 10}`, "States.Runtime", "The TimeoutSeconds value must be a positive integer: 0", 0, 0},
		{"zero heartbeat", `{"t": 60, "h": 0}`, "States.Runtime", "The HeartbeatSeconds value must be a positive integer: 0", 0, 0},
		{"fractional timeout", `{"t": 1.5, "h": 1}`, "States.Runtime", "The TimeoutSeconds value must be a positive integer: 1.5", 0, 0},
		{"fractional heartbeat", `{"t": 60, "h": 2.5}`, "States.Runtime", "The HeartbeatSeconds value must be a positive integer: 2.5", 0, 0},
		{"string", `{"t": "60", "h": 10}`, "States.Runtime", `The TimeoutSeconds value must be a positive integer: "60"`, 0, 0},
		{"no timeout", `{"h": 10}`, "States.Runtime", "The TimeoutSecondsPath parameter does not reference an input value: $.t", 0, 0},
		{"no heartbeat", `{"t": 60}`, "States.Runtime", "The HeartbeatSecondsPath parameter does not reference an input value: $.h", 0, 0},
		// Held to the literal's limit: 1e10 s wrapped around to no limit
		// at all, 18446744074 s to 290 ms.
		{"the longest timeout", `{"t": 99999999, "h": 10}`, "", "", 99999999, 10},
		{"a timeout past the longest", `{"t": 10000000000, "h": 10}`, "States.Runtime", "The TimeoutSeconds value must be at most 99999999: 10000000000", 0, 0},
		{"a heartbeat past the longest", `{"t": 60, "h": 18446744074}`, "States.Runtime", "The HeartbeatSeconds value must be at most 99999999", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Dispatcher: okDispatcher(), Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			// The paths read the state input, before InputPath, which
			// selects a part without t and h.
			sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::ok",
				"InputPath": "$.in", "TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h", "End": true}}}`)
			input := strings.Replace(tt.input, "{", `{"in": {}, `, 1)
			x := run(t, eng, sm.Arn, "x", input)
			hist := history(t, eng, x.Arn)
			if tt.wantErr != "" {
				if x.Status != engine.StatusFailed || x.Error != tt.wantErr || !strings.Contains(x.Cause, tt.wantCause) {
					t.Errorf("execution = %s %s %q, want FAILED %s with a cause holding %q", x.Status, x.Error, x.Cause, tt.wantErr, tt.wantCause)
				}
				for _, ev := range hist {
					if ev.Type == "TaskScheduled" {
						t.Errorf("history has TaskScheduled, want the state to fail before scheduling the task")
					}
				}
				return
			}
			if x.Status != engine.StatusSucceeded {
				t.Fatalf("execution = %s %s %s, want SUCCEEDED", x.Status, x.Error, x.Cause)
			}
			for _, ev := range hist {
				if ev.Type != "TaskScheduled" {
					continue
				}
				if ev.Details.Extra.TimeoutInSeconds != tt.wantTimeout || ev.Details.Extra.HeartbeatSeconds != tt.wantHeartbeat {
					t.Errorf("TaskScheduled timeoutInSeconds %d, heartbeatInSeconds %d; want %d and %d",
						ev.Details.Extra.TimeoutInSeconds, ev.Details.Extra.HeartbeatSeconds, tt.wantTimeout, tt.wantHeartbeat)
				}
				return
			}
			t.Errorf("history has no TaskScheduled")
		})
	}
}

// TestTaskRequestAttempt: a task handler sees the attempt it serves: 0
// for the first, then the retry count, as $$.State.RetryCount holds it.
func TestTaskRequestAttempt(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts []int
	)
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, req.Attempt)
		if len(attempts) < 3 {
			return nil, &engine.TaskError{Name: "Transient", Cause: "try again"}
		}
		return "ok", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::flaky",
		"Retry": [{"ErrorEquals": ["Transient"], "MaxAttempts": 3}], "End": true}}}`)
	if x := run(t, eng, sm.Arn, "x", `{}`); x.Status != engine.StatusSucceeded {
		t.Fatalf("execution = %s %s, want SUCCEEDED", x.Status, x.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{0, 1, 2}; !slices.Equal(attempts, want) {
		t.Errorf("attempts = %v, want %v", attempts, want)
	}
}

// TestRetryWithFullHistory: a task failure whose TaskFailed event no
// longer fits in the history is not retried: the execution fails at the
// history limit at once, without waiting out the retry interval or
// calling the task again.
func TestRetryWithFullHistory(t *testing.T) {
	// ExecutionStarted, TaskStateEntered, TaskScheduled and TaskStarted
	// fill four of the five events; the fifth is ExecutionFailed.
	const limit = 5
	d, calls := alwaysFailing("E")
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock, MaxHistoryEvents: limit})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail",
		"Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 3600, "MaxAttempts": 3}], "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	checkHistoryLimitFailure(t, eng, x, limit)
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1", calls.Load())
	}
	if got := clock.Now().Sub(start); got != 0 {
		t.Errorf("virtual time passed = %v, want 0 (no retry interval)", got)
	}
}

// TestFastTaskLeavesNoScheduledCommit: the commit that would show a task
// in flight once it has run for a second is called off when the task
// ends sooner. Were it to run later, it would overwrite the run state of
// the Wait state that follows with the task's, and a restart would
// dispatch the task again.
func TestFastTaskLeavesNoScheduledCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := engine.NewMemStore()
		eng := engine.New(engine.Options{Store: store, Dispatcher: okDispatcher()})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt": "T", "States": {
			"T": {"Type": "Task", "Resource": "arn:aws:states:::ok", "Next": "W"},
			"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		// Well past the second after which a task in flight is committed.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		raw, _, err := store.GetRunState(ctx, x.Arn)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), `"state":"W","phase":"wait"`) {
			t.Errorf("run state = %s, want the Wait state's", raw)
		}
	})
}
