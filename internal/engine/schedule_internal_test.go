package engine

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// An execution whose timer is armed again for an earlier time wakes at
// the earlier time: a wake-up early is harmless (the resume finds the
// wait not over and arms it again), a late one is not.
func TestScheduleEarlierWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var woke atomic.Int32
		e := New(Options{waking: func() { woke.Add(1) }})
		defer e.Close()
		now := e.clock.Now()
		e.schedule("a", now.Add(time.Hour))
		e.schedule("a", now.Add(10*time.Second))
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := woke.Load(); got != 1 {
			t.Errorf("armed for an hour, then for 10 s: %d wake-ups a minute later, want 1", got)
		}
		if got := e.TimerStats().Waiting; got != 0 {
			t.Errorf("%d timers waiting after the wake-up, want 0 (the later one is superseded)", got)
		}
	})
}
