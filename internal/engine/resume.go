package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// resumeFromStore continues a due execution from its resident run state
// (see keepResident) or else from the one in the store. It calls done
// when the execution's goroutine returns, or at once when it starts
// none.
func (e *Engine) resumeFromStore(arn string, done func()) {
	stops := e.stops.Load()
	spawned := false
	defer func() {
		if !spawned {
			done()
		}
	}()
	e.mu.Lock()
	_, busy := e.live[arn]
	// A timer brought forward after the clock went back is due now,
	// whatever the stored wake-up time says.
	rebased := e.rebased[arn]
	delete(e.rebased, arn)
	var r *resident
	if busy {
		// The execution suspended and its timer fell due before its
		// goroutine returned: resume it once that goroutine is done, or
		// the wake-up would be lost; a rebased one stays rebased.
		e.rerun[arn] = e.rerun[arn] || rebased
	} else if r = e.resident[arn]; r != nil {
		if wakeAt := r.wakeAt; wakeAt.After(e.clock.Now()) && !rebased {
			// Woken early: the entry stays for the wake-up on time.
			e.mu.Unlock()
			e.schedule(arn, wakeAt)
			return
		}
		e.unresidentLocked(arn)
	}
	e.mu.Unlock()
	if busy {
		return
	}
	if r != nil {
		snap := r.snap
		if snap == nil {
			var err error
			if snap, err = decodeSnapshot(r.run); err != nil {
				e.resumeBroken(arn, err)
				return
			}
		}
		e.residentHits.Add(1)
		x := e.newExecution(r.rec, r.sm, r.m, r.input)
		x.lastID = snap.LastID
		spawned = true
		e.spawn(x, snap, stops, done)
		return
	}
	ctx := e.ctx
	raw, wakeAt, err := e.store.GetRunState(ctx, arn)
	if err != nil {
		// A stale timer entry of an execution that ended, or that was
		// deleted with its state machine since.
		if !errors.Is(err, ErrExecutionNotRunning) && !errors.Is(err, ErrExecutionDoesNotExist) {
			e.resumeFailed(arn, err)
		} else {
			e.mu.Lock()
			e.resumedLocked(arn)
			e.mu.Unlock()
		}
		return
	}
	if wakeAt.After(e.clock.Now()) && !rebased {
		// Woken early (a stale timer entry): a wait never ends before its time.
		e.schedule(arn, wakeAt)
		return
	}
	snap, err := decodeSnapshot(raw)
	if err != nil {
		e.resumeBroken(arn, err)
		return
	}
	rec, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		e.resumeFailed(arn, err)
		return
	}
	var sm StateMachine
	var m *asl.Machine
	if c, ok := e.machines.Load(machineKey(rec.StateMachineArn, rec.Revision)); ok {
		sm, m = c.(*machineEntry).sm, c.(*machineEntry).m
	} else {
		// Read-held while the revision is read and its parse cached: a
		// deletion of the machine (finishDeletion forgets its parses)
		// comes before the read or after the parse is cached, never in
		// between, where a machine created again under the same name
		// would find the deleted one's parse under its revision.
		e.delMu.RLock()
		sm, err = e.executionMachine(ctx, rec)
		if err == nil {
			m, err = e.machine(sm)
		}
		e.delMu.RUnlock()
		if err != nil {
			// A read the store failed, or a definition this version
			// does not take (one that validates differently): the
			// execution stays RUNNING, its resume is tried again (for
			// a store that answers, a version that takes it), and
			// StoreHealth shows it.
			e.resumeFailed(arn, err)
			return
		}
	}
	x := e.newExecution(rec, sm, m, nil) // the input is parsed if $$ needs it
	x.lastID = snap.LastID
	spawned = true
	e.spawn(x, snap, stops, done)
}

// executionMachine returns the state machine revision an execution runs:
// the one it started on, even if the machine has been updated since. An
// execution whose revision the store does not know (a record from before
// the store kept revisions) runs the current one.
func (e *Engine) executionMachine(ctx context.Context, rec Execution) (StateMachine, error) {
	if rec.Revision > 0 {
		sm, err := e.store.GetStateMachineRevision(ctx, rec.StateMachineArn, rec.Revision)
		if !errors.Is(err, ErrStateMachineDoesNotExist) {
			return sm, err
		}
	}
	return e.store.GetStateMachine(ctx, rec.StateMachineArn)
}

// StateMachineForExecution returns the state machine revision an
// execution runs (DescribeStateMachineForExecution).
func (e *Engine) StateMachineForExecution(ctx context.Context, executionArn string) (StateMachine, error) {
	rec, err := e.store.GetExecution(ctx, executionArn)
	if err != nil {
		return StateMachine{}, fmt.Errorf("engine: describe state machine for execution: %w", err)
	}
	sm, err := e.executionMachine(ctx, rec)
	if err != nil {
		return StateMachine{}, fmt.Errorf("engine: describe state machine for execution %s: %w", executionArn, err)
	}
	return sm, nil
}

