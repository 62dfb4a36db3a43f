package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/stepmon/stepmon/internal/asl"
)

// Deleting a state machine works as on AWS (DeleteStateMachine): the
// machine's status becomes DELETING at once, durably, and the call
// returns. The machine then takes no new execution and its name is not
// free. Each of its running executions fails at its next state
// transition (an execution in a Wait at its wake-up) with States.Runtime,
// "State machine NAME has been deleted." Once none runs, the machine is
// deleted together with every execution of it, and its name may be used
// again.
//
// The running executions learn of the deletion from an atomic flag of
// their machine (machineLife), which they read before every state: no
// store read on the hot path. DeleteStateMachine sets it after the
// DELETING status committed; Recover sets it for the machines a restart
// finds DELETING. The end of an execution of a machine being deleted
// (resume, StopExecution) deletes the machine when it was the last one.

// machineLife is what the executions of a state machine (any revision)
// share in memory: whether the machine is being deleted.
type machineLife struct {
	deleting atomic.Bool
}

// life returns the machineLife of a state machine ARN.
func (e *Engine) life(arn string) *machineLife {
	if l, ok := e.lives.Load(arn); ok {
		return l.(*machineLife)
	}
	l, _ := e.lives.LoadOrStore(arn, &machineLife{})
	return l.(*machineLife)
}

// errDeleted ends an execution whose state machine is being deleted. Like
// errAborted and errTimedOut it is not an error of a state: Retry and
// Catch do not see it (interrupted); resume records it as the failure
// AWS reports (deletedError).
var errDeleted = &asl.Error{Name: asl.ErrRuntime}

// deletedError is the failure of an execution of a deleted state machine,
// as AWS reports it.
func deletedError(sm StateMachine) *asl.Error {
	name := sm.Name
	if name == "" {
		name = sm.Arn[strings.LastIndexByte(sm.Arn, ':')+1:]
	}
	return &asl.Error{Name: asl.ErrRuntime, HasCause: true, Cause: fmt.Sprintf("State machine %s has been deleted.", name)}
}

// DeleteStateMachine deletes a state machine as AWS does: it marks the
// machine DELETING and returns; the machine and its executions are
// deleted once its running executions, which fail at their next state
// transition, have ended (at once when none runs). Deleting a machine
// that does not exist, or one being deleted, is not an error, as on AWS.
func (e *Engine) DeleteStateMachine(ctx context.Context, arn string) error {
	e.delMu.Lock()
	err := e.store.MarkStateMachineDeleting(ctx, arn)
	if err == nil {
		e.life(arn).deleting.Store(true)
	}
	e.delMu.Unlock()
	if errors.Is(err, ErrStateMachineDoesNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine: delete state machine %s: %w", arn, err)
	}
	return e.finishDeletion(ctx, arn)
}

// finishDeletion deletes a state machine being deleted if no execution of
// it runs any more, and forgets what the engine holds of it: its parsed
// revisions and its machineLife, so that a machine created again under
// the same name starts afresh.
func (e *Engine) finishDeletion(ctx context.Context, arn string) error {
	// Under delMu no execution of the machine starts, and no machine of
	// the same name is created, between the check and the deletion.
	e.delMu.Lock()
	defer e.delMu.Unlock()
	sm, err := e.store.GetStateMachine(ctx, arn)
	if errors.Is(err, ErrStateMachineDoesNotExist) {
		return nil // deleted already
	}
	if err != nil {
		return fmt.Errorf("engine: delete state machine %s: %w", arn, err)
	}
	if sm.Status != StateMachineDeleting {
		return nil // a new machine of the same name
	}
	running, _, err := e.store.ListExecutions(ctx, ListExecutionsInput{StateMachineArn: arn, Status: StatusRunning, MaxResults: 1})
	if err != nil {
		return fmt.Errorf("engine: delete state machine %s: %w", arn, err)
	}
	if len(running) > 0 {
		return nil // the last one to end deletes the machine
	}
	if err := e.store.DeleteStateMachine(ctx, arn); err != nil && !errors.Is(err, ErrStateMachineDoesNotExist) {
		return fmt.Errorf("engine: delete state machine %s: %w", arn, err)
	}
	e.lives.Delete(arn)
	prefix := arn + "#"
	e.machines.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), prefix) {
			e.machines.Delete(k)
		}
		return true
	})
	return nil
}

// executionEnded finishes the deletion of the state machine of an
// execution that ended, if the machine is being deleted.
func (e *Engine) executionEnded(smArn string) {
	l, ok := e.lives.Load(smArn)
	if !ok || !l.(*machineLife).deleting.Load() {
		return
	}
	if err := e.finishDeletion(e.ctx, smArn); err != nil {
		// Recover finishes it at the next start.
		e.log.Log(context.Background(), e.failLevel(), "engine: delete state machine", "stateMachine", smArn, "err", err)
	}
}

// recoverDeletions sets the deleting flag of every state machine the store
// holds as DELETING and returns their ARNs.
func (e *Engine) recoverDeletions(ctx context.Context) ([]string, error) {
	var arns []string
	err := EachStateMachine(ctx, e.store, func(sm StateMachine) error {
		if sm.Status == StateMachineDeleting {
			e.life(sm.Arn).deleting.Store(true)
			arns = append(arns, sm.Arn)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return arns, nil
}

// CompleteDeletion ends the deletion of a state machine being deleted
// now rather than at its executions' next transitions: each RUNNING
// execution of it fails at once with the error it would meet at its next
// transition, then the machine is deleted. It is for a runtime that
// needs the machine's name at start-up (before Recover), when executions
// of the machine might wait for hours; anything else should let
// DeleteStateMachine take its course. A machine that does not exist or is
// not being deleted is left alone.
func (e *Engine) CompleteDeletion(ctx context.Context, arn string) error {
	sm, err := e.store.GetStateMachine(ctx, arn)
	if errors.Is(err, ErrStateMachineDoesNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine: complete deletion of %s: %w", arn, err)
	}
	if sm.Status != StateMachineDeleting {
		return nil
	}
	e.life(arn).deleting.Store(true)
	ferr := deletedError(sm)
	for {
		// No execution of a DELETING machine starts: each page is new.
		running, _, err := e.store.ListExecutions(ctx, ListExecutionsInput{StateMachineArn: arn, Status: StatusRunning, MaxResults: 1000})
		if err != nil {
			return fmt.Errorf("engine: complete deletion of %s: %w", arn, err)
		}
		if len(running) == 0 {
			break
		}
		for _, x := range running {
			if _, err := e.endExecution(ctx, x.Arn, StatusFailed, "ExecutionFailed", ferr.Name, ferr.Cause); err != nil &&
				!errors.Is(err, ErrExecutionNotRunning) {
				return fmt.Errorf("engine: complete deletion of %s: %w", arn, err)
			}
		}
	}
	return e.finishDeletion(ctx, arn)
}
