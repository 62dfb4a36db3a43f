package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/engine"
)

// engineReq is one Commit waiting for the writer.
type engineReq struct {
	t      *engine.Transition
	events [][]byte // t.Events marshalled by the caller
	done   chan error
}

// Commit implements engine.Store. The Transition is handed to the writer
// goroutine, which applies it together with the other Transitions
// waiting at the time in one SQLite transaction; Commit returns once that
// transaction has committed (see EngineStore for what durable means in
// WAL mode). Once handed over, the Transition is applied even if ctx is
// cancelled: Commit then still waits for the outcome, so a caller never
// mistakes a committed Transition for a lost one.
func (s *EngineStore) Commit(ctx context.Context, t engine.Transition) error {
	r := &engineReq{t: &t, done: make(chan error, 1)}
	if len(t.Events) > 0 {
		r.events = make([][]byte, len(t.Events))
		for i := range t.Events {
			b, err := json.Marshal(t.Events[i])
			if err != nil {
				return fmt.Errorf("sqlitestore: commit %s: %w", t.ExecutionArn, err)
			}
			r.events[i] = b
		}
	}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return fmt.Errorf("sqlitestore: commit %s: %w", t.ExecutionArn, ErrEngineStoreClosed)
	case <-ctx.Done():
		return fmt.Errorf("sqlitestore: commit %s: %w", t.ExecutionArn, ctx.Err())
	}
	return <-r.done
}

// writer is the single goroutine that writes the engine tables. It takes
// the first waiting request, then every other request already waiting
// (senders block on the unbuffered channel while a batch commits), and
// commits them together.
func (s *EngineStore) writer() {
	defer close(s.done)
	batch := make([]*engineReq, 0, engineMaxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
	drain:
		for len(batch) < engineMaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
	}
}

// errEngineReject marks a Transition refused by a precondition
// (ErrExecutionAlreadyExists, ...): nothing of it was written and the
// rest of the batch goes on.
type errEngineReject struct{ err error }

func (e errEngineReject) Error() string { return e.err.Error() }
func (e errEngineReject) Unwrap() error { return e.err }