// resumeFailed handles a store read of resumeFromStore or spawn that
// failed. Once the engine's context is done (Close, as when the process
// shuts down), that is how a resume in flight ends, not a failure: the
// execution stays RUNNING in the store for Recover, and it is logged at
// Debug. The engine's context decides rather than the error, which a
// store need not wrap as context.Canceled (an interrupted SQLite query is
// not). Otherwise the store failed for its own reasons (a locked
// database, an I/O error): the execution's timer is armed again, waiting
// twice as long each time up to commitRetryMax, as storeCommit does, and
// StoreHealth counts it until a resume gets through. Nothing else would
// ever wake it. The execution's state machine definition that does not
// parse is handled alike: the version of stepmon that wrote it may run
// again (a downgrade), and the execution should then go on.
func (e *Engine) resumeFailed(arn string, err error) {
	if e.ctx.Err() != nil {
		e.log.Debug("engine: resume", "execution", arn, "err", err)
		return
	}
	e.mu.Lock()
	d, again := e.resumeRetry[arn]
	if again {
		d = min(2*d, commitRetryMax)
	} else {
		d = commitRetryFirst
	}
	e.resumeRetry[arn] = d
	waiting := len(e.resumeRetry)
	e.mu.Unlock()
	e.lastResumeErr.Store(err.Error())
	e.logResumeFailure(arn, waiting, err)
	e.schedule(arn, e.clock.Now().Add(d))
}

// resumedLocked forgets the failed resumes of an execution that resumed,
// ended or no longer exists. e.mu is held.
func (e *Engine) resumedLocked(arn string) {
	if _, ok := e.resumeRetry[arn]; !ok {
		return
	}
	delete(e.resumeRetry, arn)
	if len(e.resumeRetry) == 0 {
		e.log.Info("engine: the store serves resumes again")
	}
}

// logResumeFailure logs a failed resume, with the number of resumes
// waiting, unless another was logged less than commitFailLogGap ago:
// when the store fails, every execution that falls due meets it.
func (e *Engine) logResumeFailure(arn string, waiting int, err error) {
	now := time.Now().UnixNano()
	last := e.resumeFailLogged.Load()
	if now-last < int64(commitFailLogGap) || !e.resumeFailLogged.CompareAndSwap(last, now) {
		return
	}
	e.log.Error("engine: resume", "execution", arn, "retrying", true,
		"resumesWaiting", waiting, "retryingUpTo", commitRetryMax, "err", err)
}

// resumeBroken fails an execution whose stored run state cannot be
// decoded: no later attempt reads it better, and an execution left
// RUNNING without a timer would hang unseen. It fails with
// States.Runtime, as from outside (StopExecution).
func (e *Engine) resumeBroken(arn string, err error) {
	e.log.Error("engine: resume: the execution cannot be resumed; it fails", "execution", arn, "err", err)
	e.failBroken(arn, "The execution's state cannot be read: "+err.Error())
}

// executionPanicked fails an execution whose run panicked, r being what
// it panicked with (a defect of the engine, or of a handler's caller):
// the process goes on serving the others, where ending it would resume
// the execution, and panic again, at every start. The panic is logged
// with its stack.
func (e *Engine) executionPanicked(arn string, r any) {
	e.log.Error("engine: the execution's run panicked; it fails", "execution", arn, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	e.failBroken(arn, fmt.Sprintf("The engine failed while running the execution: %v", r))
}

// failBroken ends the RUNNING execution arn as FAILED with States.Runtime
// and cause, from outside its run (as StopExecution does).
func (e *Engine) failBroken(arn, cause string) {
	rec, ferr := e.endExecution(e.ctx, arn, StatusFailed, "ExecutionFailed", asl.ErrRuntime, cause)
	switch {
	case ferr == nil:
		e.executionEnded(rec.StateMachineArn)
	case errors.Is(ferr, ErrExecutionNotRunning) || errors.Is(ferr, ErrExecutionDoesNotExist):
		e.mu.Lock()
		e.resumedLocked(arn)
		e.mu.Unlock()
	default:
		e.resumeFailed(arn, ferr)
	}
}

// failLevel is the level of a failed store access of the engine's own:
// Error, or Debug once the engine is closing (see resumeFailed).
func (e *Engine) failLevel() slog.Level {
	if e.ctx.Err() != nil {
		return slog.LevelDebug
	}
	return slog.LevelError
}
