package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// FuzzExecute runs any valid definition on any JSON input: the engine
// must not panic (tasks get a handler that echoes, waits use the virtual
// clock, endless loops are cut off by closing the engine).
func FuzzExecute(f *testing.F) {
	seeds := []struct{ def, input string }{
		{`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $.a)"}, "Next": "B"}, "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": "1", "Next": "C"}], "Default": "D"}, "C": {"Type": "Succeed"}, "D": {"Type": "Fail", "Error": "E"}}}`, `{"a": 1}`},
		{`{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.v", "End": true}}}, "End": true}}}`, `{"xs": [1, 2, -1]}`},
		{`{"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::x", "Arguments": "{% $states.input %}", "End": true}}}], "Output": "{% $states.result[0] %}", "End": true}}}`, `[1]`},
		{`{"StartAt": "L", "States": {"L": {"Type": "Pass", "Next": "L"}}}`, `{}`},
		{`{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::x", "ResultPath": "$.r", "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true}, "F": {"Type": "Fail", "CausePath": "$.Cause"}}}`, `"str"`},
	}
	for _, s := range seeds {
		f.Add(s.def, s.input)
	}
	f.Fuzz(func(t *testing.T, def, input string) {
		if _, err := asl.Parse([]byte(def)); err != nil {
			return
		}
		if _, err := asl.ParseJSON([]byte(input)); err != nil {
			return
		}
		d := engine.NewDispatcher()
		d.HandlePrefix("", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
			if s, ok := req.Input.(string); ok {
				return nil, &engine.TaskError{Name: s, Cause: s}
			}
			return req.Input, nil
		}})
		eng := engine.New(engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
		defer eng.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		sm, err := eng.CreateStateMachine(ctx, "f", def, "")
		if err != nil {
			t.Fatalf("a definition asl.Parse accepts was refused: %v", err)
		}
		x, err := eng.StartExecution(ctx, sm.Arn, "f", input)
		if err != nil {
			t.Fatalf("StartExecution: %v", err)
		}
		if done, err := eng.Wait(ctx, x.Arn); err == nil {
			if _, herr := eng.History(context.Background(), x.Arn); herr != nil || done.Status == engine.StatusRunning {
				t.Fatalf("finished execution %+v, history error %v", done, herr)
			}
		}
	})
}
