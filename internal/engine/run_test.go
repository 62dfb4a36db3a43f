package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// alwaysFailing returns a dispatcher whose arn:aws:states:::fail task
// fails with the error name on every call, and the count of its calls.
func alwaysFailing(name string) (*engine.Dispatcher, *atomic.Int32) {
	var calls atomic.Int32
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::fail", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return nil, &engine.TaskError{Name: name, Cause: "failed"}
	}})
	return d, &calls
}

// TestRetrierIntervals: a Task state's retries wait IntervalSeconds
// times BackoffRate to the power of the retries so far, capped at
// MaxDelaySeconds when it is set, and end when the first retrier that
// matches the error has used its MaxAttempts: a later retrier that also
// matches is not tried (the ASL spec).
func TestRetrierIntervals(t *testing.T) {
	tests := []struct {
		name      string
		retry     string
		wantCalls int32
		wantTime  time.Duration // virtual time the retries waited
	}{
		{"backoff", `{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 3}`,
			4, (10 + 30 + 90) * time.Second},
		{"backoff capped at MaxDelaySeconds", `{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 3, "MaxDelaySeconds": 20}`,
			4, (10 + 20 + 20) * time.Second},
		{"MaxAttempts 0", `{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}`,
			1, 0},
		{"first matching retrier exhausted", `{"ErrorEquals": ["E"], "IntervalSeconds": 5, "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 7, "MaxAttempts": 3}`,
			2, 5 * time.Second},
		{"first retrier does not match", `{"ErrorEquals": ["Other"], "IntervalSeconds": 5, "MaxAttempts": 5}, {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 7, "MaxAttempts": 1}`,
			2, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, calls := alwaysFailing("E")
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := engine.NewVirtualClock(start)
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
			sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail",
				"Retry": [`+tt.retry+`], "End": true}}}`)
			x := run(t, eng, sm.Arn, "r", `{}`)
			if x.Status != engine.StatusFailed || x.Error != "E" {
				t.Fatalf("execution = %s %s, want FAILED E", x.Status, x.Error)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if got := clock.Now().Sub(start); got != tt.wantTime {
				t.Errorf("virtual time passed = %v, want %v", got, tt.wantTime)
			}
		})
	}
}

// TestRetrierFullJitter: with JitterStrategy FULL a retry waits a random
// part of its interval, less than the whole of it.
func TestRetrierFullJitter(t *testing.T) {
	d, calls := alwaysFailing("E")
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail",
		"Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1000, "MaxAttempts": 1, "JitterStrategy": "FULL"}], "End": true}}}`)
	x := run(t, eng, sm.Arn, "r", `{}`)
	if x.Status != engine.StatusFailed || calls.Load() != 2 {
		t.Fatalf("execution = %s after %d calls, want FAILED after 2", x.Status, calls.Load())
	}
	if got := clock.Now().Sub(start); got >= 1000*time.Second {
		t.Errorf("virtual time passed = %v, want less than the 1000 s interval", got)
	}
}

