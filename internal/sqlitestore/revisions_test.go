package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// A database from before state machine revisions were kept (schema 3)
// is migrated on open: the current revision of each machine becomes
// readable by revision, an earlier one is unknown (its executions run the
// current one, as before), and updates record their revisions.
func TestEngineRevisionsMigration(t *testing.T) {
	ctx := context.Background()
	const arn = migratedArn
	s := openMigrated(t, 3, `'{"rev":2}', 'role', 'STANDARD', 2, '2', 1, 2`)
	if rev, err := s.GetStateMachineRevision(ctx, arn, 2); err != nil || rev.Definition != `{"rev":2}` || rev.RoleArn != "role" ||
		rev.RevisionID != "2" || rev.UpdatedAt.UnixNano() != 2 {
		t.Errorf("revision 2 after the migration = %+v, %v; want the current definition, revision id and update date", rev, err)
	}
	if _, err := s.GetStateMachineRevision(ctx, arn, 1); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("revision 1 after the migration: error = %v, want ErrStateMachineDoesNotExist", err)
	}
	upd, err := s.UpdateStateMachine(ctx, arn, engine.StateMachineUpdate{Definition: `{"rev":3}`}, histT0)
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := s.GetStateMachineRevision(ctx, arn, 3); err != nil || rev.Definition != `{"rev":3}` || !rev.UpdatedAt.Equal(upd.UpdatedAt) {
		t.Errorf("revision 3 = %+v, %v; want the update", rev, err)
	}
	if err := s.DeleteStateMachine(ctx, arn); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM engine_state_machine_revisions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("revisions left after DeleteStateMachine: %d, %v", n, err)
	}
}

// A database with the index of run states by wake-up time (schema 4) is
// migrated on open: the index is gone and ListPending still finds every
// run state, with its wake-up time, by scanning the table.
func TestEngineRunsByWakeMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	// A run state longer than a page, so that most of it lives on
	// overflow pages, and a short one.
	old := oldEngineDB(t, path, 4,
		`INSERT INTO engine_runs (arn, wake_at, run_state) VALUES ('arn:b', 2000000000, zeroblob(9000)), ('arn:a', 1000000000, x'7b7d')`)
	old.Close()

	s, err := OpenEngineStore(ctx, path, EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore on the old database: %v", err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'engine_runs_by_wake'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("engine_runs_by_wake after the migration: %d, %v; want it dropped", n, err)
	}
	got := map[string]int64{}
	if err := s.ListPending(ctx, func(p engine.Pending) error {
		got[p.ExecutionArn] = p.WakeAt.UnixNano()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"arn:a": 1000000000, "arn:b": 2000000000}
	if !maps.Equal(got, want) {
		t.Errorf("ListPending after the migration = %v, want %v", got, want)
	}
}

// oldEngineDB writes the database at path the way a release with the
// first version steps of the engine schema left it (the steps applied and
// recorded), runs setup on it and returns it open.
func oldEngineDB(t *testing.T, path string, version int, setup ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := append([]string{}, engineMigrations[:version]...)
	stmts = append(stmts, `CREATE TABLE schema_migrations (schema TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
		PRIMARY KEY (schema, version)) STRICT`)
	for v := 1; v <= version; v++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO schema_migrations VALUES ('engine', %d, '2026-01-01T00:00:00Z')`, v))
	}
	for _, q := range append(stmts, setup...) {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			t.Fatalf("old schema: %v", err)
		}
	}
	return db
}

// A database from before state machines kept tags (schema 7) is migrated
// on open: its machines have no tags and can be tagged, untagged and
// listed, and the tags go with a deleted machine.
func TestEngineTagsMigration(t *testing.T) {
	ctx := context.Background()
	const arn = migratedArn
	s := openMigrated(t, 7, `'{}', 'role', 'STANDARD', 1, '1', 1, 1`)
	if tags, err := s.ListStateMachineTags(ctx, arn); err != nil || len(tags) != 0 {
		t.Errorf("ListStateMachineTags after the migration = %v, %v; want none", tags, err)
	}
	if err := s.TagStateMachine(ctx, arn, []engine.Tag{{Key: "team", Value: "a"}, {Key: "Team", Value: "b"}}, 50); err != nil {
		t.Fatalf("TagStateMachine after the migration: %v", err)
	}
	if err := s.UntagStateMachine(ctx, arn, []string{"team"}); err != nil {
		t.Fatalf("UntagStateMachine after the migration: %v", err)
	}
	if tags, err := s.ListStateMachineTags(ctx, arn); err != nil || fmt.Sprint(tags) != "[{Team b}]" {
		t.Errorf("ListStateMachineTags = %v, %v; want [{Team b}]", tags, err)
	}
	if err := s.DeleteStateMachine(ctx, arn); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM engine_state_machine_tags`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tags left after DeleteStateMachine: %d, %v", n, err)
	}
}

// migratedArn is the state machine openMigrated's database holds.
const migratedArn = "arn:aws:states:us-east-1:000000000000:stateMachine:m"

