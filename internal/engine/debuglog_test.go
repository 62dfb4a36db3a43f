package engine_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

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
			` error=`:                       1, // none on the attempt that succeeded, nor on the end
			` retry=1`:                      1,
			` retry=0`:                      0,
			`phase=enter`:                   0, // the start names no phase
			`timerDue=`:                     2, // not on the start
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
			logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
			if err != nil {
				t.Fatal(err)
			}
			defer logs.Close()
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: tt.level}))
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0)), Logger: log,
				AccountID: "123456789012"})
			sm := create(t, eng, def)
			if done := run(t, eng, sm.Arn, "x", `{"token": "s3cr3t"}`); done.Status != engine.StatusSucceeded {
				t.Fatalf("status %s, want SUCCEEDED", done.Status)
			}
			// The end is logged once it is committed, when Wait may have
			// returned already.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if !eng.Drain(ctx) {
				t.Fatal("the engine did not settle")
			}
			b, err := os.ReadFile(logs.Name())
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for s, n := range tt.want {
				if got := strings.Count(text, s); got != n {
					t.Errorf("%d lines with %q, want %d; the log:\n%s", got, s, n, text)
				}
			}
		})
	}
}
