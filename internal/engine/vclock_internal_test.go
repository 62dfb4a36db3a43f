package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A timer armed after the timer loop read its earliest timer, by an
// execution that went idle before the loop jumps, is not jumped over: the
// loop looks again instead of moving the clock to a sleeping branch's
// wake-up (+1 h), and the timer's Wait of 10 s ends at +10 s.
func TestVirtualClockJumpSeesTimerArmedMeanwhile(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := NewVirtualClock(start)
	var eng atomic.Pointer[Engine]
	var topArn, bArn string
	var once sync.Once
	var startErr error
	jumping := func() {
		e := eng.Load()
		if e == nil {
			return
		}
		clock.mu.Lock()
		sleeping := len(clock.sleepers) > 0
		clock.mu.Unlock()
		if !sleeping {
			return
		}
		once.Do(func() {
			// The loop has read next (no timer yet): start an execution
			// that arms a timer at +10 s and goes idle.
			x, err := e.StartExecution(ctx, topArn, "b", `{}`)
			if err != nil {
				startErr = err
				return
			}
			bArn = x.Arn
			for ctx.Err() == nil {
				e.mu.Lock()
				_, queued := e.queued[x.Arn]
				e.mu.Unlock()
				if queued && e.inflight.Load() == 0 {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	e := New(Options{Clock: clock, jumping: jumping})
	defer e.Close()
	par, err := e.CreateStateMachine(ctx, "par", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}]}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	top, err := e.CreateStateMachine(ctx, "top", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	topArn = top.Arn
	eng.Store(e)
	a, err := e.StartExecution(ctx, par.Arn, "a", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Wait(ctx, a.Arn); err != nil {
		t.Fatal(err)
	}
	if startErr != nil {
		t.Fatal(startErr)
	}
	if bArn == "" {
		t.Fatal("the second execution never started")
	}
	b, err := e.Wait(ctx, bArn)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.StopDate.Sub(start); b.Status != StatusSucceeded || got != 10*time.Second {
		t.Errorf("the Wait of 10 s ended %s at +%v, want SUCCEEDED at +10s", b.Status, got)
	}
}
