package engine

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A run that panics (a defect) fails its execution with States.Runtime,
// at the top level and in a Map's iteration alike, and the engine goes on
// running the others: ending the process would resume the execution, and
// panic again, at every start.
func TestPanicFailsTheExecution(t *testing.T) {
	tests := []struct {
		name, def, wantCause string
	}{
		{"a top-level state", `{"StartAt": "Boom", "States": {"Boom": {"Type": "Pass", "End": true}}}`,
			"The engine failed while running the execution: boom"},
		{"a concurrent Map's iteration", `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
			"ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "Boom"},
				"Boom": {"Type": "Pass", "End": true}}}}}}`,
			"The engine failed while running the state 'M': boom"},
		// Not a child's failure, which a tolerated count or a Catch
		// would take: it was reported as the Map Run's, and caught.
		{"a DISTRIBUTED Map's child, with a Catch", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 5,
			"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Boom",
				"States": {"Boom": {"Type": "Pass", "End": true}}}, "End": true},
			"Caught": {"Type": "Pass", "End": true}}}`,
			"The engine failed while running the state 'M': boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The panic's ERROR line, with its stack, is not the test's.
			e := New(Options{Clock: NewVirtualClock(time.Unix(0, 0)), Logger: slog.New(slog.DiscardHandler), entering: func(state string) {
				if state == "Boom" {
					panic("boom")
				}
			}})
			t.Cleanup(func() { _ = e.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sm, err := e.CreateStateMachine(ctx, "p", tt.def, "")
			if err != nil {
				t.Fatal(err)
			}
			ok, err := e.CreateStateMachine(ctx, "ok", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`, "")
			if err != nil {
				t.Fatal(err)
			}
			x, err := e.StartExecution(ctx, sm.Arn, "x", `[1, 2]`)
			if err != nil {
				t.Fatal(err)
			}
			if x, err = e.Wait(ctx, x.Arn); err != nil {
				t.Fatal(err)
			}
			if x.Status != StatusFailed || x.Error != "States.Runtime" || !strings.HasPrefix(x.Cause, tt.wantCause) {
				t.Errorf("execution = %s %s %q; want FAILED States.Runtime %q", x.Status, x.Error, x.Cause, tt.wantCause)
			}
			y, err := e.StartExecution(ctx, ok.Arn, "y", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			if y, err = e.Wait(ctx, y.Arn); err != nil || y.Status != StatusSucceeded {
				t.Errorf("another execution after the panic = %s, %v; want SUCCEEDED", y.Status, err)
			}
		})
	}
}
