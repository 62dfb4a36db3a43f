package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

func init() {
	registerSchema("monitor",
		// 1: status records and their events. Times are Unix
		// microseconds (UTC), NULL for the zero time.
		`CREATE TABLE monitors (
			instance_id       TEXT    NOT NULL PRIMARY KEY,
			name              TEXT    NOT NULL,
			runtime_status    TEXT    NOT NULL,
			input             TEXT    NOT NULL,
			custom_status     TEXT,
			check_count       INTEGER NOT NULL DEFAULT 0,
			output            TEXT,
			created_time      INTEGER NOT NULL,
			last_updated_time INTEGER,
			execution_arn     TEXT    NOT NULL DEFAULT '',
			expires_at        INTEGER,
			purge_at          INTEGER,
			event_count       INTEGER NOT NULL DEFAULT 0,
			alert_status      TEXT    NOT NULL DEFAULT '',
			alert_channel     TEXT    NOT NULL DEFAULT '',
			alert_attempts    INTEGER NOT NULL DEFAULT 0,
			alert_claimed_at  INTEGER,
			alert_sent_at     INTEGER,
			alert_message_id  TEXT    NOT NULL DEFAULT '',
			alert_last_error  TEXT    NOT NULL DEFAULT ''
		) STRICT;
		CREATE INDEX monitors_by_created ON monitors (created_time, instance_id);
		CREATE INDEX monitors_by_status ON monitors (runtime_status, created_time, instance_id);
		CREATE INDEX monitors_by_purge ON monitors (purge_at) WHERE purge_at IS NOT NULL;
		CREATE TABLE monitor_events (
			seq         INTEGER NOT NULL PRIMARY KEY,
			instance_id TEXT    NOT NULL REFERENCES monitors (instance_id) ON DELETE CASCADE,
			name        TEXT    NOT NULL,
			data        TEXT,
			raised_at   INTEGER,
			consumed_by INTEGER NOT NULL DEFAULT 0
		) STRICT;
		CREATE INDEX monitor_events_by_monitor ON monitor_events (instance_id, consumed_by, seq);`,
		// 2: when a failed alert is sent again (monitor.AlertState.RetryAt).
		`ALTER TABLE monitors ADD COLUMN alert_retry_at INTEGER;`,
	)
}

// recordRunningSQL is the recordCheck statement without runtime_status,
// for a monitor already Running: a column in the SET list makes SQLite
// rewrite the entries of every index on it (monitors_by_status), changed
// or not, and a check should rewrite no index entry.
const recordRunningSQL = `UPDATE monitors SET custom_status = ?, check_count = ?,
	last_updated_time = ?, execution_arn = CASE WHEN ? = '' THEN execution_arn ELSE ? END
	WHERE instance_id = ? AND ` + checkApplies + ` AND runtime_status = 'Running' AND ` + createdIs

// checkApplies is monitor.CheckApplies in SQL, with the parameters check
// number, check number, execution ARN, execution ARN and the check's
// time: a later check, or check n run again by the same execution and
// started no earlier than the stored write (the last attempt wins).
const checkApplies = `(check_count < ? OR check_count = ? AND check_count > 0 AND ? != '' AND execution_arn = ? AND last_updated_time <= ?)`

// Store is the monitor.Store kept in a DB. Get it from DB.Monitors.
type Store struct {
	db *DB
	// Prepared statements: writes on the write connection, reads on the
	// read pool.
	insert, insertEvent, setExec, recordCheck, recordRunning, finish, addEvent *sql.Stmt
	consume, claim, complete, schedule, deleteEvents, statusOf, getRow         *sql.Stmt
	getEvents, consumedBy, eventCount, prune, shrink, completeOutput           *sql.Stmt
}

var _ monitor.Store = (*Store)(nil)

const live = `runtime_status IN ('Pending', 'Running')`

// createdIs is the condition of a task's write that names the record's
// created time (see monitor.Store), with that time (micros) as both of
// its parameters: NULL, the zero time, names any record of the id.
const createdIs = `(? IS NULL OR created_time = ?)`

const recordCols = `instance_id, name, runtime_status, input, custom_status, output, created_time,
	last_updated_time, execution_arn, expires_at, purge_at, event_count, alert_status, alert_channel,
	alert_attempts, alert_claimed_at, alert_sent_at, alert_message_id, alert_last_error, alert_retry_at`

const alertCols = `alert_status, alert_channel, alert_attempts, alert_claimed_at, alert_sent_at, alert_message_id, alert_last_error,
	alert_retry_at`

