package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Machines chooses the state machines whose executions
// PurgeClosedExecutions deletes. The zero value chooses every machine.
type Machines struct {
	// Arn, when set, chooses only this state machine's executions...
	Arn string
	// ...or, with Except, those of every other machine.
	Except bool
}

// where returns the condition on engine_executions that chooses m's
// executions and its argument, or "" and nil for every machine.
func (m Machines) where() (string, []any) {
	switch {
	case m.Arn == "":
		return "", nil
	case m.Except:
		return " AND state_machine_arn <> ?", []any{m.Arn}
	default:
		return " AND state_machine_arn = ?", []any{m.Arn}
	}
}

// PurgeClosedExecutions deletes the executions of the machines m chooses
// that ended at or before stoppedBefore, with their history, and returns
// how many it deleted: the local counterpart of Step Functions deleting
// closed executions after their retention period. Running executions are
// never touched. It deletes at most batch executions per call (0 means
// 100), in one short transaction, so that the engine's group commit waits
// little; call it again while it returns batch.
func (s *EngineStore) PurgeClosedExecutions(ctx context.Context, m Machines, stoppedBefore time.Time, batch int) (int, error) {
	const op = "sqlitestore: purge closed executions"
	if batch <= 0 {
		batch = 100
	}
	var n int
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		var err error
		n, err = purgeClosed(ctx, c, m, stoppedBefore, batch)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// purgePickSQL selects up to ? closed executions stopped at or before ?,
// of the machines the condition %s (Machines.where) chooses. It names its
// index: with a machine's ARN the planner would otherwise take every
// execution of the machine and sort them.
const purgePickSQL = `SELECT seq FROM engine_executions INDEXED BY engine_executions_by_stop
	WHERE status <> 'RUNNING' AND stop_date > 0 AND stop_date <= ?%s ORDER BY stop_date LIMIT ?`

// purgeClosed deletes up to batch closed executions of the machines m
// chooses stopped at or before the time, inside the caller's IMMEDIATE transaction. No other write can
// come between its statements, so each one picks the same executions: the
// oldest first, through engine_executions_by_stop (whose WHERE the pick
// repeats, so that it may be used).
func purgeClosed(ctx context.Context, conn *sql.Conn, m Machines, stoppedBefore time.Time, batch int) (int, error) {
	cond, condArgs := m.where()
	pick := fmt.Sprintf(purgePickSQL, cond)
	args := append(append([]any{engineNanos(stoppedBefore)}, condArgs...), batch)
	for _, q := range []string{
		`DELETE FROM engine_history_batches WHERE execution_seq IN (` + pick + `)`,
		`DELETE FROM engine_runs WHERE arn IN (SELECT arn FROM engine_executions WHERE seq IN (` + pick + `))`,
	} {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return 0, err
		}
	}
	res, err := conn.ExecContext(ctx, `DELETE FROM engine_executions WHERE seq IN (`+pick+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
