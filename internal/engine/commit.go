package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// taskCommitDelay is how long a top-level task runs before the events
// that scheduled it (and the run state saying it is in flight) are
// committed on their own. A task that ends sooner, like a check of a
// remote API (a few hundred milliseconds) or of a local service, leaves
// them to the execution's next commit: one commit and one run-state
// snapshot fewer per task. (At 100 ms checks of remote APIs, and every
// check of an overloaded runtime, paid for two commits, which overloaded
// it further.) Nothing is lost by a crash in between: the last committed
// run state is the one before the task, so the task is dispatched again,
// as it is after a crash during the task. That is one task at most: a
// task that ended stays uncommitted only until the next commit, and the
// next task is dispatched after one (execution.taskEnded), so a loop of
// tasks that never waits (Task, Choice, Task) commits at each task,
// where it repeated every task since its last wait after a crash. A
// longer task shows as scheduled in the history after this delay.
const taskCommitDelay = time.Second

// deferredCommit is a commit that runs after a delay unless settled
// first (commitAfter).
type deferredCommit struct {
	timer *time.Timer
	done  chan struct{}
	err   error
}

// commitAfter commits snap with the buffered events after d, unless
// settle comes first; then they wait for the execution's next commit.
// When upTo is not 0, only the events up to the id upTo are committed
// with snap; later ones stay buffered for the next commit.
func (x *execution) commitAfter(ctx context.Context, snap *snapshot, d time.Duration, upTo int64) *deferredCommit {
	dc := &deferredCommit{done: make(chan struct{})}
	dc.timer = time.AfterFunc(d, func() {
		_, dc.err = x.commitKeeping(ctx, snap, nil, false, upTo)
		close(dc.done)
	})
	return dc
}

// settle cancels the commit if it has not started, or else waits for it.
// It reports false if the commit ran and failed (the execution is no
// longer running, or the store failed).
func (dc *deferredCommit) settle() bool {
	if dc.timer.Stop() {
		return true
	}
	<-dc.done
	return dc.err == nil
}

// uncommitted returns a copy of the buffered events if they continue a
// history whose last stored event is last, else none: when an earlier
// chunk is being committed, the buffered events do not follow the stored
// ones. The buffer stays as it is.
func (x *execution) uncommitted(last int64) []Event {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.count == 0 {
		return nil
	}
	first := x.events
	if len(x.full) > 0 {
		first = x.full[0]
	}
	if len(first) == 0 || first[0].ID != last+1 {
		return nil
	}
	return x.appendBufferedLocked(make([]Event, 0, x.count+1))
}

// appendBufferedLocked appends the buffered events, the full chunks and
// then the current one, to dst. x.mu is held.
func (x *execution) appendBufferedLocked(dst []Event) []Event {
	for _, c := range x.full {
		dst = append(dst, c...)
	}
	return append(dst, x.events...)
}

// commit writes the buffered events with a run state (nil: keep) and
// optionally a status update.
func (x *execution) commit(ctx context.Context, snap *snapshot, u *ExecutionUpdate) error {
	_, err := x.commitKeeping(ctx, snap, u, false, 0)
	return err
}

// commitKeeping is commit that also returns a copy of the encoded run
// state it committed when keep is true. When upTo is not 0 it commits
// only the buffered events up to the id upTo (see commitAfter).
func (x *execution) commitKeeping(ctx context.Context, snap *snapshot, u *ExecutionUpdate, keep bool, upTo int64) ([]byte, error) {
	x.mu.Lock()
	last := x.lastID
	x.mu.Unlock()
	if upTo != 0 && upTo < last {
		last = upTo
	}
	// The run state is encoded before the events leave the buffer: a
	// run state that cannot be encoded leaves them there, to be committed
	// with the execution's failure.
	var run []byte
	var wake time.Time
	if snap != nil {
		snap.LastID = last
		if x.vars != nil {
			snap.Vars = x.vars.Local()
		}
		var err error
		if x.e.reuse {
			buf := runStateBufs.Get().(*[]byte)
			defer func() {
				if run != nil && cap(run) <= maxPooledRunState {
					*buf = run[:0]
				}
				runStateBufs.Put(buf)
			}()
			run, err = snap.appendTo((*buf)[:0])
		} else {
			run, err = snap.encode()
		}
		if err != nil {
			return nil, err
		}
		wake = snap.WakeAt
	}
	x.mu.Lock()
	var evs []Event
	reuseEvents := false
	if last < x.lastID {
		// Only up to upTo, or events were emitted (by a branch running
		// on) while the run state was encoded: they follow it.
		evs = x.takeEventsLocked(last)
	} else {
		evs = x.events
		reuseEvents = x.e.reuse && len(x.full) == 0
		if len(x.full) > 0 {
			evs = x.appendBufferedLocked(make([]Event, 0, x.count))
		}
		x.events, x.full, x.count = nil, nil, 0
	}
	all := last == x.lastID
	x.mu.Unlock()
	err := x.storeCommit(ctx, Transition{ExecutionArn: x.rec.Arn, Events: evs, Update: u, RunState: run,
		WakeAt: wake, ExpectRunning: true})
	if err == nil && all {
		x.taskEnded.Store(false)
	}
	if reuseEvents {
		recycleEvents(evs)
	}
	if u != nil {
		// A finished execution never resumes; nothing resident may outlive it.
		x.e.dropResident(x.rec.Arn)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: commit %s: %w", x.rec.Arn, err)
	}
	if keep && run != nil {
		return bytes.Clone(run), nil // run goes back to runStateBufs
	}
	return nil, nil
}