func newStore(ctx context.Context, db *DB) (*Store, error) {
	s := &Store{db: db}
	stmts := []struct {
		dst  **sql.Stmt
		pool *sql.DB
		sql  string
	}{
		{&s.insert, db.w, `INSERT INTO monitors (` + recordCols + `, check_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (instance_id) DO NOTHING`},
		{&s.insertEvent, db.w, `INSERT INTO monitor_events (instance_id, name, data, raised_at, consumed_by) VALUES (?, ?, ?, ?, ?)`},
		// last_updated_time only moves forward (Unix microseconds
		// compare as times): the first check may have written a later
		// time than the start that records its execution. The zero time
		// is NULL, which compares to nothing: it keeps the column.
		{&s.setExec, db.w, `UPDATE monitors SET execution_arn = ?,
			last_updated_time = CASE WHEN ? IS NULL OR last_updated_time > ? THEN last_updated_time ELSE ? END
			WHERE instance_id = ? AND ` + live + ` AND ` + createdIs},
		{&s.recordCheck, db.w, `UPDATE monitors SET custom_status = ?, check_count = ?, runtime_status = 'Running',
			last_updated_time = ?, execution_arn = CASE WHEN ? = '' THEN execution_arn ELSE ? END
			WHERE instance_id = ? AND ` + checkApplies + ` AND ` + live + ` AND ` + createdIs},
		{&s.recordRunning, db.w, recordRunningSQL},
		// An output built from the record (FromRecord) takes its check
		// count, open issues and alert status as this write finds them
		// (monitor.Output.WithRecord; json_patch drops a member whose value
		// is null: open issues the custom status has none of, an alert
		// status of none that the output had none of either); one whose
		// alert_status is unknown (the alert was being sent) takes the
		// send's result when it is recorded already; and the custom
		// status drops its next_check_time (see monitor.Store.Finish).
		{&s.finish, db.w, `UPDATE monitors SET runtime_status = ?,
			output = CASE
				WHEN ? THEN json_patch(?, json_object('checks_performed', check_count,
					'open_issues', json_extract(custom_status, '$.open_issues'),
					'alert_status', CASE WHEN alert_status IN ('sent', 'failed') THEN alert_status
						WHEN alert_status = 'sending' THEN '` + monitor.OutputAlertUnknown + `'
						ELSE json_extract(?, '$.alert_status') END))
				WHEN ? AND alert_status IN ('sent', 'failed') THEN json_set(?, '$.alert_status', alert_status)
				ELSE ? END,
			last_updated_time = ?, purge_at = ?,
			custom_status = json_remove(coalesce(?, custom_status), '$.next_check_time'), check_count = coalesce(?, check_count)
			WHERE instance_id = ? AND ` + live + ` AND ` + createdIs},
		{&s.addEvent, db.w, `UPDATE monitors SET event_count = event_count + 1 WHERE instance_id = ? AND event_count < ? AND ` + live},
		{&s.consume, db.w, `UPDATE monitor_events SET consumed_by = ? WHERE instance_id = ? AND consumed_by = 0`},
		// Events consumed by checks before the given one (see ConsumeEvents).
		{&s.prune, db.w, `DELETE FROM monitor_events WHERE instance_id = ? AND consumed_by BETWEEN 1 AND ?`},
		{&s.shrink, db.w, `UPDATE monitors SET event_count = event_count - ? WHERE instance_id = ?`},
		{&s.claim, db.w, `UPDATE monitors SET alert_status = 'sending', alert_channel = ?, alert_attempts = alert_attempts + 1,
			alert_claimed_at = ?, alert_retry_at = NULL WHERE instance_id = ? AND ` + live + ` AND alert_status IN ('', 'failed') AND ` + createdIs + ` RETURNING ` + alertCols},
		{&s.complete, db.w, `UPDATE monitors SET alert_status = ?, alert_sent_at = coalesce(?, alert_sent_at),
			alert_message_id = coalesce(?, alert_message_id), alert_last_error = coalesce(?, alert_last_error)
			WHERE instance_id = ? AND alert_status = 'sending' AND ` + createdIs},
		{&s.schedule, db.w, `UPDATE monitors SET alert_retry_at = ?
			WHERE instance_id = ? AND ` + live + ` AND alert_status = 'failed' AND ` + createdIs},
		// A record finished during the send (see monitor.Store.CompleteAlert).
		{&s.completeOutput, db.w, `UPDATE monitors SET output = json_set(output, '$.alert_status', ?)
			WHERE instance_id = ? AND output IS NOT NULL AND json_extract(output, '$.alert_status') = '` + monitor.OutputAlertUnknown + `'`},
		{&s.deleteEvents, db.w, `DELETE FROM monitor_events WHERE instance_id = ?`},
		{&s.statusOf, db.w, `SELECT runtime_status, created_time, ` + alertCols + ` FROM monitors WHERE instance_id = ?`},
		{&s.getRow, db.r, `SELECT ` + recordCols + ` FROM monitors WHERE instance_id = ?`},
		{&s.getEvents, db.r, `SELECT name, data, raised_at, consumed_by FROM monitor_events WHERE instance_id = ? ORDER BY seq`},
		{&s.eventCount, db.w, `SELECT event_count, created_time FROM monitors WHERE instance_id = ?`},
		{&s.consumedBy, db.w, `SELECT name, data, raised_at, consumed_by FROM monitor_events WHERE instance_id = ? AND consumed_by = ? ORDER BY seq`},
	}
	for _, st := range stmts {
		p, err := st.pool.PrepareContext(ctx, st.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqlitestore: prepare %.60q: %w", st.sql, err)
		}
		*st.dst = p
	}
	return s, nil
}

