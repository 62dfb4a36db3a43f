package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// A child started by startExecution.sync is stopped when its parent's
// task ends without it: the parent stopped, timed out, or the task timed
// out. A child started without .sync runs on.
func TestSyncChildStoppedWithParent(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		task     string // more fields of the parent's Task state
		top      string // more fields of the parent's definition
		stop     bool   // stop the parent
		want     engine.ExecutionStatus
	}{
		{"parent stopped", engine.StartExecutionSyncResource, ``, ``, true, engine.StatusAborted},
		{"parent timed out", engine.StartExecutionSync2Resource, ``, `"TimeoutSeconds": 1,`, false, engine.StatusAborted},
		{"task timed out", engine.StartExecutionSyncResource, `"TimeoutSeconds": 1,`, ``, false, engine.StatusAborted},
		{"not .sync", engine.StartExecutionResource, ``, ``, true, engine.StatusRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			eng := newEngine(t, engine.Options{})
			child, err := eng.CreateStateMachine(ctx, "child", waitHour, "")
			if err != nil {
				t.Fatal(err)
			}
			parent := create(t, eng, `{`+tt.top+` "StartAt": "Start", "States": {
				"Start": {"Type": "Task", "Resource": "`+tt.resource+`", `+tt.task+`
					"Parameters": {"StateMachineArn": "`+child.Arn+`", "Name": "kid"}, "Next": "W"},
				"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`)
			x, err := eng.StartExecution(ctx, parent.Arn, "parent", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			kid := "arn:aws:states:us-east-1:123456789012:execution:child:kid"
			waitForTimer(t, eng.Store(), kid) // the child is waiting
			if tt.stop {
				if _, err := eng.StopExecution(ctx, x.Arn, "", ""); err != nil {
					t.Fatal(err)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if tt.want == engine.StatusRunning {
				time.Sleep(100 * time.Millisecond)
			} else if _, err := eng.Wait(wctx, kid); err != nil {
				t.Fatalf("the child still runs: %v", err)
			}
			got, err := eng.DescribeExecution(ctx, kid)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Errorf("child status %s, want %s", got.Status, tt.want)
			}
		})
	}
}
