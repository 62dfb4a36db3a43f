package engine

import (
	"context"
	"sync"
	"time"
)

// Clock is the engine's source of time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// SleepUntil blocks until the clock reaches t or ctx is done. The
	// engine uses it for waits inside Map and Parallel states and for
	// retry intervals there; top-level waits and retry intervals (also a
	// top-level Map or Parallel state's own) use the engine's timer heap.
	SleepUntil(ctx context.Context, t time.Time) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// SleepUntil implements Clock.
// It reads the wall clock again at least every wallClockRecheck, so that
// a suspended machine or a step of the clock does not make it late.
func (RealClock) SleepUntil(ctx context.Context, t time.Time) error {
	t = t.Round(0) // the wall clock, not the monotonic reading t may carry
	for {
		d := time.Until(t)
		if d <= 0 {
			return ctx.Err()
		}
		tm := time.NewTimer(min(d, wallClockRecheck))
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
}

// VirtualClock is a clock that only moves forward when told to: the
// engine jumps it to the next timer whenever no execution has work to do,
// so a Wait of a day completes at once. SleepUntil moves it forward
// immediately. Safe for concurrent use.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtualClock returns a virtual clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now implements Clock.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil implements Clock: it advances the clock to t.
func (c *VirtualClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.AdvanceTo(t)
	return ctx.Err()
}

// AdvanceTo moves the clock forward to t (never backwards).
func (c *VirtualClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// jumper is implemented by clocks the engine may jump to the next timer.
type jumper interface{ AdvanceTo(time.Time) }
