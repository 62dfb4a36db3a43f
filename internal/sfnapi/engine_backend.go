package sfnapi

import (
	"context"
	"fmt"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// EngineBackend is the Backend of an *engine.Engine: executions go
// through the engine, listings and history are read from its Store.
type EngineBackend struct {
	e *engine.Engine
}

var _ Backend = (*EngineBackend)(nil)

// NewEngineBackend returns the Backend of e.
func NewEngineBackend(e *engine.Engine) *EngineBackend { return &EngineBackend{e: e} }

// CreateStateMachine implements Backend. The definition of an EXPRESS
// machine must not wait for jobs, task tokens or activities (see
// expressProblems).
func (b *EngineBackend) CreateStateMachine(ctx context.Context, spec engine.StateMachine) (engine.StateMachine, error) {
	if spec.Type == typeExpress {
		// A definition that does not parse is the engine's to report.
		if m, err := asl.Parse([]byte(spec.Definition)); err == nil {
			if errs := expressProblems(m); errs != nil {
				return engine.StateMachine{}, fmt.Errorf("sfnapi: create %s: %w", spec.Name, errs)
			}
		}
	}
	return b.e.CreateStateMachineFrom(ctx, spec)
}

// StateMachineForExecution implements Backend.
func (b *EngineBackend) StateMachineForExecution(ctx context.Context, executionArn string) (engine.StateMachine, error) {
	return b.e.StateMachineForExecution(ctx, executionArn)
}

// DescribeStateMachine implements Backend.
func (b *EngineBackend) DescribeStateMachine(ctx context.Context, arn string) (engine.StateMachine, error) {
	return b.e.Store().GetStateMachine(ctx, arn)
}

// StateMachineArn implements Backend.
func (b *EngineBackend) StateMachineArn(name string) string { return b.e.StateMachineArn(name) }

// ListStateMachines implements Backend.
func (b *EngineBackend) ListStateMachines(ctx context.Context, maxResults int, nextToken string) ([]engine.StateMachine, string, error) {
	return b.e.Store().ListStateMachines(ctx, maxResults, nextToken)
}

// UpdateStateMachine implements Backend: it validates a new definition
// and stores the next revision, unless the update changes nothing of the
// definition, the role and the configurations: then it answers the
// current revision. Executions already running keep the revision they
// started with. A machine being deleted cannot be updated
// (StateMachineDeleting). The new definition of an EXPRESS machine is
// checked as CreateStateMachine checks it.
func (b *EngineBackend) UpdateStateMachine(ctx context.Context, arn string, u engine.StateMachineUpdate) (engine.StateMachine, error) {
	var m *asl.Machine
	if u.Definition != "" {
		var err error
		if m, err = asl.Parse([]byte(u.Definition)); err != nil {
			return engine.StateMachine{}, fmt.Errorf("sfnapi: update %s: %w", arn, err)
		}
	}
	sm, err := b.e.Store().GetStateMachine(ctx, arn)
	if err != nil {
		return engine.StateMachine{}, err
	}
	if sm.Status == engine.StateMachineDeleting {
		return engine.StateMachine{}, fmt.Errorf("sfnapi: update %s: %w", arn, engine.ErrStateMachineDeleting)
	}
	if m != nil && smType(sm) == typeExpress {
		if errs := expressProblems(m); errs != nil {
			return engine.StateMachine{}, fmt.Errorf("sfnapi: update %s: %w", arn, errs)
		}
	}
	current := sm
	current.Config = withDefaults(sm.Config)
	if !u.Changes(current) {
		// Nothing changes: a revision is a snapshot of the definition,
		// the role and the configurations, so the current one stays,
		// as on AWS.
		return sm, nil
	}
	return b.e.Store().UpdateStateMachine(ctx, arn, u, b.e.Clock().Now().UTC())
}

// DeleteStateMachine implements Backend: the machine becomes DELETING and
// is deleted with its executions once none of them runs (see
// engine.Engine.DeleteStateMachine). An unknown machine is no error.
func (b *EngineBackend) DeleteStateMachine(ctx context.Context, arn string) error {
	return b.e.DeleteStateMachine(ctx, arn)
}

// StartExecution implements Backend.
func (b *EngineBackend) StartExecution(ctx context.Context, stateMachineArn, name, input string) (engine.Execution, error) {
	return b.e.StartExecution(ctx, stateMachineArn, name, input)
}

// WaitExecution implements Backend.
func (b *EngineBackend) WaitExecution(ctx context.Context, arn string) (engine.Execution, error) {
	return b.e.Wait(ctx, arn)
}

// StopExecution implements Backend.
func (b *EngineBackend) StopExecution(ctx context.Context, arn, errName, cause string) (engine.Execution, error) {
	return b.e.StopExecution(ctx, arn, errName, cause)
}

// DescribeExecution implements Backend.
func (b *EngineBackend) DescribeExecution(ctx context.Context, arn string) (engine.Execution, error) {
	return b.e.DescribeExecution(ctx, arn)
}

// ListExecutions implements Backend.
func (b *EngineBackend) ListExecutions(ctx context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	return b.e.Store().ListExecutions(ctx, in)
}

// GetExecutionHistory implements Backend.
func (b *EngineBackend) GetExecutionHistory(ctx context.Context, arn string, in engine.HistoryInput) ([]engine.Event, string, error) {
	return b.e.Store().GetHistory(ctx, arn, in)
}

// TagResource implements Backend.
func (b *EngineBackend) TagResource(ctx context.Context, arn string, tags []engine.Tag) error {
	return b.e.Store().TagStateMachine(ctx, arn, tags, maxTags)
}

// UntagResource implements Backend.
func (b *EngineBackend) UntagResource(ctx context.Context, arn string, keys []string) error {
	return b.e.Store().UntagStateMachine(ctx, arn, keys)
}

// ListTagsForResource implements Backend.
func (b *EngineBackend) ListTagsForResource(ctx context.Context, arn string) ([]engine.Tag, error) {
	return b.e.Store().ListStateMachineTags(ctx, arn)
}
