package engine

import (
	"log/slog"
	"math"
	"math/bits"
	"sync"
	"time"
)

// latenessWindow is the span TimerStats summarises: the last complete
// minute of the clock.
const latenessWindow = time.Minute

// LatenessWarn is the p99 lateness of a minute above which the engine
// logs that it is falling behind (TimerLateness.Late).
const LatenessWarn = time.Second

// beatEvery is how often the engine notes that the process runs
// (Engine.heartbeat), and pauseMin how much longer than that a gap
// between two such notes must be for the engine to take it that the
// process did not run (the machine slept, the process was stopped, the
// wall clock stepped forward): longer than any wait for the CPU a busy
// machine gives a woken goroutine, and as long as the lateness that
// makes a minute late.
const (
	beatEvery = 250 * time.Millisecond
	pauseMin  = LatenessWarn
)

// TimerStats describes the engine's timers.
type TimerStats struct {
	// Waiting is how many executions have an armed timer that is not due.
	Waiting int
	// Due is how many executions fell due and wait for a run slot
	// (Options.MaxRunning): a backlog the engine is working through.
	Due int
	// Tasks is how many Task states' handlers run now (a monitor's
	// check or alert): the executions neither waiting nor due.
	Tasks int
	// LastMinute is how late the engine resumed executions in the last
	// complete minute.
	LastMinute TimerLateness
}

// TimerLateness summarises how late the engine resumed the executions
// whose timers fell due in one window: from the timer's wake-up time, or
// from the engine's start for timers that fell due while it was not
// running, to the moment the execution got its run slot.
type TimerLateness struct {
	From, To time.Time // the window; both zero when nothing was measured yet
	Resumed  int       // executions resumed in the window
	// P50, P99 and Max are quantiles of the lateness of the executions
	// resumed in the window but those of AfterPause; P50 and P99 are
	// rounded up, by at most an eighth (or a microsecond below 8 µs).
	P50, P99, Max time.Duration
	// Paused is the longest time in the window that executions could
	// not run: the process did not run (see pauseMin), or the store took
	// no commits (a full disk); or, in a window that counts executions a
	// pause found in the window before made late, that pause. AfterPause
	// counts the executions resumed in the window whose timers fell due
	// before such a pause ended, or while the store failed: their
	// lateness is the pause's, not for want of CPU, and is not in the
	// quantiles.
	Paused     time.Duration
	AfterPause int
}

// Late reports whether the window's p99 was over LatenessWarn: more timers
// fell due than the machine ran on time. The timers a pause of the
// process made late do not count.
func (s TimerLateness) Late() bool { return s.P99 > LatenessWarn }

// TimerStats reports the engine's timers and how late it resumed
// executions in the last complete minute. It is cheap enough for a
// health check.
func (e *Engine) TimerStats() TimerStats {
	e.mu.Lock()
	waiting := len(e.queued) // the heap may hold stale entries too
	e.mu.Unlock()
	return TimerStats{
		Waiting:    waiting,
		Due:        int(e.dueBacklog.Load()),
		Tasks:      int(e.tasksRunning.Load()),
		LastMinute: e.late.lastWindow(e.clock.Now()),
	}
}

// lateness keeps the lateness histogram of the current window and the
// summary of the one before. The timer loop adds to it; TimerStats reads.
type lateness struct {
	window time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	from    time.Time // start of the current window (a multiple of window)
	cur     latencyHistogram
	paused  time.Duration // the current window's longest pause
	after   int           // the current window's resumes due before pauseEnd
	last    TimerLateness // the window before from, if anything was measured in it
	behind  bool          // the last summary logged was over LatenessWarn
	started time.Time     // the engine's start: lateness counts from here at most
	// pauseEnd is when the last pause ended: timers due until then were
	// made late by it. outage is whether the store fails commits now.
	// lastBeat is when the process was last seen running (beatLocked),
	// once something calls heartbeat.
	pauseEnd time.Time
	outage   bool
	lastBeat time.Time
	// lastPause is how long the pause that ended at pauseEnd lasted:
	// a window that counts resumes it made late, after the window it
	// was found in, shows it as its Paused.
	lastPause time.Duration
}

