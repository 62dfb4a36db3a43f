package engine

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		quit := make(chan struct{})
		w := newWorkers(quit)

		// One function at a time: one goroutine serves them all.
		ran := 0
		for range 10 {
			w.run(func() { ran++ })
			synctest.Wait()
		}
		if ran != 10 || w.live.Load() != 1 {
			t.Fatalf("10 functions one after the other: ran %d on %d workers, want 10 on 1", ran, w.live.Load())
		}

		// Three at once: two more workers, none of them waits for another.
		var wg sync.WaitGroup
		release := make(chan struct{})
		wg.Add(3)
		for range 3 {
			w.run(func() { wg.Done(); <-release })
		}
		wg.Wait()
		if got := w.live.Load(); got != 3 {
			t.Fatalf("3 functions at once: %d workers, want 3", got)
		}
		close(release)
		synctest.Wait()

		// Idle workers exit after workerIdle, not before.
		liveAfter(t, w, workerIdle-time.Millisecond, 3, "before workerIdle")
		liveAfter(t, w, 2*time.Millisecond, 0, "after workerIdle")

		// Closing quit ends idle workers at once.
		w.run(func() {})
		synctest.Wait()
		close(quit)
		synctest.Wait()
		if got := w.live.Load(); got != 0 {
			t.Fatalf("after quit: %d workers, want 0", got)
		}
	})
}

// A worker's idle time counts from the end of its last function, not from
// its start.
func TestWorkerIdleFromLastFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		quit := make(chan struct{})
		defer close(quit)
		w := newWorkers(quit)
		w.run(func() {})
		synctest.Wait()
		time.Sleep(workerIdle - time.Second)
		w.run(func() {})
		synctest.Wait()
		liveAfter(t, w, workerIdle-time.Millisecond, 1, "idle for less than workerIdle since its last function")
		liveAfter(t, w, 2*time.Millisecond, 0, "idle for workerIdle since its last function")
	})
}

// liveAfter lets d pass in the bubble, waits for the workers to settle
// and wants n of them live then (when says what d has brought).
func liveAfter(t *testing.T, w *workers, d time.Duration, n int64, when string) {
	t.Helper()
	time.Sleep(d)
	synctest.Wait()
	if got := w.live.Load(); got != n {
		t.Fatalf("%s: %d workers, want %d", when, got, n)
	}
}
