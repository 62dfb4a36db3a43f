package engine

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A Wait call that returns without the execution ending (its ctx ended,
// the ARN is unknown) takes its channel out of the engine's waiters.
func TestWaitLeavesNoWaiter(t *testing.T) {
	const waitDay = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`
	tests := []struct {
		name    string
		start   bool // start the execution (else its ARN is unknown)
		wantErr error
	}{
		{"ctx ends while it runs", true, context.DeadlineExceeded},
		{"unknown execution", false, ErrExecutionDoesNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				e := New(Options{})
				defer e.Close()
				sm, err := e.CreateStateMachine(ctx, "m", waitDay, "")
				if err != nil {
					t.Fatal(err)
				}
				arn := "arn:aws:states:us-east-1:123456789012:execution:m:x"
				if tt.start {
					x, err := e.StartExecution(ctx, sm.Arn, "x", `{}`)
					if err != nil {
						t.Fatal(err)
					}
					arn = x.Arn
				}
				wctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				if _, err := e.Wait(wctx, arn); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Wait = %v, want %v", err, tt.wantErr)
				}
				e.mu.Lock()
				n := len(e.waiters[arn])
				e.mu.Unlock()
				if n != 0 {
					t.Errorf("%d waiters left for %s, want 0", n, arn)
				}
			})
		})
	}
}
