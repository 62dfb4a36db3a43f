package gopool

import (
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Functions run at once, concurrently, however many are running: Go
// never waits for a busy goroutine to become idle.
func TestGoRunsConcurrently(t *testing.T) {
	p := New(time.Minute)
	const n = 50
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	done := make(chan int, n)
	for i := range n {
		p.Go(func() {
			started.Done()
			release.Wait()
			done <- i
		})
	}
	started.Wait() // all n are running at once, or this hangs
	release.Done()
	seen := map[int]bool{}
	for range n {
		seen[<-done] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct functions ran, want %d", len(seen), n)
	}
	if got := p.started.Load(); got != n {
		t.Errorf("%d goroutines started for %d functions running at once, want %d", got, n, n)
	}
}

// Calls one after another reuse an idle goroutine, and the pool's
// goroutines end after their idle time.
func TestGoReusesAndEnds(t *testing.T) {
	const idle = 100 * time.Millisecond
	before := runtime.NumGoroutine()
	p := New(idle)
	const calls = 100
	done := make(chan struct{})
	for range calls {
		p.Go(func() { done <- struct{}{} })
		<-done
		time.Sleep(time.Millisecond) // time for it to wait for work again
	}
	// A goroutine is new only when the one before had not gone back to
	// waiting yet: a few at most, not one per call.
	if got := p.started.Load(); got > calls/5 {
		t.Errorf("%d goroutines started for %d calls one after another, want a few", got, calls)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the pool's idle time, want %d as before", runtime.NumGoroutine(), before)
		}
		time.Sleep(idle / 2)
	}
}

// deep uses about n KiB of stack.
//
//go:noinline
func deep(n int) byte {
	var buf [1024]byte
	buf[n%1024] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[n%1024]
}

var sink byte

// BenchmarkGo compares starting a goroutine per call with the pool, for
// calls that use 32 KiB of stack (a new goroutine starts with a few KiB
// and grows it by copying).
func BenchmarkGo(b *testing.B) {
	for _, bc := range []struct {
		name string
		run  func(func())
	}{
		{"go", func(f func()) { go f() }},
		{"pool", New(time.Second).Go},
	} {
		b.Run(bc.name, func(b *testing.B) {
			done := make(chan byte)
			for b.Loop() {
				bc.run(func() { done <- deep(32) })
				sink += <-done
			}
		})
	}
}

// Close ends the idle goroutines at once, not after their idle time, and
// functions given to Go after it still run.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(time.Hour)
	done := make(chan struct{})
	for range 3 {
		p.Go(func() { done <- struct{}{} })
	}
	for range 3 {
		<-done
	}
	p.Close()
	p.Close() // a second Close is harmless
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines 10 s after Close with an idle time of an hour, want %d as before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Go(func() { done <- struct{}{} })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a function given to Go after Close did not run")
	}
}

// workerIdle is the idle time of the pools of the tests below, the
// engine's for executions' runs.
const workerIdle = 5 * time.Second

// TestWorkers: one function at a time is served by one goroutine;
// functions at once by as many; idle goroutines end after the idle time,
// not before, and at once on Close.
func TestWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(workerIdle)

		// One function at a time: one goroutine serves them all.
		ran := 0
		for range 10 {
			w.Go(func() { ran++ })
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
			w.Go(func() { wg.Done(); <-release })
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

		// Closing the pool ends idle workers at once.
		w.Go(func() {})
		synctest.Wait()
		w.Close()
		synctest.Wait()
		if got := w.live.Load(); got != 0 {
			t.Fatalf("after Close: %d workers, want 0", got)
		}
	})
}

// A worker's idle time counts from the end of its last function, not from
// its start.
func TestWorkerIdleFromLastFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(workerIdle)
		defer w.Close()
		w.Go(func() {})
		synctest.Wait()
		time.Sleep(workerIdle - time.Second)
		w.Go(func() {})
		synctest.Wait()
		liveAfter(t, w, workerIdle-time.Millisecond, 1, "idle for less than workerIdle since its last function")
		liveAfter(t, w, 2*time.Millisecond, 0, "idle for workerIdle since its last function")
	})
}

