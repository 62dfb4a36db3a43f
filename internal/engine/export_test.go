package engine

// Hooks for the external tests.

// ResidentHits returns how many resumes used a resident run state.
func ResidentHits(e *Engine) int64 { return e.residentHits.Load() }

// ResidentCount returns how many executions are resident.
func ResidentCount(e *Engine) int { return e.residentCount() }

// Poke makes the timer loop look at the clock again.
func Poke(e *Engine) { e.poke() }

// Quiet reports whether no execution runs and arms timers reports how
// many timers are armed.
func Quiet(e *Engine) (quiet bool, timers int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inflight.Load() == 0 && len(e.live) == 0, len(e.queued)
}