// openMigrated creates a database at schema version with one state
// machine, migratedArn named m, whose definition, role, type, revision,
// revision id and times are the SQL values machine, and opens it,
// migrating it; the store is closed with the test.
func openMigrated(t *testing.T, version int, machine string) *EngineStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	old := oldEngineDB(t, path, version,
		`INSERT INTO engine_state_machines (arn, name, definition, role_arn, type, revision, revision_id, created_at, updated_at)
			VALUES ('`+migratedArn+`', 'm', `+machine+`)`)
	old.Close()
	s, err := OpenEngineStore(context.Background(), path, EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore on the old database: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A database from before state machines kept their configuration
// (schema 8) is migrated on open: its machine and its revision have none
// set, and an update of the configuration is kept with the new revision.
func TestEngineConfigMigration(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, 8, `'{}', 'role', 'STANDARD', 1, '1', 1, 1`)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO engine_state_machine_revisions (arn, revision, definition, role_arn, revision_id, updated_at)
		VALUES (?, 1, '{}', 'role', '1', 1)`, migratedArn); err != nil {
		t.Fatal(err)
	}
	if sm, err := s.GetStateMachine(ctx, migratedArn); err != nil || sm.Config != (engine.StateMachineConfig{}) {
		t.Errorf("GetStateMachine after the migration = %+v, %v; want no configuration set", sm, err)
	}
	cfg := engine.StateMachineConfig{Logging: `{"level":"ERROR"}`, Tracing: `{"enabled":true}`, Encryption: `{"type":"AWS_OWNED_KEY"}`}
	if _, err := s.UpdateStateMachine(ctx, migratedArn, engine.StateMachineUpdate{Config: cfg}, histT0); err != nil {
		t.Fatal(err)
	}
	if sm, err := s.GetStateMachine(ctx, migratedArn); err != nil || sm.Config != cfg || sm.Definition != "{}" {
		t.Errorf("GetStateMachine after the update = %+v, %v; want configuration %+v, the definition kept", sm, err, cfg)
	}
	if rev, err := s.GetStateMachineRevision(ctx, migratedArn, 1); err != nil || rev.Config != (engine.StateMachineConfig{}) {
		t.Errorf("revision 1 = %+v, %v; want no configuration set", rev, err)
	}
	if rev, err := s.GetStateMachineRevision(ctx, migratedArn, 2); err != nil || rev.Config != cfg {
		t.Errorf("revision 2 = %+v, %v; want configuration %+v", rev, err, cfg)
	}
}

// A database from before state machines had a status (schema 5) is
// migrated on open: its machines are ACTIVE, and can be marked DELETING.
func TestEngineStatusMigration(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, 5, `'{}', 'role', 'STANDARD', 1, '1', 1, 1`)
	if sm, err := s.GetStateMachine(ctx, migratedArn); err != nil || sm.Status != engine.StateMachineActive {
		t.Errorf("GetStateMachine after the migration = %+v, %v; want it ACTIVE", sm, err)
	}
	if err := s.MarkStateMachineDeleting(ctx, migratedArn); err != nil {
		t.Fatal(err)
	}
	if sms, _, err := s.ListStateMachines(ctx, 10, ""); err != nil || len(sms) != 1 || sms[0].Status != engine.StateMachineDeleting {
		t.Errorf("ListStateMachines after MarkStateMachineDeleting = %+v, %v; want the machine DELETING", sms, err)
	}
}

// A migration step that fails leaves nothing of it behind: once its cause
// is gone, the next open runs it again from its start.
func TestEngineFailedMigrationStepIsUndone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	// Step 9 adds three columns to each of two tables; the revisions
	// table has the last one already, so the step fails at its end.
	const extra = `engine_state_machine_revisions ADD COLUMN encryption TEXT NOT NULL DEFAULT ''`
	oldEngineDB(t, path, 8, `ALTER TABLE `+extra).Close()
	if s, err := OpenEngineStore(ctx, path, EngineOptions{}); err == nil {
		s.Close()
		t.Fatal("OpenEngineStore succeeded with a migration step that fails")
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE engine_state_machine_revisions DROP COLUMN encryption`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenEngineStore(ctx, path, EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore once the step can run: %v", err)
	}
	defer s.Close()
	cfg := engine.StateMachineConfig{Logging: `{"level":"ALL"}`, Encryption: `{"type":"AWS_OWNED_KEY"}`}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: migratedArn, Name: "m", Definition: "{}", CreatedAt: histT0, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if rev, err := s.GetStateMachineRevision(ctx, migratedArn, 1); err != nil || rev.Config != cfg {
		t.Errorf("revision 1 = %+v, %v; want configuration %+v", rev, err, cfg)
	}
}

// Opening a database migrates its older schemas and says so, once per
// schema, from and to which version: afterwards an older stepmon refuses
// the file. A schema created new (here the status store's) is not
// logged.
func TestMigrationLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stepmon.db")
	oldEngineDB(t, path, 9).Close()
	var buf bytes.Buffer
	db, err := OpenWith(context.Background(), path, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log = %q, want one line", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msg": "database schema migrated; an older stepmon will refuse this file", "path": path,
		"schema": "engine", "from": float64(9), "to": float64(len(engineMigrations))}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (log %s)", k, rec[k], v, lines[0])
		}
	}
	// Opened again, nothing is migrated and nothing logged.
	buf.Reset()
	db, err = OpenWith(context.Background(), path, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if buf.Len() != 0 {
		t.Errorf("second open logged %s", buf.Bytes())
	}
}
