// Package gopool runs functions on goroutines that outlive them for a
// while, to be reused.
//
// A new goroutine starts with a small stack and grows it, by copying,
// as a call deepens; a goroutine started for each Lambda invocation (a
// JSON decode, an HTTP request and a store write deep) grows its stack
// three or four times over, every time. A goroutine of a Pool keeps the
// stack it grew (until the garbage collector shrinks an idle one), so a
// steady stream of such calls stops paying for the growth. Under no load
// the pool's goroutines end after their idle time; it holds none then.
package gopool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs functions on its idle goroutines, starting one when none is
// idle. The zero Pool is not usable; make one with New.
type Pool struct {
	idle    time.Duration
	work    chan func()
	quit    chan struct{}
	close   sync.Once
	started atomic.Int64 // goroutines started, for tests
	live    atomic.Int64 // goroutines running, for tests
}

// New returns a Pool whose goroutines end after idle without work.
func New(idle time.Duration) *Pool {
	return &Pool{idle: idle, work: make(chan func()), quit: make(chan struct{})}
}

// Close ends the pool's idle goroutines, and each busy one once its
// function returns. Go still runs functions after Close, each on a
// goroutine of its own.
func (p *Pool) Close() {
	p.close.Do(func() { close(p.quit) })
}

// Go runs f on a goroutine of the pool, as "go f()" would: Go does not
// wait for f, and f runs at once, on an idle goroutine or a new one. A
// panic in f ends the program, as in a goroutine of its own.
func (p *Pool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		p.started.Add(1)
		p.live.Add(1)
		go p.run(f)
	}
}

// run runs f, then the functions Go hands it, until it has been idle for
// p.idle since the last one returned.
func (p *Pool) run(f func()) {
	defer p.live.Add(-1)
	t := time.NewTimer(p.idle)
	defer t.Stop()
	for {
		f()
		f = nil // let the finished function's captures go while idle
		t.Reset(p.idle)
		select {
		case f = <-p.work:
		case <-t.C:
			return
		case <-p.quit:
			return
		}
	}
}
