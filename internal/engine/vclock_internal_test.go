package engine

import (
	"context"
	"errors"
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

// sleeping starts a SleepUntil(ctx, at) on c and waits until it is
// registered; the channel gets its result.
func sleeping(t *testing.T, c *VirtualClock, ctx context.Context, at time.Time) <-chan error {
	t.Helper()
	res := make(chan error, 1)
	go func() { res <- c.SleepUntil(ctx, at) }()
	for range 5000 {
		c.mu.Lock()
		n := len(c.sleepers)
		c.mu.Unlock()
		if n == 1 {
			return res
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the sleeper never registered")
	return nil
}

// A sleeper whose context ends while work is in progress elsewhere (so
// that no jump sweeps it) wakes itself: it leaves the heap and counts as
// work in progress again before it returns.
func TestVirtualClockCancelledSleeperWakesItself(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewVirtualClock(start)
	var busy atomic.Int64
	busy.Store(2) // the sleeper and other work
	c.attach(&busy, func() {})
	ctx, cancel := context.WithCancel(context.Background())
	res := sleeping(t, c, ctx, start.Add(time.Hour))
	if got := busy.Load(); got != 1 {
		t.Fatalf("busy = %d while it sleeps, want 1", got)
	}
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("SleepUntil = %v, want context.Canceled", err)
	}
	c.mu.Lock()
	n := len(c.sleepers)
	c.mu.Unlock()
	if got := busy.Load(); got != 2 || n != 0 {
		t.Errorf("after the wake: busy = %d, %d sleepers; want 2, 0", got, n)
	}
	if !c.Now().Equal(start) {
		t.Errorf("the clock moved to %v, want it at the start", c.Now())
	}
}

// detach wakes a sleeper whose context does not end with the engine's
// (SleepUntil called with a context of its own), counted, rather than
// leaving it blocked for good.
func TestVirtualClockDetachWakesSleepers(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewVirtualClock(start)
	var busy atomic.Int64
	busy.Store(2)
	c.attach(&busy, func() {})
	res := sleeping(t, c, context.Background(), start.Add(time.Hour))
	c.detach(&busy)
	select {
	case err := <-res:
		if err != nil {
			t.Errorf("SleepUntil = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sleeper still sleeps after detach")
	}
	if got := busy.Load(); got != 2 {
		t.Errorf("busy = %d after the wake, want 2", got)
	}
}