func (s *Store) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insert, s.insertEvent, s.setExec, s.recordCheck, s.recordRunning, s.finish, s.addEvent,
		s.consume, s.claim, s.complete, s.deleteEvents, s.statusOf, s.getRow, s.getEvents, s.consumedBy, s.eventCount,
		s.prune, s.shrink, s.completeOutput, s.schedule} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Create implements monitor.Store.
func (s *Store) Create(ctx context.Context, rec monitor.Record) error {
	const op = "sqlitestore: create"
	if rec.InstanceID == "" {
		return monitor.Errorf(monitor.KindInvalid, op, "instance id is empty")
	}
	input, err := json.Marshal(rec.Input)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the monitor's input")
	}
	custom, count, err := encodeCustom(rec.CustomStatus)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the custom status")
	}
	output, err := encodeJSON(rec.Output)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the output")
	}
	a := rec.Alert
	conflict := false
	err = s.db.writeFirst(ctx, func(ctx context.Context, tx *sql.Tx) error {
		conflict = false
		res, err := tx.StmtContext(ctx, s.insert).ExecContext(ctx,
			rec.InstanceID, rec.Name, string(rec.RuntimeStatus), string(input), custom, output, micros(rec.CreatedTime),
			micros(rec.LastUpdatedTime), rec.ExecutionArn, micros(rec.ExpiresAt), micros(rec.PurgeAt), len(rec.Events),
			string(a.Status), a.Channel, a.Attempts, micros(a.ClaimedAt), micros(a.SentAt), a.MessageID, a.LastError,
			micros(a.RetryAt), count)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			conflict = true
			return errRollback
		}
		ins := tx.StmtContext(ctx, s.insertEvent)
		for _, ev := range rec.Events {
			if _, err := ins.ExecContext(ctx, rec.InstanceID, ev.Name, nullString(ev.Data), micros(ev.RaisedAt), ev.ConsumedBy); err != nil {
				return err
			}
		}
		return nil
	})
	if conflict {
		return monitor.Errorf(monitor.KindConflict, op, "monitor %s already exists", rec.InstanceID)
	}
	return wrap(op, rec.InstanceID, err)
}

// errRollback rolls a transaction back without being an error to report.
var errRollback = errors.New("rollback")

// Get implements monitor.Store.
func (s *Store) Get(ctx context.Context, id string) (monitor.Record, error) {
	const op = "sqlitestore: get"
	rec, events, err := scanRecord(s.getRow.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return monitor.Record{}, monitor.NotFoundError(op, id)
	}
	if err != nil {
		return monitor.Record{}, wrap(op, id, err)
	}
	if events > 0 {
		if rec.Events, err = queryEvents(ctx, s.getEvents, id); err != nil {
			return monitor.Record{}, wrap(op, id, err)
		}
	}
	return rec, nil
}

// setEndedExecSQL records the execution of a finished record that names
// none (see SetExecution). It is rare, so the statement is not prepared.
const setEndedExecSQL = `UPDATE monitors SET execution_arn = ?
	WHERE instance_id = ? AND NOT ` + live + ` AND execution_arn = '' AND ` + createdIs

// SetExecution implements monitor.Store: the update is guarded by
// createdIs, at microseconds, like a task's write; when it changes
// nothing, a finished record that names no execution takes the ARN in
// the same transaction.
func (s *Store) SetExecution(ctx context.Context, id string, created time.Time, executionArn string, at time.Time) error {
	const op = "sqlitestore: set execution"
	us, cus := micros(at), micros(created)
	ended := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, setEndedExecSQL, executionArn, id, cus, cus)
		return err
	}
	return s.updateLive(ctx, true, op, id, created, ended, s.setExec, executionArn, us, us, us, id, cus, cus)
}

