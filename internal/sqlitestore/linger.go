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

// gather adds to batch (holding the first request) every request already
// waiting on reqs, then keeps adding while requests arrive at most linger
// apart, for at most maxLinger, up to max requests. Whether a lone
// request waits for company is up to solo. t is the writer's timer,
// stopped.
func gather[R any](reqs <-chan R, quit <-chan struct{}, batch []R, max int, t *time.Timer, solo *soloPolicy) []R {
drain:
	for len(batch) < max {
		select {
		case r := <-reqs:
			batch = append(batch, r)
		default:
			break drain
		}
	}
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
		select {
		case r := <-reqs:
			batch = append(batch, r)
			if !t.Stop() {
				<-t.C
			}
		case <-t.C:
			return batch
		case <-quit:
			if !t.Stop() {
				<-t.C
			}
			return batch
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
