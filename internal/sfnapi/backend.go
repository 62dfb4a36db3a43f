package sfnapi

import (
	"context"

	"github.com/stepmon/stepmon/internal/engine"
)

// Backend is what the Step Functions API needs from an engine; each
// method serves the operation of the same name. Not-found and conflict
// conditions are the engine.Err* sentinels (wrapped or not); an *Error
// is passed to the client as it is. Handler validates names, ARNs,
// inputs and page sizes before it calls a Backend.
type Backend interface {
	// CreateStateMachine validates the definition and stores the machine
	// of spec's name, definition, role and type (STANDARD or EXPRESS),
	// with its tags and configuration. The definition of an EXPRESS
	// machine, created or updated, must not wait for a job, a task token
	// or an activity (InvalidDefinition, as on AWS).
	CreateStateMachine(ctx context.Context, spec engine.StateMachine) (engine.StateMachine, error)
	DescribeStateMachine(ctx context.Context, arn string) (engine.StateMachine, error)
	// StateMachineArn returns the ARN a state machine of the given name
	// has (or would have), for messages about a machine named by name.
	StateMachineArn(name string) string
	ListStateMachines(ctx context.Context, maxResults int, nextToken string) ([]engine.StateMachine, string, error)
	// UpdateStateMachine changes the definition, the role and the
	// configurations that u sets (empty: unchanged) in a new revision;
	// when it would change nothing, it returns the machine as it is,
	// with no new revision. A configuration never set is the same as its
	// default (see withDefaults).
	UpdateStateMachine(ctx context.Context, arn string, u engine.StateMachineUpdate) (engine.StateMachine, error)
	DeleteStateMachine(ctx context.Context, arn string) error
	// StateMachineForExecution returns the state machine revision an
	// execution runs (the one it started on).
	StateMachineForExecution(ctx context.Context, executionArn string) (engine.StateMachine, error)

	// StartExecution starts an execution; an empty name asks for a
	// generated one.
	StartExecution(ctx context.Context, stateMachineArn, name, input string) (engine.Execution, error)
	// WaitExecution blocks until the execution has finished (for
	// StartSyncExecution).
	WaitExecution(ctx context.Context, arn string) (engine.Execution, error)
	StopExecution(ctx context.Context, arn, errName, cause string) (engine.Execution, error)
	DescribeExecution(ctx context.Context, arn string) (engine.Execution, error)
	ListExecutions(ctx context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error)
	GetExecutionHistory(ctx context.Context, arn string, in engine.HistoryInput) ([]engine.Event, string, error)

	// TagResource adds tags to a state machine and replaces the values of
	// keys it has: engine.ErrTooManyTags, changing nothing, when it would
	// have more than 50 tags.
	TagResource(ctx context.Context, arn string, tags []engine.Tag) error
	// UntagResource removes the tags of the given keys from a state
	// machine.
	UntagResource(ctx context.Context, arn string, keys []string) error
	// ListTagsForResource returns the tags of a state machine in key
	// order (see engine.Store.ListStateMachineTags).
	ListTagsForResource(ctx context.Context, arn string) ([]engine.Tag, error)
}
