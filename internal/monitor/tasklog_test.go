package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

// A task's error is logged with the monitor's fields, at WARN when the
// state machine retries it and ERROR otherwise, and reaches the invoker
// as it was returned; a task that succeeds logs nothing.
func TestLogTaskErrors(t *testing.T) {
	transient := &monitor.TransientError{Message: "check m1 #3: store unavailable"}
	permanent := &monitor.PermanentError{Message: "check m1: no checker for target type \"x\""}
	for _, tt := range []struct {
		name      string
		err       error
		wantLevel string
	}{
		{"transient", transient, "WARN"},
		{"permanent", permanent, "ERROR"},
		// Wrapped, Lambda names it after the wrapper: not retried.
		{"wrapped transient", fmt.Errorf("check: %w", transient), "ERROR"},
		{"none", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := monitor.LogTaskErrors(slog.New(slog.NewJSONHandler(&buf, nil)), "check",
				func(context.Context, monitor.TaskInput) (monitor.State, error) {
					return monitor.State{InstanceID: "m1"}, tt.err
				})
			s, err := h(context.Background(), monitor.TaskInput{State: monitor.State{InstanceID: "m1"},
				ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:m1", RetryCount: 2})
			if err != tt.err || s.InstanceID != "m1" {
				t.Fatalf("handler returned %v, %v; want the task's own error %v", s.InstanceID, err, tt.err)
			}
			if tt.err == nil {
				if buf.Len() != 0 {
					t.Errorf("logged %s for a task that succeeded", buf.Bytes())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", buf.Bytes(), err)
			}
			want := map[string]any{"level": tt.wantLevel, "msg": "check failed", "instanceId": "m1",
				"executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:m1", "retryCount": float64(2),
				"errorType": lambdaerr.Name(tt.err), "err": tt.err.Error()}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v (record %s)", k, rec[k], v, buf.Bytes())
				}
			}
		})
	}
	// The Alert state passes no retry count: the alert's line has none,
	// where it read 0 on every retry.
	var buf bytes.Buffer
	h := monitor.LogTaskErrors(slog.New(slog.NewJSONHandler(&buf, nil)), "alert",
		func(context.Context, monitor.TaskInput) (monitor.State, error) { return monitor.State{}, transient })
	_, _ = h(context.Background(), monitor.TaskInput{State: monitor.State{InstanceID: "m1"}})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.Bytes(), err)
	}
	if _, ok := rec["retryCount"]; ok || rec["msg"] != "alert failed" || rec["instanceId"] != "m1" {
		t.Errorf("alert's line %s, want \"alert failed\" for m1 without a retryCount", buf.Bytes())
	}
}
