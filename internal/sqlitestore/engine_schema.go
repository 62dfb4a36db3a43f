package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// engineMigrations create the engine's tables. They live in the same
// database file as the status records but never touch their tables; the
// applied version is kept in engine_schema, so the engine store migrates
// independently of the status store. Append new steps; never edit one
// that has shipped.
//
// Times are INTEGER Unix nanoseconds, 0 for the zero time.
var engineMigrations = []string{
	// 1: state machines, executions, history, run states.
	`CREATE TABLE engine_state_machines (
		seq         INTEGER PRIMARY KEY,
		arn         TEXT NOT NULL UNIQUE,
		name        TEXT NOT NULL,
		definition  TEXT NOT NULL,
		role_arn    TEXT NOT NULL,
		type        TEXT NOT NULL,
		revision    INTEGER NOT NULL,
		revision_id TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL
	);
	CREATE TABLE engine_executions (
		seq               INTEGER PRIMARY KEY,
		arn               TEXT NOT NULL UNIQUE,
		name              TEXT NOT NULL,
		state_machine_arn TEXT NOT NULL,
		status            TEXT NOT NULL,
		input             TEXT NOT NULL,
		output            TEXT NOT NULL DEFAULT '',
		has_output        INTEGER NOT NULL DEFAULT 0,
		error             TEXT NOT NULL DEFAULT '',
		cause             TEXT NOT NULL DEFAULT '',
		start_date        INTEGER NOT NULL,
		stop_date         INTEGER NOT NULL DEFAULT 0,
		parent_arn        TEXT NOT NULL DEFAULT '',
		revision          INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX engine_executions_by_machine
		ON engine_executions (state_machine_arn, start_date, seq);
	CREATE INDEX engine_executions_by_machine_status
		ON engine_executions (state_machine_arn, status, start_date, seq);
	-- One row per history event; the event is its JSON (engine.Event.MarshalJSON).
	CREATE TABLE engine_history (
		execution_seq INTEGER NOT NULL,
		id            INTEGER NOT NULL,
		event         BLOB NOT NULL,
		PRIMARY KEY (execution_seq, id)
	) WITHOUT ROWID;
	-- One row per RUNNING execution with a run state: its snapshot and its
	-- durable timer. wake_at 0 means runnable now.
	CREATE TABLE engine_runs (
		arn       TEXT PRIMARY KEY,
		wake_at   INTEGER NOT NULL,
		run_state BLOB NOT NULL
	) WITHOUT ROWID;
	-- Covering index for ListPending (a WITHOUT ROWID index holds the key, arn).
	CREATE INDEX engine_runs_by_wake ON engine_runs (wake_at);`,
}

// migrateEngine applies the engine migrations not yet recorded in
// engine_schema, each in its own transaction.
func migrateEngine(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS engine_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlitestore: engine schema table: %w", err)
	}
	for v := 1; v <= len(engineMigrations); v++ {
		if err := applyEngineMigration(ctx, db, v); err != nil {
			return err
		}
	}
	return nil
}

func applyEngineMigration(ctx context.Context, db *sql.DB, v int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: engine migration %d: %w", v, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM engine_schema`).Scan(&cur); err != nil {
		return fmt.Errorf("sqlitestore: engine schema version: %w", err)
	}
	if cur >= v {
		return nil
	}
	if _, err := tx.ExecContext(ctx, engineMigrations[v-1]); err != nil {
		return fmt.Errorf("sqlitestore: engine migration %d: %w", v, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO engine_schema (version) VALUES (?)`, v); err != nil {
		return fmt.Errorf("sqlitestore: engine migration %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: engine migration %d: %w", v, err)
	}
	return nil
}
