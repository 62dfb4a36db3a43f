package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// A task result, or a task input after Parameters, beyond 256 KiB fails
// the state with States.DataLimitExceeded, which States.ALL does not
// catch, even when ResultSelector or ResultPath would have kept only a
// little of it.
func TestTaskDataLimit(t *testing.T) {
	big := strings.Repeat("x", 200*1024)
	var calls atomic.Int32
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::big", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return map[string]any{"big": big + big, "small": 1.0}, nil
	}})
	d.Handle("arn:aws:states:::small", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return "ok", nil
	}})
	const catchAll = `"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Retry": [{"ErrorEquals": ["States.ALL"]}]`
	tests := []struct {
		name, state string
		calls       int32
	}{
		{"result with ResultSelector", `"Resource": "arn:aws:states:::big", "ResultSelector": {"s.$": "$.small"}`, 1},
		{"result with ResultPath null", `"Resource": "arn:aws:states:::big", "ResultPath": null`, 1},
		{"input after Parameters", `"Resource": "arn:aws:states:::small", "Parameters": {"a.$": "$.s", "b.$": "$.s"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			eng := newEngine(t, engine.Options{Dispatcher: d})
			sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", `+tt.state+`, `+catchAll+`, "End": true},
				"Caught": {"Type": "Pass", "End": true}}}`)
			x := run(t, eng, sm.Arn, "x", `{"s": "`+big+`"}`)
			want := "The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit."
			if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" || x.Cause != want {
				t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded %q", x.Status, x.Error, x.Cause, want)
			}
			if n := calls.Load(); n != tt.calls {
				t.Errorf("task dispatched %d times, want %d", n, tt.calls)
			}
		})
	}
}