// takeEventsLocked removes the buffered events with ids up to upTo from
// the buffer and returns them; the later ones stay buffered, in a chunk
// of their own. x.mu is held.
func (x *execution) takeEventsLocked(upTo int64) []Event {
	all := x.appendBufferedLocked(make([]Event, 0, x.count))
	n := 0
	for n < len(all) && all[n].ID <= upTo {
		n++
	}
	rest := all[n:]
	x.events = append(make([]Event, 0, max(len(rest), firstEventChunk)), rest...)
	x.full, x.count = nil, len(rest)
	return all[:n:n]
}

// The wait before the second attempt of a commit the store failed, the
// longest wait between attempts, and the least time between two log lines
// about failing commits.
const (
	commitRetryFirst = 100 * time.Millisecond
	commitRetryMax   = 10 * time.Second
	commitFailLogGap = 10 * time.Second
)

// storeCommit commits t under the execution's history lock. A store
// failure that is not about the execution (a full disk, a locked or
// unwritable database file) does not end the execution: the commit is
// tried again, waiting twice as long each time up to commitRetryMax,
// until it succeeds, the store refuses the Transition itself (the
// execution was stopped), the store is closed, or ctx ends (Close,
// StopExecution). A failed Commit wrote nothing (Store), so the events
// are committed once. The lock is not held between attempts, so that
// StopExecution is not kept waiting.
//
// When the store fails, every execution that commits meets it: the
// engine logs one line per commitFailLogGap with the number of commits
// waiting, and one when they all went through, instead of a line per
// execution.
func (x *execution) storeCommit(ctx context.Context, t Transition) (err error) {
	e := x.e
	lock := e.histLock(x.rec.Arn)
	retrying := false
	defer func() {
		if retrying {
			e.commitRetried(err == nil)
		}
	}()
	for delay := commitRetryFirst; ; delay = min(2*delay, commitRetryMax) {
		lock.RLock()
		err = e.store.Commit(ctx, t)
		lock.RUnlock()
		if err == nil || !retryableCommit(err) || ctx.Err() != nil {
			return err
		}
		e.lastCommitErr.Store(err.Error())
		if !retrying {
			retrying = true
			e.commitRetrying()
		}
		e.logCommitFailure(x.rec.Arn, err)
		// The store's outage is real time, whatever the engine's clock.
		if (RealClock{}).SleepUntil(ctx, time.Now().Add(delay)) != nil {
			return err
		}
	}
}

// commitRetrying counts a commit that the store failed and that is tried
// again. The first marks the start of the store's outage: the timers
// resumed until it ends are late by it (lateness.storeFailing).
func (e *Engine) commitRetrying() {
	e.outageMu.Lock()
	defer e.outageMu.Unlock()
	if e.commitsRetrying.Add(1) == 1 {
		e.outageFrom = e.clock.Now().Round(0)
		e.late.storeFailing()
	}
}

// commitRetried counts a retried commit that ended, ok when the store took
// it. The last ends the store's outage.
func (e *Engine) commitRetried(ok bool) {
	e.outageMu.Lock()
	defer e.outageMu.Unlock()
	if e.commitsRetrying.Add(-1) != 0 {
		return
	}
	if ok {
		e.log.Info("engine: the store accepts commits again")
	}
	e.late.storeRecovered(e.outageFrom, e.clock.Now().Round(0), ok)
}

// StoreHealth is whether the store takes the engine's commits and serves
// the reads that resume executions.
type StoreHealth struct {
	// CommitsWaiting counts the executions whose commit the store failed
	// and that wait to try it again (storeCommit); 0 when it takes them.
	CommitsWaiting int
	// ResumesWaiting counts the executions whose resume the store failed
	// (a read of their run state or record) and that wait to try it
	// again; 0 when it serves them.
	ResumesWaiting int
	// LastError is the store's last failure while CommitsWaiting or
	// ResumesWaiting is not 0 (a commit's if both), and "" otherwise.
	LastError string
}

// StoreHealth reports whether the store takes the engine's commits and
// serves its resumes: a store that fails them (a full disk, a damaged or
// locked database file) keeps executions waiting, which nothing else
// shows. It is cheap enough for a health check.
func (e *Engine) StoreHealth() StoreHealth {
	e.mu.Lock()
	resumes := len(e.resumeRetry)
	e.mu.Unlock()
	h := StoreHealth{CommitsWaiting: int(max(e.commitsRetrying.Load(), 0)), ResumesWaiting: resumes}
	switch {
	case h.CommitsWaiting > 0:
		h.LastError, _ = e.lastCommitErr.Load().(string)
	case h.ResumesWaiting > 0:
		h.LastError, _ = e.lastResumeErr.Load().(string)
	}
	return h
}

// logCommitFailure logs a failed commit unless another was logged less
// than commitFailLogGap ago.
func (e *Engine) logCommitFailure(arn string, err error) {
	now := time.Now().UnixNano()
	last := e.commitFailLogged.Load()
	if now-last < int64(commitFailLogGap) || !e.commitFailLogged.CompareAndSwap(last, now) {
		return
	}
	e.log.Error("engine: the store failed to commit; retrying", "execution", arn,
		"commitsWaiting", e.commitsRetrying.Load(), "retryingUpTo", commitRetryMax, "err", err)
}

// retryableCommit reports whether a Commit error is the store's own
// failure, which a later attempt may not meet, rather than a refusal of
// the Transition or the end of the store or of the caller.
func retryableCommit(err error) bool {
	for _, final := range []error{ErrExecutionNotRunning, ErrExecutionDoesNotExist, ErrExecutionAlreadyExists,
		ErrStoreClosed, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}
