package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// The execution's TimeoutSeconds ends a JSONata evaluation in progress at
// the deadline: the execution times out then, with the history of a
// timeout noticed between states (the interrupted state's Entered event,
// then ExecutionTimedOut, and no EvaluationFailed or MapStateFailed),
// and neither Retry nor Catch sees it: in a state's input (Pass Output,
// Task Arguments, a Choice in a Map iteration, a Map's Items), and in
// what a Task makes of its result (Assign, which its Retry and Catch see
// fail otherwise, and Output). Each evaluation would take far longer
// than the evaluation's own time limit (10 s), which would fail the
// state with States.QueryEvaluationError instead (caught, where there is
// a Catch), and the execution ends at its deadline, long before that.
func TestExecutionTimeoutEndsEvaluation(t *testing.T) {
	const slow = `$sum([1..100000].($sum([1..100000])))`
	const catchAll = `"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
		"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]`
	// A Catch alone: a Retry would postpone the catch past the deadline.
	const catchOnly = `"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]`
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::echo", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		return req.Input, nil
	}})
	tests := []struct {
		name     string
		states   string
		lastType string // the event before ExecutionTimedOut
	}{
		{"pass output", `"S": {"Type": "Pass", "Output": "{% ` + slow + ` %}", "End": true}`, "PassStateEntered"},
		{"task arguments", `"S": {"Type": "Task", "Resource": "arn:aws:states:::echo", "Arguments": {"n": "{% ` + slow + ` %}"}, "End": true, ` + catchAll + `},
			"Caught": {"Type": "Pass", "End": true}`, "TaskStateEntered"},
		{"choice in a map iteration", `"S": {"Type": "Map", "Items": [1], "End": true, ` + catchAll + `, "ItemProcessor": {"StartAt": "C", "States": {
				"C": {"Type": "Choice", "Choices": [{"Condition": "{% ` + slow + ` > 0 %}", "Next": "Done"}], "Default": "Done"},
				"Done": {"Type": "Succeed"}}}},
			"Caught": {"Type": "Pass", "End": true}`, "ChoiceStateEntered"},
		{"map items", `"S": {"Type": "Map", "Items": "{% [` + slow + `] %}", "End": true, ` + catchAll + `, "ItemProcessor": {"StartAt": "P", "States": {
				"P": {"Type": "Pass", "End": true}}}},
			"Caught": {"Type": "Pass", "End": true}`, "MapStateEntered"},
		{"task assign", `"S": {"Type": "Task", "Resource": "arn:aws:states:::echo", "Assign": {"n": "{% ` + slow + ` %}"}, "End": true, ` + catchOnly + `},
			"Caught": {"Type": "Pass", "End": true}`, "TaskSucceeded"},
		{"task output", `"S": {"Type": "Task", "Resource": "arn:aws:states:::echo", "Output": "{% ` + slow + ` %}", "End": true, ` + catchAll + `},
			"Caught": {"Type": "Pass", "End": true}`, "TaskSucceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Dispatcher: d})
			sm := create(t, eng, `{"QueryLanguage": "JSONata", "TimeoutSeconds": 1, "StartAt": "S", "States": {`+tt.states+`}}`)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			x, err := eng.StartExecution(ctx, sm.Arn, "slow", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			if x, err = eng.Wait(ctx, x.Arn); err != nil {
				t.Fatal(err)
			}
			if x.Status != engine.StatusTimedOut || x.Error != "States.Timeout" {
				t.Fatalf("execution = %s %s %q, want TIMED_OUT States.Timeout", x.Status, x.Error, x.Cause)
			}
			// Ended by the deadline (1 s), long before the evaluation's
			// own limit (10 s) would have ended it.
			if got := x.StopDate.Sub(x.StartDate); got < time.Second || got > 5*time.Second {
				t.Errorf("timed out after %v, want its deadline (1s), well before the evaluation's limit (10s)", got)
			}
			types := eventTypes(t, eng, x.Arn)
			if n := len(types); n < 2 || types[n-1] != "ExecutionTimedOut" || types[n-2] != tt.lastType ||
				slices.Contains(types, "EvaluationFailed") || slices.Contains(types, "MapStateFailed") {
				t.Errorf("history = %v, want it to end with %s, ExecutionTimedOut, without EvaluationFailed or MapStateFailed", types, tt.lastType)
			}
		})
	}
}

// On a virtual clock (stepmon asl run), whose time is far from the wall
// clock's, an execution's TimeoutSeconds still ends an evaluation only
// after that many seconds: a JSONata error before then is an ordinary
// one, which the state's Catch takes.
func TestExecutionTimeoutOnVirtualClock(t *testing.T) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::echo", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		return req.Input, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"QueryLanguage": "JSONata", "TimeoutSeconds": 60, "StartAt": "S", "States": {
		"S": {"Type": "Task", "Resource": "arn:aws:states:::echo", "Arguments": {"n": "{% 1 + 'a' %}"}, "End": true,
			"Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]},
		"Caught": {"Type": "Pass", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("execution = %s %s %q, want SUCCEEDED through the Catch", x.Status, x.Error, x.Cause)
	}
	if types := eventTypes(t, eng, x.Arn); !slices.Contains(types, "EvaluationFailed") || types[len(types)-2] != "PassStateExited" {
		t.Errorf("history = %v, want the evaluation's failure caught by Caught", types)
	}
}
