package engine

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
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

// VirtualClock is a clock that only moves forward when told to. An
// Engine running on it is a discrete-event scheduler: a goroutine of an
// execution that sleeps (SleepUntil: a wait or a retry interval inside a
// Map or Parallel state) registers its wake-up time and blocks, and the
// engine jumps the clock only once no execution has work in progress,
// to the earliest of its timers and the registered wake-up times, waking
// every sleeper due then. Branches and iterations thus wait side by side,
// as on AWS, and a Wait of a day completes at once.
//
// Without an engine (or once it is closed), SleepUntil moves the clock
// forward to t at once. A VirtualClock drives one Engine at a time; while
// it does, SleepUntil is for that engine's executions and the task
// handlers they call, on the goroutine the engine calls the handler on:
// a sleeper stops counting as the engine's work in progress, so one on a
// goroutine the engine does not count (a goroutine a handler starts, an
// Event invocation running detached from its task) leaves the count one
// short for good, and the clock then jumps while work runs, or never
// again. The count cannot catch this: it is negative for a while, rightly,
// when a task is abandoned at a time limit while it waits for a child
// execution. Safe for concurrent use.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
	// sleepers are the goroutines blocked in SleepUntil, by wake-up time.
	sleepers sleeperHeap
	// busy is the attached engine's count of work in progress
	// (Engine.inflight), poke wakes its timer loop; nil when no engine
	// runs on the clock.
	busy *atomic.Int64
	poke func()
}

// sleeper is a goroutine blocked in VirtualClock.SleepUntil.
type sleeper struct {
	at    time.Time
	ctx   context.Context
	wake  chan struct{} // closed when woken
	index int           // in VirtualClock.sleepers; -1 once woken
}

// NewVirtualClock returns a virtual clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now implements Clock.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil implements Clock. On a clock an engine runs on, it blocks
// until the engine jumps the clock to t (or later) or ctx is done; the
// sleeping goroutine does not count as work in progress meanwhile.
// Otherwise it advances the clock to t.
func (c *VirtualClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if c.busy == nil {
		c.advanceLocked(t)
		c.mu.Unlock()
		return ctx.Err()
	}
	if !t.After(c.now) || ctx.Err() != nil {
		c.mu.Unlock()
		return ctx.Err()
	}
	s := &sleeper{at: t, ctx: ctx, wake: make(chan struct{})}
	heap.Push(&c.sleepers, s)
	// Registered and idle in one step under c.mu: jump, which holds it,
	// never sees the one without the other.
	idle := c.busy.Add(-1) == 0
	poke := c.poke
	c.mu.Unlock()
	if idle {
		poke()
	}
	select {
	case <-s.wake:
	case <-ctx.Done():
		c.mu.Lock()
		if s.index >= 0 {
			heap.Remove(&c.sleepers, s.index)
			c.wakeLocked(s)
		}
		c.mu.Unlock()
	}
	return ctx.Err()
}

// advanceLocked moves the clock forward to t (never backwards), waking
// the sleepers due by then. c.mu is held.
func (c *VirtualClock) advanceLocked(t time.Time) {
	if t.After(c.now) {
		c.now = t
	}
	for len(c.sleepers) > 0 && !c.sleepers[0].at.After(c.now) {
		c.wakeLocked(heap.Pop(&c.sleepers).(*sleeper))
	}
}

// wakeLocked wakes a sleeper taken off the heap: it counts as work in
// progress again before it runs, so that the engine cannot find itself
// idle and jump in between. c.mu is held.
func (c *VirtualClock) wakeLocked(s *sleeper) {
	s.index = -1
	if c.busy != nil {
		c.busy.Add(1)
	}
	close(s.wake)
}

// attach makes the clock an engine's: busy is the engine's count of work
// in progress, poke wakes its timer loop.
func (c *VirtualClock) attach(busy *atomic.Int64, poke func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy, c.poke = busy, poke
}

// detach undoes attach(busy) once the engine is closed; SleepUntil
// advances the clock itself again. Sleepers left (their contexts end
// with the engine's) are woken.
func (c *VirtualClock) detach(busy *atomic.Int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy != busy {
		return // another engine's since
	}
	for len(c.sleepers) > 0 {
		c.wakeLocked(heap.Pop(&c.sleepers).(*sleeper))
	}
	c.busy, c.poke = nil, nil
}

// jump is the scheduler's step, for an attached engine that found no
// work in progress: unless work started meanwhile, it wakes the sleepers
// whose context has ended (their goroutines are about to run: a branch
// cancelled by a failed sibling, a stopped execution), or else moves the
// clock to the earliest of next (zero: none) and the sleepers' wake-up
// times and wakes the sleepers due then. It reports whether it did any
// of that; false means there is nothing to jump to, or work to wait for.
//
// stale, if not nil, reports whether a timer was armed since next was
// read; jump then does nothing and reports true, so that the caller
// reads next again. It is called under c.mu once no work is in progress:
// a timer armed after that comes from work started since, which reads
// the clock (c.mu) only after the jump, so next cannot miss it.
func (c *VirtualClock) jump(next time.Time, stale func() bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy == nil || c.busy.Load() != 0 {
		return false
	}
	if stale != nil && stale() {
		return true
	}
	kept := c.sleepers[:0]
	for _, s := range c.sleepers {
		if s.ctx.Err() != nil {
			c.wakeLocked(s)
			continue
		}
		s.index = len(kept)
		kept = append(kept, s)
	}
	if woke := len(kept) < len(c.sleepers); woke {
		clear(c.sleepers[len(kept):])
		c.sleepers = kept
		heap.Init(&c.sleepers)
		return true
	}
	if len(c.sleepers) > 0 && (next.IsZero() || c.sleepers[0].at.Before(next)) {
		next = c.sleepers[0].at
	}
	if next.IsZero() {
		return false
	}
	c.advanceLocked(next)
	return true
}

// settled reports whether no work is in progress and no goroutine sleeps
// on the clock (Engine.Drain).
func (c *VirtualClock) settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busy.Load() == 0 && len(c.sleepers) == 0
}

// sleeperHeap orders sleepers by wake-up time (container/heap).
type sleeperHeap []*sleeper

// Len, Less, Swap, Push and Pop implement heap.Interface.

func (h sleeperHeap) Len() int           { return len(h) }
func (h sleeperHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h sleeperHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *sleeperHeap) Push(x any) {
	s := x.(*sleeper)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *sleeperHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}
