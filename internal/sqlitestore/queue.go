package sqlitestore

import "time"

// linger is how long a group-commit writer waits for one more request
// before it commits a batch, and maxLinger the most it adds to a batch's
// latency. Callers that were just answered by the previous commit are
// still computing their next request, and under a steady load (monitors
// whose checks are spread over the second) the next one is a fraction of
// a millisecond away; a batch writes each hot page (history tails, the
// timer index) once for all its requests and pays the transaction's
// fixed cost once. With 1,000 monitors checking every second, lingering
// cut the CPU per check by about a seventh and the p99 lateness by a
// third (docs/benchmarks-local.md).
const (
	linger    = 1 * time.Millisecond
	maxLinger = 4 * time.Millisecond
)

// lanes are a group-commit writer's two queues. Requests from the API
// (a monitor started, an event raised, a record purged) go urgent, ahead
// of the background writes of running monitors: under overload thousands
// of checks wait at a writer, and a start queued behind them all would
// take seconds. Both channels are unbuffered: a sender waits until the
// writer takes its request.
type lanes[R any] struct{ urgent, normal chan R }

func newLanes[R any]() lanes[R] { return lanes[R]{urgent: make(chan R), normal: make(chan R)} }

// to returns the lane for a request.
func (l lanes[R]) to(urgent bool) chan<- R {
	if urgent {
		return l.urgent
	}
	return l.normal
}

// first waits for the first request of a batch, an urgent one if any is
// waiting; false once quit is closed.
func (l lanes[R]) first(quit <-chan struct{}) (R, bool) {
	select {
	case r := <-l.urgent:
		return r, true
	default:
	}
	select {
	case r := <-l.urgent:
		return r, true
	case r := <-l.normal:
		return r, true
	case <-quit:
		var zero R
		return zero, false
	}
}

// take adds to batch every request waiting on ch, up to max.
func take[R any](ch <-chan R, batch []R, max int) []R {
	for len(batch) < max {
		select {
		case r := <-ch:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// gather adds to batch (holding the first request) every request already
// waiting, urgent ones first, then keeps adding while requests arrive at
// most linger apart, for at most maxLinger, up to max requests. Whether a
// lone request waits for company is up to solo. t is the writer's timer,
// stopped.
func (l lanes[R]) gather(quit <-chan struct{}, batch []R, max int, t *time.Timer, solo *soloPolicy) []R {
	batch = take(l.normal, take(l.urgent, batch, max), max)
	single := len(batch) == 1
	if single && !solo.linger() {
		return batch
	}
	defer func() {
		if single {
			solo.joined(len(batch) > 1)
		}
	}()
	deadline := time.Now().Add(maxLinger)
	for len(batch) < max {
		wait := min(linger, time.Until(deadline))
		if wait <= 0 {
			break
		}
		t.Reset(wait)
		var r R
		select {
		case r = <-l.urgent:
		case r = <-l.normal:
		case <-t.C:
			return batch
		case <-quit:
			if !t.Stop() {
				<-t.C
			}
			return batch
		}
		batch = append(batch, r)
		if !t.Stop() {
			<-t.C
		}
	}
	return batch
}

// soloPolicy decides whether a lone request lingers for others. Under a
// concurrent load one usually joins within linger; a lone sequential
// caller (one execution running Pass states, a test) would only lose the
// linger on every commit. So after soloMisses lingers in a row that
// nobody joined, the next soloSkip lone requests commit at once, and then
// the writer tries again. Only the writer goroutine uses it.
type soloPolicy struct{ misses, skip int }

// A lone caller pays the linger on soloMisses commits in
// soloMisses+soloSkip; at 2,000 commits a second, three lingers of 1 ms in
// a row go unjoined about once in 400.
const (
	soloMisses = 3
	soloSkip   = 64
)

// linger reports whether this lone request should wait for others.
func (p *soloPolicy) linger() bool {
	if p.skip > 0 {
		p.skip--
		return false
	}
	return true
}

// joined records whether anyone joined a lone request's linger.
func (p *soloPolicy) joined(ok bool) {
	if ok {
		p.misses = 0
		return
	}
	if p.misses++; p.misses >= soloMisses {
		p.misses, p.skip = 0, soloSkip
	}
}
