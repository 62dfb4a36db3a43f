package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// A Task's heartbeat timeout fails it with States.HeartbeatTimeout, which
// a catcher of States.Timeout catches (AWS: States.Timeout is a task that
// "failed to send a heartbeat for a period longer than the
// HeartbeatSeconds value") and one of States.TaskFailed does not.
func TestHeartbeatTimeoutMatching(t *testing.T) {
	tests := []struct {
		equals string
		caught bool
	}{
		{"States.Timeout", true},
		{"States.HeartbeatTimeout", true},
		{"States.ALL", true},
		{"States.TaskFailed", false},
	}
	for _, tt := range tests {
		t.Run(tt.equals, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := engine.NewDispatcher()
				d.Handle("arn:aws:states:::slow", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
					select {
					case <-time.After(time.Minute):
						return "done", nil
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}})
				eng := newEngine(t, engine.Options{Dispatcher: d})
				sm := create(t, eng, `{"StartAt": "T", "States": {
					"T": {"Type": "Task", "Resource": "arn:aws:states:::slow", "HeartbeatSeconds": 1, "TimeoutSeconds": 30,
						"Catch": [{"ErrorEquals": ["`+tt.equals+`"], "ResultPath": "$.err", "Next": "Caught"}], "End": true},
					"Caught": {"Type": "Pass", "End": true}}}`)
				x := run(t, eng, sm.Arn, "x", `{}`)
				if tt.caught {
					if x.Status != engine.StatusSucceeded || x.Output != `{"err":{"Cause":"The task did not complete within 1s.","Error":"States.HeartbeatTimeout"}}` {
						t.Errorf("execution = %s %s, output %s; want SUCCEEDED with the heartbeat timeout caught", x.Status, x.Error, x.Output)
					}
					return
				}
				if x.Status != engine.StatusFailed || x.Error != "States.HeartbeatTimeout" {
					t.Errorf("execution = %s %s %q, want FAILED States.HeartbeatTimeout", x.Status, x.Error, x.Cause)
				}
			})
		})
	}
}
