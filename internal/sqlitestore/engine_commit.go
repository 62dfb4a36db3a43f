package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stepmon/stepmon/internal/engine"
)

// engineReq is one Commit waiting for the writer.
type engineReq struct {
	t     *engine.Transition
	batch []byte // t.Events encoded by the caller (engine.AppendEventBatch); empty without events
	done  chan error
}

// engineReqs recycles the requests of Commit, with their channel and
// event buffer: the writer is done with both once it has answered, since
// SQLite copies what it binds. A busy runtime commits thousands of times
// a second, and these were a tenth of the bytes it allocated.
var engineReqs = sync.Pool{New: func() any { return &engineReq{done: make(chan error, 1)} }}

// maxPooledBatch is the largest event buffer kept for reuse; a rare large
// one (an execution's 256 KiB input) is left to the collector.
const maxPooledBatch = 64 << 10

// Commit implements engine.Store. The Transition is handed to the writer
// goroutine, which applies it together with the other Transitions
// waiting at the time in one SQLite transaction; Commit returns once that
// transaction has committed (see EngineStore for what durable means in
// WAL mode). Once handed over, the Transition is applied even if ctx is
// cancelled: Commit then still waits for the outcome, so a caller never
// mistakes a committed Transition for a lost one.
func (s *EngineStore) Commit(ctx context.Context, t engine.Transition) error {
	r := engineReqs.Get().(*engineReq)
	defer r.release()
	r.t = &t
	if len(t.Events) > 0 {
		r.batch = engine.AppendEventBatch(r.batch, t.Events)
	}
	select {
	case s.reqs.to(t.Create != nil) <- r: // a new execution goes first
	case <-s.quit:
		return fmt.Errorf("sqlitestore: commit %s: %w", t.ExecutionArn, ErrEngineStoreClosed)
	case <-ctx.Done():
		return fmt.Errorf("sqlitestore: commit %s: %w", t.ExecutionArn, ctx.Err())
	}
	return <-r.done
}

// CopiesTransitions implements engine.TransitionCopier: Commit encodes the
// events before it hands the Transition to the writer, SQLite copies the
// run state it binds, and nothing of either is kept.
func (s *EngineStore) CopiesTransitions() bool { return true }

// release returns r to engineReqs. It must be called only when the writer
// has answered r, or never received it.
func (r *engineReq) release() {
	r.t, r.batch = nil, r.batch[:0]
	if cap(r.batch) > maxPooledBatch {
		r.batch = nil
	}
	engineReqs.Put(r)
}

// writer is the single goroutine that writes the engine tables. It takes
// the first waiting request, then every other request already waiting
// (senders block on the unbuffered channel while a batch commits) or
// arriving within the linger window (gather), and commits them together.
func (s *EngineStore) writer() {
	defer close(s.done)
	batch := make([]*engineReq, 0, engineMaxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var solo soloPolicy
	for {
		r, ok := s.reqs.first(s.quit)
		if !ok {
			return
		}
		batch = s.reqs.gather(s.quit, append(batch[:0], r), engineMaxBatch, linger, &solo)
		s.commitBatch(batch)
		if s.wal.restart.CompareAndSwap(true, false) {
			s.restartWAL()
		}
	}
}

// errEngineReject marks a Transition refused by a precondition
// (ErrExecutionAlreadyExists, ...): nothing of it was written and the
// rest of the batch goes on.
type errEngineReject struct{ err error }

func (e errEngineReject) Error() string { return e.err.Error() }
func (e errEngineReject) Unwrap() error { return e.err }

// commitBatch applies a batch in one transaction (applyBulk). When the transaction
// fails as a whole (an I/O error, a constraint the preconditions did not
// catch), it retries each Transition in a transaction of its own, so
// only the faulty one fails.
func (s *EngineStore) commitBatch(batch []*engineReq) {
	ctx := context.Background()
	results := make([]error, len(batch))
	err := s.inTx(ctx, func() error { return s.applyBulk(ctx, batch, results) })
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
		return withRollbackErr(err, rbErr)
	}
	if _, err := s.stmts.commit.ExecContext(ctx); err != nil {
		_, rbErr := s.stmts.rollback.ExecContext(ctx)
		return withRollbackErr(fmt.Errorf("sqlitestore: commit: %w", err), rbErr)
	}
	return nil
}

