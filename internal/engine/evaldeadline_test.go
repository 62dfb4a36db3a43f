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
// then ExecutionTimedOut, and no EvaluationFailed), and neither Retry
// nor Catch sees it. Each evaluation would take far longer than the
// evaluation's own time limit (10 s), which would fail the state with
// States.QueryEvaluationError instead (caught, where there is a Catch).
func TestExecutionTimeoutEndsEvaluation(t *testing.T) {
	const slow = `$sum([1..100000].($sum([1..100000])))`
	const catchAll = `"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
		"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]`
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
			if got := x.StopDate.Sub(x.StartDate); got < time.Second {
				t.Errorf("timed out after %v, before its deadline", got)
			}
			types := eventTypes(t, eng, x.Arn)
			if n := len(types); n < 2 || types[n-1] != "ExecutionTimedOut" || types[n-2] != tt.lastType ||
				slices.Contains(types, "EvaluationFailed") {
				t.Errorf("history = %v, want it to end with %s, ExecutionTimedOut, without EvaluationFailed", types, tt.lastType)
			}
		})
	}
}
