package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// ErrEngineStoreClosed is returned by EngineStore.Commit after Close.
// It wraps engine.ErrStoreClosed.
var ErrEngineStoreClosed = fmt.Errorf("sqlitestore: engine store closed: %w", engine.ErrStoreClosed)

// engineMaxBatch bounds the number of Transitions one group commit holds.
const engineMaxBatch = 2048

// EngineStore is an engine.Store on SQLite: state machines, executions,
// history events and run states with their durable timers, in tables of
// their own (prefix engine_) that can share a database file with the
// status records.
//
// # Durability
//
// Every Commit is applied in one SQLite transaction together with its
// history events, the execution's status, its run state and its wake-up
// time: after a crash either all of a Transition is there or none of it.
// Concurrent Commit calls are grouped: a single writer goroutine takes
// every Transition waiting at the time, applies them in one transaction
// (each one still all-or-nothing) and wakes each caller only after that
// transaction's COMMIT returned. One WAL append (one fsync with FullSync)
// thus serves many executions.
//
// The database runs in WAL mode with synchronous=NORMAL. A COMMIT then
// writes the WAL but does not fsync it (the WAL is synced at checkpoints).
// A crash of the process (kill -9, panic, OOM kill) loses nothing that
// Commit acknowledged: the WAL is in the operating system's page cache and
// is replayed on the next open. A power loss or kernel crash may lose the
// transactions committed since the last checkpoint, never leaving a torn
// one; the engine then continues those executions from the previous run
// state, which repeats the tasks dispatched since. OpenEngineStore with
// EngineOptions.FullSync selects synchronous=FULL, which closes that
// window at the cost of one fsync per group commit.
//
// Checkpoints (copying the WAL into the database file, with its fsyncs)
// run in a background goroutine, never in the commit path; see
// checkpointer.
//
// Reads (GetExecution, GetHistory, ListPending, ...) use other pooled
// connections and see the last committed state; they never wait for the
// writer.
type EngineStore struct {
	db    *sql.DB
	owner io.Closer // the DB OpenEngineStore opened, closed by Close
	reqs  lanes[*engineReq]
	quit  chan struct{}
	done  chan struct{}
	close sync.Once

	ckptDone chan struct{}
	wal      walPolicy

	// The writer's connection and statements, used only by the writer
	// goroutine.
	conn  *sql.Conn
	stmts engineStmts

	// Statements of the reads every resume from the store makes, prepared
	// on the pool: parsing their SQL each time was about 6 % of the CPU
	// with 40,000 monitors on a 10 s interval.
	getExec, getRun *sql.Stmt
}

var _ engine.Store = (*EngineStore)(nil)

// EngineOptions configures OpenEngineStore.
type EngineOptions struct {
	// FullSync sets synchronous=FULL on the database's connections
	// (Options.FullSync), the writer's included: every group commit is
	// fsynced, so not even a power loss loses an acknowledged Commit.
	FullSync bool
	// Logger is Options.Logger.
	Logger *slog.Logger

	// checkpointEvery and walRestartFrames replace engineCheckpointEvery
	// and engineWALRestartFrames when set (tests).
	checkpointEvery  time.Duration
	walRestartFrames int
}

