package engine_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// TestParametersFailureRetryCatch: an error a Task's or a Parallel's
// Parameters (or JSONata Arguments) raise is one the state reports: its
// Retry and Catch see it, as they see a Map's ItemSelector failure. The
// attempt that failed dispatched nothing, so it records no TaskScheduled
// or TaskFailed (nor ParallelStateStarted); a JSONata failure records its
// EvaluationFailed first. States.Runtime still fails the execution.
func TestParametersFailureRetryCatch(t *testing.T) {
	const task = "arn:aws:states:::test:task"
	// Fails on the first two attempts (index -2, -1), then selects 7.
	const params = `"Parameters":{"n.$":"States.ArrayGetItem($.arr, States.MathAdd($$.State.RetryCount, -2))"}`
	// Fails on every attempt ($$.State.RetryCount is a Task's only).
	const failing = `"Parameters":{"n.$":"States.ArrayGetItem($.arr, 5)"}`
	const c = `"C":{"Type":"Pass","End":true}`
	tests := []struct {
		name       string
		def        string
		wantStatus engine.ExecutionStatus
		wantError  string // the execution's error, or the caught error in the output
		wantTasks  []string
		wantTime   time.Duration // virtual time passed: the retry intervals
		wantEvents []string
	}{
		{name: "task caught by States.ALL",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",` + params + `,
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.IntrinsicFailure",
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
		{name: "task retried then caught",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",` + params + `,
				"Retry":[{"ErrorEquals":["States.IntrinsicFailure"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":1}],
				"Catch":[{"ErrorEquals":["States.IntrinsicFailure"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.IntrinsicFailure", wantTime: 10 * time.Second,
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
		{name: "task retried until its Parameters succeed",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",` + params + `,
				"Retry":[{"ErrorEquals":["States.IntrinsicFailure"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":2}],
				"Catch":[{"ErrorEquals":["States.IntrinsicFailure"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantTasks: []string{`{"n":7}`}, wantTime: 40 * time.Second,
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}},
		{name: "task in a parallel branch retried then caught",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"` + task + `",` + params + `,
				"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":1}],
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},` + c + `}}]}}}`,
			wantStatus: engine.StatusSucceeded, wantTime: 10 * time.Second,
			wantEvents: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "TaskStateEntered", "TaskStateExited",
				"PassStateEntered", "PassStateExited", "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"}},
		{name: "parallel caught",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel",` + failing + `,
				"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
				"Catch":[{"ErrorEquals":["States.IntrinsicFailure"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.IntrinsicFailure",
			wantEvents: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
		{name: "parallel retried then caught",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel",` + failing + `,
				"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
				"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":2}],
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.IntrinsicFailure", wantTime: 30 * time.Second,
			wantEvents: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
		{name: "jsonata Arguments caught",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",
				"Arguments":{"a":"{% $error('boom') %}"},
				"Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.QueryEvaluationError",
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
		{name: "States.Runtime not caught",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `","Parameters":{"a.$":"$.nope"},
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusFailed, wantError: "States.Runtime",
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "ExecutionFailed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []string
			)
			d := engine.NewDispatcher()
			d.Handle(task, engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, asl.Text(req.Input))
				return "ok", nil
			}})
			start := time.Unix(0, 0)
			clock := engine.NewVirtualClock(start)
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "x", `{"arr":[7]}`)
			gotError := x.Error
			if x.Status == engine.StatusSucceeded && tt.wantError != "" {
				v, err := asl.ParseJSON([]byte(x.Output))
				m, _ := v.(map[string]any)
				if err != nil || m == nil {
					t.Fatalf("output %s is not the caught error", x.Output)
				}
				gotError, _ = m["Error"].(string)
			}
			if x.Status != tt.wantStatus || gotError != tt.wantError {
				t.Errorf("execution = %s, error %q (output %s, cause %q); want %s, error %q",
					x.Status, gotError, x.Output, x.Cause, tt.wantStatus, tt.wantError)
			}
			mu.Lock()
			if !slices.Equal(seen, tt.wantTasks) {
				t.Errorf("task inputs = %v, want %v", seen, tt.wantTasks)
			}
			mu.Unlock()
			if got := clock.Now().Sub(start); got != tt.wantTime {
				t.Errorf("virtual time passed = %v, want %v (the retry intervals)", got, tt.wantTime)
			}
			if got := eventTypes(t, eng, x.Arn); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("history = %v,\nwant %v", got, tt.wantEvents)
			}
		})
	}
}

// A retry after a Parameters failure waits out its interval across a
// restart like any other retry: the engine that recovers the execution
// evaluates the Parameters again, with the retry counters it had. The
// Task's succeed on the second attempt ($$.State.RetryCount 1); the
// Parallel's fail again and, the retries spent, go to the Catch.
func TestParametersFailureRetrySurvivesRestart(t *testing.T) {
	tests := []struct {
		name, def, wantOutput string
		wantTasks             []string
		wantEvents            []string
	}{
		{name: "task",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::echo",
				"Parameters": {"n.$": "States.ArrayGetItem($.arr, States.MathAdd($$.State.RetryCount, -1))"},
				"Retry": [{"ErrorEquals": ["States.IntrinsicFailure"], "IntervalSeconds": 3600, "MaxAttempts": 3}], "End": true}}}`,
			wantOutput: `{"n":7}`, wantTasks: []string{`{"n":7}`},
			wantEvents: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}},
		{name: "parallel",
			def: `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Parameters": {"n.$": "States.ArrayGetItem($.arr, 5)"},
				"Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
				"Retry": [{"ErrorEquals": ["States.IntrinsicFailure"], "IntervalSeconds": 3600, "MaxAttempts": 1}],
				"Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "ResultPath": "$.error", "Next": "C"}], "End": true},
				"C": {"Type": "Pass", "OutputPath": "$.error.Error", "End": true}}}`,
			wantOutput: `"States.IntrinsicFailure"`,
			wantEvents: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := engine.NewMemStore()
			var (
				mu   sync.Mutex
				seen []string
			)
			d := engine.NewDispatcher()
			d.Handle("arn:aws:states:::echo", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, asl.Text(req.Input))
				return req.Input, nil
			}})
			eng1 := engine.New(engine.Options{Store: store, Dispatcher: d})
			sm := create(t, eng1, tt.def)
			x, err := eng1.StartExecution(context.Background(), sm.Arn, "r1", `{"arr":[7]}`)
			if err != nil {
				t.Fatalf("StartExecution: %v", err)
			}
			awaitRetryWait(t, store, x.Arn)
			_ = eng1.Close()

			eng2 := newEngine(t, engine.Options{Store: store, Dispatcher: d, Clock: engine.NewVirtualClock(time.Now())})
			if n, err := eng2.Recover(context.Background()); err != nil || n != 1 {
				t.Fatalf("Recover = %d, %v; want 1", n, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done, err := eng2.Wait(ctx, x.Arn)
			if err != nil || done.Status != engine.StatusSucceeded || done.Output != tt.wantOutput {
				t.Fatalf("after recovery: %s %s %s, %v; want SUCCEEDED %s", done.Status, done.Output, done.Error, err, tt.wantOutput)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(seen, tt.wantTasks) {
				t.Errorf("task inputs = %v, want %v", seen, tt.wantTasks)
			}
			if got := eventTypes(t, eng2, x.Arn); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("history = %v,\nwant %v", got, tt.wantEvents)
			}
		})
	}
}
