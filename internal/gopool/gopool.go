// Package gopool runs functions on goroutines that outlive them for a
// while, to be reused.
//
// A new goroutine starts with a small stack and grows it, by copying,
// as a call deepens; a goroutine started for each Lambda invocation (a
// JSON decode, an HTTP request and a store write deep) grows its stack
// three or four times over, every time. A goroutine of a Pool keeps the
// stack it grew (until the garbage collector shrinks an idle one), so a
// steady stream of such calls stops paying for the growth. The goroutines
// a load does not need, after a burst, end after their idle time; under
// no load the pool holds none.
package gopool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs functions on its idle goroutines, starting one when none is
// idle. The zero Pool is not usable; make one with New.
//
// The goroutine that became idle last takes the next function (a stack,
// not a queue): under a light load after a burst, the same few goroutines
// serve it and the others reach their idle time and end. Handed out in
// turn, every goroutine of the burst would get a function within its idle
// time and none would end.
type Pool struct {
	idleFor time.Duration
	quit    chan struct{}

	mu sync.Mutex
	// idle holds the idle goroutines, the most recently idle last, and
	// the ended ones not yet cleared out (ended counts them): a goroutine
	// that reaches its idle time is marked, not searched for, so a burst's
	// thousands ending together cost each a constant time, not a walk of
	// the stack.
	idle   []*worker
	ended  int
	closed bool

	started atomic.Int64 // goroutines started, for tests
	live    atomic.Int64 // goroutines running, for tests
}

// worker is one goroutine of a Pool: Go hands it a function on work
// after taking it off the idle stack.
type worker struct {
	work   chan func() // one at most: taken off the stack, it gets one
	parked bool        // on the idle stack and not ended; guarded by Pool.mu
}

// New returns a Pool whose goroutines end after idle without work.
func New(idle time.Duration) *Pool {
	return &Pool{idleFor: idle, quit: make(chan struct{})}
}

// Close ends the pool's idle goroutines, and each busy one once its
// function returns. Go still runs functions after Close: on a goroutine
// of its own, or on an idle one that had not yet seen the Close, which
// then ends.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.quit)
	}
}

// Go runs f on a goroutine of the pool, as "go f()" would: Go does not
// wait for f, and f runs at once, on the most recently idle goroutine or
// a new one. A panic in f ends the program, as in a goroutine of its own.
func (p *Pool) Go(f func()) {
	p.mu.Lock()
	for n := len(p.idle); n > 0; n-- {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if !w.parked {
			p.ended-- // it reached its idle time and ended
			continue
		}
		w.parked = false
		p.mu.Unlock()
		w.work <- f
		return
	}
	p.mu.Unlock()
	p.started.Add(1)
	p.live.Add(1)
	go p.run(&worker{work: make(chan func(), 1)}, f)
}

// run runs f, then the functions Go hands w, until w has been idle for
// p.idleFor since the last one returned, or the pool is closed.
func (p *Pool) run(w *worker, f func()) {
	defer p.live.Add(-1)
	t := time.NewTimer(p.idleFor)
	defer t.Stop()
	for {
		f()
		f = nil // let the finished function's captures go while idle
		if !p.park(w) {
			return
		}
		t.Reset(p.idleFor)
		select {
		case f = <-w.work:
			continue
		case <-t.C:
		case <-p.quit:
		}
		if !p.unpark(w) {
			// Go took w off the stack before it could: a function is
			// on its way, which w runs before it ends.
			f = <-w.work
			continue
		}
		return
	}
}

// park puts w on the idle stack; false when the pool is closed.
func (p *Pool) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	w.parked = true
	p.idle = append(p.idle, w)
	return true
}

// unpark marks w ended; false when Go took it off the idle stack already.
// The stack is cleared of ended workers once they are half of it, so it
// holds on to no more than twice the goroutines still idle.
func (p *Pool) unpark(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !w.parked {
		return false
	}
	w.parked = false
	p.ended++
	if p.ended > len(p.idle)/2 {
		live := p.idle[:0]
		for _, x := range p.idle {
			if x.parked {
				live = append(live, x)
			}
		}
		clear(p.idle[len(live):])
		p.idle = live
		p.ended = 0
	}
	return true
}