// commitBatch applies a batch in one transaction. When the transaction
// fails as a whole (an I/O error, a constraint the preconditions did not
// catch), it retries each Transition in a transaction of its own, so
// only the faulty one fails.
func (s *EngineStore) commitBatch(batch []*engineReq) {
	ctx := context.Background()
	results := make([]error, len(batch))
	err := s.inTx(ctx, func() error {
		for i, r := range batch {
			err := s.apply(ctx, r)
			var rej errEngineReject
			if errors.As(err, &rej) {
				results[i] = rej.err
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for i, r := range batch {
			r.done <- results[i]
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- err
		return
	}
	for _, r := range batch {
		var res error
		err := s.inTx(ctx, func() error {
			err := s.apply(ctx, r)
			var rej errEngineReject
			if errors.As(err, &rej) {
				res = rej.err
				return nil
			}
			return err
		})
		if err != nil {
			res = err
		}
		r.done <- res
	}
}

// inTx runs fn between BEGIN IMMEDIATE and COMMIT on the writer's
// connection, rolling back when fn or COMMIT fails.
func (s *EngineStore) inTx(ctx context.Context, fn func() error) error {
	if _, err := s.stmts.begin.ExecContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: begin: %w", err)
	}
	if err := fn(); err != nil {
		_, rbErr := s.stmts.rollback.ExecContext(ctx)
		return errors.Join(err, rbErr)
	}
	if _, err := s.stmts.commit.ExecContext(ctx); err != nil {
		_, rbErr := s.stmts.rollback.ExecContext(ctx)
		return errors.Join(fmt.Errorf("sqlitestore: commit: %w", err), rbErr)
	}
	return nil
}

// apply writes one Transition inside the writer's transaction. It checks
// every precondition before its first write, so a rejection
// (errEngineReject) leaves nothing behind.
func (s *EngineStore) apply(ctx context.Context, r *engineReq) error {
	t := r.t
	arn := t.ExecutionArn
	var seq int64
	var status string
	err := s.stmts.selExec.QueryRowContext(ctx, arn).Scan(&seq, &status)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlitestore: commit %s: %w", arn, err)
	}
	if c := t.Create; c != nil {
		if found {
			return errEngineReject{fmt.Errorf("sqlitestore: create execution %s: %w", arn, engine.ErrExecutionAlreadyExists)}
		}
		status = string(c.Status)
		if status == "" {
			status = string(engine.StatusRunning)
		}
		res, err := s.stmts.insExec.ExecContext(ctx, arn, c.Name, c.StateMachineArn, status, c.Input,
			c.Output, c.HasOutput, c.Error, c.Cause, engineNanos(c.StartDate), engineNanos(c.StopDate), c.ParentArn, c.Revision)
		if err != nil {
			return fmt.Errorf("sqlitestore: create execution %s: %w", arn, err)
		}
		if seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlitestore: create execution %s: %w", arn, err)
		}
	} else {
		if !found {
			return errEngineReject{fmt.Errorf("sqlitestore: commit %s: %w", arn, engine.ErrExecutionDoesNotExist)}
		}
		if t.ExpectRunning && status != string(engine.StatusRunning) {
			return errEngineReject{fmt.Errorf("sqlitestore: commit %s: %w", arn, engine.ErrExecutionNotRunning)}
		}
	}
	for i, b := range r.events {
		if _, err := s.stmts.insEvent.ExecContext(ctx, seq, t.Events[i].ID, b); err != nil {
			return fmt.Errorf("sqlitestore: commit %s: event %d: %w", arn, t.Events[i].ID, err)
		}
	}
	if u := t.Update; u != nil {
		if _, err := s.stmts.updExec.ExecContext(ctx, string(u.Status), u.Output, u.HasOutput, u.Error, u.Cause,
			engineNanos(u.StopDate), seq); err != nil {
			return fmt.Errorf("sqlitestore: commit %s: update: %w", arn, err)
		}
		if u.Status != engine.StatusRunning {
			if _, err := s.stmts.delRun.ExecContext(ctx, arn); err != nil {
				return fmt.Errorf("sqlitestore: commit %s: delete run state: %w", arn, err)
			}
			return nil
		}
	}
	if t.RunState != nil {
		if _, err := s.stmts.upsRun.ExecContext(ctx, arn, engineNanos(t.WakeAt), t.RunState); err != nil {
			return fmt.Errorf("sqlitestore: commit %s: run state: %w", arn, err)
		}
	}
	return nil
}

// engineStmts are the writer's prepared statements, bound to its
// connection.
type engineStmts struct {
	begin, commit, rollback                             *sql.Stmt
	selExec, insExec, insEvent, updExec, delRun, upsRun *sql.Stmt
}

func (st *engineStmts) prepare(ctx context.Context, conn *sql.Conn) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.begin, `BEGIN IMMEDIATE`},
		{&st.commit, `COMMIT`},
		{&st.rollback, `ROLLBACK`},
		{&st.selExec, `SELECT seq, status FROM engine_executions WHERE arn = ?`},
		{&st.insExec, `INSERT INTO engine_executions (arn, name, state_machine_arn, status, input, output, has_output,
			error, cause, start_date, stop_date, parent_arn, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.insEvent, `INSERT INTO engine_history (execution_seq, id, event) VALUES (?, ?, ?)`},
		{&st.updExec, `UPDATE engine_executions SET status = ?, output = ?, has_output = ?, error = ?, cause = ?,
			stop_date = ? WHERE seq = ?`},
		{&st.delRun, `DELETE FROM engine_runs WHERE arn = ?`},
		{&st.upsRun, `INSERT INTO engine_runs (arn, wake_at, run_state) VALUES (?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET wake_at = excluded.wake_at, run_state = excluded.run_state`},
	} {
		stmt, err := conn.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return fmt.Errorf("sqlitestore: prepare %q: %w", p.sql, err)
		}
		*p.dst = stmt
	}
	return nil
}

func (st *engineStmts) close() {
	for _, s := range []*sql.Stmt{st.begin, st.commit, st.rollback, st.selExec, st.insExec, st.insEvent, st.updExec, st.delRun, st.upsRun} {
		if s != nil {
			s.Close()
		}
	}
}
