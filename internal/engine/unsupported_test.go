package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestUnsupportedResource: a Task whose Resource the runtime cannot run
// fails with a States.TaskFailed that names what is missing, before its
// Parameters are evaluated, and a Catch can handle it. It failed with
// States.Runtime (which no Catch matches), and a .waitForTaskToken task
// blamed the $$.Task.Token of its Parameters.
func TestUnsupportedResource(t *testing.T) {
	tests := []struct {
		name, resource, params, wantCause string
	}{
		{"service integration", "arn:aws:states:::dynamodb:putItem", `{"TableName":"t"}`,
			"The local runtime has no integration for arn:aws:states:::dynamodb:putItem"},
		{"callback", "arn:aws:states:::sqs:sendMessage.waitForTaskToken", `{"MessageBody":{"t.$":"$$.Task.Token"}}`,
			".waitForTaskToken callbacks are not supported locally"},
		{"activity", "arn:aws:states:us-east-1:123456789012:activity:act1", `{}`,
			"activities are not supported locally"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + tt.resource + `","Parameters":` + tt.params + `,"End":true}}}`
			eng := newEngine(t, engine.Options{Dispatcher: engine.NewDispatcher()})
			done := run(t, eng, create(t, eng, def).Arn, "x", `{}`)
			if done.Status != engine.StatusFailed || done.Error != "States.TaskFailed" || !strings.Contains(done.Cause, tt.wantCause) {
				t.Fatalf("got %s %s: %s; want FAILED States.TaskFailed naming %q", done.Status, done.Error, done.Cause, tt.wantCause)
			}

			caught := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + tt.resource + `","Parameters":` + tt.params + `,"End":true,
				"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"C"}]},"C":{"Type":"Succeed"}}}`
			eng2 := newEngine(t, engine.Options{Dispatcher: engine.NewDispatcher()})
			done = run(t, eng2, create(t, eng2, caught).Arn, "x", `{}`)
			if done.Status != engine.StatusSucceeded || !strings.Contains(done.Output, "States.TaskFailed") {
				t.Fatalf("with a Catch: got %s %s: %s (output %s); want SUCCEEDED through the Catch", done.Status, done.Error, done.Cause, done.Output)
			}
			hist, err := eng2.History(context.Background(), done.Arn)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range hist {
				if strings.HasPrefix(ev.Type, "TaskScheduled") {
					t.Errorf("history has %s; the task was never dispatched", ev.Type)
				}
			}
		})
	}
}