// TestLastStateEndsAfterDeadline: an execution whose last state ends
// after the execution's TimeoutSeconds has passed times out, even though
// no state was left to start: its task ran past the deadline.
func TestLastStateEndsAfterDeadline(t *testing.T) {
	clock := &engine.OffsetClock{}
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::late", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		clock.Step(2 * time.Hour) // the task takes two hours of the clock's time
		return "ok", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
	sm := create(t, eng, `{"TimeoutSeconds": 3600, "StartAt": "T", "States": {
		"T": {"Type": "Task", "Resource": "arn:aws:states:::late", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	if x.Status != engine.StatusTimedOut || x.Error != "States.Timeout" {
		t.Errorf("execution = %s %s, want TIMED_OUT States.Timeout", x.Status, x.Error)
	}
	if types := eventTypes(t, eng, x.Arn); types[len(types)-1] != "ExecutionTimedOut" {
		t.Errorf("history = %v, want it to end with ExecutionTimedOut", types)
	}
}

// TestJSONataAssignSeesResult: a JSONata Task state's Assign reads the
// task's result as $states.result, as its Output does.
func TestJSONataAssignSeesResult(t *testing.T) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::seven", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		return map[string]any{"v": 7.0}, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"QueryLanguage": "JSONata", "StartAt": "T", "States": {
		"T": {"Type": "Task", "Resource": "arn:aws:states:::seven", "Assign": {"r": "{% $states.result.v %}"},
			"Output": "{% $states.result.v + 1 %}", "Next": "P"},
		"P": {"Type": "Pass", "Output": "{% [$r, $states.input] %}", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	if x.Status != engine.StatusSucceeded || x.Output != `[7,8]` {
		t.Errorf("execution = %s %s %s, want SUCCEEDED [7,8]", x.Status, x.Output, x.Cause)
	}
}

// TestResultSelectorDataLimitIsTerminal: a ResultSelector whose
// intrinsic functions build more than the payload quota fails the
// execution with States.DataLimitExceeded: a Retry or Catch that names
// the error does not see it, as it sees no States.Runtime either.
func TestResultSelectorDataLimitIsTerminal(t *testing.T) {
	var calls atomic.Int32
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::half", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return map[string]any{"s": strings.Repeat("x", 200*1024)}, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "T", "States": {
		"T": {"Type": "Task", "Resource": "arn:aws:states:::half", "ResultSelector": {"both.$": "States.Array($.s, $.s)"},
			"Retry": [{"ErrorEquals": ["States.DataLimitExceeded"]}],
			"Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}], "End": true},
		"Caught": {"Type": "Pass", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" {
		t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded", x.Status, x.Error, x.Cause)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("task dispatched %d times, want 1", n)
	}
}

// TestStateOutputDataLimit: a state whose output exceeds the payload
// quota fails the execution there with States.DataLimitExceeded, even
// when the next state would shrink it.
func TestStateOutputDataLimit(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "Double", "States": {
		"Double": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "Next": "Half"},
		"Half": {"Type": "Pass", "OutputPath": "$.a", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{"s": "`+strings.Repeat("x", 200*1024)+`"}`)
	want := "The state/task 'Double' returned a result with a size exceeding the maximum number of bytes service limit."
	if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" || x.Cause != want {
		t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded %q", x.Status, x.Error, x.Cause, want)
	}
}

// TestCatchErrorOutputWithoutCause: a caught failure that has no cause
// (a Fail state without Cause) gives the error output an empty Cause.
func TestCatchErrorOutputWithoutCause(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "P", "States": {
		"P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}],
			"Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.err", "Next": "Caught"}], "End": true},
		"Caught": {"Type": "Pass", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	if want := `{"err":{"Cause":"","Error":"E"}}`; x.Status != engine.StatusSucceeded || x.Output != want {
		t.Errorf("execution = %s %s, want SUCCEEDED %s", x.Status, x.Output, want)
	}
}

// TestCatcherOutputAndAssign: a JSONata catcher's Output makes the state
// output from $states.errorOutput, and a JSONPath catcher's Assign reads
// the error output as $.
func TestCatcherOutputAndAssign(t *testing.T) {
	tests := []struct {
		name, def, want string
	}{
		{"JSONata Output", `{"QueryLanguage": "JSONata", "StartAt": "P", "States": {
			"P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}],
				"Catch": [{"ErrorEquals": ["E"], "Output": "{% $states.errorOutput.Error & '/' & $states.errorOutput.Cause %}", "Next": "Caught"}], "End": true},
			"Caught": {"Type": "Pass", "End": true}}}`, `"E/C"`},
		{"JSONPath Assign", `{"StartAt": "P", "States": {
			"P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}],
				"Catch": [{"ErrorEquals": ["E"], "Assign": {"e.$": "$.Error"}, "ResultPath": null, "Next": "Caught"}], "End": true},
			"Caught": {"Type": "Pass", "Parameters": {"e.$": "$e"}, "End": true}}}`, `{"e":"E"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "x", `{}`)
			if x.Status != engine.StatusSucceeded || x.Output != tt.want {
				t.Errorf("execution = %s %s %s, want SUCCEEDED %s", x.Status, x.Output, x.Cause, tt.want)
			}
		})
	}
}
