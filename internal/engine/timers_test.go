package engine_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// An execution that ends outside its workflow while it waits leaves no
// timer that counts: a later execution of the same ARN (its machine
// deleted and created again) wakes at its own time, not the old one's.
func TestEndedWaitLeavesNoTimer(t *testing.T) {
	const (
		waitDay = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"Next":"D"},"D":{"Type":"Succeed"}}}`
		wait10  = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"D"},"D":{"Type":"Succeed"}}}`
	)
	tests := []struct {
		name string
		end  func(ctx context.Context, eng *engine.Engine, sm, x string) error
	}{
		{"stopped, machine deleted", func(ctx context.Context, eng *engine.Engine, sm, x string) error {
			if _, err := eng.StopExecution(ctx, x, "", ""); err != nil {
				return err
			}
			return eng.DeleteStateMachine(ctx, sm)
		}},
		{"failed by the deletion of its machine", func(ctx context.Context, eng *engine.Engine, sm, x string) error {
			if err := eng.DeleteStateMachine(ctx, sm); err != nil {
				return err
			}
			return eng.CompleteDeletion(ctx, sm)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				eng := engine.New(engine.Options{})
				defer eng.Close()
				sm, err := eng.CreateStateMachine(ctx, "m", waitDay, "")
				if err != nil {
					t.Fatal(err)
				}
				x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait() // x waits
				if err := tt.end(ctx, eng, sm.Arn, x.Arn); err != nil {
					t.Fatal(err)
				}
				if _, err := eng.DescribeExecution(ctx, x.Arn); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
					t.Fatalf("DescribeExecution after the deletion = %v, want ErrExecutionDoesNotExist", err)
				}
				if got := eng.TimerStats().Waiting; got != 0 {
					t.Errorf("%d timers waiting once the execution ended, want 0", got)
				}
				if sm, err = eng.CreateStateMachine(ctx, "m", wait10, ""); err != nil {
					t.Fatal(err)
				}
				if x, err = eng.StartExecution(ctx, sm.Arn, "x", `{}`); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				if got, err := eng.DescribeExecution(ctx, x.Arn); err != nil || got.Status != engine.StatusSucceeded {
					t.Errorf("a 10 s wait a minute later: %s, %v; want SUCCEEDED", got.Status, err)
				}
			})
		})
	}
}
