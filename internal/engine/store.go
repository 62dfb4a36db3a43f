package engine

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every Store implementation. Callers test them with
// errors.Is; implementations may wrap them with context.
var (
	// ErrStateMachineDoesNotExist: no state machine has the given ARN.
	ErrStateMachineDoesNotExist = errors.New("state machine does not exist")
	// ErrStateMachineAlreadyExists: CreateStateMachine with a name in use.
	ErrStateMachineAlreadyExists = errors.New("state machine already exists")
	// ErrStateMachineDeleting: the state machine is being deleted
	// (StateMachineDeleting); it takes no new executions and its name
	// is not free yet.
	ErrStateMachineDeleting = errors.New("state machine is being deleted")
	// ErrExecutionDoesNotExist: no execution has the given ARN.
	ErrExecutionDoesNotExist = errors.New("execution does not exist")
	// ErrInvalidName: a state machine's or an execution's name that AWS
	// refuses (ValidName).
	ErrInvalidName = errors.New("invalid name")
	// ErrExecutionAlreadyExists: an execution with the same ARN (state
	// machine + name) exists already.
	ErrExecutionAlreadyExists = errors.New("execution already exists")
	// ErrExecutionNotRunning: a Transition expected a RUNNING execution
	// but it has already finished (stopped, failed, ...).
	ErrExecutionNotRunning = errors.New("execution is not running")
	// ErrInvalidToken: a paging token was not issued by this store for
	// this query.
	ErrInvalidToken = errors.New("invalid pagination token")
	// ErrInvalidInput: StartExecution's input is valid JSON that the
	// engine cannot hold (a number out of float64's range, such as 1e400).
	ErrInvalidInput = errors.New("invalid execution input")
	// ErrStoreClosed: the store was closed; nothing will succeed again.
	ErrStoreClosed = errors.New("store closed")
	// ErrTooManyTags: TagStateMachine would leave the state machine with
	// more tags than the limit it was given; no tag was changed.
	ErrTooManyTags = errors.New("too many tags")
)

// MaxInput is the longest execution input, in bytes, that AWS's
// StartExecution accepts (262,144): the limit on every state's input and
// output too. Callers that start executions check it, as the API does.
const MaxInput = maxPayload

// ExecutionStatus is the status of an execution as AWS names it.
type ExecutionStatus string

// Execution statuses.
const (
	StatusRunning   ExecutionStatus = "RUNNING"
	StatusSucceeded ExecutionStatus = "SUCCEEDED"
	StatusFailed    ExecutionStatus = "FAILED"
	StatusTimedOut  ExecutionStatus = "TIMED_OUT"
	StatusAborted   ExecutionStatus = "ABORTED"
)

// State machine statuses (StateMachine.Status).
const (
	StateMachineActive   = "ACTIVE"
	StateMachineDeleting = "DELETING"
)

// StateMachine is a stored state machine.
type StateMachine struct {
	Arn  string `json:"stateMachineArn"`
	Name string `json:"name"`
	// Status is StateMachineActive, or StateMachineDeleting once
	// DeleteStateMachine was asked for and executions of the machine
	// still run. The store sets it; CreateStateMachine ignores it.
	Status     string    `json:"status"`
	Definition string    `json:"definition"`
	RoleArn    string    `json:"roleArn"`
	Type       string    `json:"type"` // STANDARD or EXPRESS
	Revision   int       `json:"revision"`
	RevisionID string    `json:"revisionId"`
	CreatedAt  time.Time `json:"creationDate"`
	UpdatedAt  time.Time `json:"updateDate"`
	// Tags are stored with the machine by CreateStateMachine (a key
	// given twice keeps its last value). The reads of a machine
	// (GetStateMachine, ListStateMachines, ...) leave them nil: its tags
	// are read with ListStateMachineTags.
	Tags []Tag `json:"-"`
	// Config is the rest of the machine's configuration, kept with each
	// revision as its definition and role are.
	Config StateMachineConfig `json:"-"`
}

// StateMachineConfig is what a state machine is configured with beside
// its definition and role: the Step Functions API's logging, tracing and
// encryption configurations, each the JSON text of the object the API
// answers, or "" for one never set (the API answers its default). The
// engine keeps them and reads none: nothing is logged to CloudWatch,
// traced or encrypted locally.
type StateMachineConfig struct {
	Logging    string
	Tracing    string
	Encryption string
}

// StateMachineUpdate is what Store.UpdateStateMachine changes; an empty
// member is left as it is.
type StateMachineUpdate struct {
	Definition string
	RoleArn    string
	Config     StateMachineConfig
}

// Changes reports whether u changes anything of sm: a member it sets
// that differs from sm's.
func (u StateMachineUpdate) Changes(sm StateMachine) bool {
	after := u.apply(sm)
	return after.Definition != sm.Definition || after.RoleArn != sm.RoleArn || after.Config != sm.Config
}

