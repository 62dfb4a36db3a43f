package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// The execution's TimeoutSeconds ends it at its deadline wherever it
// stands: in a Wait or a retry interval inside a Parallel or Map state
// (which run in memory), or in a task in flight. A Catch on the enclosing
// state does not see the timeout, and the history ends with
// ExecutionTimedOut and nothing of the state that was interrupted.
func TestExecutionTimeoutInsideStates(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::fail", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		return nil, &engine.TaskError{Name: "Transient", Cause: "try later"}
	}})
	d.Handle("arn:aws:states:::block", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	const catchAll = `"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]`
	tests := []struct {
		name     string
		realTime bool // the task blocks in real time: the virtual clock cannot jump
		timeout  int
		def      string
		lastType string // the event before ExecutionTimedOut
	}{
		{"wait in a parallel branch", false, 10, `{"StartAt": "P", "States": {
			"P": {"Type": "Parallel", "End": true, ` + catchAll + `, "Branches": [
				{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}]},
			"Caught": {"Type": "Pass", "End": true}}}`, "WaitStateEntered"},
		{"retry interval in a map iteration", false, 10, `{"StartAt": "M", "States": {
			"M": {"Type": "Map", "ItemsPath": "$.items", "End": true, ` + catchAll + `, "ItemProcessor": {"StartAt": "T", "States": {
				"T": {"Type": "Task", "Resource": "arn:aws:states:::fail", "End": true,
					"Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 3600}]}}}},
			"Caught": {"Type": "Pass", "End": true}}}`, "TaskFailed"},
		{"task in flight", true, 1, `{"StartAt": "T", "States": {
			"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true, ` + catchAll + `},
			"Caught": {"Type": "Pass", "End": true}}}`, "TaskStarted"},
		{"task in flight in a parallel branch", true, 1, `{"StartAt": "P", "States": {
			"P": {"Type": "Parallel", "End": true, ` + catchAll + `, "Branches": [
				{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}}]},
			"Caught": {"Type": "Pass", "End": true}}}`, "TaskStarted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var clock engine.Clock = engine.NewVirtualClock(start)
			if tt.realTime {
				clock = engine.RealClock{}
			}
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
			def := fmt.Sprintf(`{"TimeoutSeconds": %d, `, tt.timeout) + strings.TrimPrefix(tt.def, "{")
			sm := create(t, eng, def)
			x := run(t, eng, sm.Arn, "x", `{"items": [1]}`)
			if x.Status != engine.StatusTimedOut || x.Error != "States.Timeout" {
				t.Fatalf("execution = %s %s %s, want TIMED_OUT States.Timeout", x.Status, x.Error, x.Output)
			}
			// On the virtual clock the deadline is exact; in real time it
			// is never early (how late depends on the machine).
			want := time.Duration(tt.timeout) * time.Second
			if got := x.StopDate.Sub(x.StartDate); got < want || (!tt.realTime && got != want) {
				t.Errorf("timed out after %v, want %v", got, want)
			}
			types := eventTypes(t, eng, x.Arn)
			if n := len(types); n < 2 || types[n-1] != "ExecutionTimedOut" || types[n-2] != tt.lastType {
				t.Errorf("history = %v, want it to end with %s, ExecutionTimedOut", types, tt.lastType)
			}
		})
	}
}

// A task handler that ignores its context cannot outlast TimeoutSeconds:
// the task times out on time and its late result is discarded.
func TestTaskTimeoutIgnoredByHandler(t *testing.T) {
	t.Parallel()
	// The handler returns only once the execution has ended: if the
	// engine waited for it, run would never see the execution end.
	release, returned := make(chan struct{}), make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::deaf", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		defer close(returned)
		<-release
		return "late", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::deaf", "TimeoutSeconds": 1, "End": true}}}`)
	x := run(t, eng, sm.Arn, "deaf", `{}`)
	close(release)
	<-returned
	if x.Status != engine.StatusFailed || x.Error != "States.Timeout" {
		t.Errorf("execution = %s %s %s, want FAILED States.Timeout", x.Status, x.Error, x.Output)
	}
	if types := eventTypes(t, eng, x.Arn); count(types, "TaskTimedOut") != 1 || count(types, "TaskSucceeded") != 0 {
		t.Errorf("history = %v, want one TaskTimedOut and no TaskSucceeded", types)
	}
}

// An EXPRESS execution runs five minutes at most, as on AWS: its deadline
// is the earlier of its TimeoutSeconds and engine.ExpressMaxDuration. A
// STANDARD one has only its TimeoutSeconds.
func TestExpressExecutionTimesOutAfterFiveMinutes(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		typ        string
		timeout    int // TimeoutSeconds, 0 for none
		wait       int // the Wait state's Seconds
		wantStatus engine.ExecutionStatus
		wantAfter  time.Duration // StopDate - StartDate
	}{
		{"express, no TimeoutSeconds", "EXPRESS", 0, 3600, engine.StatusTimedOut, 5 * time.Minute},
		{"express, longer TimeoutSeconds", "EXPRESS", 3600, 3600, engine.StatusTimedOut, 5 * time.Minute},
		{"express, shorter TimeoutSeconds", "EXPRESS", 60, 3600, engine.StatusTimedOut, time.Minute},
		{"express within five minutes", "EXPRESS", 0, 200, engine.StatusSucceeded, 200 * time.Second},
		{"standard, no TimeoutSeconds", "STANDARD", 0, 3600, engine.StatusSucceeded, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
			def := fmt.Sprintf(`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": %d, "End": true}}}`, tt.wait)
			if tt.timeout > 0 {
				def = fmt.Sprintf(`{"TimeoutSeconds": %d, `, tt.timeout) + strings.TrimPrefix(def, "{")
			}
			sm, err := eng.CreateStateMachineOfType(context.Background(), "sm", tt.typ, def, "")
			if err != nil {
				t.Fatal(err)
			}
			x := run(t, eng, sm.Arn, "x", `{}`)
			if x.Status != tt.wantStatus {
				t.Fatalf("execution = %s %s, want %s", x.Status, x.Error, tt.wantStatus)
			}
			if got := x.StopDate.Sub(x.StartDate); got != tt.wantAfter {
				t.Errorf("ended after %v, want %v", got, tt.wantAfter)
			}
			if tt.wantStatus == engine.StatusTimedOut {
				types := eventTypes(t, eng, x.Arn)
				if x.Error != "States.Timeout" || types[len(types)-1] != "ExecutionTimedOut" {
					t.Errorf("error %q, history %v; want States.Timeout, ending with ExecutionTimedOut", x.Error, types)
				}
			}
		})
	}
}
