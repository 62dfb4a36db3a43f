// Package deadline shares a context's deadline between a piece of work and
// the clean-up that must follow it. On Lambda nothing runs after the
// function's timeout, so a clean-up that starts when the work has used the
// whole deadline never runs: the work gets the deadline minus a reserve,
// and the clean-up runs in what is left, even when the caller has gone
// away.
package deadline