// apply returns sm with the non-empty members of u.
func (u StateMachineUpdate) apply(sm StateMachine) StateMachine {
	set := func(to *string, from string) {
		if from != "" {
			*to = from
		}
	}
	set(&sm.Definition, u.Definition)
	set(&sm.RoleArn, u.RoleArn)
	set(&sm.Config.Logging, u.Config.Logging)
	set(&sm.Config.Tracing, u.Config.Tracing)
	set(&sm.Config.Encryption, u.Config.Encryption)
	return sm
}

// Tag is a tag of a state machine. Keys are case-sensitive: "Env" and
// "env" are two tags, as on AWS.
type Tag struct {
	Key   string
	Value string
}

// Execution is a stored execution record (what DescribeExecution returns).
type Execution struct {
	Arn             string          `json:"executionArn"`
	Name            string          `json:"name"`
	StateMachineArn string          `json:"stateMachineArn"`
	Status          ExecutionStatus `json:"status"`
	Input           string          `json:"input"`
	// Output is the JSON text of the output; meaningful when HasOutput.
	Output    string    `json:"output,omitempty"`
	HasOutput bool      `json:"hasOutput,omitempty"`
	Error     string    `json:"error,omitempty"`
	Cause     string    `json:"cause,omitempty"`
	StartDate time.Time `json:"startDate"`
	StopDate  time.Time `json:"stopDate"`
	// ParentArn is the execution that started this one through
	// states:startExecution, if any.
	ParentArn string `json:"parentArn,omitempty"`
	// Revision of the state machine the execution runs.
	Revision int `json:"revision,omitempty"`
}

// ExecutionUpdate changes the status part of an execution record.
type ExecutionUpdate struct {
	Status    ExecutionStatus
	Output    string
	HasOutput bool
	Error     string
	Cause     string
	StopDate  time.Time
}

// Transition is the unit of durability: everything one step of an
// execution changes, committed atomically by Store.Commit.
//
// A top-level execution commits a Transition when it is created, at every
// suspension point (a Wait with its wake-up time, a Task about to be
// dispatched, a Retry interval), every few thousand events in a long
// busy loop, and when it finishes. On start-up Engine.Recover continues
// every execution from its last committed RunState.
type Transition struct {
	// ExecutionArn names the execution.
	ExecutionArn string
	// Create, when set, creates the execution record in the same commit
	// (StartExecution). It fails with ErrExecutionAlreadyExists when the
	// ARN exists, and nothing of the Transition is applied.
	Create *Execution
	// Events are appended to the history. Their IDs continue the
	// execution's history without gaps. The store may keep the slice:
	// callers must not modify it after Commit.
	Events []Event
	// Update, when set, changes the status. A terminal status deletes the
	// run state and the timer.
	Update *ExecutionUpdate
	// RunState is the engine's opaque snapshot of where the execution
	// stands; nil leaves the stored one unchanged. Ignored with a
	// terminal Update.
	RunState []byte
	// WakeAt is the time the execution must continue; zero means as soon
	// as possible (runnable, e.g. a task to re-dispatch). Stored together
	// with RunState.
	WakeAt time.Time
	// ExpectRunning makes the commit fail with ErrExecutionNotRunning
	// unless the stored status is RUNNING (compare-and-set against a
	// concurrent StopExecution). Ignored with Create.
	ExpectRunning bool
}

// Pending is a RUNNING execution with a stored run state: one timer-heap
// entry for Engine.Recover.
type Pending struct {
	ExecutionArn string
	WakeAt       time.Time // zero: runnable now
}

// ListExecutionsInput filters and pages ListExecutions.
type ListExecutionsInput struct {
	StateMachineArn string          // required
	Status          ExecutionStatus // empty: any
	MaxResults      int             // <= 0: 100
	NextToken       string
}

// HistoryInput pages GetHistory.
type HistoryInput struct {
	MaxResults   int // <= 0: 100
	NextToken    string
	ReverseOrder bool
}

// TransitionCopier is implemented by a Store whose Commit keeps nothing
// of Transition.Events and Transition.RunState once it returns (it encodes
// or copies them), so the engine may reuse their memory. A store that
// wraps another implements it only if neither keeps them.
type TransitionCopier interface {
	CopiesTransitions() bool
}

