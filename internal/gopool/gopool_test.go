package gopool

import (
	"runtime"
	"sync"
	"testing"
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