// OpenEngineStore opens (creating if needed) the SQLite database file at
// path with OpenWith and returns an EngineStore on it that owns the DB:
// Close closes it.
func OpenEngineStore(ctx context.Context, path string, opts EngineOptions) (*EngineStore, error) {
	db, err := OpenWith(ctx, path, Options{FullSync: opts.FullSync, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	s, err := newEngineStore(ctx, db.SQL(), db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func newEngineStore(ctx context.Context, db *sql.DB, owner io.Closer, opts EngineOptions) (*EngineStore, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'engine_runs'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("sqlitestore: engine store: %w", err)
	}
	if n == 0 {
		return nil, errors.New("sqlitestore: engine store: no engine tables: open the database with OpenEngineStore, Open or OpenWith, which migrate it")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: engine writer connection: %w", err)
	}
	pragmas := []string{
		// Keep the hot pages of a busy engine (history tails, run
		// states, indexes) in memory instead of reading them back, but
		// no more: a commit whose B-tree balancing swapped two pages
		// (through the spare page number just past 1 GiB) ends with a
		// scan of the whole page cache while the database is under
		// 1 GiB. With 64 MiB that scan took about 3 % of the CPU under
		// load; 16 MiB cost no more CPU per check, also over minutes
		// when the history's hot index leaves outgrow it, and 80-115 MiB
		// less RSS (docs/benchmarks-local.md, "SQLite's page cache").
		`PRAGMA cache_size = -16384`,
		// The writer never checkpoints after a commit (that would stall
		// every waiting Transition for the page copies and two fsyncs);
		// the checkpointer goroutine does it in the background.
		`PRAGMA wal_autocheckpoint = 0`,
		// After a restart, shrink the WAL file back to 64 MiB.
		`PRAGMA journal_size_limit = 67108864`,
		// A multi-row upsert inside the commit transaction keeps a
		// statement journal; in a temporary file it cost two pwrite
		// calls per page it touched (about 3 % of the CPU under load).
		// It only undoes a failed statement, so memory is enough.
		`PRAGMA temp_store = MEMORY`,
	}
	if opts.FullSync {
		pragmas = append(pragmas, `PRAGMA synchronous = FULL`)
	}
	for _, p := range pragmas {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sqlitestore: engine writer connection: %s: %w", p, err)
		}
	}
	s := &EngineStore{db: db, owner: owner, conn: conn,
		reqs: newLanes[*engineReq](), quit: make(chan struct{}), done: make(chan struct{})}
	if err := s.stmts.prepare(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	if err := prepareAll(ctx, db,
		stmtSQL{&s.getExec, `SELECT ` + engineExecColumns + ` FROM engine_executions WHERE arn = ?`},
		stmtSQL{&s.getRun, `SELECT run_state, wake_at FROM engine_runs WHERE arn = ?`},
	); err != nil {
		s.stmts.close()
		conn.Close()
		return nil, fmt.Errorf("sqlitestore: engine store: %w", err)
	}
	s.ckptDone = make(chan struct{})
	s.wal.every = cmp.Or(opts.checkpointEvery, engineCheckpointEvery)
	s.wal.restartFrames = cmp.Or(opts.walRestartFrames, engineWALRestartFrames)
	go s.writer()
	go s.checkpointer()
	return s, nil
}

// Close stops the writer after the group commit in progress and closes
// the database when OpenEngineStore opened it. Commit calls after Close
// return ErrEngineStoreClosed.
func (s *EngineStore) Close() error {
	var err error
	s.close.Do(func() {
		close(s.quit)
		<-s.done
		<-s.ckptDone
		s.stmts.close()
		s.getExec.Close()
		s.getRun.Close()
		err = s.conn.Close()
		if s.owner != nil {
			err = errors.Join(err, s.owner.Close())
		}
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: close engine store: %w", err)
	}
	return nil
}

// DB returns the database handle.
func (s *EngineStore) DB() *sql.DB { return s.db }

// engineNanos and engineTime convert times to and from the INTEGER
// columns; the zero time is 0. Times beyond what nanoseconds since 1970
// hold in an int64 (1677 to 2262) are stored as the nearest one held: a
// Wait until the year 9999 must not wrap around to a time in the past.
func engineNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(latestNanos):
		return math.MaxInt64
	case t.Before(earliestNanos):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	latestNanos   = time.Unix(0, math.MaxInt64)
	earliestNanos = time.Unix(0, math.MinInt64)
)

func engineTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// CreateStateMachine implements engine.Store.
func (s *EngineStore) CreateStateMachine(ctx context.Context, sm engine.StateMachine) error {
	if sm.RevisionID == "" {
		sm.RevisionID = "1"
	}
	if sm.UpdatedAt.IsZero() {
		sm.UpdatedAt = sm.CreatedAt
	}
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		var seq int64
		err := c.QueryRowContext(ctx, `INSERT INTO engine_state_machines
			(arn, name, definition, role_arn, type, revision, revision_id, created_at, updated_at, logging, tracing, encryption)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO NOTHING RETURNING seq`,
			sm.Arn, sm.Name, sm.Definition, sm.RoleArn, sm.Type, sm.RevisionID,
			engineNanos(sm.CreatedAt), engineNanos(sm.UpdatedAt), sm.Config.Logging, sm.Config.Tracing, sm.Config.Encryption).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return engine.ErrStateMachineAlreadyExists
		}
		if err != nil {
			return err
		}
		sm.Revision = 1
		if err := insertRevision(ctx, c, sm); err != nil {
			return err
		}
		return upsertTags(ctx, c, sm.Arn, sm.Tags)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: create state machine %s: %w", sm.Arn, err)
	}
	return nil
}

// inImmediate runs fn in a transaction on a pooled connection (not the
// commit writer's): the rare writes of state machines and the retention
// purge. BEGIN IMMEDIATE takes the write lock first (waiting for it under
// busy_timeout), rather than fail to upgrade a read snapshot that a group
// commit has moved past.
func (s *EngineStore) inImmediate(ctx context.Context, fn func(c *sql.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err = fn(conn)
	if err == nil {
		_, err = conn.ExecContext(ctx, `COMMIT`)
	}
	if err != nil {
		_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return withRollbackErr(err, rbErr)
	}
	return nil
}

// insertRevision records a revision of a state machine
// (GetStateMachineRevision).
func insertRevision(ctx context.Context, c *sql.Conn, sm engine.StateMachine) error {
	_, err := c.ExecContext(ctx, `INSERT INTO engine_state_machine_revisions
		(arn, revision, definition, role_arn, revision_id, updated_at, logging, tracing, encryption) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sm.Arn, sm.Revision, sm.Definition, sm.RoleArn, sm.RevisionID, engineNanos(sm.UpdatedAt),
		sm.Config.Logging, sm.Config.Tracing, sm.Config.Encryption)
	return err
}

const engineSMColumns = `arn, name, definition, role_arn, type, revision, revision_id, created_at, updated_at, status,
	logging, tracing, encryption`

func scanEngineSM(row interface{ Scan(...any) error }) (engine.StateMachine, error) {
	var sm engine.StateMachine
	var created, updated int64
	err := row.Scan(&sm.Arn, &sm.Name, &sm.Definition, &sm.RoleArn, &sm.Type, &sm.Revision, &sm.RevisionID, &created, &updated, &sm.Status,
		&sm.Config.Logging, &sm.Config.Tracing, &sm.Config.Encryption)
	sm.CreatedAt, sm.UpdatedAt = engineTime(created), engineTime(updated)
	return sm, err
}

// UpdateStateMachine implements engine.Store.
func (s *EngineStore) UpdateStateMachine(ctx context.Context, arn string, u engine.StateMachineUpdate, now time.Time) (engine.StateMachine, error) {
	var sm engine.StateMachine
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		var err error
		sm, err = scanEngineSM(c.QueryRowContext(ctx, `UPDATE engine_state_machines SET
			definition = CASE WHEN ?1 = '' THEN definition ELSE ?1 END,
			role_arn = CASE WHEN ?2 = '' THEN role_arn ELSE ?2 END,
			logging = CASE WHEN ?5 = '' THEN logging ELSE ?5 END,
			tracing = CASE WHEN ?6 = '' THEN tracing ELSE ?6 END,
			encryption = CASE WHEN ?7 = '' THEN encryption ELSE ?7 END,
			revision = revision + 1,
			revision_id = CAST(revision + 1 AS TEXT),
			updated_at = ?3
			WHERE arn = ?4 RETURNING `+engineSMColumns, u.Definition, u.RoleArn, engineNanos(now), arn,
			u.Config.Logging, u.Config.Tracing, u.Config.Encryption))
		if errors.Is(err, sql.ErrNoRows) {
			return engine.ErrStateMachineDoesNotExist
		}
		if err != nil {
			return err
		}
		return insertRevision(ctx, c, sm)
	})
	if err != nil {
		return engine.StateMachine{}, fmt.Errorf("sqlitestore: update state machine %s: %w", arn, err)
	}
	return sm, nil
}

// GetStateMachineRevision implements engine.Store.
func (s *EngineStore) GetStateMachineRevision(ctx context.Context, arn string, revision int) (engine.StateMachine, error) {
	sm, err := scanEngineSM(s.db.QueryRowContext(ctx, `SELECT m.arn, m.name, r.definition, r.role_arn, m.type,
		r.revision, r.revision_id, m.created_at, r.updated_at, m.status, r.logging, r.tracing, r.encryption
		FROM engine_state_machine_revisions r JOIN engine_state_machines m ON m.arn = r.arn
		WHERE r.arn = ? AND r.revision = ?`, arn, revision))
	if errors.Is(err, sql.ErrNoRows) {
		return engine.StateMachine{}, fmt.Errorf("sqlitestore: get state machine %s revision %d: %w", arn, revision, engine.ErrStateMachineDoesNotExist)
	}
	if err != nil {
		return engine.StateMachine{}, fmt.Errorf("sqlitestore: get state machine %s revision %d: %w", arn, revision, err)
	}
	return sm, nil
}

// GetStateMachine implements engine.Store.
func (s *EngineStore) GetStateMachine(ctx context.Context, arn string) (engine.StateMachine, error) {
	sm, err := scanEngineSM(s.db.QueryRowContext(ctx, `SELECT `+engineSMColumns+` FROM engine_state_machines WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return engine.StateMachine{}, fmt.Errorf("sqlitestore: get state machine %s: %w", arn, engine.ErrStateMachineDoesNotExist)
	}
	if err != nil {
		return engine.StateMachine{}, fmt.Errorf("sqlitestore: get state machine %s: %w", arn, err)
	}
	return sm, nil
}

// ListStateMachines implements engine.Store: in ARN order, on the ARN's
// unique index. The token is "a." and the ARN of the last machine
// returned.
func (s *EngineStore) ListStateMachines(ctx context.Context, maxResults int, nextToken string) ([]engine.StateMachine, string, error) {
	after := ""
	if nextToken != "" {
		var ok bool
		if after, ok = strings.CutPrefix(nextToken, smTokenPrefix); !ok || after == "" {
			return nil, "", fmt.Errorf("sqlitestore: list state machines: %w", engine.ErrInvalidToken)
		}
	}
	limit := enginePageSize(maxResults)
	rows, err := s.db.QueryContext(ctx, `SELECT `+engineSMColumns+` FROM engine_state_machines
		WHERE arn > ? ORDER BY arn LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list state machines: %w", err)
	}
	defer rows.Close()
	var out []engine.StateMachine
	for rows.Next() {
		sm, err := scanEngineSM(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list state machines: %w", err)
		}
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list state machines: %w", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], smTokenPrefix + out[limit-1].Arn, nil
}

// smTokenPrefix starts a ListStateMachines token.
const smTokenPrefix = "a."

// MarkStateMachineDeleting implements engine.Store.
func (s *EngineStore) MarkStateMachineDeleting(ctx context.Context, arn string) error {
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `UPDATE engine_state_machines SET status = ? WHERE arn = ?`, engine.StateMachineDeleting, arn)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return engine.ErrStateMachineDoesNotExist
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: mark state machine %s deleting: %w", arn, err)
	}
	return nil
}

// DeleteStateMachine implements engine.Store: it deletes a state machine
// and every execution of it with their history and run states. The
// engine calls it for DeleteStateMachine once no execution runs.
func (s *EngineStore) DeleteStateMachine(ctx context.Context, arn string) error {
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `DELETE FROM engine_state_machines WHERE arn = ?`, arn)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return engine.ErrStateMachineDoesNotExist
		}
		for _, q := range []string{
			`DELETE FROM engine_state_machine_revisions WHERE arn = ?`,
			`DELETE FROM engine_state_machine_tags WHERE arn = ?`,
			`DELETE FROM engine_history_batches WHERE execution_seq IN (SELECT seq FROM engine_executions WHERE state_machine_arn = ?)`,
			`DELETE FROM engine_runs WHERE arn IN (SELECT arn FROM engine_executions WHERE state_machine_arn = ?)`,
			`DELETE FROM engine_executions WHERE state_machine_arn = ?`,
		} {
			if _, err := c.ExecContext(ctx, q, arn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete state machine %s: %w", arn, err)
	}
	return nil
}

// upsertTags stores tags of a state machine, replacing the value of a
// key it has already; a key given twice keeps its last value.
func upsertTags(ctx context.Context, c *sql.Conn, arn string, tags []engine.Tag) error {
	for _, t := range tags {
		if _, err := c.ExecContext(ctx, `INSERT INTO engine_state_machine_tags (arn, key, value) VALUES (?, ?, ?)
			ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value`, arn, t.Key, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// stateMachineExists returns engine.ErrStateMachineDoesNotExist when no
// state machine has the ARN.
func stateMachineExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, arn string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM engine_state_machines WHERE arn = ?`, arn).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.ErrStateMachineDoesNotExist
	}
	return err
}

// TagStateMachine implements engine.Store: the tags are written and
// counted in one transaction, rolled back when they are over limit.
func (s *EngineStore) TagStateMachine(ctx context.Context, arn string, tags []engine.Tag, limit int) error {
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		if err := stateMachineExists(ctx, c, arn); err != nil {
			return err
		}
		if err := upsertTags(ctx, c, arn, tags); err != nil {
			return err
		}
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM engine_state_machine_tags WHERE arn = ?`, arn).Scan(&n); err != nil {
			return err
		}
		if n > limit {
			return fmt.Errorf("%d tags: %w", n, engine.ErrTooManyTags)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: tag state machine %s: %w", arn, err)
	}
	return nil
}

// UntagStateMachine implements engine.Store.
func (s *EngineStore) UntagStateMachine(ctx context.Context, arn string, keys []string) error {
	err := s.inImmediate(ctx, func(c *sql.Conn) error {
		if err := stateMachineExists(ctx, c, arn); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := c.ExecContext(ctx, `DELETE FROM engine_state_machine_tags WHERE arn = ? AND key = ?`, arn, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: untag state machine %s: %w", arn, err)
	}
	return nil
}

// ListStateMachineTags implements engine.Store: in key order on the
// primary key, byte by byte (the BINARY collation). The machine and its
// tags are read in one transaction, so a machine deleted meanwhile is
// not listed with no tags.
func (s *EngineStore) ListStateMachineTags(ctx context.Context, arn string) ([]engine.Tag, error) {
	tags, err := s.listTags(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list tags of state machine %s: %w", arn, err)
	}
	return tags, nil
}

func (s *EngineStore) listTags(ctx context.Context, arn string) ([]engine.Tag, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := stateMachineExists(ctx, tx, arn); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, value FROM engine_state_machine_tags WHERE arn = ? ORDER BY key`, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := []engine.Tag{}
	for rows.Next() {
		var t engine.Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

const engineExecColumns = `seq, arn, name, state_machine_arn, status, input, output, has_output, error, cause,
	start_date, stop_date, parent_arn, revision`

func scanEngineExec(row interface{ Scan(...any) error }) (engine.Execution, int64, error) {
	var e engine.Execution
	var seq, start, stop int64
	var status string
	err := row.Scan(&seq, &e.Arn, &e.Name, &e.StateMachineArn, &status, &e.Input, &e.Output, &e.HasOutput,
		&e.Error, &e.Cause, &start, &stop, &e.ParentArn, &e.Revision)
	e.Status = engine.ExecutionStatus(status)
	e.StartDate, e.StopDate = engineTime(start), engineTime(stop)
	return e, seq, err
}

// GetExecution implements engine.Store.
func (s *EngineStore) GetExecution(ctx context.Context, arn string) (engine.Execution, error) {
	e, _, err := scanEngineExec(s.getExec.QueryRowContext(ctx, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return engine.Execution{}, fmt.Errorf("sqlitestore: get execution %s: %w", arn, engine.ErrExecutionDoesNotExist)
	}
	if err != nil {
		return engine.Execution{}, fmt.Errorf("sqlitestore: get execution %s: %w", arn, err)
	}
	return e, nil
}

// ListExecutions implements engine.Store: newest start date first, ties
// newest created first. The token holds the start date and sequence
// number of the last execution returned.
func (s *EngineStore) ListExecutions(ctx context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM engine_state_machines WHERE arn = ?`, in.StateMachineArn).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, engine.ErrStateMachineDoesNotExist)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, err)
	}
	limit := enginePageSize(in.MaxResults)
	q := `SELECT ` + engineExecColumns + ` FROM engine_executions WHERE state_machine_arn = ?`
	args := []any{in.StateMachineArn}
	if in.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(in.Status))
	}
	if in.NextToken != "" {
		after, err := parseEngineToken("x", in.NextToken, 2)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, err)
		}
		q += ` AND (start_date < ? OR (start_date = ? AND seq < ?))`
		args = append(args, after[0], after[0], after[1])
	}
	q += ` ORDER BY start_date DESC, seq DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, err)
	}
	defer rows.Close()
	var out []engine.Execution
	var seqs []int64
	for rows.Next() {
		e, seq, err := scanEngineExec(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, err)
		}
		out = append(out, e)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlitestore: list executions of %s: %w", in.StateMachineArn, err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	last := out[limit-1]
	return out[:limit], engineToken("x", engineNanos(last.StartDate), seqs[limit-1]), nil
}

// executionSeq returns the sequence number of an execution.
func (s *EngineStore) executionSeq(ctx context.Context, op, arn string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT seq FROM engine_executions WHERE arn = ?`, arn).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlitestore: %s %s: %w", op, arn, engine.ErrExecutionDoesNotExist)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: %s %s: %w", op, arn, err)
	}
	return seq, nil
}

// GetHistory implements engine.Store. The token is the id of the last
// event returned.
func (s *EngineStore) GetHistory(ctx context.Context, arn string, in engine.HistoryInput) ([]engine.Event, string, error) {
	seq, err := s.executionSeq(ctx, "get history", arn)
	if err != nil {
		return nil, "", err
	}
	kind := "h"
	if in.ReverseOrder {
		kind = "r"
	}
	var after int64
	if in.NextToken != "" {
		v, err := parseEngineToken(kind, in.NextToken, 1)
		if err != nil {
			return nil, "", fmt.Errorf("sqlitestore: get history %s: %w", arn, err)
		}
		after = v[0]
	}
	limit := enginePageSize(in.MaxResults)
	var out []engine.Event
	if in.ReverseOrder {
		before := int64(1<<63 - 1)
		if in.NextToken != "" {
			before = after
		}
		out, err = s.historyBefore(ctx, seq, before, limit+1)
	} else {
		out, err = s.historyAfter(ctx, seq, after, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlitestore: get history %s: %w", arn, err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	return out[:limit], engineToken(kind, out[limit-1].ID), nil
}

// historyAfter returns up to n events of an execution with ids above
// after, in ascending order: the rows whose last event is above after.
func (s *EngineStore) historyAfter(ctx context.Context, seq, after int64, n int) ([]engine.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT events FROM engine_history_batches
		WHERE execution_seq = ? AND last_id > ? ORDER BY last_id`, seq, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Event
	for len(out) < n && rows.Next() {
		evs, err := scanEventBatch(rows)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.ID > after && len(out) < n {
				out = append(out, ev)
			}
		}
	}
	return out, rows.Err()
}

// historyBefore returns up to n events of an execution with ids below
// before, in descending order: the rows whose last event is below before,
// after the one row that may hold events on both sides of it.
func (s *EngineStore) historyBefore(ctx context.Context, seq, before int64, n int) ([]engine.Event, error) {
	var out []engine.Event
	add := func(evs []engine.Event) {
		for i := len(evs) - 1; i >= 0 && len(out) < n; i-- {
			if evs[i].ID < before {
				out = append(out, evs[i])
			}
		}
	}
	var straddling []byte
	err := s.db.QueryRowContext(ctx, `SELECT events FROM engine_history_batches
		WHERE execution_seq = ? AND last_id >= ? AND first_id < ? ORDER BY last_id LIMIT 1`, seq, before, before).Scan(&straddling)
	switch {
	case err == nil:
		evs, err := engine.DecodeEventBatch(straddling)
		if err != nil {
			return nil, err
		}
		add(evs)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT events FROM engine_history_batches
		WHERE execution_seq = ? AND last_id < ? ORDER BY last_id DESC`, seq, before)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for len(out) < n && rows.Next() {
		evs, err := scanEventBatch(rows)
		if err != nil {
			return nil, err
		}
		add(evs)
	}
	return out, rows.Err()
}

func scanEventBatch(rows *sql.Rows) ([]engine.Event, error) {
	var b []byte
	if err := rows.Scan(&b); err != nil {
		return nil, err
	}
	return engine.DecodeEventBatch(b)
}

// LastEventID implements engine.Store.
func (s *EngineStore) LastEventID(ctx context.Context, arn string) (int64, error) {
	var seq, last int64
	err := s.db.QueryRowContext(ctx, `SELECT e.seq, coalesce((SELECT max(last_id) FROM engine_history_batches h
		WHERE h.execution_seq = e.seq), 0) FROM engine_executions e WHERE e.arn = ?`, arn).Scan(&seq, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlitestore: last event of %s: %w", arn, engine.ErrExecutionDoesNotExist)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: last event of %s: %w", arn, err)
	}
	return last, nil
}

// GetRunState implements engine.Store.
func (s *EngineStore) GetRunState(ctx context.Context, arn string) ([]byte, time.Time, error) {
	var run []byte
	var wake int64
	err := s.getRun.QueryRowContext(ctx, arn).Scan(&run, &wake)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.executionSeq(ctx, "get run state", arn); err != nil {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, fmt.Errorf("sqlitestore: get run state %s: %w", arn, engine.ErrExecutionNotRunning)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sqlitestore: get run state %s: %w", arn, err)
	}
	return run, engineTime(wake), nil
}

// ListPending implements engine.Store. It scans the run states' table
// (schema step 5 dropped the index by wake-up time, which every check had
// to update); of a run state longer than its row's share of a page, the
// scan reads the first part only, not the overflow pages.
func (s *EngineStore) ListPending(ctx context.Context, fn func(engine.Pending) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT arn, wake_at FROM engine_runs`)
	if err != nil {
		return fmt.Errorf("sqlitestore: list pending: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p engine.Pending
		var wake int64
		if err := rows.Scan(&p.ExecutionArn, &wake); err != nil {
			return fmt.Errorf("sqlitestore: list pending: %w", err)
		}
		p.WakeAt = engineTime(wake)
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: list pending: %w", err)
	}
	return nil
}

// enginePageSize applies the default page size of engine.Store.
func enginePageSize(max int) int {
	if max <= 0 {
		return 100
	}
	return max
}

// engineToken encodes a paging token: a kind letter and integers.
func engineToken(kind string, vals ...int64) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, v := range vals {
		b.WriteByte('.')
		b.WriteString(strconv.FormatInt(v, 36))
	}
	return b.String()
}

// parseEngineToken decodes a token of the given kind with n integers.
func parseEngineToken(kind, tok string, n int) ([]int64, error) {
	if tok == "" {
		return make([]int64, n), nil
	}
	parts := strings.Split(tok, ".")
	if len(parts) != n+1 || parts[0] != kind {
		return nil, engine.ErrInvalidToken
	}
	out := make([]int64, n)
	for i, p := range parts[1:] {
		v, err := strconv.ParseInt(p, 36, 64)
		if err != nil {
			return nil, engine.ErrInvalidToken
		}
		out[i] = v
	}
	return out, nil
}