// RecordCheck implements monitor.Store.
func (s *Store) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	const op = "sqlitestore: record check"
	custom, n, err := encodeCustom(&u.CustomStatus)
	if err != nil {
		return false, monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the custom status")
	}
	var applied bool
	var why error
	err = s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		applied, why = false, nil
		at, created := micros(u.At), micros(u.Created)
		args := []any{custom, n, at, u.ExecutionArn, u.ExecutionArn, id, n, n, u.ExecutionArn, u.ExecutionArn, at, created, created}
		res, err := tx.StmtContext(ctx, s.recordRunning).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		if applied = affected(res); applied {
			return nil
		}
		// The first check (Pending), or not applicable.
		res, err = tx.StmtContext(ctx, s.recordCheck).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		if applied = affected(res); applied {
			return nil
		}
		// Stale or finished: not applied, no error. Missing: not found.
		// Another monitor's: gone.
		_, why = s.statusIn(ctx, tx, op, id, u.Created)
		return nil
	})
	if err != nil {
		return false, wrap(op, id, err)
	}
	return applied, why
}

// Finish implements monitor.Store.
func (s *Store) Finish(ctx context.Context, id string, f monitor.Finish) error {
	const op = "sqlitestore: finish"
	if !f.RuntimeStatus.Final() {
		return monitor.NotFinalError(op, f.RuntimeStatus)
	}
	output, err := json.Marshal(f.Output)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the output")
	}
	var custom, count any
	if f.CustomStatus != nil {
		c, n, err := encodeCustom(f.CustomStatus)
		if err != nil {
			return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the custom status")
		}
		custom, count = c, n
	}
	unknown := f.Output.AlertStatus == monitor.OutputAlertUnknown
	created := micros(f.Created)
	o := string(output)
	return s.updateLive(ctx, false, op, id, f.Created, nil, s.finish, string(f.RuntimeStatus), f.FromRecord, o, o, unknown, o, o,
		micros(f.At), micros(f.PurgeAt), custom, count, id, created, created)
}

// AddEvent implements monitor.Store. The count of the record's events
// (event_count: the rows in monitor_events, pending and consumed) is
// checked against the cap in the update that raises it.
func (s *Store) AddEvent(ctx context.Context, id string, ev monitor.Event) error {
	const op = "sqlitestore: add event"
	var why error
	err := s.db.writeFirst(ctx, func(ctx context.Context, tx *sql.Tx) error {
		why = nil
		res, err := tx.StmtContext(ctx, s.addEvent).ExecContext(ctx, id, monitor.MaxEventsPerMonitor)
		if err != nil {
			return err
		}
		if !affected(res) {
			why = s.whyNoEvent(ctx, tx, op, id)
			return errRollback
		}
		_, err = tx.StmtContext(ctx, s.insertEvent).ExecContext(ctx, id, ev.Name, nullString(ev.Data), micros(ev.RaisedAt), 0)
		return err
	})
	if why != nil {
		return why
	}
	return wrap(op, id, err)
}

// ConsumeEvents implements monitor.Store.
func (s *Store) ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	const op = "sqlitestore: consume events"
	if check < 1 {
		return nil, monitor.Errorf(monitor.KindInvalid, op, "check number %d is not positive", check)
	}
	// Most monitors never receive an event: one read answers for them
	// without a write (in the writer's transaction: see readInWriter).
	// AddEvent has committed before it returns, and only a later check
	// drops what this check consumed, so a record read with no events
	// had none to consume, and none this check consumed, when this call
	// began. The record's created time is read with the count, and
	// checked again in the write's transaction, which no other write
	// interleaves.
	var events int
	var stored int64
	err := s.db.readInWriter(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.StmtContext(ctx, s.eventCount).QueryRowContext(ctx, id).Scan(&events, &stored)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, monitor.NotFoundError(op, id)
	case err != nil:
		return nil, wrap(op, id, err)
	}
	if why := notMine(op, id, created, stored); why != nil {
		return nil, why
	}
	if events == 0 {
		return nil, nil
	}
	var out []monitor.Event
	var why error
	err = s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out, why = nil, nil
		var st string
		var alert alertRow
		err := tx.StmtContext(ctx, s.statusOf).QueryRowContext(ctx, id).Scan(alert.statusDest(&st)...)
		if errors.Is(err, sql.ErrNoRows) {
			why = monitor.NotFoundError(op, id)
			return errRollback
		}
		if err != nil {
			return err
		}
		if why = notMine(op, id, created, alert.created); why != nil {
			return errRollback
		}
		if !monitor.RuntimeStatus(st).Final() {
			if err := s.consumeLive(ctx, tx, id, check); err != nil {
				return err
			}
		}
		out, err = queryEvents(ctx, tx.StmtContext(ctx, s.consumedBy), id, check)
		return err
	})
	if why != nil {
		return nil, why
	}
	if err != nil {
		return nil, wrap(op, id, err)
	}
	return out, nil
}