// liveAfter lets d pass in the bubble, waits for the workers to settle
// and wants n of them live then (when says what d has brought).
func liveAfter(t *testing.T, w *Pool, d time.Duration, n int64, when string) {
	t.Helper()
	time.Sleep(d)
	synctest.Wait()
	if got := w.live.Load(); got != n {
		t.Fatalf("%s: %d workers, want %d", when, got, n)
	}
}

// After a burst, a light steady stream of functions keeps only the
// goroutines it needs: the most recently idle goroutine takes the next
// function, so the others reach their idle time and end. Handed out in
// turn, every goroutine of the burst got a function within its idle time
// and none ended (docs/benchmarks-local.md, "Idle goroutines after a
// burst").
func TestBurstEndsUnderLightLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(workerIdle)
		defer w.Close()
		const burst = 100
		release := make(chan struct{})
		for range burst {
			w.Go(func() { <-release })
		}
		synctest.Wait()
		close(release)
		synctest.Wait()
		if got := w.live.Load(); got != burst {
			t.Fatalf("after the burst: %d workers, want %d", got, burst)
		}
		// One function every workerIdle/burst/2: handed out in turn,
		// each worker would get one every workerIdle/2.
		for range 4 * burst {
			w.Go(func() {})
			time.Sleep(workerIdle / burst / 2)
			synctest.Wait()
		}
		if got := w.live.Load(); got != 1 {
			t.Fatalf("after %v of one function at a time: %d workers, want 1", 4*burst*(workerIdle/burst/2), got)
		}
	})
}

// The idle stack keeps its order through goroutines ending anywhere in
// it: Go hands work to the most recently idle goroutine still there, and
// the ended ones are cleared out before they outnumber the idle ones.
func TestIdleStackWithEndedWorkers(t *testing.T) {
	p := New(time.Hour)
	ws := make([]*worker, 10)
	for i := range ws {
		ws[i] = &worker{work: make(chan func(), 1)}
		p.park(ws[i])
	}
	// The oldest end first, as their idle times run out, and one near the top.
	for _, i := range []int{0, 1, 2, 9} {
		if !p.unpark(ws[i]) {
			t.Fatalf("unpark(worker %d) = false, want true: it was idle", i)
		}
		if p.unpark(ws[i]) {
			t.Fatalf("unpark(worker %d) twice = true, want false", i)
		}
	}
	if live := len(p.idle) - p.ended; live != 6 {
		t.Fatalf("%d idle workers, want 6", live)
	}
	if p.ended > len(p.idle)/2 {
		t.Errorf("%d ended workers of %d kept, want at most half", p.ended, len(p.idle))
	}
	for _, want := range []int{8, 7} {
		p.Go(func() {})
		select {
		case <-ws[want].work:
		default:
			t.Fatalf("Go did not hand its function to worker %d, the most recently idle", want)
		}
		if p.unpark(ws[want]) {
			t.Fatalf("unpark(worker %d) = true after Go took it, want false", want)
		}
	}
	for _, i := range []int{3, 4, 5, 6} {
		if !p.unpark(ws[i]) {
			t.Fatalf("unpark(worker %d) = false, want true: it was idle", i)
		}
	}
	if len(p.idle) != 0 || p.ended != 0 {
		t.Errorf("idle stack of %d with %d ended after every worker ended, want empty", len(p.idle), p.ended)
	}
	if p.started.Load() != 0 {
		t.Errorf("Go started %d goroutines with idle workers on the stack, want 0", p.started.Load())
	}
}

// BenchmarkBurstEnds measures a burst's idle goroutines ending, the
// longest idle first, as their idle times run out: each op is one burst
// of 20,000.
func BenchmarkBurstEnds(b *testing.B) {
	const n = 20000
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{work: make(chan func(), 1)}
	}
	p := New(time.Hour)
	for b.Loop() {
		for _, w := range ws {
			p.park(w)
		}
		for _, w := range ws {
			p.unpark(w)
		}
	}
}