func newLateness(window time.Duration, started time.Time, log *slog.Logger) *lateness {
	return &lateness{window: window, started: started, log: log}
}

// observe records that an execution due at at got its run slot at now.
// A pause of the process found at now (see heartbeat) is recorded first,
// so that an execution it made late is never counted as load.
func (l *lateness) observe(at, now time.Time) {
	if at.Before(l.started) {
		at = l.started
	}
	late := max(now.Sub(at), 0)
	l.mu.Lock()
	var ends []TimerLateness
	var pausedFrom time.Time
	if !l.lastBeat.IsZero() { // heartbeats run
		ends, pausedFrom = l.beatLocked(now)
	}
	if done := l.rollLocked(now); done != nil {
		ends = append(ends, *done)
	}
	if at.After(l.pauseEnd) && !l.outage {
		l.cur.add(late)
	} else {
		l.after++
		if !l.outage {
			l.paused = max(l.paused, l.lastPause)
		}
	}
	l.mu.Unlock()
	l.tell(ends, pausedFrom, now)
}

// heartbeat records that the process runs at now. A gap of more than
// beatEvery+pauseMin since it was last seen running is a pause: it did not
// run meanwhile. The engine calls it every beatEvery; observe does the
// same at each resume, before it counts the resume.
func (l *lateness) heartbeat(now time.Time) {
	l.mu.Lock()
	ends, pausedFrom := l.beatLocked(now)
	l.mu.Unlock()
	l.tell(ends, pausedFrom, now)
}

// beatLocked notes that the process runs at now, and records a pause when
// it was last seen running more than beatEvery+pauseMin before: it returns
// the summary of a window that ended and the pause's start (zero when
// none). Times are compared on the wall clock: a monotonic reading, which
// observe's times carry, stands still while the machine is suspended.
// l.mu is held.
func (l *lateness) beatLocked(now time.Time) (ends []TimerLateness, pausedFrom time.Time) {
	now = now.Round(0)
	last := l.lastBeat
	if now.After(last) {
		l.lastBeat = now
	}
	if last.IsZero() || now.Sub(last) <= beatEvery+pauseMin {
		return nil, time.Time{}
	}
	if done := l.heldLocked(last, now); done != nil {
		ends = append(ends, *done)
	}
	return ends, last
}

// tell reports the windows that ended, and logs the pause that began at
// pausedFrom and ended at now, if any. l.mu is not held.
func (l *lateness) tell(ends []TimerLateness, pausedFrom, now time.Time) {
	for _, s := range ends {
		l.report(s)
	}
	if !pausedFrom.IsZero() {
		l.log.Info("engine: the process did not run for a while (the machine slept, the process was stopped, the clock was set forward, or other processes took all of the CPU it may use): executions due meanwhile resume late by the pause, which is left out of the lateness figures",
			"from", pausedFrom.UTC().Format(time.RFC3339Nano), "paused", now.Sub(pausedFrom).Round(time.Millisecond))
	}
}

// storeFailing records that the store fails commits from now on, until
// storeRecovered: executions resumed meanwhile are late by the outage.
func (l *lateness) storeFailing() {
	l.mu.Lock()
	l.outage = true
	l.mu.Unlock()
}

// storeRecovered records that no commit the store failed since from is
// retried any more at to, and when took, that the store took them: the
// outage was a pause from from to to. (The engine logs the outage
// itself.)
func (l *lateness) storeRecovered(from, to time.Time, took bool) {
	l.mu.Lock()
	l.outage = false
	var done *TimerLateness
	if took {
		done = l.heldLocked(from, to)
	}
	l.mu.Unlock()
	if done != nil {
		l.report(*done)
	}
}

// heldLocked records a pause from from to to and returns the summary of
// the window it ended, if any. l.mu is held.
func (l *lateness) heldLocked(from, to time.Time) *TimerLateness {
	done := l.rollLocked(to)
	l.paused = max(l.paused, to.Sub(from))
	if to.After(l.pauseEnd) {
		l.pauseEnd, l.lastPause = to, to.Sub(from)
	}
	return done
}