// Store persists state machines, executions, history and run states.
//
// All methods are safe for concurrent use. Commit is called concurrently
// by many executions; an implementation may group concurrent calls into
// one database transaction (group commit), as long as each Transition is
// applied atomically and Commit returns only once it is durable.
// Not-found conditions return the Err* sentinels (wrapped or not), never
// a nil record with a nil error. Records returned are copies the caller
// may keep.
type Store interface {
	// CreateStateMachine stores sm (Revision 1). ErrStateMachineAlreadyExists
	// when sm.Arn exists.
	CreateStateMachine(ctx context.Context, sm StateMachine) error
	// UpdateStateMachine replaces the members of u that are not empty
	// (definition, role, configuration), increments the revision and
	// returns the new record. ErrStateMachineDoesNotExist when the
	// machine is unknown.
	UpdateStateMachine(ctx context.Context, arn string, u StateMachineUpdate, now time.Time) (StateMachine, error)
	// GetStateMachine returns the state machine or ErrStateMachineDoesNotExist.
	GetStateMachine(ctx context.Context, arn string) (StateMachine, error)
	// GetStateMachineRevision returns the state machine as it was at a
	// revision: its definition, role, configuration, revision id and the date of that
	// revision (UpdatedAt). An execution runs the revision it started
	// on to its end, as on AWS, so the store keeps every revision that
	// an execution may still need. ErrStateMachineDoesNotExist when the
	// machine or the revision is unknown.
	GetStateMachineRevision(ctx context.Context, arn string, revision int) (StateMachine, error)
	// ListStateMachines pages state machines in ARN order, which is
	// name order byte by byte, as AWS lists them (the engine's ARNs share
	// their region and account), those being deleted included. A token
	// continues after the last machine returned, whatever was created or
	// deleted meanwhile.
	ListStateMachines(ctx context.Context, maxResults int, nextToken string) ([]StateMachine, string, error)
	// MarkStateMachineDeleting sets the status of a state machine to
	// StateMachineDeleting, durably: the first step of the engine's
	// DeleteStateMachine, which a restart finishes. Marking a machine
	// already DELETING is not an error. ErrStateMachineDoesNotExist when
	// the machine is unknown.
	MarkStateMachineDeleting(ctx context.Context, arn string) error
	// DeleteStateMachine deletes a state machine, all its revisions, its
	// tags and every execution of it with their history and run states, in one
	// atomic step: the name is free again and the executions are
	// unknown (ErrExecutionDoesNotExist). The engine calls it once no
	// execution of the machine runs. ErrStateMachineDoesNotExist when
	// the machine is unknown.
	DeleteStateMachine(ctx context.Context, arn string) error

	// TagStateMachine adds tags to a state machine, replacing the value
	// of a key it has already (a key given twice keeps its last value),
	// in one atomic step: when the machine would have more than limit tags
	// afterwards, nothing changes and the error is ErrTooManyTags.
	// ErrStateMachineDoesNotExist when the machine is unknown.
	TagStateMachine(ctx context.Context, arn string, tags []Tag, limit int) error
	// UntagStateMachine removes the tags of the given keys from a state
	// machine; a key it does not have is no error.
	// ErrStateMachineDoesNotExist when the machine is unknown.
	UntagStateMachine(ctx context.Context, arn string, keys []string) error
	// ListStateMachineTags returns the tags of a state machine in key
	// order, byte by byte (so "B" before "a"): the order does not depend
	// on when or in which request a tag was set, and is the same in every
	// store. ErrStateMachineDoesNotExist when the machine is unknown. The
	// tags go with the machine when DeleteStateMachine deletes it.
	ListStateMachineTags(ctx context.Context, arn string) ([]Tag, error)

	// Commit applies one Transition atomically (see Transition): when it
	// returns an error, nothing of the Transition was written, so the
	// engine may commit it again.
	Commit(ctx context.Context, t Transition) error
	// GetExecution returns the execution or ErrExecutionDoesNotExist.
	GetExecution(ctx context.Context, arn string) (Execution, error)
	// ListExecutions pages the executions of a state machine, newest
	// start date first.
	ListExecutions(ctx context.Context, in ListExecutionsInput) ([]Execution, string, error)
	// GetHistory pages the history of an execution in id order (or
	// reverse). ErrExecutionDoesNotExist for an unknown ARN.
	GetHistory(ctx context.Context, arn string, in HistoryInput) ([]Event, string, error)
	// LastEventID returns the id of the execution's last stored event (0
	// when none).
	LastEventID(ctx context.Context, arn string) (int64, error)

	// GetRunState returns the stored run state and wake-up time of a
	// RUNNING execution; ErrExecutionNotRunning when it has none.
	GetRunState(ctx context.Context, arn string) ([]byte, time.Time, error)
	// ListPending calls fn for every RUNNING execution with a run state,
	// in no particular order. It must be fast (100,000 entries in well
	// under a second): it reads only the ARN and the wake-up time.
	ListPending(ctx context.Context, fn func(Pending) error) error
}

// EachStateMachine calls fn with every state machine s holds, in ARN
// order, a page at a time, until fn returns an error, which it returns.
func EachStateMachine(ctx context.Context, s Store, fn func(StateMachine) error) error {
	tok := ""
	for {
		page, next, err := s.ListStateMachines(ctx, 1000, tok)
		if err != nil {
			return err
		}
		for _, sm := range page {
			if err := fn(sm); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		tok = next
	}
}
