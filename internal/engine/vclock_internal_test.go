package engine

import (
	"container/heap"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// RealClock.SleepUntil sleeps until its time, across several wall-clock
// rechecks, and returns early with the context's error when the context
// ends; with its time past, it returns the context's error at once.
func TestRealClockSleepUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c RealClock
		start := time.Now()
		if err := c.SleepUntil(context.Background(), start.Add(3*wallClockRecheck+time.Millisecond)); err != nil {
			t.Fatalf("SleepUntil = %v", err)
		}
		if got := time.Since(start); got != 3*wallClockRecheck+time.Millisecond {
			t.Errorf("slept %v, want %v", got, 3*wallClockRecheck+time.Millisecond)
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*wallClockRecheck, cancel)
		start = time.Now()
		if err := c.SleepUntil(ctx, start.Add(time.Hour)); !errors.Is(err, context.Canceled) {
			t.Errorf("SleepUntil with the context ending = %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != 2*wallClockRecheck {
			t.Errorf("returned after %v, want %v, when the context ended", got, 2*wallClockRecheck)
		}
		if err := c.SleepUntil(ctx, time.Now().Add(-time.Second)); !errors.Is(err, context.Canceled) {
			t.Errorf("SleepUntil of a past time with the context ended = %v, want context.Canceled", err)
		}
	})
}

// Without an engine, SleepUntil never moves the clock back.
func TestVirtualClockStandaloneNeverGoesBack(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewVirtualClock(start)
	if err := c.SleepUntil(context.Background(), start.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("clock at %v after SleepUntil(-1m), want %v", got, start)
	}
}

// On an engine's clock, SleepUntil of a time not after now, or with its
// context ended, returns at once without sleeping, leaving the count of
// work in progress or waking the engine's timer loop (which could find
// the engine idle meanwhile and jump the clock).
func TestVirtualClockSleepUntilReturnsAtOnce(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		at   time.Time
		want error
	}{
		{"now", context.Background(), start, nil},
		{"a past time", context.Background(), start.Add(-time.Second), nil},
		{"a context ended", ended, start.Add(time.Hour), context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := NewVirtualClock(start)
				var busy atomic.Int64
				busy.Store(1)
				var pokes atomic.Int32
				c.attach(&busy, func() { pokes.Add(1) })
				res := make(chan error, 1)
				go func() { res <- c.SleepUntil(tc.ctx, tc.at) }()
				synctest.Wait()
				select {
				case err := <-res:
					if !errors.Is(err, tc.want) {
						t.Errorf("SleepUntil = %v, want %v", err, tc.want)
					}
				default:
					c.detach(&busy)
					<-res
					t.Fatal("SleepUntil blocked")
				}
				if n, b, p := len(c.sleepers), busy.Load(), pokes.Load(); n != 0 || b != 1 || p != 0 {
					t.Errorf("%d sleepers, busy %d, the engine poked %d times; want 0, 1, 0", n, b, p)
				}
			})
		})
	}
}

// detach by an engine the clock is no longer attached to leaves the
// clock to the engine attached since.
func TestVirtualClockDetachOfAnotherEngine(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewVirtualClock(start)
	var old, cur atomic.Int64
	c.attach(&old, func() {})
	c.attach(&cur, func() {})
	c.detach(&old)
	if c.busy != &cur || c.poke == nil {
		t.Fatal("detach of the engine attached before detached the current one")
	}
}

// jump does nothing while the count of work in progress is not zero, be it
// negative for a while.
func TestVirtualClockJumpOnlyWhenIdle(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, n := range []int64{1, -1} {
		c := NewVirtualClock(start)
		var busy atomic.Int64
		busy.Store(n)
		c.attach(&busy, func() {})
		if c.jump(start.Add(time.Minute), nil) {
			t.Errorf("jump with %d in progress reported a step", n)
		}
		if !c.Now().Equal(start) {
			t.Errorf("jump with %d in progress moved the clock to %v", n, c.Now())
		}
	}
}

