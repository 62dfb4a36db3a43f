package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// An execution started under the ARN of one that failed as its state
// machine was deleted (the deletion frees the name) runs, even when the
// goroutine of the failed one has not returned yet.
func TestStartUnderTheArnOfAnEndingExecution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		hold := make(chan struct{})
		var holding atomic.Bool
		e := New(Options{returning: func() {
			if holding.CompareAndSwap(true, false) {
				<-hold // the run that fails at the deletion
			}
		}})
		defer e.Close()
		sm, err := e.CreateStateMachine(ctx, "m", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.StartExecution(ctx, sm.Arn, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // in its Wait
		if err := e.DeleteStateMachine(ctx, sm.Arn); err != nil {
			t.Fatal(err)
		}
		holding.Store(true)
		time.Sleep(61 * time.Second) // the Wait ends: x fails, the machine is deleted
		synctest.Wait()
		if _, err := e.Store().GetStateMachine(ctx, sm.Arn); err == nil {
			t.Fatal("the state machine is still there after its execution failed")
		}

		sm, err = e.CreateStateMachine(ctx, "m", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"new","End":true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.StartExecution(ctx, sm.Arn, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if again.Arn != x.Arn {
			t.Fatalf("new execution %s, want the ARN %s again", again.Arn, x.Arn)
		}
		close(hold)
		synctest.Wait()
		got, err := e.DescribeExecution(ctx, again.Arn)
		if err != nil || got.Status != StatusSucceeded || got.Output != `"new"` {
			t.Errorf("new execution = %s %s, %v; want SUCCEEDED with \"new\"", got.Status, got.Output, err)
		}
	})
}
