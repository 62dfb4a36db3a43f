package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/testtool"
)

// Every value falls in a bucket whose end is above it by at most an
// eighth (a microsecond below 8 µs), and buckets follow the values' order.
func TestLatBucket(t *testing.T) {
	prev := 0
	check := func(v uint64) {
		t.Helper()
		i := latBucket(v)
		if i < prev {
			t.Fatalf("latBucket(%d) = %d, below the bucket of a smaller value (%d)", v, i, prev)
		}
		prev = i
		end := latBucketEnd(i)
		if end <= v || end > v+v/latSub+1 {
			t.Fatalf("latBucket(%d) = %d, which ends at %d", v, i, end)
		}
		if i > 0 && latBucketEnd(i-1) > v {
			t.Fatalf("latBucket(%d) = %d, but bucket %d ends at %d", v, i, i-1, latBucketEnd(i-1))
		}
	}
	for v := range uint64(70000) {
		check(v)
	}
	for e := 17; e < latMaxBits; e++ {
		for _, v := range []uint64{1<<e - 1, 1 << e, 1<<e + 1, 3 << (e - 1)} {
			check(v)
		}
	}
	if i := latBucket(1 << 62); i != latBuckets-1 {
		t.Fatalf("latBucket(2^62) = %d, want the last bucket %d", i, latBuckets-1)
	}
}

