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
		time.Sleep(workerIdle - time.Millisecond)
		synctest.Wait()
		if got := w.live.Load(); got != 3 {
			t.Fatalf("before workerIdle: %d workers, want 3", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := w.live.Load(); got != 0 {
			t.Fatalf("after workerIdle: %d workers, want 0", got)
		}

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
		time.Sleep(workerIdle - time.Millisecond)
		synctest.Wait()
		if got := w.live.Load(); got != 1 {
			t.Fatalf("idle for less than workerIdle since its last function: %d workers, want 1", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := w.live.Load(); got != 0 {
			t.Fatalf("idle for workerIdle since its last function: %d workers, want 0", got)
		}
	})
}
