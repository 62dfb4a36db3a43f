package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PurgeClosedExecutions deletes the executions of the state machine
// smArn that ended at or before stoppedBefore, with their history, and
// returns how many it deleted: the local counterpart of Step Functions
// deleting closed executions after their retention period. Running
// executions are never touched. It deletes at most batch executions per
// call (0 means 100), in one short transaction, so that the engine's
// group commit waits little; call it again while it returns batch. It
// reads only the machine's closed executions, oldest first: however many
// other executions the database holds, a call reads what it deletes and
// one entry more.
func (s *EngineStore) PurgeClosedExecutions(ctx context.Context, smArn string, stoppedBefore time.Time, batch int) (int, error) {
	const op = "sqlitestore: purge closed executions"
	if batch <= 0 {
		batch = 100
	}
	// Nothing due (the usual case, for most machines, most minutes): a
	// read says so without taking the write lock the engine's commits
	// wait for.
	var due bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (`+purgePickSQL+`)`, smArn, engineNanos(stoppedBefore), 1).Scan(&due); err != nil {
		return 0, fmt.Errorf("%s %s: %w", op, smArn, err)
	}
	if !due {
		return 0, nil
	}
	var n int
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		var err error
		n, err = purgeClosed(ctx, c, smArn, stoppedBefore, batch)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", op, smArn, err)
	}
	return n, nil
}

// purgePickSQL selects up to ? closed executions of the state machine ?
// stopped at or before ?. It names its index, whose WHERE it repeats: the
// planner would otherwise take every execution of the machine, running
// ones included, and sort them.
const purgePickSQL = `SELECT seq FROM engine_executions INDEXED BY engine_executions_by_machine_stop
	WHERE state_machine_arn = ? AND status <> 'RUNNING' AND stop_date > 0 AND stop_date <= ? ORDER BY stop_date LIMIT ?`

// purgeClosed deletes up to batch closed executions of the state machine
// smArn stopped at or before the time, inside the caller's IMMEDIATE
// transaction. No other write can come between its statements, so each
// one picks the same executions: the oldest first.
func purgeClosed(ctx context.Context, conn *sql.Conn, smArn string, stoppedBefore time.Time, batch int) (int, error) {
	const pick = purgePickSQL
	args := []any{smArn, engineNanos(stoppedBefore), batch}
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
