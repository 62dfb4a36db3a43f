package sqlitestore

func init() { registerSchema("engine", engineMigrations...) }

// engineMigrations create the engine's tables (prefix engine_), applied
// by Open through the schema registry like the status store's. They live
// in the same database file as the status records but never touch their
// tables. Append new steps; never edit one that has shipped.
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
	-- One row per history event; the event is its JSON
	-- (engine.Event.MarshalJSON). Rows are appended in commit order (seq),
	-- so concurrent executions fill the same last pages instead of
	-- splitting one page each; the unique index keys them by
	-- (execution, event id).
	CREATE TABLE engine_history (
		seq           INTEGER PRIMARY KEY,
		execution_seq INTEGER NOT NULL,
		id            INTEGER NOT NULL,
		event         BLOB NOT NULL
	);
	CREATE UNIQUE INDEX engine_history_by_execution ON engine_history (execution_seq, id);
	-- One row per RUNNING execution with a run state: its snapshot and its
	-- durable timer. wake_at 0 means runnable now.
	CREATE TABLE engine_runs (
		arn       TEXT PRIMARY KEY,
		wake_at   INTEGER NOT NULL,
		run_state BLOB NOT NULL
	) WITHOUT ROWID;
	-- Covering index for ListPending (a WITHOUT ROWID index holds the key, arn).
	CREATE INDEX engine_runs_by_wake ON engine_runs (wake_at);`,

	// 2: history as one row per commit. A row holds the events first_id
	// to last_id of one execution, encoded by engine.AppendEventBatch
	// (each state text once instead of once per event); rows copied from
	// engine_history hold one event's JSON, which engine.DecodeEventBatch
	// reads too. The unique index keys rows by (execution, last event).
	`CREATE TABLE engine_history_batches (
		seq           INTEGER PRIMARY KEY,
		execution_seq INTEGER NOT NULL,
		last_id       INTEGER NOT NULL,
		first_id      INTEGER NOT NULL,
		events        BLOB NOT NULL
	);
	INSERT INTO engine_history_batches (execution_seq, last_id, first_id, events)
		SELECT execution_seq, id, id, event FROM engine_history ORDER BY seq;
	DROP TABLE engine_history;
	CREATE UNIQUE INDEX engine_history_batches_by_execution ON engine_history_batches (execution_seq, last_id);`,

	// 3: closed executions by stop date, for PurgeClosedExecutions. A
	// partial index: an execution enters it once, when it ends.
	`CREATE INDEX engine_executions_by_stop ON engine_executions (stop_date) WHERE status <> 'RUNNING';`,

	// 4: every revision of each state machine, for the executions that
	// run an earlier one than the machine's current revision (an
	// execution runs the revision it started on to its end). Earlier
	// revisions of machines updated before this step are not known; their
	// executions run the current one, as they did.
	`CREATE TABLE engine_state_machine_revisions (
		arn         TEXT NOT NULL,
		revision    INTEGER NOT NULL,
		definition  TEXT NOT NULL,
		role_arn    TEXT NOT NULL,
		revision_id TEXT NOT NULL,
		updated_at  INTEGER NOT NULL,
		PRIMARY KEY (arn, revision)
	) WITHOUT ROWID;
	INSERT INTO engine_state_machine_revisions (arn, revision, definition, role_arn, revision_id, updated_at)
		SELECT arn, revision, definition, role_arn, revision_id, updated_at FROM engine_state_machines;`,

	// 5: no index of run states by wake-up time. Every check moved its
	// execution's entry (a delete on a scattered page, an insert at the
	// end), about 3 % of a check's CPU; ListPending, its only reader,
	// scans the run states' table instead (in no particular order).
	`DROP INDEX engine_runs_by_wake;`,

	// 6: the status of a state machine, DELETING from DeleteStateMachine
	// until its last execution has ended and the machine is deleted.
	`ALTER TABLE engine_state_machines ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE';`,

	// 7: closed executions by state machine and stop date, for
	// PurgeClosedExecutions, which purges each machine after its own
	// retention period: through the index of step 3 it read every other
	// machine's closed executions kept longer (a second a minute with a
	// million of them, the engine's commits waiting). A partial index: an
	// execution enters it once, when it ends.
	`DROP INDEX engine_executions_by_stop;
	CREATE INDEX engine_executions_by_machine_stop ON engine_executions (state_machine_arn, stop_date) WHERE status <> 'RUNNING';`,

	// 8: the tags of each state machine (TagResource), keyed by the
	// machine's ARN and the key. TEXT compares with the BINARY collation:
	// keys are case-sensitive, as on AWS, and listed in byte order.
	// Machines created before this step have no tags.
	`CREATE TABLE engine_state_machine_tags (
		arn   TEXT NOT NULL,
		key   TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (arn, key)
	) WITHOUT ROWID;`,

	// 9: the configuration of each state machine and of each of its
	// revisions (engine.StateMachineConfig): logging, tracing and
	// encryption, each the JSON text the API answers, '' when never set.
	// Machines and revisions from before this step have none set.
	`ALTER TABLE engine_state_machines ADD COLUMN logging TEXT NOT NULL DEFAULT '';
	ALTER TABLE engine_state_machines ADD COLUMN tracing TEXT NOT NULL DEFAULT '';
	ALTER TABLE engine_state_machines ADD COLUMN encryption TEXT NOT NULL DEFAULT '';
	ALTER TABLE engine_state_machine_revisions ADD COLUMN logging TEXT NOT NULL DEFAULT '';
	ALTER TABLE engine_state_machine_revisions ADD COLUMN tracing TEXT NOT NULL DEFAULT '';
	ALTER TABLE engine_state_machine_revisions ADD COLUMN encryption TEXT NOT NULL DEFAULT '';`,

	// 10: no change to the tables, a mark. The history batches may hold
	// the Activity* event types, whose details an engine that knows
	// only steps 1-9 decodes as nothing, without an error: with this
	// step such an engine refuses the file (DB.migrate) instead of
	// showing those events empty. A stored encoding that an older
	// engine would misread takes a step like this one.
	`SELECT 1;`,
}