// rollLocked starts the window of now when the current one is another,
// and returns the summary of the one it ends, if anything was measured
// in it. A time just before the current window (read by one goroutine
// before another rolled it) counts in the current window: windows never
// roll back, but for a clock set back by more than a window. l.mu is
// held.
func (l *lateness) rollLocked(now time.Time) *TimerLateness {
	start := now.Truncate(l.window)
	if start.Equal(l.from) || start.Before(l.from) && l.from.Sub(start) <= l.window {
		return nil
	}
	var done *TimerLateness
	if !l.from.IsZero() && (l.cur.n > 0 || l.after > 0 || l.paused > 0) {
		s := l.summaryLocked()
		l.last = s
		done = &s
	}
	l.from = start
	l.cur, l.paused, l.after = latencyHistogram{}, 0, 0
	return done
}

// summaryLocked is the current window's summary. l.mu is held.
func (l *lateness) summaryLocked() TimerLateness {
	s := l.cur.summary(l.from, l.from.Add(l.window))
	s.Resumed += l.after
	s.Paused, s.AfterPause = l.paused, l.after
	return s
}

// lastWindow returns the summary of the last complete window before now,
// or a zero summary when nothing was resumed in it.
func (l *lateness) lastWindow(now time.Time) TimerLateness {
	prev := now.Truncate(l.window).Add(-l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.from.Equal(prev) && (l.cur.n > 0 || l.after > 0 || l.paused > 0):
		return l.summaryLocked()
	case l.last.From.Equal(prev):
		return l.last
	}
	return TimerLateness{From: prev, To: prev.Add(l.window)}
}

// report logs a window's summary when the engine fell behind in it, and
// once when it is on time again. Each window is reported once, by the
// call that ended it.
func (l *lateness) report(s TimerLateness) {
	l.mu.Lock()
	behind := l.behind
	l.behind = s.Late()
	l.mu.Unlock()
	switch {
	case s.Late():
		l.log.Warn("engine: executions resumed late: more timers fall due than this machine runs on time (docs/local.md, Under load)",
			"minute", s.From.UTC().Format(time.RFC3339), "resumed", s.Resumed,
			"p50", s.P50.Round(time.Millisecond), "p99", s.P99.Round(time.Millisecond), "max", s.Max.Round(time.Millisecond))
	case behind:
		l.log.Info("engine: executions resumed on time again",
			"minute", s.From.UTC().Format(time.RFC3339), "resumed", s.Resumed, "p99", s.P99.Round(time.Millisecond))
	}
}

// latencyHistogram counts durations in log-linear buckets of
// microseconds: exact below 8 µs, then 8 buckets per power of two, so a
// quantile read from it is at most 1/8 above the value measured.
type latencyHistogram struct {
	counts [latBuckets]uint32
	n      int
	max    time.Duration
}

const (
	latSubBits = 3 // 8 sub-buckets per power of two
	latSub     = 1 << latSubBits
	latMaxBits = 40 // 2^40 µs is 12.7 days; longer lateness counts there
	latBuckets = (latMaxBits - latSubBits + 1) * latSub
)

// latBucket returns the bucket of v microseconds.
func latBucket(v uint64) int {
	if v < latSub {
		return int(v)
	}
	v = min(v, 1<<latMaxBits-1)
	e := bits.Len64(v) - 1 // v's top bit: e >= latSubBits
	return (e-latSubBits+1)*latSub + int(v>>(e-latSubBits)&(latSub-1))
}

// latBucketEnd returns where bucket i ends, in microseconds: its values
// are below it.
func latBucketEnd(i int) uint64 {
	if i < latSub {
		return uint64(i) + 1
	}
	e := i/latSub + latSubBits - 1
	return uint64(latSub+i%latSub+1) << (e - latSubBits)
}

func (h *latencyHistogram) add(d time.Duration) {
	h.counts[latBucket(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the q quantile (0 < q <= 1): the end of the bucket
// holding it, or the maximum measured if that is smaller.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := max(int(math.Ceil(q*float64(h.n))), 1)
	seen := 0
	for i, c := range h.counts {
		seen += int(c)
		if seen >= rank {
			return min(time.Duration(latBucketEnd(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

func (h *latencyHistogram) summary(from, to time.Time) TimerLateness {
	return TimerLateness{From: from, To: to, Resumed: h.n, P50: h.quantile(0.5), P99: h.quantile(0.99), Max: h.max}
}
