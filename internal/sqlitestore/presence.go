package sqlitestore

import (
	"context"
	"fmt"

	"github.com/stepmon/stepmon/internal/engine"
)

// The reads below let a caller check, cheaply at start-up, that an
// engine's database and a status store belong together: each EXISTS stops
// at the first row of an index.

// HasExecutions reports whether the state machine has at least one
// execution of the given status, or of any status when status is "".
func (s *EngineStore) HasExecutions(ctx context.Context, stateMachineArn string, status engine.ExecutionStatus) (bool, error) {
	where, args := executionsOf(stateMachineArn, status)
	var ok bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 `+where+`)`, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlitestore: executions of %s: %w", stateMachineArn, err)
	}
	return ok, nil
}

// CountExecutions counts the state machine's executions of the given
// status (any when ""). It reads an index entry per execution: call it
// for a message, not on every start.
func (s *EngineStore) CountExecutions(ctx context.Context, stateMachineArn string, status engine.ExecutionStatus) (int, error) {
	where, args := executionsOf(stateMachineArn, status)
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: executions of %s: %w", stateMachineArn, err)
	}
	return n, nil
}

// executionsOf returns the FROM and WHERE clauses, and their arguments,
// of the state machine's executions of status (any when "").
func executionsOf(stateMachineArn string, status engine.ExecutionStatus) (string, []any) {
	if status == "" {
		return `FROM engine_executions WHERE state_machine_arn = ?`, []any{stateMachineArn}
	}
	return `FROM engine_executions WHERE state_machine_arn = ? AND status = ?`, []any{stateMachineArn, string(status)}
}

// HasRecords reports whether the store holds at least one status record.
func (s *Store) HasRecords(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM monitors)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlitestore: status records: %w", err)
	}
	return ok, nil
}

// liveWithExecution selects the live records (Pending or Running) whose
// execution is recorded, through the index on runtime_status.
const liveWithExecution = `FROM monitors WHERE runtime_status IN ('Pending', 'Running') AND execution_arn <> ''`

// HasLiveExecutions reports whether at least one live record (Pending or
// Running) has its execution's ARN recorded.
func (s *Store) HasLiveExecutions(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 `+liveWithExecution+`)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlitestore: live status records: %w", err)
	}
	return ok, nil
}

// CountLiveExecutions counts the live records with an execution's ARN:
// for a message, as CountExecutions.
func (s *Store) CountLiveExecutions(ctx context.Context) (int, error) {
	var n int
	if err := s.db.r.QueryRowContext(ctx, `SELECT count(*) `+liveWithExecution).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: live status records: %w", err)
	}
	return n, nil
}