// withRollbackErr returns err, the failure of a transaction, joined with
// rbErr, the failure of the ROLLBACK that followed it. SQLite rolls a
// transaction back by itself after some errors (a full disk, an I/O
// error, no memory); the ROLLBACK then fails with "cannot rollback - no
// transaction is active", which is no second failure and is left out:
// read next to "database or disk is full" it looks like a bug.
func withRollbackErr(err, rbErr error) error {
	if rbErr == nil {
		return err
	}
	switch resultCode(err) {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_BUSY:
		if strings.Contains(rbErr.Error(), "no transaction is active") {
			return err
		}
	}
	return errors.Join(err, rbErr)
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
	if len(r.batch) > 0 {
		first, lastID := eventRange(t)
		if _, err := s.stmts.insBatch.ExecContext(ctx, seq, lastID, first, r.batch); err != nil {
			return fmt.Errorf("sqlitestore: commit %s: events %d-%d: %w", arn, first, lastID, err)
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
	// Multi-row statements of applyBulk, by row count.
	lookup, insBatches, upsRuns *engineRowsTemplate

	begin, commit, rollback                             *sql.Stmt
	selExec, insExec, insBatch, updExec, delRun, upsRun *sql.Stmt
}

func (st *engineStmts) prepare(ctx context.Context, conn *sql.Conn) error {
	st.lookup = &engineRowsTemplate{head: `SELECT arn, seq, status FROM engine_executions WHERE arn IN (`,
		row: `?`, sep: `,`, tail: `)`, stmts: map[int]*sql.Stmt{}}
	st.insBatches = &engineRowsTemplate{head: `INSERT INTO engine_history_batches (execution_seq, last_id, first_id, events) VALUES `,
		row: `(?, ?, ?, ?)`, sep: `, `, stmts: map[int]*sql.Stmt{}}
	st.upsRuns = &engineRowsTemplate{head: `INSERT INTO engine_runs (arn, wake_at, run_state) VALUES `,
		row: `(?, ?, ?)`, sep: `, `, tail: ` ON CONFLICT (arn) DO UPDATE SET wake_at = excluded.wake_at, run_state = excluded.run_state`,
		stmts: map[int]*sql.Stmt{}}
	if err := prepareAll(ctx, conn,
		stmtSQL{&st.begin, `BEGIN IMMEDIATE`},
		stmtSQL{&st.commit, `COMMIT`},
		stmtSQL{&st.rollback, `ROLLBACK`},
		stmtSQL{&st.selExec, `SELECT seq, status FROM engine_executions WHERE arn = ?`},
		stmtSQL{&st.insExec, `INSERT INTO engine_executions (arn, name, state_machine_arn, status, input, output, has_output,
			error, cause, start_date, stop_date, parent_arn, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		stmtSQL{&st.insBatch, `INSERT INTO engine_history_batches (execution_seq, last_id, first_id, events) VALUES (?, ?, ?, ?)`},
		stmtSQL{&st.updExec, `UPDATE engine_executions SET status = ?, output = ?, has_output = ?, error = ?, cause = ?,
			stop_date = ? WHERE seq = ?`},
		stmtSQL{&st.delRun, `DELETE FROM engine_runs WHERE arn = ?`},
		stmtSQL{&st.upsRun, `INSERT INTO engine_runs (arn, wake_at, run_state) VALUES (?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET wake_at = excluded.wake_at, run_state = excluded.run_state`},
	); err != nil {
		st.close()
		return fmt.Errorf("sqlitestore: prepare engine writer statements: %w", err)
	}
	return nil
}

func (st *engineStmts) close() {
	for _, s := range []*sql.Stmt{st.begin, st.commit, st.rollback, st.selExec, st.insExec, st.insBatch, st.updExec, st.delRun, st.upsRun} {
		if s != nil {
			s.Close()
		}
	}
	for _, tmpl := range []*engineRowsTemplate{st.lookup, st.insBatches, st.upsRuns} {
		if tmpl == nil {
			continue
		}
		for _, s := range tmpl.stmts {
			s.Close()
		}
	}
}

// eventRange returns the ids of a Transition's first and last events. An
// execution's commits hold disjoint ranges of ids (the engine hands its
// buffered events to one commit at a time), though concurrent commits of
// one execution may reach the store out of order.
func eventRange(t *engine.Transition) (first, last int64) {
	return t.Events[0].ID, t.Events[len(t.Events)-1].ID
}

// engineExec is what the writer knows of an execution while it applies a
// batch.
type engineExec struct {
	seq    int64
	status string
}

// applyBulk applies a batch with as few statements as it can: one lookup
// of the executions involved, one multi-row insert of all history rows,
// one multi-row upsert of all run states; creations and status updates
// (once per execution lifetime) run one by one. Preconditions are decided
// first, in batch order, so a rejected Transition writes nothing. An
// execution that occurs twice in a batch (a StopExecution racing the
// execution's own commit) splits it: the part before is written first,
// inside the same transaction, so the second sees the first.
func (s *EngineStore) applyBulk(ctx context.Context, batch []*engineReq, results []error) error {
	for start := 0; start < len(batch); {
		seen := make(map[string]bool, len(batch)-start)
		end := start
		for end < len(batch) && !seen[batch[end].t.ExecutionArn] {
			seen[batch[end].t.ExecutionArn] = true
			end++
		}
		if err := s.applyDistinct(ctx, batch[start:end], results[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// applyDistinct is applyBulk for Transitions of distinct executions.
func (s *EngineStore) applyDistinct(ctx context.Context, batch []*engineReq, results []error) error {
	execs, err := s.lookupExecs(ctx, batch)
	if err != nil {
		return err
	}
	var events, runs []any
	for i, r := range batch {
		t := r.t
		arn := t.ExecutionArn
		x, found := execs[arn]
		switch {
		case t.Create != nil && found:
			results[i] = fmt.Errorf("sqlitestore: create execution %s: %w", arn, engine.ErrExecutionAlreadyExists)
			continue
		case t.Create == nil && !found:
			results[i] = fmt.Errorf("sqlitestore: commit %s: %w", arn, engine.ErrExecutionDoesNotExist)
			continue
		case t.Create == nil && t.ExpectRunning && x.status != string(engine.StatusRunning):
			results[i] = fmt.Errorf("sqlitestore: commit %s: %w", arn, engine.ErrExecutionNotRunning)
			continue
		}
		if c := t.Create; c != nil {
			status := string(c.Status)
			if status == "" {
				status = string(engine.StatusRunning)
			}
			res, err := s.stmts.insExec.ExecContext(ctx, arn, c.Name, c.StateMachineArn, status, c.Input,
				c.Output, c.HasOutput, c.Error, c.Cause, engineNanos(c.StartDate), engineNanos(c.StopDate), c.ParentArn, c.Revision)
			if err != nil {
				return fmt.Errorf("sqlitestore: create execution %s: %w", arn, err)
			}
			if x.seq, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("sqlitestore: create execution %s: %w", arn, err)
			}
		}
		if len(r.batch) > 0 {
			first, last := eventRange(t)
			events = append(events, x.seq, last, first, r.batch)
		}
		if u := t.Update; u != nil {
			if _, err := s.stmts.updExec.ExecContext(ctx, string(u.Status), u.Output, u.HasOutput, u.Error, u.Cause,
				engineNanos(u.StopDate), x.seq); err != nil {
				return fmt.Errorf("sqlitestore: commit %s: update: %w", arn, err)
			}
			if u.Status != engine.StatusRunning {
				if _, err := s.stmts.delRun.ExecContext(ctx, arn); err != nil {
					return fmt.Errorf("sqlitestore: commit %s: delete run state: %w", arn, err)
				}
				continue
			}
		}
		if t.RunState != nil {
			runs = append(runs, arn, engineNanos(t.WakeAt), t.RunState)
		}
	}
	if err := s.execRows(ctx, s.stmts.insBatches, 4, events); err != nil {
		return fmt.Errorf("sqlitestore: commit: history events: %w", err)
	}
	if err := s.execRows(ctx, s.stmts.upsRuns, 3, runs); err != nil {
		return fmt.Errorf("sqlitestore: commit: run states: %w", err)
	}
	return nil
}

// lookupExecs reads the sequence number and status of the executions of
// a batch, engineLookupChunk ARNs per query.
func (s *EngineStore) lookupExecs(ctx context.Context, batch []*engineReq) (map[string]engineExec, error) {
	out := make(map[string]engineExec, len(batch))
	args := make([]any, 0, engineLookupChunk)
	for start := 0; start < len(batch); start += engineLookupChunk {
		args = args[:0]
		for _, r := range batch[start:min(start+engineLookupChunk, len(batch))] {
			args = append(args, r.t.ExecutionArn)
		}
		stmt, err := s.stmts.rowsStmt(ctx, s.conn, s.stmts.lookup, len(args))
		if err != nil {
			return nil, err
		}
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: commit: look up executions: %w", err)
		}
		for rows.Next() {
			var arn string
			var x engineExec
			if err := rows.Scan(&arn, &x.seq, &x.status); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlitestore: commit: look up executions: %w", err)
			}
			out[arn] = x
		}
		err = rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: commit: look up executions: %w", err)
		}
	}
	return out, nil
}

// engineLookupChunk and engineRowsChunk bound the rows of one multi-row
// statement (SQLite allows 32,766 parameters).
const (
	engineLookupChunk = 256
	engineRowsChunk   = 128
)

// execRows runs a multi-row statement over args (width parameters per
// row): chunks of engineRowsChunk rows, then the rest in power-of-two
// chunks, so that a few prepared statements serve every batch size.
func (s *EngineStore) execRows(ctx context.Context, tmpl *engineRowsTemplate, width int, args []any) error {
	rows := len(args) / width
	for done := 0; done < rows; {
		n := engineRowsChunk
		for n > rows-done {
			n /= 2
		}
		stmt, err := s.stmts.rowsStmt(ctx, s.conn, tmpl, n)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args[done*width:(done+n)*width]...); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// engineRowsTemplate is a statement with a variable number of rows:
// head + n times row (comma-separated) + tail, prepared once per n.
type engineRowsTemplate struct {
	head, row, sep, tail string
	stmts                map[int]*sql.Stmt
}

// rowsStmt returns the statement of tmpl for n rows, preparing it on
// conn the first time.
func (st *engineStmts) rowsStmt(ctx context.Context, conn *sql.Conn, tmpl *engineRowsTemplate, n int) (*sql.Stmt, error) {
	if stmt, ok := tmpl.stmts[n]; ok {
		return stmt, nil
	}
	var b strings.Builder
	b.WriteString(tmpl.head)
	for i := range n {
		if i > 0 {
			b.WriteString(tmpl.sep)
		}
		b.WriteString(tmpl.row)
	}
	b.WriteString(tmpl.tail)
	stmt, err := conn.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: prepare %.60q: %w", b.String(), err)
	}
	tmpl.stmts[n] = stmt
	return stmt, nil
}

// Checkpointing. The writer connection runs with wal_autocheckpoint=0;
// every engineCheckpointEvery the checkpointer copies the WAL into the
// database with a PASSIVE checkpoint on a pooled connection, concurrently
// with the writer. SQLite starts the WAL over only when a write begins
// after a checkpoint has copied every frame, which a busy writer seldom
// sees. So when the WAL passes engineWALRestartFrames, the writer runs a
// RESTART checkpoint between two batches (short: the passive one has
// copied nearly everything) and the next transaction writes the WAL from
// its start again. At 4,000 monitors that holds the commits for 30-55 ms
// every 4 s. Starting the WAL over from the checkpointer instead, with
// passive checkpoints back to back until one caught up with the writer,
// removed those pauses but did not lower p99 lateness (three alternated
// pairs of 60 s), so it was left out.
const (
	engineCheckpointEvery  = time.Second
	engineWALRestartFrames = 32768 // 128 MiB of 4 KiB pages
)

// walPolicy is when the checkpointer checkpoints and has the WAL started
// over (the constants above; tests shorten them), and how often it was.
type walPolicy struct {
	every         time.Duration
	restartFrames int
	// restart asks the writer for a RESTART checkpoint between batches:
	// the checkpointer sets it when the WAL has grown past restartFrames.
	restart   atomic.Bool
	restarted atomic.Int64 // RESTART checkpoints the writer ran
}

func (s *EngineStore) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(s.wal.every)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.checkpoint()
	}
}

// checkpoint copies the WAL into the database with a PASSIVE checkpoint
// and, when the WAL has grown past restartFrames, asks the writer to
// start it over.
func (s *EngineStore) checkpoint() {
	var busy, log, done int
	err := s.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
	if err == nil && log > s.wal.restartFrames {
		s.wal.restart.Store(true)
	}
}

// restartWAL runs a RESTART checkpoint on the writer's connection. Its
// failure only leaves the WAL longer; the next request retries.
func (s *EngineStore) restartWAL() {
	var busy, log, done int
	if s.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &log, &done) == nil {
		s.wal.restarted.Add(1)
	}
}