// consumeLive marks a live record's pending events as consumed by check
// and drops those consumed by earlier checks when it marked some or the
// record is full, keeping event_count equal to the rows left.
func (s *Store) consumeLive(ctx context.Context, tx *sql.Tx, id string, check int) error {
	res, err := tx.StmtContext(ctx, s.consume).ExecContext(ctx, check, id)
	if err != nil {
		return err
	}
	if !affected(res) {
		var events int
		var created int64
		if err := tx.StmtContext(ctx, s.eventCount).QueryRowContext(ctx, id).Scan(&events, &created); err != nil {
			return err
		}
		if events < monitor.MaxEventsPerMonitor {
			return nil
		}
	}
	res, err = tx.StmtContext(ctx, s.prune).ExecContext(ctx, id, check-1)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return err
	}
	_, err = tx.StmtContext(ctx, s.shrink).ExecContext(ctx, n, id)
	return err
}

// ClaimAlert implements monitor.Store.
func (s *Store) ClaimAlert(ctx context.Context, id string, created time.Time, channel string, at time.Time) (monitor.AlertState, bool, error) {
	const op = "sqlitestore: claim alert"
	var a alertRow
	var claimed bool
	var why error
	err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		a, claimed, why = alertRow{}, false, nil
		c := micros(created)
		err := tx.StmtContext(ctx, s.claim).QueryRowContext(ctx, channel, micros(at), id, c, c).Scan(a.dest()...)
		if err == nil {
			claimed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		a, why = s.statusIn(ctx, tx, op, id, created)
		return nil
	})
	if err != nil {
		return monitor.AlertState{}, false, wrap(op, id, err)
	}
	if why != nil {
		return monitor.AlertState{}, false, why
	}
	return a.state(), claimed, nil
}

// CompleteAlert implements monitor.Store.
func (s *Store) CompleteAlert(ctx context.Context, id string, r monitor.AlertResult) error {
	const op = "sqlitestore: complete alert"
	status, sentAt, msgID, lastErr := any(string(monitor.AlertFailed)), any(nil), any(nil), any(r.Error)
	if r.Sent {
		status, sentAt, msgID, lastErr = string(monitor.AlertSent), micros(r.At), r.MessageID, nil
	}
	var why error
	err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		why = nil
		created := micros(r.Created)
		res, err := tx.StmtContext(ctx, s.complete).ExecContext(ctx, status, sentAt, msgID, lastErr, id, created, created)
		if err != nil {
			return err
		}
		if affected(res) {
			_, err := tx.StmtContext(ctx, s.completeOutput).ExecContext(ctx, monitor.CompletedAlertStatus(r), id)
			return err
		}
		a, err := s.statusIn(ctx, tx, op, id, r.Created)
		if err != nil {
			why = err
			return nil
		}
		why = monitor.AlertNotSendingError(op, id, monitor.AlertStatus(a.status))
		return nil
	})
	if err != nil {
		return wrap(op, id, err)
	}
	return why
}

// ScheduleAlert implements monitor.Store.
func (s *Store) ScheduleAlert(ctx context.Context, id string, created, at time.Time) error {
	const op = "sqlitestore: schedule alert"
	var why error
	err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		why = nil
		c := micros(created)
		res, err := tx.StmtContext(ctx, s.schedule).ExecContext(ctx, micros(at), id, c, c)
		if err != nil || affected(res) {
			return err
		}
		// Not written: an error only when the record is not the caller's.
		_, why = s.statusIn(ctx, tx, op, id, created)
		return nil
	})
	if err != nil {
		return wrap(op, id, err)
	}
	return why
}

// ceilMicro is t in microseconds since the Unix epoch, rounded up.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// pendingCol counts a monitors row's pending events, looking only at the
// rows that have events.
const pendingCol = `CASE WHEN event_count = 0 THEN 0 ELSE (SELECT count(*) FROM monitor_events e
	WHERE e.instance_id = monitors.instance_id AND e.consumed_by = 0) END`

