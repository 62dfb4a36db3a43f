package engine

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A wake-up brought forward after the clock went back that falls due
// while the execution's goroutine has not returned yet from the
// suspension (the resume runs again once it has) is not put back at its
// stored time: the wait still lasts its duration from the step, not its
// duration plus the size of the step.
func TestRebasedWakeUpWhileLive(t *testing.T) {
	for _, window := range []time.Duration{-1, time.Hour} {
		name := "read from the store"
		if window > 0 {
			name = "resident"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				hold := make(chan struct{})
				var once sync.Once
				clock := &OffsetClock{}
				e := New(Options{Clock: clock, ResidentWindow: window, returning: func() {
					once.Do(func() { <-hold }) // the run that suspends in the Wait
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
				time.Sleep(30 * time.Second)
				synctest.Wait()
				clock.Step(-time.Hour)
				time.Sleep(90 * time.Second) // the rebased wake-up falls due; the goroutine is held
				synctest.Wait()
				close(hold)
				synctest.Wait()
				got, err := e.DescribeExecution(ctx, x.Arn)
				if err != nil || got.Status != StatusSucceeded {
					t.Errorf("released after its rebased wake-up fell due: %s, %v; want SUCCEEDED", got.Status, err)
				}
			})
		})
	}
}
