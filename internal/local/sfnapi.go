package local

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
)

// stepFunctionsAPI returns the Step Functions API (awsJson1_0) handler
// over the engine.
func (r *Runtime) stepFunctionsAPI() http.Handler {
	backend := ownMachineGuard{Backend: sfnapi.NewEngineBackend(r.engine), arn: r.smArn}
	return sfnapi.NewHandler(backend, r.log.With("component", "sfnapi"))
}

// ownMachineGuard is the Step Functions API's backend with the runtime's
// own state machine (stepmon-monitor, arn) kept from DeleteStateMachine,
// and from an UpdateStateMachine that changes its definition. Deleting it
// failed every running monitor, dropped every monitor's execution history
// and left starts failing until a restart; replacing its definition with
// one that does not run monitors left every new monitor Pending. Neither
// serves a purpose the runtime does not serve otherwise: its definition is
// serve's --definition, and a fresh start is a fresh data directory. An
// update that keeps the definition passes through: the role or the
// configurations alone, or the same definition however written (the file
// with its placeholders, other spacing). Other machines are untouched.
type ownMachineGuard struct {
	sfnapi.Backend
	arn string
}

// UpdateStateMachine implements sfnapi.Backend.
func (g ownMachineGuard) UpdateStateMachine(ctx context.Context, arn string, u engine.StateMachineUpdate) (engine.StateMachine, error) {
	if arn == g.arn && u.Definition != "" {
		sm, err := g.Backend.DescribeStateMachine(ctx, arn)
		if err != nil {
			return engine.StateMachine{}, err
		}
		if sameJSON(substituteDefinition(u.Definition), sm.Definition) {
			// The stored text, placeholders filled in, whatever the
			// spelling of the one sent (the raw file, compacted, ...).
			u.Definition = sm.Definition
			return g.Backend.UpdateStateMachine(ctx, arn, u)
		}
		return engine.StateMachine{}, &sfnapi.Error{Type: sfnapi.ErrTypeValidationException,
			Message: "the definition of " + StateMachineName + ", the local runtime's own state machine, cannot be changed through the API: " +
				"it is the embedded statemachine.asl.json, or the file of serve's --definition; " +
				"to change it, restart stepmon serve with --definition FILE (running monitors keep their revision)"}
	}
	return g.Backend.UpdateStateMachine(ctx, arn, u)
}

// sameJSON reports whether a and b are the same JSON value, however
// spaced or ordered; text that is not JSON is the same only as itself.
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// DeleteStateMachine implements sfnapi.Backend.
func (g ownMachineGuard) DeleteStateMachine(ctx context.Context, arn string) error {
	if arn == g.arn {
		return &sfnapi.Error{Type: sfnapi.ErrTypeValidationException,
			Message: StateMachineName + " is the local runtime's own state machine and cannot be deleted: " +
				"it would fail every running monitor and delete every monitor's history; " +
				"terminate monitors through the monitor API, or stop stepmon serve and start it with a new --data directory to start afresh"}
	}
	return g.Backend.DeleteStateMachine(ctx, arn)
}