// Sleepers are woken in the order of their wake-up times after some of
// them woke themselves, their context ended, and left the heap.
func TestVirtualClockSleepersInOrderAfterLeaving(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	synctest.Test(t, func(t *testing.T) {
		c := NewVirtualClock(start)
		var busy atomic.Int64
		const n = 9
		busy.Store(n + 1) // the sleepers and other work
		c.attach(&busy, func() {})
		var mu sync.Mutex
		var woke []int
		cancels := make([]context.CancelFunc, n)
		// Registered latest first, so that the heap moves them around.
		for i := n - 1; i >= 0; i-- {
			ctx, cancel := context.WithCancel(context.Background())
			cancels[i] = cancel
			go func() {
				if c.SleepUntil(ctx, start.Add(time.Duration(i+1)*time.Minute)) == nil {
					mu.Lock()
					woke = append(woke, i)
					mu.Unlock()
				}
				busy.Add(-1) // done with its work
			}()
			synctest.Wait()
		}
		for _, i := range []int{0, 4, 5} {
			cancels[i]()
		}
		synctest.Wait()
		busy.Add(-1) // the other work is done
		for c.jump(time.Time{}, nil) {
			synctest.Wait()
		}
		if want := []int{1, 2, 3, 6, 7, 8}; !slices.Equal(woke, want) {
			t.Errorf("woken in order %v, want %v", woke, want)
		}
		if got := c.Now(); !got.Equal(start.Add(n * time.Minute)) {
			t.Errorf("clock at %v, want +%dm", got, n)
		}
		for _, cancel := range cancels {
			cancel()
		}
	})
}

// A jump that wakes the sleepers whose context ended leaves the others in
// order: the next jumps go to their wake-up times one by one, earliest
// first.
func TestVirtualClockJumpSweepKeepsOrder(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewVirtualClock(start)
	var busy atomic.Int64
	c.attach(&busy, func() {})
	const n = 9
	sleepers := make([]*sleeper, n)
	cancels := make([]context.CancelFunc, n)
	c.mu.Lock()
	for i := n - 1; i >= 0; i-- { // latest first, so that the heap moves them around
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		sleepers[i] = &sleeper{at: start.Add(time.Duration(i+1) * time.Minute), ctx: ctx, wake: make(chan struct{})}
		heap.Push(&c.sleepers, sleepers[i])
	}
	c.mu.Unlock()
	defer func() {
		for _, cancel := range cancels {
			cancel()
		}
	}()
	woken := func() []int {
		var out []int
		for i, s := range sleepers {
			select {
			case <-s.wake:
				out = append(out, i)
			default:
			}
		}
		return out
	}
	// The two earliest end: left as they were, the others would not be
	// a heap.
	for _, i := range []int{0, 1} {
		cancels[i]()
	}
	if !c.jump(time.Time{}, nil) || !slices.Equal(woken(), []int{0, 1}) || !c.Now().Equal(start) {
		t.Fatalf("the sweep woke %v and moved the clock to %v; want 0 and 1 woken, the clock still", woken(), c.Now())
	}
	// Each sleeper left knows its place, for heap.Remove when its
	// context ends.
	for i, s := range c.sleepers {
		if s.index != i {
			t.Errorf("sleeper at %v is at %d in the heap, but its index is %d", s.at.Sub(start), i, s.index)
		}
	}
	for i := 2; i < n; i++ {
		busy.Store(0) // the woken sleepers are done
		if !c.jump(time.Time{}, nil) {
			t.Fatalf("no jump to sleeper %d", i)
		}
		if want := start.Add(time.Duration(i+1) * time.Minute); !c.Now().Equal(want) {
			t.Fatalf("jumped to %v, want %v (sleeper %d)", c.Now(), want, i)
		}
		if s := sleepers[i]; s.index != -1 {
			t.Errorf("sleeper %d woken with index %d, want -1", i, s.index)
		}
	}
	if got := woken(); len(got) != n {
		t.Errorf("woken %v, want all %d", got, n)
	}
}
