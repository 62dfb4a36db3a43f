package engine

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Recover re-arms every execution the store holds as RUNNING with a run
// state: waits and retry intervals continue at their wake-up time, tasks
// that were in flight are dispatched again, busy executions continue
// from their last checkpoint. With an EvalJournal, the executions that
// were in the middle of a JSONata evaluation at InterruptedEvalLimit
// consecutive abrupt ends of the process fail instead (failInterrupted).
// Wake-ups that fell due while the process was down end within
// OverdueWindow, in their order and spacing (see spreadOverdue). It
// returns how many executions it re-armed. Call it once at start-up,
// before starting new executions.
func (e *Engine) Recover(ctx context.Context) (int, error) {
	// Executions of machines being deleted fail at their next transition.
	deleting, err := e.recoverDeletions(ctx)
	if err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	if err := e.failInterrupted(ctx); err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	n := 0
	var batch []timerEntry
	err = e.store.ListPending(ctx, func(p Pending) error {
		batch = append(batch, timerEntry{at: wakeOf(p.WakeAt), arn: p.ExecutionArn, from: noWake})
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	spreadOverdue(batch, clockOf(e.clock.Now()), OverdueWindow, OverdueGap)
	e.mu.Lock()
	for _, t := range batch {
		if q, ok := e.queued[t.arn]; !ok || t.at < q {
			e.queued[t.arn] = t.at
			e.timers = append(e.timers, t)
		}
	}
	heap.Init(&e.timers)
	e.armed.Add(1)
	e.mu.Unlock()
	e.poke()
	// Finish the deletions whose last execution ended before the restart.
	for _, arn := range deleting {
		if err := e.finishDeletion(ctx, arn); err != nil {
			return n, fmt.Errorf("engine: recover: %w", err)
		}
	}
	return n, nil
}

// OverdueWindow is the longest span over which Recover spreads the
// wake-ups that fell due while the process was down.
//
// Ten seconds: a monitor counts its next wait from the end of its check,
// so waking every overdue execution at once would bunch the monitors for
// good, a fleet that was spread over its interval now checking in one
// burst each cycle. Keeping the overdue wake-ups' spacing keeps their
// phases exactly for intervals up to the window, the short ones where a
// burst costs most (4,000 monitors every second are near what one
// machine runs on time, docs/benchmarks-local.md), and still spreads
// longer ones over ten seconds rather than none. It delays no overdue
// wake-up by more than that.
const OverdueWindow = 10 * time.Second

// OverdueGap is the longest gap between two consecutive overdue wake-ups
// that spreadOverdue keeps: a longer one separates groups (a wake-up
// overdue long before the others, a fleet of another interval), and
// keeping it would push the later group late, or, once scaled into the
// window, squeeze it together.
const OverdueGap = time.Second

// spreadOverdue moves the wake-ups in ts that fell due before now (not
// the zero wake-ups of executions runnable at once) to now plus their
// distance from the earliest of them, in their order: each gap between
// two consecutive ones is kept up to gap, and the whole scaled down when
// it spans more than window, so that the last one ends at now+window.
// Their order and spacing are kept, as if the process had been down no
// longer than until the first; the others are left as they are.
func spreadOverdue(ts []timerEntry, now wakeTime, window, gap time.Duration) {
	zero := wakeOf(time.Time{})
	var due []int
	for i, t := range ts {
		if t.at != zero && t.at <= now {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return
	}
	slices.SortStableFunc(due, func(a, b int) int { return cmp.Compare(ts[a].at, ts[b].at) })
	// delay[k] is the distance of the k-th overdue wake-up from the first,
	// each gap capped.
	delay := make([]wakeTime, len(due))
	maxGap := wakeTime(gap.Microseconds())
	for k := 1; k < len(due); k++ {
		delay[k] = delay[k-1] + min(ts[due[k]].at-ts[due[k-1]].at, maxGap)
	}
	scale := 1.0
	if span, w := float64(delay[len(due)-1]), float64(window.Microseconds()); span > w {
		scale = w / span
	}
	for k, i := range due {
		ts[i].at = now + wakeTime(float64(delay[k])*scale)
	}
}

// schedule arms the timer of an execution. An execution armed already
// keeps the earlier of its two times: a wake-up early is harmless (the
// resume finds the wait not over and arms it again), a late one is not.
func (e *Engine) schedule(arn string, at time.Time) {
	e.scheduleRelative(arn, at, time.Time{})
}

// scheduleRelative is schedule for a wake-up that is a duration from the
// clock's reading from (a Wait of Seconds, a retry interval), rather than
// a wall-clock time. Should the clock go back past from (a step of the
// wall clock, as NTP makes on a machine whose clock ran ahead), the timer
// loop re-bases the wake-up on the clock as it reads then: the wait
// lasts its whole duration again from there, instead of the duration
// plus the size of the step.
func (e *Engine) scheduleRelative(arn string, at, from time.Time) {
	e.arm(arn, at, from, false)
}

// arm is scheduleRelative for a wake-up that, if rebased, stands for
// one the timer loop brought forward (rebaseLocked): its resume does not
// wait for the stored wake-up time either.
func (e *Engine) arm(arn string, at, from time.Time, rebased bool) {
	w, f := wakeOf(at), noWake
	if !from.IsZero() {
		f = clockOf(from)
	}
	e.mu.Lock()
	if q, ok := e.queued[arn]; !ok || w < q {
		e.queued[arn] = w
		delete(e.rebased, arn)
		heap.Push(&e.timers, timerEntry{at: w, arn: arn, from: f})
		e.armed.Add(1)
	}
	if rebased { // the timer armed is at or before at
		e.rebased[arn] = true
	}
	e.mu.Unlock()
	e.poke()
}

// rebaseLocked brings forward the timers armed relative to a clock
// reading later than now (scheduleRelative): the clock went back since.
// e.mu is held.
func (e *Engine) rebaseLocked(now time.Time) {
	moved := false
	n := clockOf(now)
	for i := range e.timers {
		t := &e.timers[i]
		if t.from == noWake || t.from <= n {
			continue
		}
		if q, ok := e.queued[t.arn]; !ok || q != t.at {
			continue // stale
		}
		at := n + (t.at - t.from)
		if at >= t.at {
			continue
		}
		t.at, t.from = at, n
		e.queued[t.arn] = at
		e.rebased[t.arn] = true
		moved = true
	}
	if moved {
		heap.Init(&e.timers)
	}
}

// idle ends a unit of work in progress (e.inflight); the timer loop
// looks again when none is left.
func (e *Engine) idle() {
	if e.inflight.Add(-1) == 0 {
		e.poke()
	}
}

// working starts a unit of work in progress again (e.inflight). The
// count is back at zero if the run the goroutine belongs to ended
// meanwhile (a task abandoned at a time limit): the timer loop looks
// again then.
func (e *Engine) working() {
	if e.inflight.Add(1) == 0 {
		e.poke()
	}
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// timerEntry is all the memory a waiting execution uses in the engine,
// with its twin in Engine.queued.
type timerEntry struct {
	at  wakeTime
	arn string
	// from is the clock's reading that at is relative to, noWake for a
	// wall-clock time (scheduleRelative).
	from wakeTime
}

// wakeTime is a time in Unix microseconds. A waiting execution holds two
// or three of them, so they take 8 bytes each rather than a time.Time's
// 24: about 45 bytes less per waiting monitor (docs/benchmarks-local.md).
// Microseconds reach far beyond any wake-up (nanoseconds would stop at
// 2262, short of a retry interval's saturated Duration).
type wakeTime int64

// noWake is a timerEntry's from when its wake-up is a wall-clock time.
const noWake wakeTime = math.MinInt64

// wakeOf converts a wake-up time, rounded up to the microsecond: a timer
// falls due when the clock, rounded down (clockOf), has reached it, so
// never before its time.
func wakeOf(t time.Time) wakeTime {
	w := wakeTime(t.UnixMicro())
	if t.Nanosecond()%1000 != 0 {
		w++
	}
	return w
}

// clockOf converts a clock reading, rounded down to the microsecond.
func clockOf(t time.Time) wakeTime { return wakeTime(t.UnixMicro()) }

// time converts a wakeTime back.
func (w wakeTime) time() time.Time { return time.UnixMicro(int64(w)) }

// timerHeap orders timer entries by wake-up time (container/heap).
type timerHeap []timerEntry

// Len, Less, Swap, Push and Pop implement heap.Interface.

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// wallClockRecheck bounds how long a sleep lasts before the clock is
// read again. Wake-up times are wall-clock times, but a Go timer counts
// the monotonic clock, which stands still while the machine is suspended
// (a laptop's lid closed) and ignores steps of the wall clock: without
// the bound, a monitor waiting an hour would wake an hour plus the time
// the laptop slept. Reading the clock once a second costs nothing.
const wallClockRecheck = time.Second

// timerLoop is the engine's single timer: it resumes executions whose
// wake-up time has come. With a virtual clock it jumps the clock whenever
// no work is in progress (e.inflight), to the earliest of the next timer
// and the wake-up times of the goroutines sleeping on the clock (see
// VirtualClock.jump).
func (e *Engine) timerLoop() {
	defer close(e.loopDone)
	virtual := e.vclock != nil
	var tm *time.Timer
	var last time.Time // the clock's last reading
	for {
		e.mu.Lock()
		now := e.clock.Now().Round(0) // compare wall-clock times (wallClockRecheck)
		if now.Before(last) {
			e.rebaseLocked(now) // the clock went back
		}
		last = now
		n := clockOf(now)
		var due []timerEntry
		for len(e.timers) > 0 {
			t := e.timers[0]
			if q, ok := e.queued[t.arn]; !ok || q != t.at {
				heap.Pop(&e.timers) // stale
				continue
			}
			if t.at > n {
				break
			}
			heap.Pop(&e.timers)
			delete(e.queued, t.arn)
			due = append(due, t)
		}
		var next time.Time
		if len(e.timers) > 0 {
			next = e.timers[0].at.time()
		}
		armed := e.armed.Load()
		e.mu.Unlock()
		for i, t := range due {
			e.dueBacklog.Store(int64(len(due) - i))
			release, ok := e.runSlot()
			if !ok {
				return // closed; the store keeps the rest for Recover
			}
			select {
			case <-e.draining:
				release()
				return // the store keeps the timers for Recover
			default:
			}
			if !virtual { // a virtual clock's jumps are no lateness
				e.late.observe(t.at.time(), e.clock.Now())
			}
			arn := t.arn
			if e.waking != nil {
				e.waking()
			}
			e.inflight.Add(1)
			e.resumeSem <- struct{}{}
			e.runs.Go(func() {
				defer func() {
					<-e.resumeSem
					e.idle()
				}()
				e.resumeFromStore(arn, release)
			})
		}
		if len(due) > 0 {
			e.dueBacklog.Store(0)
			continue
		}
		if virtual && e.jumping != nil {
			e.jumping()
		}
		// A timer armed since next was read (by work that has gone idle
		// since) makes jump look again rather than move past it.
		if virtual && e.inflight.Load() == 0 && e.vclock.jump(next, func() bool { return e.armed.Load() != armed }) {
			continue
		}
		var timerC <-chan time.Time
		if !next.IsZero() && !virtual {
			d := min(next.Sub(now), wallClockRecheck)
			if tm == nil {
				tm = time.NewTimer(d)
			} else {
				tm.Reset(d)
			}
			timerC = tm.C
		}
		select {
		case <-e.ctx.Done():
			return
		case <-e.draining:
			return
		case <-e.wake:
		case <-timerC:
		}
		if tm != nil && !tm.Stop() {
			select {
			case <-tm.C:
			default:
			}
		}
	}
}

// runSlotHold is the longest a timer-woken execution counts against
// Options.MaxRunning.
const runSlotHold = time.Second

// runSlot waits for one of the MaxRunning slots of timer-woken
// executions; false once the engine is closed. The slot is freed by
// release or after runSlotHold, whichever comes first.
func (e *Engine) runSlot() (release func(), ok bool) {
	select {
	case e.runSlots <- struct{}{}:
	case <-e.ctx.Done():
		return nil, false
	}
	var once sync.Once
	free := func() { once.Do(func() { <-e.runSlots }) }
	t := time.AfterFunc(runSlotHold, free)
	return func() {
		t.Stop()
		free()
	}, true
}
