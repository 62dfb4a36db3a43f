package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// syncBuffer is a bytes.Buffer safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// At Debug the engine logs an execution's runs, task attempts, timers and
// end, without its input or output; at Info none of it.
func TestDebugLines(t *testing.T) {
	const def = `{"StartAt": "Check", "States": {
		"Check": {"Type": "Task", "Resource": "arn:aws:states:::check", "Next": "Pause",
			"Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 1}]},
		"Pause": {"Type": "Wait", "Seconds": 5, "Next": "Next"},
		"Next": {"Type": "Pass", "End": true}}}`
	tests := []struct {
		level slog.Level
		want  map[string]int // message: lines
	}{
		{slog.LevelDebug, map[string]int{
			// started, after the retry interval, after the Wait
			`msg="engine: execution runs" execution=arn:aws:states:us-east-1:123456789012:execution:sm:x state=Check`:            2,
			`msg="engine: execution runs" execution=arn:aws:states:us-east-1:123456789012:execution:sm:x state=Pause phase=wait`: 1,
			`msg="engine: task" execution=arn:aws:states:us-east-1:123456789012:execution:sm:x state=Check resource=`:            2,
			` error=Flaky`:                  1,
			` retry=1`:                      1,
			`msg="engine: timer armed"`:     2,
			`state=Check phase=retry`:       2, // armed, fired
			`state=Pause phase=wait`:        2, // armed, fired
			`msg="engine: execution ended"`: 1,
			`status=SUCCEEDED ran=7s`:       1,
			`level=DEBUG`:                   8,
			`s3cr3t`:                        0,
		}},
		{slog.LevelInfo, map[string]int{`level=DEBUG`: 0, `engine:`: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			var calls atomic.Int32
			d := engine.NewDispatcher()
			d.Handle("arn:aws:states:::check", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
				if calls.Add(1) == 1 {
					return nil, &engine.TaskError{Name: "Flaky", Cause: "s3cr3t in the cause"}
				}
				return map[string]any{"token": "s3cr3t"}, nil
			}})
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tt.level}))
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0)), Logger: log,
				AccountID: "123456789012"})
			sm := create(t, eng, def)
			if done := run(t, eng, sm.Arn, "x", `{"token": "s3cr3t"}`); done.Status != engine.StatusSucceeded {
				t.Fatalf("status %s, want SUCCEEDED", done.Status)
			}
			text := logs.String()
			for s, n := range tt.want {
				if got := strings.Count(text, s); got != n {
					t.Errorf("%d lines with %q, want %d; the log:\n%s", got, s, n, text)
				}
			}
		})
	}
}
