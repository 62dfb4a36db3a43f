package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// Hooks for the external tests.

// ResidentHits returns how many resumes used a resident run state.
func ResidentHits(e *Engine) int64 { return e.residentHits.Load() }

// ResidentCount returns how many executions are resident.
func ResidentCount(e *Engine) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.resident)
}

// Poke makes the timer loop look at the clock again.
func Poke(e *Engine) { e.poke() }

// Quiet reports whether no execution runs and arms timers reports how
// many timers are armed.
func Quiet(e *Engine) (quiet bool, timers int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inflight.Load() == 0 && len(e.live) == 0, len(e.queued)
}

// OffsetClock is the wall clock (in a synctest bubble, the fake one) plus
// an offset a test steps, without a monotonic reading: what the engine
// sees when NTP steps a clock that ran ahead, or when the machine was
// suspended while a Go timer, which counts the monotonic clock, ran.
type OffsetClock struct{ offset atomic.Int64 }

// Now implements Clock.
func (c *OffsetClock) Now() time.Time {
	return time.Now().Round(0).Add(time.Duration(c.offset.Load()))
}

// SleepUntil implements Clock.
func (c *OffsetClock) SleepUntil(ctx context.Context, t time.Time) error {
	return RealClock{}.SleepUntil(ctx, t.Add(-time.Duration(c.offset.Load())))
}

// Step moves the clock by d, back when d is negative.
func (c *OffsetClock) Step(d time.Duration) { c.offset.Add(int64(d)) }

// WithMapConcurrency returns o with the ceilings on the iterations of an
// INLINE and of a DISTRIBUTED Map state that run at once lowered to
// inline and distributed.
func WithMapConcurrency(o Options, inline, distributed int) Options {
	o.mapConcurrency = [2]int{inline, distributed}
	return o
}

// ForgetEvalCounts does what the journal does once its process has run
// for EvalCountResetAfter.
func ForgetEvalCounts(j *EvalJournal) { j.forgetCounts() }

// ParseEvalJournal returns the executions the bytes of a journal file
// show in the middle of an evaluation, each with its state.
func ParseEvalJournal(b []byte) map[string]string { return evaluating(b) }