func TestLatencyQuantiles(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		values        []time.Duration
		p50, p99, max time.Duration
	}{
		{"none", nil, 0, 0, 0},
		{"one", []time.Duration{3 * ms}, 3 * ms, 3 * ms, 3 * ms},
		// Below 8 µs a bucket is a microsecond: 1 µs reads as 2 µs.
		{"microseconds", []time.Duration{0, time.Microsecond, 5 * time.Microsecond}, 2 * time.Microsecond, 5 * time.Microsecond, 5 * time.Microsecond},
		// 99 values of 10 ms and one of 2 s: the p99 is the 99th value,
		// read as the end of its bucket, [9.216 ms, 10.240 ms).
		{"one outlier in 100", append(repeat(10*ms, 99), 2*time.Second), 10240 * time.Microsecond, 10240 * time.Microsecond, 2 * time.Second},
		// 98 of 10 ms and two of 2 s: the p99 is an outlier.
		{"two outliers in 100", append(repeat(10*ms, 98), 2*time.Second, 2*time.Second), 10240 * time.Microsecond, 2 * time.Second, 2 * time.Second},
		// 100 ms falls in the bucket [98.304 ms, 106.496 ms): the
		// quantile is that bucket's end, not the maximum.
		{"rounded up within an eighth", []time.Duration{100 * ms, 200 * ms}, 106496 * time.Microsecond, 200 * ms, 200 * ms},
		// The maximum is the largest value, not the last one.
		{"the largest first", []time.Duration{2 * time.Second, 10 * ms}, 10240 * time.Microsecond, 2 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h latencyHistogram
			for _, v := range tt.values {
				h.add(v)
			}
			s := h.summary(time.Time{}, time.Time{})
			if s.Resumed != len(tt.values) || s.P50 != tt.p50 || s.P99 != tt.p99 || s.Max != tt.max {
				t.Fatalf("summary = %d resumed, p50 %v, p99 %v, max %v; want %d, %v, %v, %v",
					s.Resumed, s.P50, s.P99, s.Max, len(tt.values), tt.p50, tt.p99, tt.max)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// The summary is of the last complete minute; a minute over LatenessWarn
// is logged when the next one begins, and so is being on time again.
func TestLatenessWindows(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(m int, s float64) time.Time {
		return t0.Add(time.Duration(m)*time.Minute + time.Duration(s*float64(time.Second)))
	}
	l := newLateness(time.Minute, t0, log)

	if s := l.lastWindow(at(0, 30)); s.Resumed != 0 || !s.From.Equal(at(-1, 0)) {
		t.Fatalf("before anything: %+v", s)
	}
	// Minute 0: resumed 0 s, 2 s and 3 s late. The p50, 2 s, is read as
	// the end of its bucket, [1.966080 s, 2.097152 s).
	l.observe(at(0, 1), at(0, 1))
	l.observe(at(0, 10), at(0, 12))
	l.observe(at(0, 20), at(0, 23))
	if s := l.lastWindow(at(0, 59)); s.Resumed != 0 {
		t.Fatalf("minute 0 is not complete, yet summarised: %+v", s)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged within the minute: %s", logs.String())
	}
	want := TimerLateness{From: at(0, 0), To: at(1, 0), Resumed: 3, P50: 2097152 * time.Microsecond, P99: 3 * time.Second, Max: 3 * time.Second}
	if s := l.lastWindow(at(1, 5)); s != want {
		t.Fatalf("in minute 1, before anything resumed in it: %+v, want %+v", s, want)
	}

	// The first resume of minute 1 closes minute 0, which was late.
	l.observe(at(1, 1), at(1, 1))
	if s := l.lastWindow(at(1, 5)); s != want {
		t.Fatalf("in minute 1: %+v, want %+v", s, want)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "resumed=3") || !strings.Contains(got, "p99=3s") {
		t.Fatalf("minute 0 was late; logged %q", got)
	}
	logs.Reset()

	// Minute 2 closes minute 1, on time again: logged once.
	l.observe(at(2, 1), at(2, 1))
	if got := logs.String(); !strings.Contains(got, "level=INFO") || !strings.Contains(got, "on time again") {
		t.Fatalf("minute 1 was on time; logged %q", got)
	}
	logs.Reset()
	l.observe(at(3, 1), at(3, 1))
	if logs.Len() != 0 {
		t.Fatalf("a second minute on time logged %q", logs.String())
	}

	// Nothing resumed in minute 4: its summary is empty, not minute 3's.
	if s := l.lastWindow(at(5, 0)); s.Resumed != 0 || !s.From.Equal(at(4, 0)) {
		t.Fatalf("minute 4 had no resumes, summary %+v", s)
	}

	// A timer that fell due before the engine started counts from the start.
	l2 := newLateness(time.Minute, t0, log)
	l2.observe(t0.Add(-time.Hour), t0.Add(time.Second))
	if s := l2.lastWindow(at(1, 0)); s.Max != time.Second {
		t.Fatalf("due an hour before the start, resumed 1 s after it: max %v, want 1s", s.Max)
	}
}

// TimerStats counts the waiting executions and the backlog of due ones,
// and reports how late the engine resumed them in the last minute.
func TestTimerStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		b := newBlocking(t, 2)
		eng, sm, inTask, release := b.eng, b.sm, &b.inTask, b.release
		for i := range 5 {
			if _, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("e%d", i), `{}`); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if s := eng.TimerStats(); s.Waiting != 5 || s.Due != 0 {
			t.Fatalf("all five waiting: %+v", s)
		}

		// Due: two run, three wait for a slot.
		time.Sleep(time.Second)
		synctest.Wait()
		if s := eng.TimerStats(); s.Waiting != 0 || s.Due != 3 || s.Tasks != 2 || inTask.Load() != 2 {
			t.Fatalf("two running, three due: %+v, %d in the task", s, inTask.Load())
		}
		// The two blocked ones give their slots back after runSlotHold, to
		// two more, which block as well: the last one waits twice as long.
		time.Sleep(runSlotHold)
		synctest.Wait()
		if s := eng.TimerStats(); s.Due != 1 || s.Tasks != 4 || inTask.Load() != 4 {
			t.Fatalf("four resumed, one due: %+v, %d in the task", s, inTask.Load())
		}
		time.Sleep(runSlotHold)
		synctest.Wait()
		if s := eng.TimerStats(); s.Due != 0 || s.Tasks != 5 || inTask.Load() != 5 {
			t.Fatalf("all five resumed: %+v, %d in the task", s, inTask.Load())
		}
		close(release)
		synctest.Wait()
		if s := eng.TimerStats(); s.Tasks != 0 {
			t.Fatalf("all five tasks returned: %+v", s)
		}

		time.Sleep(time.Minute)
		s := eng.TimerStats().LastMinute
		// Resumed 0, 0, 1, 1 and 2 runSlotHold late; the p50 is read as the
		// end of its bucket, [0.983040 s, 1.048576 s).
		want := TimerLateness{From: s.From, To: s.From.Add(time.Minute), Resumed: 5,
			P50: 1048576 * time.Microsecond, P99: 2 * runSlotHold, Max: 2 * runSlotHold}
		if s != want || s.From.Second() != 0 {
			t.Fatalf("last minute: %+v; want %+v", s, want)
		}
	})
}