// List implements monitor.Store. Records come newest first, ties by
// instance id descending; listed records carry no events, only the count
// of pending ones.
func (s *Store) List(ctx context.Context, q monitor.ListQuery) (monitor.ListPage, error) {
	const op = "sqlitestore: list"
	var where []string
	var args []any
	if len(q.RuntimeStatus) > 0 {
		where = append(where, "runtime_status IN (?"+strings.Repeat(", ?", len(q.RuntimeStatus)-1)+")")
		for _, st := range q.RuntimeStatus {
			args = append(args, string(st))
		}
	}
	// Created times are whole microseconds: created >= From and
	// created < To hold exactly when they hold for the bounds rounded up
	// to a whole microsecond (UnixMicro rounds down).
	if !q.CreatedFrom.IsZero() {
		where = append(where, "created_time >= ?")
		args = append(args, ceilMicro(q.CreatedFrom))
	}
	if !q.CreatedTo.IsZero() {
		where = append(where, "created_time < ?")
		args = append(args, ceilMicro(q.CreatedTo))
	}
	if q.ContinuationToken != "" {
		var c cursor
		if err := monitor.DecodeToken(q.ContinuationToken, &c); err != nil || c.ID == "" {
			return monitor.ListPage{}, monitor.WrapError(monitor.KindInvalid, op, err, "continuation token is not valid")
		}
		where = append(where, "(created_time, instance_id) < (?, ?)")
		args = append(args, c.Created, c.ID)
	}
	top := q.PageSize()
	query := `SELECT ` + recordCols + `, ` + pendingCol + ` FROM monitors`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_time DESC, instance_id DESC LIMIT ?`
	args = append(args, top+1)
	rows, err := s.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return monitor.ListPage{}, wrap(op, "", err)
	}
	defer rows.Close()
	var page monitor.ListPage
	for rows.Next() {
		if len(page.Records) == top {
			last := page.Records[top-1]
			page.ContinuationToken = monitor.EncodeToken(cursor{Created: last.CreatedTime.UnixMicro(), ID: last.InstanceID})
			break
		}
		var pending int
		rec, _, err := scanRecord(rows, &pending)
		if err != nil {
			return monitor.ListPage{}, wrap(op, "", err)
		}
		rec.PendingEvents = pending
		page.Records = append(page.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return monitor.ListPage{}, wrap(op, "", err)
	}
	return page, nil
}

// deleteFinishedSQL deletes a finished record: see DeleteFinished. Its
// events go with it (ON DELETE CASCADE). Purges are rare, so the
// statement is not prepared.
const deleteFinishedSQL = `DELETE FROM monitors WHERE instance_id = ?
	AND runtime_status IN ('Completed', 'Failed', 'Terminated') AND created_time = ?`

// DeleteFinished implements monitor.Store: the record and its events go in
// one transaction, only when the record is the given finished one.
func (s *Store) DeleteFinished(ctx context.Context, id string, created time.Time) error {
	return s.deleteIf(ctx, "sqlitestore: delete finished", id, created, deleteFinishedSQL, monitor.NotTheFinished)
}

// releaseSQL deletes an unstarted claim: see ReleaseClaim. Releases are
// rare, so the statement is not prepared.
const releaseSQL = `DELETE FROM monitors WHERE instance_id = ? AND runtime_status = 'Pending'
	AND execution_arn = '' AND created_time = ?`

// ReleaseClaim implements monitor.Store: the record and its events go in
// one transaction, only when the record is the given unstarted claim.
func (s *Store) ReleaseClaim(ctx context.Context, id string, created time.Time) error {
	return s.deleteIf(ctx, "sqlitestore: release claim", id, created, releaseSQL, monitor.NotTheClaim)
}

// deleteIf deletes the record of id and its events in one transaction
// when stmt (a DELETE taking the id and created's microseconds, which
// names the record it may delete) deletes it. Otherwise it returns the
// record's absence (not found), or notIt when a record of the id is there
// but is not the one stmt names.
func (s *Store) deleteIf(ctx context.Context, op, id string, created time.Time, stmt string, notIt func(op, id string, created time.Time) error) error {
	var why error
	err := s.db.writeFirst(ctx, func(ctx context.Context, tx *sql.Tx) error {
		why = nil
		res, err := tx.ExecContext(ctx, stmt, id, micros(created))
		if err != nil {
			return err
		}
		if affected(res) {
			_, err := tx.StmtContext(ctx, s.deleteEvents).ExecContext(ctx, id)
			return err
		}
		if _, why = s.statusIn(ctx, tx, op, id, time.Time{}); why == nil {
			why = notIt(op, id, created)
		}
		return nil
	})
	if err != nil {
		return wrap(op, id, err)
	}
	return why
}

// statusIn reads the record's alert state in the write transaction (so
// that it sees the state the write just missed), or reports it not found,
// or, when created is not zero and the record was created at another
// time, another monitor's (notMine).
func (s *Store) statusIn(ctx context.Context, tx *sql.Tx, op, id string, created time.Time) (alertRow, error) {
	var st string
	var a alertRow
	err := tx.StmtContext(ctx, s.statusOf).QueryRowContext(ctx, id).Scan(a.statusDest(&st)...)
	if errors.Is(err, sql.ErrNoRows) {
		return a, monitor.NotFoundError(op, id)
	}
	if err != nil {
		return a, wrap(op, id, err)
	}
	if why := notMine(op, id, created, a.created); why != nil {
		return alertRow{}, why
	}
	a.runtime = monitor.RuntimeStatus(st)
	return a, nil
}

// notMine is monitor.NotTheMonitor when a task's write names created
// (not zero) and the record was created at another time, stored (Unix
// microseconds: created compares to the microsecond); else nil.
func notMine(op, id string, created time.Time, stored int64) error {
	if created.IsZero() || created.UnixMicro() == stored {
		return nil
	}
	return monitor.NotTheMonitor(op, id, created)
}

// updateLive runs an update guarded by "is live" (and by createdIs when
// created is not zero) through the writer (first when urgent); one that
// changed no row runs notLive, when there is one, in the same
// transaction, and becomes KindNotFound or KindGone.
func (s *Store) updateLive(ctx context.Context, urgent bool, op, id string, created time.Time, notLive func(context.Context, *sql.Tx) error, stmt *sql.Stmt, args ...any) error {
	var why error
	err := s.db.submit(ctx, urgent, func(ctx context.Context, tx *sql.Tx) error {
		why = nil
		res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		if !affected(res) {
			if notLive != nil {
				if err := notLive(ctx, tx); err != nil {
					return err
				}
			}
			why = s.whyNotLive(ctx, tx, op, id, created)
		}
		return nil
	})
	if err != nil {
		return wrap(op, id, err)
	}
	return why
}

// whyNotLive explains why an update guarded by "is live" changed nothing:
// no such record, another monitor's, or a finished one.
func (s *Store) whyNotLive(ctx context.Context, tx *sql.Tx, op, id string, created time.Time) error {
	a, err := s.statusIn(ctx, tx, op, id, created)
	if err != nil {
		return err
	}
	return monitor.FinishedError(op, id, a.runtime)
}

// whyNoEvent explains why AddEvent's update changed nothing: no such
// record, a finished one, or one that already holds the most events.
func (s *Store) whyNoEvent(ctx context.Context, tx *sql.Tx, op, id string) error {
	a, err := s.statusIn(ctx, tx, op, id, time.Time{})
	switch {
	case err != nil:
		return err
	case a.runtime.Final():
		return monitor.FinishedError(op, id, a.runtime)
	}
	return monitor.EventCapError(op, id)
}

func affected(res sql.Result) bool {
	n, err := res.RowsAffected()
	return err == nil && n > 0
}

// wrap turns a database error into a *monitor.Error: a condition of the
// machine (unavailable: busy, disk full, ...), a timeout or a cancelled
// context (the caller left, the server shuts down) is KindUnavailable,
// which a task retries; anything else KindInternal.
func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	var me *monitor.Error
	if errors.As(err, &me) {
		return err
	}
	if id != "" {
		op += " " + id
	}
	if reason, ok := unavailable(err); ok {
		return monitor.WrapError(monitor.KindUnavailable, op, err, reason)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return monitor.WrapError(monitor.KindUnavailable, op, err, "the database is busy")
	case errors.Is(err, context.Canceled):
		return monitor.WrapError(monitor.KindUnavailable, op, err, "the request was cancelled")
	}
	return monitor.WrapError(monitor.KindInternal, op, err, "database error")
}

// alertRow is the alert columns of a monitor row, with its created time
// when read by statusOf.
type alertRow struct {
	runtime              monitor.RuntimeStatus
	created              int64
	status, channel      string
	attempts             int
	claimedAt, sentAt    sql.NullInt64
	messageID, lastError string
	retryAt              sql.NullInt64
}

// statusDest is where a row of statusOf scans: the runtime status into
// st, then the created time and the alert columns.
func (a *alertRow) statusDest(st *string) []any {
	return append([]any{st, &a.created}, a.dest()...)
}

func (a *alertRow) dest() []any {
	return []any{&a.status, &a.channel, &a.attempts, &a.claimedAt, &a.sentAt, &a.messageID, &a.lastError, &a.retryAt}
}

func (a *alertRow) state() monitor.AlertState {
	return monitor.AlertState{
		Status: monitor.AlertStatus(a.status), Channel: a.channel, Attempts: a.attempts,
		ClaimedAt: fromMicros(a.claimedAt), SentAt: fromMicros(a.sentAt), MessageID: a.messageID, LastError: a.lastError,
		RetryAt: fromMicros(a.retryAt),
	}
}

type scanner interface{ Scan(dest ...any) error }

// scanRecord reads a row of recordCols, followed by columns into extra;
// it also returns the event count.
func scanRecord(row scanner, extra ...any) (monitor.Record, int, error) {
	var (
		r                       monitor.Record
		status, input           string
		custom, output          sql.NullString
		created                 int64
		updated, expires, purge sql.NullInt64
		events                  int
		a                       alertRow
	)
	dest := append([]any{&r.InstanceID, &r.Name, &status, &input, &custom, &output, &created,
		&updated, &r.ExecutionArn, &expires, &purge, &events}, a.dest()...)
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		return r, 0, err
	}
	r.RuntimeStatus = monitor.RuntimeStatus(status)
	if err := json.Unmarshal([]byte(input), &r.Input); err != nil {
		return r, 0, fmt.Errorf("input: %w", err)
	}
	if custom.Valid {
		r.CustomStatus = new(monitor.CustomStatus)
		if err := json.Unmarshal([]byte(custom.String), r.CustomStatus); err != nil {
			return r, 0, fmt.Errorf("custom status: %w", err)
		}
		r.CustomStatus.LastCheckTime = r.CustomStatus.LastCheckTime.UTC()
		r.CustomStatus.NextCheckTime = r.CustomStatus.NextCheckTime.UTC()
	}
	if output.Valid {
		r.Output = new(monitor.Output)
		if err := json.Unmarshal([]byte(output.String), r.Output); err != nil {
			return r, 0, fmt.Errorf("output: %w", err)
		}
	}
	r.CreatedTime = time.UnixMicro(created).UTC()
	r.LastUpdatedTime, r.ExpiresAt, r.PurgeAt = fromMicros(updated), fromMicros(expires), fromMicros(purge)
	r.Alert = a.state()
	return r, events, nil
}

func queryEvents(ctx context.Context, stmt *sql.Stmt, args ...any) ([]monitor.Event, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []monitor.Event
	for rows.Next() {
		var ev monitor.Event
		var data sql.NullString
		var raised sql.NullInt64
		if err := rows.Scan(&ev.Name, &data, &raised, &ev.ConsumedBy); err != nil {
			return nil, err
		}
		if data.Valid {
			ev.Data = json.RawMessage(data.String)
		}
		ev.RaisedAt = fromMicros(raised)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// encodeCustom returns the custom status as JSON (nil for none) and its
// check count.
func encodeCustom(cs *monitor.CustomStatus) (any, int, error) {
	if cs == nil {
		return nil, 0, nil
	}
	c := *cs
	c.LastCheckTime, c.NextCheckTime = c.LastCheckTime.UTC(), c.NextCheckTime.UTC()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, 0, err
	}
	return string(b), c.CheckCount, nil
}

func encodeJSON[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func nullString(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// micros encodes a time as Unix microseconds, the zero time as NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// cursor is the position a continuation token resumes after: the last
// record's created time (Unix microseconds) and instance id.
type cursor struct {
	Created int64  `json:"c"`
	ID      string `json:"i"`
}

// RetimePurge sets the purge time of every finished record to its finish
// time (its last update) plus retention. The runtime calls it at start-up,
// so that a changed retention period applies to the monitors that
// finished before the change too, as it does to their executions; without
// it, lowering the period deleted the executions but kept their records
// until the old purge time. It changes at most batch records per call (0
// means 1000), those after the instance id after in id order, and returns
// how many it changed and the last of them: call it again from there while
// it returns batch. A whole pass reads each record once.
func (s *Store) RetimePurge(ctx context.Context, retention time.Duration, after string, batch int) (n int, last string, err error) {
	const op = "sqlitestore: retime purge"
	if batch <= 0 {
		batch = 1000
	}
	err = s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n, last = 0, after
		// In id order from after, through the primary key: the unary +
		// keeps the planner off the status index, which would read every
		// finished record and sort them for each batch.
		rows, err := tx.QueryContext(ctx, `UPDATE monitors SET purge_at = last_updated_time + ?1
			WHERE instance_id IN (SELECT instance_id FROM monitors
				WHERE instance_id > ?2 AND +runtime_status IN (?3, ?4, ?5) AND last_updated_time IS NOT NULL
				AND purge_at IS NOT last_updated_time + ?1 ORDER BY instance_id LIMIT ?6)
			RETURNING instance_id`,
			retention.Microseconds(), after, string(monitor.RuntimeCompleted), string(monitor.RuntimeFailed),
			string(monitor.RuntimeTerminated), batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			n++
			last = max(last, id)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, after, wrap(op, "", err)
	}
	return n, last, nil
}

// PurgeExpired deletes the finished records whose purge time is at or
// before now, with their events, and returns how many it deleted: the
// local counterpart of DynamoDB's TTL. It deletes at most batch records
// per call (0 means 1000), so that the write lock is held briefly; call it
// again while it returns batch.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	const op = "sqlitestore: purge expired"
	if batch <= 0 {
		batch = 1000
	}
	var n int64
	err := s.db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		const pick = `SELECT instance_id FROM monitors WHERE purge_at IS NOT NULL AND purge_at <= ? LIMIT ?`
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_events WHERE instance_id IN (`+pick+`)`, now.UnixMicro(), batch); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM monitors WHERE instance_id IN (`+pick+`)`, now.UnixMicro(), batch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(op, "", err)
	}
	return int(n), nil
}
