package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/asl"
)

// Resource ARNs of the Step Functions integration.
const (
	StartExecutionResource      = "arn:aws:states:::states:startExecution"
	StartExecutionSyncResource  = "arn:aws:states:::states:startExecution.sync"
	StartExecutionSync2Resource = "arn:aws:states:::states:startExecution.sync:2"
)

// registerStates routes states:startExecution (and .sync, .sync:2) to
// executions of this engine.
func registerStates(e *Engine) {
	e.disp.Handle(StartExecutionResource, Route{Handler: e.startExecutionTask(""), ResourceType: "states", ResourceName: "startExecution"})
	e.disp.Handle(StartExecutionSyncResource, Route{Handler: e.startExecutionTask("sync"), ResourceType: "states", ResourceName: "startExecution.sync"})
	e.disp.Handle(StartExecutionSync2Resource, Route{Handler: e.startExecutionTask("sync:2"), ResourceType: "states", ResourceName: "startExecution.sync:2"})
}

// startExecutionTask starts another execution in this engine. Without
// .sync it returns {"ExecutionArn","StartDate"}; with .sync / .sync:2 it
// waits for the child and returns its DescribeExecution output (Output as
// a string / as JSON), failing with the child's error. A .sync task that
// ends before its child (the parent stopped or timed out, the task timed
// out) stops the child.
func (e *Engine) startExecutionTask(mode string) TaskHandler {
	return func(ctx context.Context, req TaskRequest) (any, error) {
		in, ok := req.Input.(map[string]any)
		if !ok {
			return nil, &TaskError{Name: "States.Runtime", Cause: "startExecution parameters must be an object"}
		}
		smArn, _ := in["StateMachineArn"].(string)
		name, _ := in["Name"].(string)
		input := "{}"
		switch v := in["Input"].(type) {
		case nil:
		case string:
			input = v
		default:
			input = asl.Text(v)
		}
		child, err := e.startExecution(ctx, smArn, name, input, req.ExecutionArn)
		if errors.Is(err, ErrExecutionAlreadyExists) && child.ParentArn == req.ExecutionArn && req.ExecutionArn != "" {
			// This execution started the child already, in a run of this
			// task whose result a crash lost (tasks are dispatched at
			// least once): the child is this task's, whatever its input
			// and status now.
			err = nil
		}
		switch {
		case errors.Is(err, ErrExecutionAlreadyExists):
			return nil, &TaskError{Name: "StepFunctions.ExecutionAlreadyExistsException", Cause: fmt.Sprintf("Execution Already Exists: '%s'", name)}
		case errors.Is(err, ErrStateMachineDoesNotExist):
			return nil, &TaskError{Name: "StepFunctions.StateMachineDoesNotExistException", Cause: fmt.Sprintf("State Machine Does Not Exist: '%s'", smArn)}
		case errors.Is(err, ErrInvalidName):
			return nil, &TaskError{Name: "StepFunctions.InvalidNameException", Cause: fmt.Sprintf("Invalid Name: '%s'", name)}
		case errors.Is(err, ErrStateMachineDeleting):
			return nil, &TaskError{Name: "StepFunctions.StateMachineDeletingException", Cause: fmt.Sprintf("State Machine is being deleted: '%s'", smArn)}
		case err != nil:
			return nil, &TaskError{Name: "StepFunctions.InvalidExecutionInputException", Cause: err.Error()}
		}
		if mode == "" {
			return map[string]any{"ExecutionArn": child.Arn, "StartDate": isoTime(child.StartDate)}, nil
		}
		// Waiting for the child holds this goroutine; the child itself
		// runs and persists independently. It does not count as running
		// while it waits, so a virtual clock may jump, and counts again
		// before the child's end can let the clock jump (wait).
		done, err := e.wait(ctx, child.Arn, true)
		if err != nil {
			if ctx.Err() != nil && e.ctx.Err() == nil {
				// The task ended without the child (the parent was stopped
				// or timed out, or the task timed out): AWS stops the
				// child of a .sync task. A closing engine stops nothing.
				if _, serr := e.StopExecution(context.WithoutCancel(ctx), child.Arn, "", ""); serr != nil && !errors.Is(serr, ErrExecutionNotRunning) {
					e.log.Error("engine: stop child execution", "execution", child.Arn, "parent", req.ExecutionArn, "err", serr)
				}
			}
			return nil, fmt.Errorf("engine: wait for %s: %w", child.Arn, err)
		}
		out := map[string]any{"ExecutionArn": done.Arn, "StateMachineArn": done.StateMachineArn, "Name": done.Name,
			"Status": string(done.Status), "StartDate": isoTime(done.StartDate), "StopDate": isoTime(done.StopDate),
			"Input": done.Input}
		var inV any = done.Input
		var outV any = done.Output
		if mode == "sync:2" {
			inV, _ = asl.ParseJSON([]byte(done.Input))
			if done.HasOutput {
				outV, _ = asl.ParseJSON([]byte(done.Output))
			}
		}
		out["Input"] = inV
		if done.HasOutput {
			out["Output"] = outV
		}
		if done.Status != StatusSucceeded {
			return nil, &TaskError{Name: "States.TaskFailed", Cause: asl.Text(out)}
		}
		return out, nil
	}
}