// A task's handler that runs past its TimeoutSeconds, ignoring its
// context, counts in TimerStats.Tasks until it returns, though its
// execution has moved on.
func TestTimerStatsTaskPastItsLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		d := NewDispatcher()
		d.Handle("arn:aws:states:::stuck", Route{Handler: func(context.Context, TaskRequest) (any, error) {
			<-release
			return map[string]any{}, nil
		}})
		eng := New(Options{Dispatcher: d})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(context.Background(), "m", `{"StartAt": "T", "States": {
			"T": {"Type": "Task", "Resource": "arn:aws:states:::stuck", "TimeoutSeconds": 1, "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.StartExecution(context.Background(), sm.Arn, "e", `{}`); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := eng.TimerStats(); s.Tasks != 1 {
			t.Fatalf("a task running: %+v, want Tasks 1", s)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if s := eng.TimerStats(); s.Tasks != 1 {
			t.Fatalf("a handler past its limit: %+v, want Tasks 1 until it returns", s)
		}
		close(release)
		synctest.Wait()
		if s := eng.TimerStats(); s.Tasks != 0 {
			t.Fatalf("the handler returned: %+v, want Tasks 0", s)
		}
	})
}

// BenchmarkLatenessObserve is the cost the timer loop pays per resumed
// execution for TimerStats.
func BenchmarkLatenessObserve(b *testing.B) {
	l := newLateness(time.Minute, time.Now(), slog.New(slog.DiscardHandler))
	at := time.Now()
	l.heartbeat(at) // heartbeats run, as in the engine: observe checks for a pause
	for i := 0; b.Loop(); i++ {
		l.observe(at, at.Add(time.Duration(i%5000)*time.Microsecond))
	}
}

// Under a virtual clock, which jumps to the next timer, nothing is
// measured: its jumps would read as lateness.
func TestLatenessVirtualClock(t *testing.T) {
	ctx := context.Background()
	eng := New(Options{Clock: NewVirtualClock(time.Date(2026, 12, 3, 10, 0, 30, 0, time.UTC))})
	defer eng.Close()
	sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Seconds": 90, "Next": "V"},
		"V": {"Type": "Wait", "Seconds": 90, "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("e%d", i), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if done, err := eng.Wait(ctx, x.Arn); err != nil || done.Status != StatusSucceeded {
			t.Fatalf("Wait: %v %s", err, done.Status)
		}
	}
	eng.late.mu.Lock()
	n, last := eng.late.cur.n, eng.late.last
	eng.late.mu.Unlock()
	if n != 0 || last.Resumed != 0 {
		t.Fatalf("measured %d resumes in the current minute and %d in the last under a virtual clock, want none", n, last.Resumed)
	}
}

// An execution resumed before its wake-up time (a clock read a moment
// apart) counts as resumed on time, not as a negative lateness.
func TestLatenessEarlyResumeIsOnTime(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	l := newLateness(time.Minute, t0, slog.New(slog.DiscardHandler))
	l.observe(t0.Add(10*time.Second), t0.Add(9*time.Second))
	l.observe(t0.Add(20*time.Second), t0.Add(20*time.Second+time.Millisecond))
	want := TimerLateness{From: t0, To: t0.Add(time.Minute), Resumed: 2, P50: time.Microsecond, P99: time.Millisecond, Max: time.Millisecond}
	if s := l.lastWindow(t0.Add(time.Minute)); s != want {
		t.Errorf("resumed 1 s early and 1 ms late: %+v, want %+v", s, want)
	}
}

// A window is late when its p99 is over LatenessWarn, not at it.
func TestTimerLatenessLate(t *testing.T) {
	for _, tc := range []struct {
		p99  time.Duration
		want bool
	}{
		{0, false},
		{LatenessWarn, false},
		{LatenessWarn + time.Nanosecond, true},
	} {
		if got := (TimerLateness{P99: tc.p99}).Late(); got != tc.want {
			t.Errorf("Late() with a p99 of %v = %v, want %v", tc.p99, got, tc.want)
		}
	}
}

// A pause of the process (a gap between the heartbeats longer than
// beatEvery+pauseMin) is logged once, as such, and the executions due
// before it ended are counted apart: their lateness is the pause's, not
// in the quantiles, so the minute is not late for want of CPU. Executions
// due after it count as before, and so does a quiet stretch with beats.
func TestLatenessPause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	l := newLateness(time.Minute, t0, log)
	beat := func(from, to float64) { // the process runs from from to to
		for s := from; s <= to; s += beatEvery.Seconds() {
			l.heartbeat(sec(s))
		}
	}

	beat(0, 5)
	l.observe(sec(5), sec(5.002))
	beat(5, 10)
	if logs.Len() != 0 {
		t.Fatalf("beats logged %q", logs.String())
	}
	// Stopped from 10 s to 16 s: the resume that notices it, due at
	// 10.5 s, is counted as made late by the pause.
	l.observe(sec(10.5), sec(16.001))
	if got := logs.String(); !strings.Contains(got, "level=INFO") || !strings.Contains(got, "did not run") || !strings.Contains(got, "paused=6.001s") {
		t.Fatalf("the pause logged %q", got)
	}
	logs.Reset()
	l.observe(sec(12), sec(16.002))
	l.heartbeat(sec(16.1))
	l.observe(sec(16), sec(16.003))
	// Due after it: on time.
	beat(16.25, 20)
	l.observe(sec(20), sec(20.004))
	beat(20, 61)

	s := l.lastWindow(sec(61))
	// The p50 of 2 ms and 4 ms is read as the end of its bucket.
	want := TimerLateness{From: t0, To: t0.Add(time.Minute), Resumed: 5, P50: 2048 * time.Microsecond, P99: 4 * time.Millisecond, Max: 4 * time.Millisecond,
		Paused: 6001 * time.Millisecond, AfterPause: 3}
	if s != want {
		t.Fatalf("minute with a pause: %+v, want %+v", s, want)
	}
	if s.Late() {
		t.Error("a minute late only by a pause reads as late")
	}
	if logs.Len() != 0 {
		t.Errorf("closing the minute logged %q, want nothing: it was on time but for the pause", logs.String())
	}

	// A minute with a pause and nothing resumed is summarised too.
	beat(61, 130)
	l.heartbeat(sec(150))
	if s := l.lastWindow(sec(180)); s.Paused != 20*time.Second || s.Resumed != 0 {
		t.Errorf("minute 2, a pause alone: %+v", s)
	}
}

// A pause found in the last moments of a minute makes executions late
// that resume in the next: that minute counts them apart, and shows the
// pause as its own (an afterPause without a pausedMs read as a pause
// that never happened).
func TestLatenessPauseAcrossMinutes(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	l := newLateness(time.Minute, t0, slog.New(slog.DiscardHandler))
	for s := 0.0; s <= 55; s += beatEvery.Seconds() {
		l.heartbeat(sec(s))
	}
	l.heartbeat(sec(59.9)) // stopped from 55 s: found at 59.9 s
	l.observe(sec(56), sec(60.1))
	l.observe(sec(61), sec(61.001)) // after it: on time
	for s := 60.25; s <= 121; s += beatEvery.Seconds() {
		l.heartbeat(sec(s))
	}
	first, second := l.lastWindow(sec(61)), l.lastWindow(sec(121))
	if first.Paused != 4900*time.Millisecond || first.AfterPause != 0 {
		t.Errorf("the minute the pause was found in: %+v, want Paused 4.9s and nothing resumed", first)
	}
	if second.Paused != 4900*time.Millisecond || second.AfterPause != 1 || second.Resumed != 2 {
		t.Errorf("the minute after it: %+v, want Paused 4.9s, AfterPause 1 of 2 resumed", second)
	}
}

// A time read just before the current window began (a goroutine that
// read the clock before another rolled the window) counts in the current
// window: the window does not roll back and lose what it holds.
func TestLatenessWindowNeverRollsBack(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	l := newLateness(time.Minute, t0, slog.New(slog.DiscardHandler))
	for range 10 {
		l.observe(sec(1), sec(1.001))
	}
	l.storeFailing()
	l.storeRecovered(sec(50), sec(60.001), true) // rolls to minute 1
	l.observe(sec(59.9), sec(59.999))            // read before the roll
	l.observe(sec(60.5), sec(60.5))
	if s := l.lastWindow(sec(61)); s.Resumed != 10 || s.AfterPause != 0 {
		t.Errorf("minute 0: %+v, want its 10 resumes", s)
	}
	if s := l.lastWindow(sec(121)); s.Paused < 10*time.Second || s.Resumed != 2 || s.AfterPause != 1 {
		t.Errorf("minute 1: %+v, want the outage's 10 s, 2 resumed, 1 late by it", s)
	}
	// An outage whose commits were given up, not taken, is no pause.
	l.storeFailing()
	l.storeRecovered(sec(130), sec(170), false)
	if s := l.lastWindow(sec(181)); s.Paused != 0 {
		t.Errorf("minute 2, commits given up: %+v, want no pause", s)
	}
}

// pausingClock is the real clock (a synctest bubble's) stepped forward
// by jump: the wall clock after the machine slept.
type pausingClock struct {
	RealClock
	jump atomic.Int64 // nanoseconds
}

func (c *pausingClock) Now() time.Time { return time.Now().Add(time.Duration(c.jump.Load())) }

// When the machine sleeps (the wall clock jumps while the process does not
// run), the timer loop finds it at its next wake-up: the executions that
// fell due meanwhile resume at once, counted as made late by the pause,
// and the minute is not late.
func TestTimerStatsAfterAPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		clock := &pausingClock{}
		var logs testtool.SyncBuffer
		eng := New(Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt": "W", "States": {
			"W": {"Type": "Wait", "Seconds": 5, "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		// Start at the top of a minute, so that all is in one window.
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)))
		for i := range 3 {
			if _, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("e%d", i), `{}`); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		time.Sleep(1500 * time.Millisecond) // the loop sleeps again, for a second at most
		synctest.Wait()
		clock.jump.Store(int64(20 * time.Second)) // the lid closed for 20 s
		time.Sleep(time.Second)                   // the loop wakes
		synctest.Wait()
		for i := range 3 {
			x, err := eng.DescribeExecution(ctx, fmt.Sprintf("%s:e%d", strings.Replace(sm.Arn, ":stateMachine:", ":execution:", 1), i))
			if err != nil || x.Status != StatusSucceeded {
				t.Fatalf("e%d after the pause: %v %+v", i, err, x)
			}
		}
		time.Sleep(time.Minute)
		s := eng.TimerStats().LastMinute
		if s.Resumed != 3 || s.AfterPause != 3 || s.Paused < 19*time.Second || s.Late() {
			t.Fatalf("last minute: %+v; want 3 resumed after a pause of about 20 s, not late", s)
		}
		if got := logs.String(); !strings.Contains(got, "did not run") || strings.Contains(got, "resumed late") {
			t.Errorf("logged %q; want the pause, and no minute late", got)
		}
	})
}

// While the store fails commits (a full disk), the executions whose waits
// it could not record resume late once it takes them again: late by the
// outage, counted as such, and the minute is not late for want of CPU.
func TestTimerStatsAfterAStoreOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		// Start at the top of a minute, so that all is in one window.
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)))
		start := time.Now()
		store := &flakyStore{Store: NewMemStore(), fail: func(_ int, t Transition) bool {
			since := time.Since(start)
			return !t.WakeAt.IsZero() && since > 500*time.Millisecond && since < 21*time.Second
		}}
		eng := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler)})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt": "W", "States": {
			"W": {"Type": "Wait", "Seconds": 1, "Next": "V"},
			"V": {"Type": "Wait", "Seconds": 1, "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		arns := startThree(t, eng, sm.Arn)
		for _, arn := range arns {
			if x, err := eng.Wait(ctx, arn); err != nil || x.Status != StatusSucceeded {
				t.Fatalf("%s: %v %+v", arn, err, x)
			}
		}
		if n := len(store.calls); n == 0 {
			t.Fatal("no commit failed")
		}
		time.Sleep(time.Until(start.Add(time.Minute)))
		s := eng.TimerStats().LastMinute
		// V, whose wait the store took at 21 s, resumed late, counted
		// after the outage. The exact counts depend on the order the
		// goroutines ran: the three W resumes fall due at one instant,
		// and those the timer loop reaches after the first failed commit
		// count after the outage too; and a timer that falls due while
		// its execution still retries the commit can be counted as well
		// as the resume after the retry (19 of 300 runs under -race saw
		// 6 to 8 resumes, 4 or 5 of them after the outage).
		if s.Resumed < 6 || s.AfterPause < 3 || s.Paused < 19*time.Second || s.Late() || s.P99 > time.Second {
			t.Fatalf("last minute: %+v; want at least 6 resumed, 3 or more after an outage of about 20 s, not late", s)
		}
	})
}

// A pause while the timer loop is not asleep on its timer (it waits for a
// run slot: one, taken by a task) is found too, by the heartbeats: the
// executions that fell due in it count as made late by it.
func TestTimerStatsAfterAPauseInABusyLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		clock := &pausingClock{}
		d := NewDispatcher()
		d.Handle("arn:aws:states:::work", Route{Handler: func(context.Context, TaskRequest) (any, error) {
			time.Sleep(100 * time.Millisecond)
			return map[string]any{}, nil
		}})
		eng := New(Options{Clock: clock, Dispatcher: d, MaxRunning: 1, Logger: slog.New(slog.DiscardHandler)})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt": "W", "States": {
			"W": {"Type": "Wait", "Seconds": 5, "Next": "T"},
			"T": {"Type": "Task", "Resource": "arn:aws:states:::work", "End": true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)))
		arns := startThree(t, eng, sm.Arn)
		time.Sleep(5050 * time.Millisecond) // e0 in its task, the loop waits for the slot
		synctest.Wait()
		clock.jump.Store(int64(20 * time.Second))
		for _, arn := range arns {
			if x, err := eng.Wait(ctx, arn); err != nil || x.Status != StatusSucceeded {
				t.Fatalf("%s: %v %+v", arn, err, x)
			}
		}
		time.Sleep(time.Minute)
		if s := eng.TimerStats().LastMinute; s.Paused < 19*time.Second || s.Late() {
			t.Fatalf("last minute: %+v; want a pause of about 20 s, not late", s)
		}
	})
}

// startThree starts three executions of machine, e0 to e2, and returns
// their ARNs.
func startThree(t *testing.T, eng *Engine, machine string) []string {
	t.Helper()
	var arns []string
	for i := range 3 {
		x, err := eng.StartExecution(context.Background(), machine, fmt.Sprintf("e%d", i), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.Arn)
	}
	return arns
}

// The gap between two signs of the process running is read on the wall
// clock, whoever gave them: a time with a monotonic reading (observe's,
// from the engine's clock) compared with another would measure the
// monotonic clock, which stands still while the machine is suspended, and
// miss the laptop's sleep.
func TestLatenessBeatsOnTheWallClock(t *testing.T) {
	l := newLateness(time.Minute, time.Now(), slog.New(slog.DiscardHandler))
	now := time.Now()
	l.heartbeat(now)
	l.observe(now, now.Add(time.Millisecond))
	l.mu.Lock()
	last := l.lastBeat
	l.mu.Unlock()
	if last != last.Round(0) {
		t.Errorf("the last sign of the process running, %v, carries a monotonic reading", last)
	}
}
