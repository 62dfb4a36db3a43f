package engine

import (
	"sync/atomic"
	"time"
)

// workerIdle is how long a worker goroutine waits for another function
// before it exits.
const workerIdle = 5 * time.Second

// workers runs functions on goroutines that live on between them.
//
// An execution's run goes deep into the store and the task handlers
// (SQLite's transpiled C keeps large frames), so a fresh goroutine grows
// its stack by copying several times on every run: with thousands of
// runs a second that copying was about 5 % of the engine's CPU. A worker
// keeps its grown stack for the next run (until the garbage collector
// shrinks it, at most once per cycle).
//
// Workers are started on demand, so the number of goroutines follows the
// number of functions running at once; an idle worker exits after
// workerIdle, or at once when quit is closed.
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only to an idle worker
	quit <-chan struct{}
	live atomic.Int64 // worker goroutines (tests)
}

func newWorkers(quit <-chan struct{}) *workers {
	return &workers{jobs: make(chan func()), quit: quit}
}

// run runs f on an idle worker, or on a new one when none is idle.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
	default:
		w.live.Add(1)
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	defer w.live.Add(-1)
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		f = nil // let the finished function's captures go while idle
		idle.Reset(workerIdle)
		select {
		case f = <-w.jobs:
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}
